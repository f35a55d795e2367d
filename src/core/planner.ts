/**
 * The planner: pending changes in, rsync jobs out. Pure; `now` is an argument.
 *
 * Batching policy (syncthing's aggregator, simplified): a channel's changes wait until it has
 * been quiet for `settleMs` (the window resets on activity), or until an entry has waited
 * `maxDelayMs` (the hard ceiling a sustained burst cannot push back). The leading edge is the
 * exception: the first changes after the channel was idle for `maxDelayMs` go at once, so a
 * single file written while idle does not wait for a window (a burst's first event goes alone,
 * the rest is batched). A burst goes out as a few large batches, split over the free workers so
 * they share the receiver's work.
 */
import type { ChangeSet } from './change-set.js';
import type { Action, PendingEntry, PlanLimits, RsyncJob } from './types.js';

export interface Plan {
  readonly jobs: RsyncJob[];
  /** When the planner should be asked again if nothing else happens (undefined: nothing pending). */
  readonly wakeAt: number | undefined;
}

/** Below this many paths a batch is not split across workers: one rsync start is cheaper. */
export const MIN_SPLIT = 200;

export function plan(
  changes: ChangeSet,
  channel: { root: string; remoteId: string },
  now: number,
  limits: PlanLimits,
  freeSlots: number,
): Plan {
  const pending = changes.entries();
  if (pending.length === 0) return { jobs: [], wakeAt: undefined };
  const quietSince = changes.lastActivity;
  const channelSettled = now - quietSince >= limits.settleMs || leadingEdge(changes, now, limits);

  const ready: PendingEntry[] = [];
  let wakeAt = Infinity;
  for (const e of pending) {
    if (changes.overlapsInFlight(e.path, e.action)) continue; // woken by the job that ends
    if (channelSettled || now - e.firstSeen >= limits.maxDelayMs) ready.push(e);
    else wakeAt = Math.min(wakeAt, quietSince + limits.settleMs, e.firstSeen + limits.maxDelayMs);
  }
  if (freeSlots <= 0 || ready.length === 0) return { jobs: [], wakeAt: finite(wakeAt) };

  const jobs: RsyncJob[] = [];
  const byAction: Record<Action, PendingEntry[]> = { tree: [], path: [] };
  for (const e of ready) byAction[e.action].push(e);
  // Trees first: they carry new directories, whose contents events may never report.
  for (const action of ['tree', 'path'] as const) {
    const list = byAction[action];
    if (list.length === 0 || jobs.length >= freeSlots) continue;
    const slots = freeSlots - jobs.length - (action === 'tree' && byAction.path.length > 0 ? 1 : 0);
    // A tree entry is a whole directory (a new one holds what its events never reported), so trees
    // are spread over the free workers however few they are; paths only in batches of MIN_SPLIT.
    const count = Math.max(1, Math.min(slots, action === 'tree' ? list.length : Math.ceil(list.length / MIN_SPLIT)));
    const size = Math.min(limits.maxBatch, Math.ceil(list.length / count));
    for (let i = 0; i < list.length && jobs.length < freeSlots; i += size) {
      jobs.push({ root: channel.root, remoteId: channel.remoteId, action, paths: list.slice(i, i + size).map((e) => e.path) });
    }
  }
  const planned = new Set(jobs.flatMap((j) => j.paths));
  if (ready.some((e) => !planned.has(e.path))) wakeAt = Math.min(wakeAt, now); // more ready than slots
  return { jobs, wakeAt: finite(wakeAt) };
}

/** The first changes after an idle spell: sent without a settle window. */
export function leadingEdge(changes: ChangeSet, now: number, limits: PlanLimits): boolean {
  const { start, quietBefore, taken } = changes.run;
  return !taken && quietBefore >= limits.maxDelayMs && now - start < limits.settleMs;
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}
