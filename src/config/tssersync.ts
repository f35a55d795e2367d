/**
 * The additive `<tssersync>` element under `<head>`: settings Sersync never had. Everything is
 * optional; what is missing takes its default in parse.ts.
 */
import { DEFAULTS, configStateDir, defaultStateDir } from './defaults.js';
import type { Reader } from './read.js';
import type { HookWhen, MetricsSettings, StatusSettings, WatcherBackend } from './types.js';
import type { XmlElement } from './xml.js';
import { DEFAULT_PRIORITY, NO_PRIORITY, parseIoClass, type Priority } from '../sync/priority.js';
import { DEFAULT_MIN_ENTRIES } from '../sync/full-parts.js';

export interface Extensions {
  readonly threads: number | undefined;
  readonly settleMs: number | undefined;
  readonly maxDelayMs: number | undefined;
  readonly retries: number | undefined;
  readonly reconcileIntervalMinutes: number | undefined;
  readonly maxDelete: number | undefined;
  readonly pidFile: string | undefined;
  readonly logFile: string | undefined;
  /** Always set: the default depends on who runs tssersync, and is one dir per config file. */
  readonly stateDir: string;
  /** Set when `<stateDir>` is not given: the shared dir of earlier versions, adopted at start. */
  readonly legacyStateDir: string | undefined;
  readonly hookWhen: HookWhen | undefined;
  readonly rsyncBinary: string | undefined;
  /** `<priority nice="…" ionice="…"/>`: how rsync children are started. */
  readonly priority: Priority;
  /** `<fullSync parts="auto|N" minEntries="N"/>`; undefined = the defaults (src/sync/full-parts.ts). */
  readonly fullSync: { readonly parts: number | 'auto'; readonly minEntries: number } | undefined;
  /** `<watcher backend="inotify|parcel"/>`; undefined = the platform's default. */
  readonly watcherBackend: WatcherBackend | undefined;
  readonly status: StatusSettings | undefined;
  readonly metrics: MetricsSettings | undefined;
}

const CHILDREN = ['threads', 'settle', 'retry', 'reconcile', 'maxDelete', 'pidFile', 'logFile', 'stateDir', 'hooks', 'rsyncBinary', 'priority', 'fullSync', 'watcher', 'status', 'metrics'];

export function readExtensions(r: Reader, el: XmlElement | undefined): Extensions {
  if (el) {
    r.shape(el, [], CHILDREN);
    for (const name of CHILDREN) r.one(el, name);
  }
  const child = (name: string, attrs: readonly string[]): XmlElement | undefined => {
    const c = el ? r.one(el, name) : undefined;
    if (c) r.shape(c, attrs);
    return c;
  };
  const threads = child('threads', ['num']);
  const settle = child('settle', ['ms', 'max']);
  const retry = child('retry', ['count']);
  const reconcile = child('reconcile', ['interval']);
  const maxDelete = child('maxDelete', ['num']);
  const pidFile = child('pidFile', ['path']);
  const logFile = child('logFile', ['path']);
  const stateDir = child('stateDir', ['path']);
  const hooks = child('hooks', ['when']);
  const binary = child('rsyncBinary', ['path']);
  const priority = child('priority', ['start', 'nice', 'ionice']);
  const fullSync = child('fullSync', ['parts', 'minEntries']);
  const watcher = child('watcher', ['backend']);
  const status = child('status', ['group', 'lag', 'replayAge']);
  const metrics = child('metrics', ['listen', 'public']);

  const settleMs = settle ? r.int(settle, 'ms', { min: 0, max: 60_000, what: 'milliseconds' }, DEFAULTS.settleMs) : undefined;
  const maxDelayMs = settle?.attrs['max'] !== undefined ? r.int(settle, 'max', { min: 0, max: 600_000, what: 'milliseconds' }) : undefined;
  if (settle && maxDelayMs !== undefined && settleMs !== undefined && maxDelayMs < settleMs) {
    r.fail(settle, `max: the ceiling (${maxDelayMs} ms) must be at least the settle time (${settleMs} ms)`);
  }
  let hookWhen: HookWhen | undefined;
  if (hooks) {
    const when = r.required(hooks, 'when', '"all" or "any"');
    if (when !== 'all' && when !== 'any') r.fail(hooks, `when: expected "all" (every remote confirmed) or "any", got ${JSON.stringify(when)}`);
    hookWhen = when;
  }
  return {
    threads: threads ? r.int(threads, 'num', { min: 1, max: 1000, what: 'a number of workers per remote' }) : undefined,
    settleMs,
    maxDelayMs,
    retries: retry ? r.int(retry, 'count', { min: 0, max: 100, what: 'a number of retries' }) : undefined,
    reconcileIntervalMinutes: reconcile ? r.int(reconcile, 'interval', { min: 0, what: 'minutes (0 = off)' }) : undefined,
    maxDelete: maxDelete ? r.int(maxDelete, 'num', { min: 0, what: 'a number of deletions per rsync run' }) : undefined,
    pidFile: pidFile ? r.path(pidFile, 'path') : undefined,
    logFile: logFile ? r.path(logFile, 'path') : undefined,
    // An explicit <stateDir> is the operator's, used as is (one per config: the run marker refuses
    // a second instance on it); the default is a dir of this config's own under the shared base.
    stateDir: stateDir ? r.path(stateDir, 'path') : configStateDir(defaultStateDir(), r.file),
    legacyStateDir: stateDir ? undefined : defaultStateDir(),
    hookWhen,
    // A bare name is looked up in PATH; anything with a slash is a path like every other.
    rsyncBinary: binary ? rsyncBinary(r, binary) : undefined,
    priority: priority ? readPriority(r, priority) : DEFAULT_PRIORITY,
    fullSync: fullSync ? readFullSync(r, fullSync) : undefined,
    watcherBackend: watcher ? watcherBackend(r, watcher) : undefined,
    status: status
      ? {
          group: statusGroup(r, status),
          lagSeconds: r.int(status, 'lag', { min: 1, what: 'seconds' }, DEFAULTS.statusLagSeconds),
          replayAgeSeconds: r.int(status, 'replayAge', { min: 1, what: 'seconds' }, DEFAULTS.replayAgeSeconds),
        }
      : undefined,
    metrics: metrics ? metricsListen(r, metrics) : undefined,
  };
}

