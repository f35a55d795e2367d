/**
 * Pure: turn replay records into the fewest rsync runs. One group per (remote, root, action);
 * the same record twice becomes one path; a path under a `tree` path of the same remote and root
 * is carried by that tree (a tree send covers its whole subtree, deletes included).
 */
import type { Action } from '../core/types.js';
import type { ReplayRecord } from './types.js';

export interface ReplayGroup {
  readonly remote: string;
  readonly root: string;
  readonly action: Action;
  /** Unique, sorted; for `tree`, "" is the whole root. */
  readonly paths: string[];
}

export interface GroupPlan {
  readonly groups: ReplayGroup[];
  /** For each input record (same index): its group and the group path that carries it. */
  readonly carrier: { readonly group: number; readonly path: string }[];
}

/** `a` is `b` or one of its ancestors ("" is the root, everyone's ancestor). */
export function covers(a: string, b: string): boolean {
  return a === '' || a === b || b.startsWith(`${a}/`);
}

/** Ancestors of `p` from the root down, then `p` itself: "", "a", "a/b" for "a/b". */
function selfAndAncestors(p: string): string[] {
  const out = [''];
  if (p === '') return out;
  const parts = p.split('/');
  for (let i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

export function groupRecords(records: readonly ReplayRecord[]): GroupPlan {
  const byLane = new Map<string, number[]>();
  records.forEach((r, i) => {
    const k = JSON.stringify([r.remote, r.root]);
    const list = byLane.get(k);
    if (list) list.push(i);
    else byLane.set(k, [i]);
  });

  const groups: ReplayGroup[] = [];
  const carrier: GroupPlan['carrier'] = new Array(records.length);
  const lanes = [...byLane.values()].sort((x, y) => cmpLane(records[x[0]!]!, records[y[0]!]!));
  for (const idx of lanes) {
    const { remote, root } = records[idx[0]!]!;
    const trees = new Set(idx.filter((i) => records[i]!.action === 'tree').map((i) => records[i]!.path));
    const cover = (p: string) => selfAndAncestors(p).find((a) => trees.has(a));
    const treePaths = new Set<string>();
    const plainPaths = new Set<string>();
    const where = new Map<number, { action: Action; path: string }>();
    for (const i of idx) {
      const p = records[i]!.path;
      const c = cover(p);
      if (c !== undefined) (treePaths.add(c), where.set(i, { action: 'tree', path: c }));
      else (plainPaths.add(p), where.set(i, { action: 'path', path: p }));
    }
    const slot = new Map<Action, number>();
    for (const [action, set] of [['tree', treePaths], ['path', plainPaths]] as const) {
      if (set.size === 0) continue;
      slot.set(action, groups.length);
      groups.push({ remote, root, action, paths: [...set].sort() });
    }
    for (const [i, w] of where) carrier[i] = { group: slot.get(w.action)!, path: w.path };
  }
  return { groups, carrier };
}

function cmpLane(a: ReplayRecord, b: ReplayRecord): number {
  return a.remote < b.remote ? -1 : a.remote > b.remote ? 1 : a.root < b.root ? -1 : a.root > b.root ? 1 : 0;
}

export { recordKey } from './record.js';
