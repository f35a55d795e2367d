/**
 * The effective settings, for `tssersync --check`. It shows where secrets come from, never their
 * values, and only the names of HTTP headers (an Authorization value is a secret too).
 */
import { rsyncRulesOf } from '../sync/exclude-rules.js';
import type { Config, PluginConfig, RemoteConfig, SecretSource } from './types.js';

export function describeConfig(config: Config): string {
  const out: string[] = [`config: ${config.file}`, '', 'watch roots and remotes:'];
  for (const root of config.roots) {
    out.push(`  ${root.path}`);
    for (const remote of root.remotes) out.push(`    -> ${describeRemote(remote)}`);
  }
  const rs = config.rsync;
  const on = (b: boolean): string => (b ? 'on' : 'off');
  out.push(
    '',
    `rsync: ${rs.binary} ${rs.commonParams.map(quote).join(' ')}`.trimEnd(),
    `  timeout: ${rs.timeoutSeconds !== undefined ? `${rs.timeoutSeconds} s` : 'none'}; max deletes per run: ${rs.maxDelete ?? 'unlimited'}`,
    `events: ${Object.entries(config.events).map(([k, v]) => `${k} ${on(v)}`).join(', ')}`,
    ...describeExcludes(config),
    `threads per remote: ${config.threads}; retries: ${config.retries}; settle ${config.settleMs} ms, at most ${config.maxDelayMs} ms`,
    `replay log: ${config.failLog.path}, replayed ${config.failLog.intervalMinutes > 0 ? `every ${config.failLog.intervalMinutes} min` : 'only by --retry-log'}`,
    `full sync (crontab): ${config.crontab.enabled ? `every ${config.crontab.intervalMinutes} min` : 'off'}`,
    `reconcile: ${config.reconcileIntervalMinutes > 0 ? `every ${config.reconcileIntervalMinutes} min` : 'off'}`,
    `debug: ${on(config.debug)}; xfs: ${on(config.xfs)}`,
    `state dir: ${config.stateDir}; pid file: ${config.pidFile}; log file: ${config.logFile}`,
    `status: ${config.stateDir}/status.sock (${config.status?.group ? `owner and group ${config.status.group}` : 'owner only'}); degraded past ${config.status?.lagSeconds ?? 60} s of lag; ` +
      `metrics: ${config.metrics ? `http://${config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host}:${config.metrics.port}/metrics` : 'off'}`,
    '',
    `plugins: ${config.plugins.length ? `${config.plugins.length} started, hooks fire when ${config.hookWhen === 'all' ? 'every remote' : 'any remote'} confirmed a batch` : 'none started'}`,
  );
  for (const p of config.plugins) out.push(`  ${describePlugin(p)}${'events' in p && p.events ? ` [${p.events === 'both' ? 'batches and alerts' : 'alerts only'}]` : ''}`);
  const idle = (config.definedPlugins ?? []).filter((p) => !config.plugins.includes(p));
  if (idle.length) out.push(`  defined but not started (usable with -m): ${[...new Set(idle.map((p) => p.kind))].join(', ')}`);
  return out.join('\n');
}

/** Where each exclude applies: one model on every route (docs/configuration.md, "Excludes"). */
export const LIVE_ROUTES =
  'live events, new/moved-in/renamed directory trees, -r, <crontab>, the periodic reconcile, burst reconciles, catch-up after a stop, the pending file, replay and --retry-log';
export const FULL_ROUTES = 'full syncs only: -r, <crontab>, the periodic reconcile, and a catch-up, replay or pending full sync of a whole root';

function describeExcludes(config: Config): string[] {
  const out = ['excludes (a matching entry is never sent, and its copy on a remote is never deleted):'];
  if (config.excludes.length === 0 && config.crontab.excludes.length === 0 && userFilters(config.rsync.commonParams).length === 0) return ['excludes: none'];
  for (const p of config.excludes) {
    const rules = rsyncRulesOf(p);
    const how = rules ? `rsync rule${rules.length > 1 ? 's' : ''} ${rules.map((r) => JSON.stringify(r)).join(' ')}` : 'no rsync glob: trees are walked for its matches';
    out.push(`  <filter> ${p.source}  -> every route: ${LIVE_ROUTES} (${how})`);
  }
  for (const g of config.crontab.excludes) out.push(`  <crontabfilter> ${g}  -> ${FULL_ROUTES}`);
  for (const w of userFilters(config.rsync.commonParams)) out.push(`  commonParams ${w}  -> every rsync run (every route)`);
  return out;
}

/** The filter options among commonParams words, each with its argument. */
function userFilters(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (/^--(exclude|include|filter)=/.test(w) || /^-f./.test(w)) out.push(w);
    else if (/^--(exclude|include|filter)$/.test(w) || w === '-f') out.push(`${w} ${words[++i] ?? ''}`);
    else if (w === '--cvs-exclude' || /^-[a-zA-Z]*[CF][a-zA-Z]*$/.test(w)) out.push(w);
  }
  return out;
}

function describeRemote(r: RemoteConfig): string {
  const parts = [r.id, r.mode === 'daemon' ? 'rsync daemon' : 'ssh'];
  if (r.port !== undefined) parts.push(`port ${r.port}`);
  if (r.user) parts.push(`user ${r.user}`);
  if (r.passwordFile) parts.push(`password file ${r.passwordFile}`);
  if (r.sshOptions.length) parts.push(`ssh options ${r.sshOptions.map(quote).join(' ')}`);
  return parts.join(', ');
}

function describePlugin(p: PluginConfig): string {
  switch (p.kind) {
    case 'command':
      return `command: ${[...p.prefix, '<path>', ...p.suffix].map(quote).join(' ')}` +
        ` (${p.include.length ? `only ${p.include.map((i) => i.source).join('  ')}` : 'every path'}; ${p.concurrency} at a time, timeout ${p.timeoutMs / 1000} s${p.ignoreError ? ', errors ignored' : ''})`;
    case 'socket':
      return `socket: ${p.watch} -> ${p.host}:${p.port} (buffer ${p.bufferLimit} lines)`;
    case 'http':
      return `http: ${p.watch ?? 'every root'} -> ${safeUrl(p.url)} (timeout ${p.timeoutMs} ms${headerNames(p.headers)})`;
    case 'refreshCDN': {
      const how: string[] = [];
      if (p.legacy) how.push(`legacy ${p.legacy.domain}:${p.legacy.port} as ${p.legacy.username}, password ${secret(p.legacy.password)}`);
      if (p.generic) {
        const g = p.generic;
        how.push(`${g.method} ${safeUrl(g.endpoint)} (${g.maxBatch} URLs per request, ${g.ratePerSecond}/s, secret ${g.secret ? secret(g.secret) : 'none'}${headerNames(g.headers)})`);
      }
      return `refreshCDN: ${p.watch} as ${p.baseUrl}${p.regexUrl ? ` via ${p.regexUrl.source}` : ''}; ${how.join('; ')}`;
    }
  }
}

function secret(s: SecretSource): string {
  return s.from === 'env' ? `(from env ${s.name})` : s.from === 'file' ? `(from file ${s.path})` : '(inline in the config file)';
}

function headerNames(h: Readonly<Record<string, string>>): string {
  const names = Object.keys(h);
  return names.length ? `, headers ${names.join(', ')}` : '';
}

/** A URL without credentials or query, which may carry tokens. */
function safeUrl(u: string): string {
  const url = new URL(u);
  const hidden = url.username || url.password || url.search;
  url.username = '';
  url.password = '';
  url.search = '';
  return hidden ? `${url.href} (credentials/query hidden)` : url.href;
}

function quote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}
