/**
 * Every default in one place. Sersync's own defaults (the stock confxml.xml values) apply where an
 * element is missing, so a trimmed-down Sersync file behaves as it did there.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { EventSwitches } from './types.js';

export const DEFAULTS = {
  threads: 10,
  settleMs: 30,
  maxDelayMs: 1000,
  retries: 3,
  reconcileIntervalMinutes: 360,
  hookWhen: 'all',
  rsyncBinary: 'rsync',
  /** Sersync's stock `<commonParams params="-artuz"/>`. */
  commonParams: '-artuz',
  /** Sersync's stock `failLog@timeToExecute`. */
  failLogIntervalMinutes: 60,
  /** Sersync's stock `crontab@schedule`. */
  crontabMinutes: 600,
  command: { concurrency: 4, timeoutSeconds: 60 },
  socketBufferLimit: 100_000,
  httpTimeoutMs: 5000,
  statusLagSeconds: 60,
  replayAgeSeconds: 600,
  cdn: { method: 'POST', maxBatch: 30, ratePerSecond: 5 },
} as const;

/** The stock `<inotify>` block: what Sersync does when a switch is absent from a trimmed file. */
export const DEFAULT_EVENTS: EventSwitches = {
  delete: true,
  createFolder: true,
  createFile: false,
  closeWrite: true,
  moveFrom: true,
  moveTo: true,
  attrib: false,
  modify: false,
};

/** Sersync's stock fail-log path, a shell script in /tmp. */
export const SERSYNC_STOCK_FAIL_LOG = '/tmp/rsync_fail_log.sh';

/** `/var/lib/tssersync` for root, else `$XDG_STATE_HOME/tssersync` or `~/.local/state/tssersync`. */
export function defaultStateDir(
  uid: number | undefined = process.getuid?.(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (uid === 0) return '/var/lib/tssersync';
  const xdg = env['XDG_STATE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'state'), 'tssersync');
}

/**
 * The state dir of one config when `<stateDir>` is not given: `<base>/<name>-<hash>`, keyed by the
 * config file's real path, so several tssersync processes on one host (Sersync users run one per
 * directory) never share pending changes, run markers, pid files or replay logs. The name part is
 * only there for the operator who lists the directory; the hash (of the real path's bytes, so a
 * symlinked or relative -o names the same dir) is what keeps two configs apart.
 * HACK: realpath is a file-system read in an otherwise pure parse; a config that cannot be
 * resolved (it was read a moment ago, so only a race) falls back to its absolute path.
 */
export function configStateDir(base: string, configFile: string): string {
  let real: string;
  try {
    real = realpathSync(configFile);
  } catch {
    real = resolve(configFile);
  }
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 12);
  const name = basename(real).replace(/\.xml$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  return join(base, `${name || 'config'}-${hash}`);
}

/**
 * Where the replay log goes. We write JSON lines, not Sersync's shell script, so:
 * - no `<failLog>` or Sersync's stock `/tmp/rsync_fail_log.sh` → `<stateDir>/replay.jsonl`
 *   (/tmp is emptied at reboot and writable by everyone: a bad home for the only record of
 *   what has not been replicated);
 * - any other path is honoured, with a `.sh` suffix turned into `.jsonl`.
 */
export function replayLogPath(given: string | undefined, stateDir: string): string {
  if (given === undefined || given === SERSYNC_STOCK_FAIL_LOG) return join(stateDir, 'replay.jsonl');
  return given.endsWith('.sh') ? `${given.slice(0, -3)}.jsonl` : given;
}
