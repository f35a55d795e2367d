/**
 * What of a request a lane sends, and how: the edge around SentHistory (sent-history.ts), which
 * decides from lstat's answers. Paths a path job already landed since their last change are left
 * out; `--ignore-times` only where a same-second rewrite could pass rsync's quick check; the paths
 * a tree carries (`also`) are picked for a forced re-send after it where that is needed.
 */
import { lstat } from 'node:fs/promises';
import { pathBytes } from '../core/names.js';
import type { PathStat, SentHistory } from './sent-history.js';
import type { SyncRequest } from './types.js';

export interface SendPlan {
  /** The request's paths still to send. */
  readonly send: readonly string[];
  /** Send them with --ignore-times. */
  readonly force: boolean;
  /** Tree jobs: reported paths inside the trees to send again after them, forced. */
  readonly alsoForced: readonly string[];
  /** When the paths were stat'ed: what the sends are remembered as having seen. */
  readonly at: number;
}

export async function planSend(req: SyncRequest, history: SentHistory, at: number): Promise<SendPlan> {
  if (req.action === 'tree' || req.full) {
    const also = req.also ?? [];
    const stats = await statAll(req.root, also);
    const alsoForced = also.filter((p, i) => {
      const st = stats[i];
      return st !== undefined && !history.alreadyThere(req.root, p, st) && history.needsForce(req.root, p, st, at);
    });
    return { send: req.paths, force: req.ignoreTimes ?? req.forceAll ?? false, alsoForced, at };
  }
  if (req.ignoreTimes !== undefined) return { send: req.paths, force: req.ignoreTimes, alsoForced: [], at };
  const stats = await statAll(req.root, req.paths);
  const send: string[] = [];
  let force = false;
  req.paths.forEach((p, i) => {
    const st = stats[i];
    if (st && history.alreadyThere(req.root, p, st)) return;
    send.push(p);
    if (st && !force) force = history.needsForce(req.root, p, st, at);
  });
  return { send, force, alsoForced: [], at };
}

const STAT_BATCH = 64;

/** lstat of each path (undefined: missing or unreadable: it is sent, and rsync says what it is). */
async function statAll(root: string, paths: readonly string[]): Promise<(PathStat | undefined)[]> {
  const out: (PathStat | undefined)[] = [];
  for (let i = 0; i < paths.length; i += STAT_BATCH) {
    const chunk = paths.slice(i, i + STAT_BATCH);
    out.push(...(await Promise.all(chunk.map((p) => lstat(pathBytes(root, p)).then((st) => ({ mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }), () => undefined)))));
  }
  return out;
}