/** `<fullSync parts="auto" minEntries="10000"/>`: `parts="1"` keeps every full sync one rsync run. */
function readFullSync(r: Reader, el: XmlElement): { parts: number | 'auto'; minEntries: number } {
  const text = el.attrs['parts'];
  const parts = text === undefined || text.trim().toLowerCase() === 'auto' ? 'auto' : r.int(el, 'parts', { min: 1, max: 64, what: 'a number of rsync runs at once for one full sync (1 = one run), or "auto"' });
  return { parts, minEntries: r.int(el, 'minEntries', { min: 0, what: 'a number of entries (estimated) below which a full sync is one run' }, DEFAULT_MIN_ENTRIES) };
}

/**
 * `<priority nice="10" ionice="best-effort:7"/>`. `start="false"`, `nice="off"` or `nice="0"` with
 * no ionice restores the old behaviour (rsync at the daemon's own priority); `ionice="off"` leaves
 * the I/O class alone. The idle class is taken only when asked for by name.
 */
function readPriority(r: Reader, el: XmlElement): Priority {
  if (el.attrs['start'] !== undefined && !r.flag(el, 'start')) return NO_PRIORITY;
  const niceText = el.attrs['nice']?.trim();
  const nice = niceText === undefined ? DEFAULT_PRIORITY.nice : niceText.toLowerCase() === 'off' ? 0 : r.int(el, 'nice', { min: 0, max: 19, what: 'a nice increment from 0 (unchanged) to 19 (lowest CPU priority), or "off"' });
  const ioText = el.attrs['ionice'];
  if (ioText === undefined) return { nice, ionice: nice === 0 && niceText !== undefined ? undefined : DEFAULT_PRIORITY.ionice };
  const io = parseIoClass(ioText);
  if (io === undefined) r.fail(el, `ionice: expected "best-effort:N" (N from 0, highest, to 7, lowest), "idle" or "off", got ${JSON.stringify(ioText)}`);
  return { nice, ionice: io === 'off' ? undefined : io };
}

function statusGroup(r: Reader, el: XmlElement): string | undefined {
  const g = r.optional(el, 'group');
  if (g === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$|^\d+$/.test(g)) r.fail(el, `group: expected a group name or number, got ${JSON.stringify(g)}`);
  return g;
}

/**
 * `listen="HOST:PORT"` (`[::1]:PORT` for IPv6). Metrics say which paths fail and how much is
 * sent: anything but loopback needs `public="true"`, so it is never exposed by a typo.
 */
function metricsListen(r: Reader, el: XmlElement): MetricsSettings {
  const v = r.required(el, 'listen', 'HOST:PORT, e.g. 127.0.0.1:9743');
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) return r.fail(el, `listen: expected HOST:PORT (e.g. 127.0.0.1:9743, [::1]:9743), got ${JSON.stringify(v)}`);
  const host = (m[1] ?? m[2])!;
  const publicFlag = el.attrs['public'];
  if (publicFlag !== undefined && publicFlag !== 'true' && publicFlag !== 'false') r.fail(el, `public: expected "true" or "false", got ${JSON.stringify(publicFlag)}`);
  if (!isLoopback(host) && publicFlag !== 'true') {
    r.fail(el, `listen: ${host} is not a loopback address; metrics would be reachable from the network: add public="true" if that is intended (and firewall it), or listen on 127.0.0.1`);
  }
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
}

function rsyncBinary(r: Reader, el: XmlElement): string {
  const v = r.required(el, 'path', 'the rsync program');
  return v.includes('/') ? r.resolvePath(v) : v;
}

function watcherBackend(r: Reader, el: XmlElement): WatcherBackend {
  const v = r.required(el, 'backend', '"inotify" (Linux) or "parcel" (@parcel/watcher)');
  if (v !== 'inotify' && v !== 'parcel') r.fail(el, `backend: expected "inotify" (Linux) or "parcel" (@parcel/watcher), got ${JSON.stringify(v)}`);
  return v;
}
