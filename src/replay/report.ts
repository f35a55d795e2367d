/** The human report of `tssersync --retry-log`: counts, then per remote what still fails and why. */
import { displayName, hasEscapes } from '../core/names.js';
import { parseTarget } from './target.js';
import type { ReplayRecord } from './types.js';

export interface ReportOptions {
  /** Paths shown per remote before "… and N more". @default 5 */
  readonly maxPaths?: number;
}

/**
 * A path as an operator can read it and a terminal cannot be fooled by it: names with control
 * characters (a newline!), quotes, backslashes or edge spaces are shown JSON-quoted; a name with
 * bytes that are not UTF-8 as `caf\xe9.txt`.
 */
export function displayPath(p: string): string {
  if (p === '') return '(the whole root)';
  // A byte that is not UTF-8 as \xNN (a terminal would show U+FFFD), the rest as displayName does.
  if (hasEscapes(p)) return displayName(p);
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f"\\]|^\s|\s$/.test(p) ? JSON.stringify(p) : p;
}

/** rsync messages can carry several lines of stderr; the report keeps one line per remote. */
const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' | ').trim();

export function formatReplayReport(
  result: { readonly replayed: readonly ReplayRecord[]; readonly left: readonly ReplayRecord[] },
  opts: ReportOptions = {},
): string {
  const { replayed, left } = result;
  const max = opts.maxPaths ?? 5;
  if (replayed.length === 0 && left.length === 0) return 'replay log is empty: nothing to replay';
  const lines = [
    `replayed ${replayed.length} record(s)${left.length === 0 ? ', nothing left to replay' : `, ${left.length} still failing`}`,
  ];
  const byRemote = new Map<string, ReplayRecord[]>();
  for (const r of left) byRemote.set(r.remote, [...(byRemote.get(r.remote) ?? []), r]);
  for (const [remote, recs] of [...byRemote].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // The cause shown is the latest one; the others are counted, so a mixed failure is not hidden.
    const latest = recs.reduce((a, b) => (b.time > a.time ? b : a));
    const causes = new Set(recs.map((r) => r.message)).size;
    const since = recs.map((r) => r.since ?? r.time).sort()[0];
    const roots = [...new Set(recs.map((r) => r.root))];
    const target = parseTarget(remote);
    const what = target.kind === 'hook' ? `hook ${target.hook}` : `remote ${target.remote}`;
    lines.push(
      `${what}: ${recs.length} path(s) under ${roots.join(', ')} still failing since ${since}: ${oneLine(latest.message)}` +
        (causes > 1 ? ` (and ${causes - 1} other cause(s))` : ''),
    );
    const paths = recs.map((r) => `${displayPath(r.path)}${r.action === 'tree' ? ' (tree)' : ''}`).sort();
    for (const p of paths.slice(0, max)) lines.push(`    ${p}`);
    if (paths.length > max) lines.push(`    … and ${paths.length - max} more`);
  }
  return lines.join('\n');
}
