/**
 * What `tssersync status` gets from the daemon (JSON, schema in docs/operations.md), and the human
 * table it prints. Pure.
 */
import type { Problem } from './health.js';
import type { ChannelStatus, StatusSnapshot } from './model.js';

export const STATUS_SCHEMA_VERSION = 1;

export interface StatusReport extends StatusSnapshot {
  readonly version: typeof STATUS_SCHEMA_VERSION;
  readonly pid: number;
  readonly config: string;
  /** No problem: every remote current (the exit code 0). */
  readonly current: boolean;
  readonly problems: readonly Problem[];
  readonly thresholds: { readonly lagSeconds: number; readonly replayAgeSeconds: number };
}

export function formatReport(r: StatusReport): string {
  const rows: string[][] = [['ROOT', 'REMOTE', 'STATE', 'LAG', 'PENDING', 'IN FLIGHT', 'LAST LANDED', 'JOBS OK/FAILED', 'SENT', 'REPLAY']];
  for (const c of r.channels) {
    rows.push([c.root, c.remote, stateText(c), seconds(c.lagSeconds), String(c.pending), String(c.inFlight), ago(c.lastLandedAt, r.at), `${c.jobsOk}/${c.jobsFailed}`, bytes(c.bytesSent), String(c.replayRecords)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  for (const c of r.channels) {
    if (c.reason) lines.push(`  ${c.root} → ${c.remote}: ${c.state}${c.since !== null ? ` since ${new Date(c.since).toISOString()}` : ''}: ${c.reason}`);
  }
  lines.push('');
  for (const root of r.roots) {
    const w = root.watcher;
    const gap = w.lastGap ? `; last gap ${ago(w.lastGap.at, r.at)} ago (${w.lastGap.reason}), closed by ${w.lastGap.closedBy}` : '';
    lines.push(
      `watcher ${root.root}: ${w.state}${w.error ? ` (${w.error})` : ''}${w.backend ? `, ${w.backend}` : ''}${w.directories !== null ? `, ${w.directories} directories` : ''}, ${w.restarts} restart(s)${gap}`,
    );
  }
  const { watches, limit } = r.inotify;
  if (watches !== null) lines.push(`inotify watches: ${watches} needed of ${limit ?? '?'} (fs.inotify.max_user_watches)`);
  const hooks = Object.entries(r.hookReplayRecords);
  if (hooks.length > 0) lines.push(`hook records in the replay log: ${hooks.map(([h, n]) => `${h} ${n}`).join(', ')}`);
  lines.push('');
  lines.push(r.current ? 'all remotes current' : r.problems.map((p) => `DEGRADED: ${p.message}`).join('\n'));
  return lines.join('\n');
}

function stateText(c: ChannelStatus): string {
  if (c.state === 'full-sync' && c.progress) {
    const p = c.progress;
    const pct = p.bytesTotal ? ` ${Math.floor((100 * p.bytes) / Math.max(1, p.bytesTotal))}%` : '';
    return `full sync${pct} ${p.files}/${p.filesTotal ?? '?'} files${p.etaSeconds !== null ? ` eta ${seconds(p.etaSeconds)}` : ''}`;
  }
  return c.state.replace('-', ' ');
}

export function seconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function ago(t: number | null, now: number): string {
  return t === null ? '-' : `${seconds(Math.max(0, (now - t) / 1000))} ago`;
}

export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
