/**
 * `<sersync><localpath watch><remote ip name/></localpath><rsync>…</rsync>` → watch roots with
 * their remotes. Global `<rsync>` settings apply to every remote; the extension attributes on
 * `<remote>` (port, user, passwordfile, ssh, sshOptions) win over them.
 */
import { forbiddenParam, withoutUpdate } from './params.js';
import { DEFAULTS } from './defaults.js';
import type { Reader } from './read.js';
import type { RemoteConfig, WatchRoot } from './types.js';
import type { XmlElement } from './xml.js';

/** What `<rsync>` says, before it is applied to each remote. */
export interface RsyncBlock {
  readonly commonParams: readonly string[];
  readonly timeoutSeconds: number | undefined;
  readonly user: string | undefined;
  readonly passwordFile: string | undefined;
  /** `userDefinedPort`: the rsync daemon port, so it applies to daemon remotes only. */
  readonly daemonPort: number | undefined;
  readonly ssh: boolean;
  readonly sshOptions: readonly string[];
}

export function readRsync(r: Reader, el: XmlElement | undefined): RsyncBlock {
  if (!el) return { commonParams: withoutUpdate([DEFAULTS.commonParams]).words, timeoutSeconds: undefined, user: undefined, passwordFile: undefined, daemonPort: undefined, ssh: false, sshOptions: [] };
  r.shape(el, [], ['commonParams', 'auth', 'userDefinedPort', 'timeout', 'ssh']);
  const params = r.one(el, 'commonParams');
  const auth = r.one(el, 'auth');
  const port = r.one(el, 'userDefinedPort');
  const timeout = r.one(el, 'timeout');
  const ssh = r.one(el, 'ssh');
  if (params) r.shape(params, ['params']);
  if (auth) r.shape(auth, ['start', 'users', 'passwordfile']);
  if (port) r.shape(port, ['start', 'port']);
  if (timeout) r.shape(timeout, ['start', 'time']);
  if (ssh) r.shape(ssh, ['start', 'options']);
  const authOn = auth !== undefined && r.flag(auth, 'start');
  const sshOn = ssh !== undefined && r.flag(ssh, 'start');
  return {
    commonParams: params ? commonParams(r, params) : withoutUpdate([DEFAULTS.commonParams]).words,
    timeoutSeconds: timeout && r.flag(timeout, 'start') ? r.int(timeout, 'time', { min: 0, what: 'seconds' }) : undefined,
    user: authOn ? user(r, auth, 'users') : undefined,
    passwordFile: authOn && auth.attrs['passwordfile'] !== undefined ? r.path(auth, 'passwordfile') : undefined,
    daemonPort: port && r.flag(port, 'start') ? r.port(port, 'port') : undefined,
    ssh: sshOn,
    sshOptions: sshOn ? r.words(ssh, 'options') : [],
  };
}

function commonParams(r: Reader, el: XmlElement): string[] {
  const w = r.words(el, 'params');
  const bad = forbiddenParam(w);
  if (bad) r.fail(el, `params: ${bad}`);
  return withoutUpdate(w).words;
}

// These end up inside one argv word (`user@host::module`) that rsync and ssh parse: a leading dash
// would turn it into an option, whitespace or `@`/`:` would change where it points.
const HOST = /^(?:\[[0-9A-Fa-f:.]+(?:%[\w.-]+)?\]|[A-Za-z0-9_][A-Za-z0-9_.-]*)$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

function user(r: Reader, el: XmlElement, name: string): string {
  const v = r.required(el, name, 'a user name');
  if (!USER.test(v)) r.fail(el, `${name}: expected a user name (letters, digits, . _ -), got ${JSON.stringify(v)}`);
  return v;
}

function host(r: Reader, el: XmlElement): string {
  const raw = r.required(el, 'ip', 'a host name or IP address');
  // rsync wants IPv6 literals in brackets (`[::1]::module`).
  const v = raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw;
  if (!HOST.test(v)) r.fail(el, `ip: expected a host name or IP address, got ${JSON.stringify(raw)}`);
  return v;
}

