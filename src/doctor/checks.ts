/**
 * The doctor's checks: everything that would make a first start fail or lose data, each one
 * returning findings (one line each, with the fix). They only read, except the remote check,
 * which writes one scratch file to each remote and removes it again.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config, RemoteConfig } from '../config/types.js';
import { secretFileProblem } from '../config/environment.js';
import { ensureDir } from '../replay/fs-durable.js';
import { refusedChecksum, buildRsyncArgv } from '../sync/argv.js';
import { runFallbackDelete } from '../sync/delete.js';
import { failureText } from '../sync/messages.js';
import { runRsync } from '../sync/runner.js';
import { checkInotifyLimits, countDirectories } from '../watch/limits.js';
import { askStatus, statusSocketPath } from '../status/socket.js';
import { diagnoseWrite, type Finding } from './diagnose.js';
import { pidAlive } from '../replay/lock.js';

/** A remote that hangs (a blackholed address) is given up after this long. */
const REMOTE_TIMEOUT_MS = 30_000;

export async function checkRsync(config: Config): Promise<Finding> {
  return new Promise((resolve) => {
    execFile(config.rsync.binary, ['--version'], (err, stdout) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        resolve({ level: 'fail', check: 'rsync', message: missing ? `"${config.rsync.binary}" is not installed` : `"${config.rsync.binary} --version" failed: ${err.message}`, fix: 'apt-get install rsync (or fix <rsyncBinary>)' });
      } else {
        resolve({ level: 'ok', check: 'rsync', message: stdout.split('\n')[0]!.replace(/\s+/g, ' ').trim() });
      }
    });
  });
}

export async function checkRoots(config: Config): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const root of config.roots) {
    const st = await stat(root.path).catch(() => undefined);
    if (!st) out.push({ level: 'fail', check: `root ${root.path}`, message: 'does not exist', fix: `create it or mount its disk, or fix <localpath watch> (${config.file}:${root.line ?? '?'})` });
    else if (!st.isDirectory()) out.push({ level: 'fail', check: `root ${root.path}`, message: 'is not a directory', fix: 'point <localpath watch> at a directory' });
    else out.push({ level: 'ok', check: `root ${root.path}`, message: 'is a directory' });
  }
  return out;
}

export async function checkPasswordFiles(config: Config): Promise<Finding[]> {
  const files = new Set(config.roots.flatMap((r) => r.remotes).flatMap((r) => (r.passwordFile ? [r.passwordFile] : [])));
  const out: Finding[] = [];
  for (const file of files) {
    const why = await secretFileProblem(file, true);
    out.push(why ? { level: 'fail', check: `password file ${file}`, message: why, fix: `printf '%s\\n' PASSWORD > ${file}; chmod 600 ${file}` } : { level: 'ok', check: `password file ${file}`, message: 'mode 0600 or stricter, owned and readable by this user' });
  }
  return out;
}

export async function checkStateDir(config: Config): Promise<Finding> {
  const check = `state dir ${config.stateDir}`;
  try {
    await ensureDir(config.stateDir);
    const probe = join(config.stateDir, `.doctor-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'x', { mode: 0o600 });
    await rm(probe);
    return { level: 'ok', check, message: 'writable' };
  } catch (err) {
    return { level: 'fail', check, message: `not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`, fix: `mkdir -p ${config.stateDir} and chown it to the user tssersync runs as, or set <stateDir path>` };
  }
}

export async function checkRunning(config: Config): Promise<Finding> {
  const pid = Number((await readFile(config.pidFile, 'utf8').catch(() => '')).trim());
  const alive = pid > 0 && pidAlive(pid);
  const asked = await askStatus(statusSocketPath(config.stateDir), 3000).catch(() => undefined);
  const served = asked?.kind === 'report' ? asked.report.pid : undefined;
  if (!alive && served === undefined) return { level: 'ok', check: 'instance', message: 'no tssersync runs for this config' };
  const who = served ?? pid;
  return {
    level: 'warn',
    check: 'instance',
    message: `tssersync already runs for this config (pid ${who}); a second instance on the same state dir would fight over its pending file`,
    fix: `tssersync status -o ${config.file} to see it; kill ${who} before starting another`,
  };
}

/** `host:port` and the destination path of a remote, to compare destinations. */
function destination(r: RemoteConfig): { where: string; path: string } {
  const port = r.port ?? (r.mode === 'daemon' ? 873 : 22);
  const path = `/${r.module}`.replace(/\/+/g, '/').replace(/\/$/, '');
  return { where: `${r.mode}:${r.host.toLowerCase()}:${port}`, path: path === '' ? '/' : path };
}

const nested = (a: string, b: string) => a === b || a === '/' || b.startsWith(`${a}/`);

/** Two roots sent to one destination (or one inside the other): each full sync deletes the other's files. */
export function checkDestinations(config: Config): Finding[] {
  const all = config.roots.flatMap((root) => root.remotes.map((remote) => ({ root: root.path, remote, ...destination(remote) })));
  const out: Finding[] = [];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i]!;
      const b = all[j]!;
      if (a.root === b.root || a.where !== b.where) continue;
      if (!nested(a.path, b.path) && !nested(b.path, a.path)) continue;
      out.push({
        level: 'fail',
        check: 'destinations',
        message: `${a.root} → ${a.remote.id} and ${b.root} → ${b.remote.id} land in the same place: each full sync (--delete) removes the other root's files`,
        fix: 'give each root its own module or destination directory',
      });
    }
  }
  if (out.length === 0) out.push({ level: 'ok', check: 'destinations', message: 'every root has a destination of its own' });
  return out;
}

