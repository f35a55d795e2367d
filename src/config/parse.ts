/**
 * confxml.xml text → one validated Config. Pure apart from path resolution: no file system.
 * Sersync's elements are read here and in remotes.ts / plugins.ts; tssersync's own settings live
 * in the additive `<tssersync>` element (tssersync.ts), so a stock Sersync file needs none of them.
 */
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { DEFAULTS, DEFAULT_EVENTS, replayLogPath } from './defaults.js';
import { readPluginBlock, startedPlugins } from './plugins.js';
import { Reader } from './read.js';
import { readRoots, readRsync } from './remotes.js';
import { readExtensions } from './tssersync.js';
import type { Config, EventSwitches, Pattern } from './types.js';
import { parseXml, type XmlElement } from './xml.js';

/** Command-line settings that win over the file. */
export interface ConfigOverrides {
  /** `-n N`: workers per remote lane. */
  threads?: number;
  /** `--debug` / `-v`: debug logging even when `<debug start="false"/>`. */
  debug?: boolean;
}

const HEAD_CHILDREN = ['host', 'debug', 'fileSystem', 'filter', 'inotify', 'sersync', 'plugin', 'tssersync'];
const SERSYNC_CHILDREN = ['localpath', 'rsync', 'failLog', 'crontab', 'plugin'];
const SWITCHES = Object.keys(DEFAULT_EVENTS) as (keyof EventSwitches)[];

export function parseConfig(xml: string, file: string, overrides: ConfigOverrides = {}): Config {
  const head = parseXml(xml.replace(/^\uFEFF/, ''), file);
  const r = new Reader(file, dirname(resolve(file)));
  if (head.name !== 'head') r.fail(head, 'the root element must be <head version="2.5">');
  r.shape(head, ['version'], HEAD_CHILDREN);
  for (const name of HEAD_CHILDREN.filter((n) => n !== 'plugin')) r.one(head, name);

  const host = r.one(head, 'host');
  if (host) r.shape(host, ['hostip', 'port']); // Sersync parsed and never used it; so do we.
  const debug = r.one(head, 'debug');
  if (debug) r.shape(debug, ['start']);
  const fileSystem = r.one(head, 'fileSystem');
  if (fileSystem) r.shape(fileSystem, ['xfs']);

  const sersync = r.one(head, 'sersync');
  if (!sersync) return r.fail(head, 'expected a <sersync> element with <localpath watch="…"><remote ip="…" name="…"/></localpath>');
  r.shape(sersync, [], SERSYNC_CHILDREN);
  for (const name of ['rsync', 'failLog', 'crontab']) r.one(sersync, name);

  const rsync = readRsync(r, r.one(sersync, 'rsync'));
  const roots = readRoots(r, sersync, rsync);
  const ext = readExtensions(r, r.one(head, 'tssersync'));
  const definedPlugins = r.all(head, 'plugin').flatMap((el) => readPluginBlock(r, el));

  const threads = overrides.threads ?? ext.threads ?? DEFAULTS.threads;
  if (!Number.isSafeInteger(threads) || threads < 1) throw new UsageError(`-n: expected a positive number of threads, got ${threads}`);

  // One exclude model: the real-time excludes also ride with the rsync settings, so every rsync run
  // on every route applies them (src/sync/excludes.ts).
  const excludes = readFilter(r, r.one(head, 'filter'));
  return {
    file: resolve(file),
    debug: overrides.debug ?? (debug !== undefined && r.flag(debug, 'start')),
    xfs: fileSystem !== undefined && r.flag(fileSystem, 'xfs'),
    excludes,
    events: readSwitches(r, r.one(head, 'inotify')),
    roots,
    rsync: {
      commonParams: rsync.commonParams,
      timeoutSeconds: rsync.timeoutSeconds,
      binary: ext.rsyncBinary ?? DEFAULTS.rsyncBinary,
      maxDelete: ext.maxDelete,
      priority: ext.priority,
      ...(ext.fullSync ? { fullSync: ext.fullSync } : {}),
      excludes,
    },
    threads,
    failLog: readFailLog(r, r.one(sersync, 'failLog'), ext.stateDir),
    crontab: readCrontab(r, r.one(sersync, 'crontab')),
    reconcileIntervalMinutes: ext.reconcileIntervalMinutes ?? DEFAULTS.reconcileIntervalMinutes,
    settleMs: ext.settleMs ?? DEFAULTS.settleMs,
    maxDelayMs: ext.maxDelayMs ?? DEFAULTS.maxDelayMs,
    retries: ext.retries ?? DEFAULTS.retries,
    plugins: startedPlugins(r, sersync, definedPlugins),
    definedPlugins,
    hookWhen: ext.hookWhen ?? DEFAULTS.hookWhen,
    pidFile: ext.pidFile ?? `${ext.stateDir}/tssersync.pid`,
    logFile: ext.logFile ?? `${ext.stateDir}/tssersync.log`,
    stateDir: ext.stateDir,
    ...(ext.legacyStateDir !== undefined ? { legacyStateDir: ext.legacyStateDir } : {}),
    ...(ext.watcherBackend ? { watcherBackend: ext.watcherBackend } : {}),
    ...(ext.status ? { status: ext.status } : {}),
    ...(ext.metrics ? { metrics: ext.metrics } : {}),
  };
}

