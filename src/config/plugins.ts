/**
 * Head-level `<plugin name="…">` blocks → PluginConfigs, and `<sersync><plugin start name/>` →
 * which of them run. Every block is read and validated, started or not, because `-m NAME` runs a
 * plugin the file does not start.
 */
import { DEFAULTS } from './defaults.js';
import { readRefreshCdn } from './cdn.js';
import type { Reader } from './read.js';
import type { CommandPluginConfig, HookEvents, HttpPluginConfig, PluginConfig, PluginName, SocketPluginConfig } from './types.js';
import type { XmlElement } from './xml.js';

export const PLUGIN_NAMES: readonly PluginName[] = ['command', 'socket', 'refreshCDN', 'http'];

export function pluginName(r: Reader, el: XmlElement): PluginName {
  const name = r.required(el, 'name', `a plugin name (${PLUGIN_NAMES.join(', ')})`);
  const known = PLUGIN_NAMES.find((n) => n === name);
  if (!known) r.fail(el, `name: unknown plugin ${JSON.stringify(name)}; expected one of ${PLUGIN_NAMES.join(', ')}`);
  return known;
}

export function readPluginBlock(r: Reader, el: XmlElement): PluginConfig[] {
  const name = pluginName(r, el);
  switch (name) {
    case 'command':
      return [readCommand(r, el)];
    case 'socket':
      return readSocket(r, el);
    case 'http':
      return [readHttp(r, el)];
    case 'refreshCDN':
      return readRefreshCdn(r, el);
  }
}

/** The started plugins, in the order of the `<sersync><plugin>` lines. */
export function startedPlugins(r: Reader, sersync: XmlElement | undefined, defined: readonly PluginConfig[]): PluginConfig[] {
  const out: PluginConfig[] = [];
  for (const el of sersync ? r.all(sersync, 'plugin') : []) {
    r.shape(el, ['start', 'name']);
    const name = pluginName(r, el);
    if (!r.flag(el, 'start') || out.some((p) => p.kind === name)) continue;
    const mine = defined.filter((p) => p.kind === name);
    if (mine.length === 0) r.fail(el, `plugin ${name} is started but no <plugin name="${name}"> block defines it`);
    out.push(...mine);
  }
  return out;
}

function readCommand(r: Reader, el: XmlElement): CommandPluginConfig {
  r.shape(el, ['name'], ['param', 'filter']);
  const param = r.one(el, 'param');
  if (!param) return r.fail(el, 'expected <param prefix="…" suffix="" ignoreError="true"/> inside <plugin name="command">');
  r.shape(param, ['prefix', 'suffix', 'ignoreError', 'concurrency', 'timeout', 'events']);
  const prefix = r.words(param, 'prefix');
  if (prefix.length === 0) r.fail(param, 'prefix: expected the program to run (and its first arguments)');
  // A relative program with a slash is relative to the config file, like every other path in it;
  // a bare name is looked up in PATH.
  const [program, ...rest] = prefix as [string, ...string[]];
  const events = hookEvents(r, param);
  // Sersync's stock prefix is /bin/sh: an alert's words would reach it as a script name and args.
  if (events !== 'batches' && SHELLS.test(program)) {
    r.fail(param, `events="${events}": prefix runs a shell (${program}); alerts run the prefix with EVENT SUBJECT MESSAGE as arguments, never through a shell: point prefix at the program to run`);
  }
  const filter = r.one(el, 'filter');
  if (filter) {
    r.shape(filter, ['start'], ['include']);
    for (const inc of r.all(filter, 'include')) r.shape(inc, ['expression']);
  }
  return {
    kind: 'command',
    ...(events !== 'batches' ? { events } : {}),
    prefix: [program.includes('/') ? r.resolvePath(program) : program, ...rest],
    suffix: r.words(param, 'suffix'),
    ignoreError: r.flag(param, 'ignoreError'),
    include: filter && r.flag(filter, 'start') ? r.all(filter, 'include').map((inc) => r.fullMatch(inc, 'expression')) : [],
    concurrency: r.int(param, 'concurrency', { min: 1, max: 1000, what: 'a number of parallel commands' }, DEFAULTS.command.concurrency),
    timeoutMs: 1000 * r.int(param, 'timeout', { min: 1, what: 'seconds' }, DEFAULTS.command.timeoutSeconds),
  };
}

function readSocket(r: Reader, el: XmlElement): SocketPluginConfig[] {
  r.shape(el, ['name'], ['localpath']);
  const out: SocketPluginConfig[] = [];
  for (const lp of r.all(el, 'localpath')) {
    r.shape(lp, ['watch'], ['deshost']);
    const watch = r.path(lp, 'watch');
    const hosts = r.all(lp, 'deshost');
    if (hosts.length === 0) r.fail(lp, 'expected <deshost ip="…" port="…"/> inside the socket plugin\'s <localpath>');
    for (const d of hosts) {
      r.shape(d, ['ip', 'port', 'bufferLimit']);
      out.push({
        kind: 'socket',
        watch,
        host: r.required(d, 'ip', 'a host name or IP address'),
        port: r.port(d, 'port'),
        bufferLimit: r.int(d, 'bufferLimit', { min: 1, what: 'a number of lines' }, DEFAULTS.socketBufferLimit),
      });
    }
  }
  if (out.length === 0) r.fail(el, 'expected <localpath watch="…"><deshost ip="…" port="…"/></localpath> inside <plugin name="socket">');
  return out;
}

function readHttp(r: Reader, el: XmlElement): HttpPluginConfig {
  r.shape(el, ['name'], ['localpath', 'webhook', 'header']);
  const lp = r.one(el, 'localpath');
  if (lp) r.shape(lp, ['watch']);
  const hook = r.one(el, 'webhook');
  if (!hook) return r.fail(el, 'expected <webhook url="http://…"/> inside <plugin name="http">');
  r.shape(hook, ['url', 'timeout', 'events']);
  const events = hookEvents(r, hook);
  return {
    kind: 'http',
    ...(events !== 'batches' ? { events } : {}),
    watch: lp ? r.path(lp, 'watch') : undefined,
    url: r.url(hook, 'url'),
    headers: r.headers(r.all(el, 'header')),
    timeoutMs: r.int(hook, 'timeout', { min: 1, what: 'milliseconds' }, DEFAULTS.httpTimeoutMs),
  };
}

const SHELLS = /(^|\/)(sh|bash|dash|zsh|ksh|mksh|ash|busybox|fish|csh|tcsh)$/;

function hookEvents(r: Reader, el: XmlElement): HookEvents {
  const v = el.attrs['events'];
  if (v === undefined) return 'batches';
  if (v !== 'batches' && v !== 'alerts' && v !== 'both') r.fail(el, `events: expected "batches" (landed paths, the default), "alerts" (health changes) or "both", got ${JSON.stringify(v)}`);
  return v;
}