export async function checkInotify(config: Config): Promise<Finding> {
  let dirs = 0;
  for (const r of config.roots) dirs += await countDirectories(r.path, 10_000_000);
  const res = await checkInotifyLimits(dirs, config.roots.length);
  if (!res.ok) return { level: 'fail', check: 'inotify', message: `${dirs} directories to watch`, fix: res.message ?? 'raise fs.inotify.max_user_watches' };
  if (res.message) return { level: 'warn', check: 'inotify', message: res.message, fix: 'check /proc/sys/fs/inotify by hand' };
  return { level: 'ok', check: 'inotify', message: `${dirs} directories to watch; fs.inotify.max_user_watches=${res.watches}, max_user_instances=${res.instances}` };
}

/**
 * Reachable, login accepted, writable: one scratch file written with the engine's own argv. Then
 * `--delete-missing-args` is probed by deleting that file with it (the fallback filter form
 * removes it where the receiver rejects the option).
 */
export async function checkRemote(config: Config, remote: RemoteConfig): Promise<Finding[]> {
  const check = `remote ${remote.id}`;
  const dir = await mkdtemp(join(tmpdir(), 'tss-doctor-'));
  const name = `.tssersync-doctor-${randomBytes(6).toString('hex')}`;
  const signal = () => AbortSignal.timeout(REMOTE_TIMEOUT_MS);
  try {
    await writeFile(join(dir, name), 'tssersync doctor scratch file; safe to delete\n');
    const write = await runRsync(buildRsyncArgv({ remote, rsync: config.rsync, action: 'path', deleteMissing: false, ignoreTimes: false }), { cwd: dir, stdinPaths: [name], signal: signal() });
    if (write.exitCode !== 0 || write.spawnError !== undefined) {
      const f = diagnoseWrite(remote, write);
      return [write.signal && !write.exitCode ? { ...f, message: `no answer within ${REMOTE_TIMEOUT_MS / 1000} s`, fix: `check that ${remote.host} is reachable from here` } : f];
    }
    const out: Finding[] = [{ level: 'ok', check, message: `reachable, login accepted, writable (scratch file ${name} written)` }];
    if (remote.mode === 'ssh') out.push({ level: 'ok', check, message: 'ssh BatchMode login works and the host key is known' });
    // A forced send, as the engine makes one (a same-second rewrite): --checksum, unless refused.
    const forced = await runRsync(buildRsyncArgv({ remote, rsync: config.rsync, action: 'path', deleteMissing: false, ignoreTimes: true }), { cwd: dir, stdinPaths: [name], signal: signal() });
    if (refusedChecksum(forced.exitCode, forced.stderrTail)) {
      out.push({
        level: 'warn',
        check,
        message: 'the receiver refuses --checksum (rsyncd.conf `refuse options`); forced re-sends will use --ignore-times, which rewrites every such file on the receiver',
        fix: 'remove checksum from `refuse options` in the module of rsyncd.conf',
      });
    }
    await rm(join(dir, name));
    const del = await runRsync(buildRsyncArgv({ remote, rsync: config.rsync, action: 'path', deleteMissing: true, ignoreTimes: false }), { cwd: dir, stdinPaths: [name], signal: signal() });
    if (del.exitCode === 0) {
      out.push({ level: 'ok', check, message: 'the receiver supports --delete-missing-args (scratch file removed with it)' });
      return out;
    }
    out.push({
      level: 'warn',
      check,
      message: `the receiver rejects --delete-missing-args (${failureText(remote.id, del)}); deletes will use the slower filter form`,
      fix: "upgrade rsync on the receiver (3.4.x or later, rsync issue #910)",
    });
    const fallback = await runFallbackDelete(remote, config.rsync, dir, '', [name], { signal: signal() });
    if (fallback.exitCode !== 0) out.push({ level: 'fail', check, message: `could not remove the scratch file ${name}: ${failureText(remote.id, fallback)}`, fix: `delete ${name} on the receiver by hand; deletes will fail the same way` });
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