/**
 * `<filter start>`: its excludes count only when it is on, as in Sersync. Compiled with the `s`
 * flag, so `.` matches every character, a newline in a name included: `(.*)\.gz` excludes every
 * `.gz` whatever the name holds, and the stock shapes are exactly rsync globs (exclude-rules.ts).
 */
function readFilter(r: Reader, el: XmlElement | undefined): Pattern[] {
  if (!el) return [];
  r.shape(el, ['start'], ['exclude']);
  const excludes = r.all(el, 'exclude');
  for (const x of excludes) r.shape(x, ['expression']);
  if (!r.flag(el, 'start')) return [];
  return excludes.map((x) => {
    const p = r.fullMatch(x, 'expression');
    return { source: p.source, regex: new RegExp(p.regex.source, `${p.regex.flags}s`) };
  });
}

function readSwitches(r: Reader, el: XmlElement | undefined): EventSwitches {
  if (!el) return DEFAULT_EVENTS;
  r.shape(el, [], SWITCHES);
  const out = { ...DEFAULT_EVENTS };
  for (const name of SWITCHES) {
    const sw = r.one(el, name);
    if (!sw) continue;
    r.shape(sw, ['start']);
    out[name] = r.flag(sw, 'start');
  }
  return out;
}

function readFailLog(r: Reader, el: XmlElement | undefined, stateDir: string): Config['failLog'] {
  if (el) r.shape(el, ['path', 'timeToExecute']);
  const given = el?.attrs['path'] !== undefined ? r.path(el, 'path') : undefined;
  return {
    path: replayLogPath(given, stateDir),
    // 0 = no replay timer; `tssersync --retry-log` still replays.
    intervalMinutes: el ? r.int(el, 'timeToExecute', { min: 0, what: 'minutes' }, DEFAULTS.failLogIntervalMinutes) : DEFAULTS.failLogIntervalMinutes,
  };
}

function readCrontab(r: Reader, el: XmlElement | undefined): Config['crontab'] {
  if (!el) return { enabled: false, intervalMinutes: DEFAULTS.crontabMinutes, excludes: [] };
  r.shape(el, ['start', 'schedule'], ['crontabfilter']);
  const filter = r.one(el, 'crontabfilter');
  const globs: string[] = [];
  if (filter) {
    r.shape(filter, ['start'], ['exclude']);
    for (const x of r.all(filter, 'exclude')) {
      r.shape(x, ['expression']);
      const glob = r.required(x, 'expression', 'an rsync exclude pattern such as *.tmp');
      if (r.flag(filter, 'start')) globs.push(glob);
    }
  }
  const enabled = r.flag(el, 'start');
  return {
    enabled,
    intervalMinutes: r.int(el, 'schedule', { min: enabled ? 1 : 0, what: 'minutes' }, DEFAULTS.crontabMinutes),
    excludes: globs,
  };
}