function remote(r: Reader, el: XmlElement, g: RsyncBlock): RemoteConfig {
  r.shape(el, ['ip', 'name', 'port', 'user', 'passwordfile', 'ssh', 'sshOptions']);
  const h = host(r, el);
  const module = r.required(el, 'name', g.ssh ? 'a destination path' : 'an rsync module name');
  if (/[\0-\x1f\x7f]/.test(module)) r.fail(el, `name: control characters are not allowed, got ${JSON.stringify(module)}`);
  const mode = el.attrs['ssh'] !== undefined ? (r.flag(el, 'ssh') ? 'ssh' : 'daemon') : g.ssh ? 'ssh' : 'daemon';
  if (mode === 'daemon' && module.startsWith('/')) r.fail(el, `name: expected an rsync module name, got the path ${JSON.stringify(module)} (for an ssh destination path add ssh="true" or <ssh start="true"/>)`);
  const port = el.attrs['port'] !== undefined ? r.port(el, 'port') : mode === 'daemon' ? g.daemonPort : undefined;
  const login = el.attrs['user'] !== undefined ? user(r, el, 'user') : g.user;
  const ownPasswordFile = el.attrs['passwordfile'] !== undefined ? r.path(el, 'passwordfile') : undefined;
  if (mode === 'ssh' && ownPasswordFile) r.fail(el, 'passwordfile: only rsync daemon remotes use a password file; ssh uses keys');
  const sshOptions = el.attrs['sshOptions'] !== undefined ? r.words(el, 'sshOptions') : g.sshOptions;
  if (mode === 'daemon' && el.attrs['sshOptions'] !== undefined) r.fail(el, 'sshOptions: only ssh remotes take ssh options (add ssh="true")');
  const at = login ? `${login}@` : '';
  return {
    id: mode === 'daemon' ? `${at}${h}::${module}` : `${at}${h}:${module}`,
    host: h,
    module,
    mode,
    port,
    user: login,
    passwordFile: mode === 'daemon' ? (ownPasswordFile ?? g.passwordFile) : undefined,
    sshOptions: mode === 'ssh' ? sshOptions : [],
    line: el.line,
  };
}

/**
 * Where a remote writes, for the same-destination check: host and port as written (the config
 * cannot know that two names are one machine) and the module or path without trailing slashes.
 */
function destination(rem: RemoteConfig): { place: string; path: string } {
  const path = rem.module.replace(/\/{2,}/g, '/').replace(/(?<=.)\/+$/, '');
  return { place: `${rem.mode} ${rem.host.toLowerCase()} ${rem.port ?? (rem.mode === 'daemon' ? 873 : 22)}`, path };
}

/** `a` and `b` are the same directory, or one is inside the other. */
const overlaps = (a: string, b: string): boolean => a === b || b.startsWith(a.endsWith('/') ? a : `${a}/`) || a.startsWith(b.endsWith('/') ? b : `${b}/`);

export function readRoots(r: Reader, sersync: XmlElement, g: RsyncBlock): WatchRoot[] {
  const roots: WatchRoot[] = [];
  const taken: { root: string; line: number; id: string; dest: ReturnType<typeof destination> }[] = [];
  for (const lp of r.all(sersync, 'localpath')) {
    r.shape(lp, ['watch'], ['remote']);
    const path = r.path(lp, 'watch');
    if (roots.some((x) => x.path === path)) r.fail(lp, `watch: ${path} is already a watch root; put all its <remote>s in one <localpath>`);
    const remotes = r.all(lp, 'remote').map((el) => remote(r, el, g));
    if (remotes.length === 0) r.fail(lp, 'expected at least one <remote ip="…" name="…"/> inside <localpath>');
    const seen = new Set<string>();
    for (const [i, rem] of remotes.entries()) {
      const el = r.all(lp, 'remote')[i] as XmlElement;
      if (seen.has(rem.id)) r.fail(el, `duplicate remote ${rem.id} for ${path}`);
      seen.add(rem.id);
      // Each root's full syncs run with --delete on its destination: two roots on one destination
      // (or one inside the other) would delete each other's files, one sync after the other.
      const dest = destination(rem);
      const other = taken.find((t) => t.dest.place === dest.place && overlaps(t.dest.path, dest.path));
      if (other) {
        const same = other.dest.path === dest.path;
        r.fail(
          el,
          `${rem.id} ${same ? 'is already the destination' : `overlaps ${other.id}, the destination`} of the watch root ${other.root} (line ${other.line}): ` +
            `two roots on one destination would delete each other's files; give each root a module or directory of its own`,
        );
      }
    }
    for (const rem of remotes) taken.push({ root: path, line: lp.line, id: rem.id, dest: destination(rem) });
    roots.push({ path, remotes, line: lp.line });
  }
  if (roots.length === 0) r.fail(sersync, 'expected at least one <localpath watch="/dir"> with a <remote>');
  return roots;
}
