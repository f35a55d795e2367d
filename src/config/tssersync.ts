/**
 * The additive `<tssersync>` element under `<head>`: settings Sersync never had. Everything is
 * optional; what is missing takes its default in parse.ts.
 */
import { DEFAULTS, defaultStateDir } from './defaults.js';
import type { Reader } from './read.js';
import type { HookWhen, WatcherBackend } from './types.js';
import type { XmlElement } from './xml.js';

export interface Extensions {
  readonly threads: number | undefined;
  readonly settleMs: number | undefined;
  readonly maxDelayMs: number | undefined;
  readonly retries: number | undefined;
  readonly reconcileIntervalMinutes: number | undefined;
  readonly maxDelete: number | undefined;
  readonly pidFile: string | undefined;
  readonly logFile: string | undefined;
  /** Always set: the default depends on who runs tssersync. */
  readonly stateDir: string;
  readonly hookWhen: HookWhen | undefined;
  readonly rsyncBinary: string | undefined;
  /** `<watcher backend="inotify|parcel"/>`; undefined = the platform's default. */
  readonly watcherBackend: WatcherBackend | undefined;
}

const CHILDREN = ['threads', 'settle', 'retry', 'reconcile', 'maxDelete', 'pidFile', 'logFile', 'stateDir', 'hooks', 'rsyncBinary', 'watcher'];

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
  const watcher = child('watcher', ['backend']);

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
    stateDir: stateDir ? r.path(stateDir, 'path') : defaultStateDir(),
    hookWhen,
    // A bare name is looked up in PATH; anything with a slash is a path like every other.
    rsyncBinary: binary ? rsyncBinary(r, binary) : undefined,
    watcherBackend: watcher ? watcherBackend(r, watcher) : undefined,
  };
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
