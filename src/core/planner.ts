/**
 * The planner: pending changes in, rsync jobs out. Pure; `now` is an argument.
 *
 * Batching policy (syncthing's aggregator, adapted to what costs CPU here):
 * - A channel's changes wait until it has been quiet for `settleMs` (the window resets on
 *   activity), or until its oldest entry has waited `maxDelayMs` (the ceiling a sustained burst
 *   cannot push back). When either happens the channel is flushed: every ready entry goes, not only
 *   the one that reached the ceiling, so a sustained burst becomes one large batch per ceiling
 *   instead of a trickle of small ones (each rsync costs a process start and a daemon handshake).
 * - The settle window grows with sustained activity, an eighth of how long it has gone on, up to
 *   half the ceiling (`settleFor`): in a storm of small writes a 30 ms gap comes every few writes,
 *   and each one used to send a small batch (a process start and a daemon handshake each, which
 *   is what made replication cost several times the CPU of one bare rsync). The first change
 *   after a quiet spell still sees the configured window, and the leading edge is unchanged.
 * - A tree (a new or moved directory) still receiving events waits until it has been quiet for
 *   `treeQuietMs`, up to its own ceiling: sent while it is being filled, its files would be sent
 *   twice (by the tree, then again for the events that arrive after it started).
 * - The leading edge: the first changes after the channel was idle for `maxDelayMs` go at once, so
 *   a single file written while idle does not wait for a window (a burst's first event goes alone,
 *   the rest is batched).
 * A burst goes out as a few large batches, split over the free workers so they share the
 * receiver's work. A flush's paths ride in its tree job (RsyncJob.flat) when they would have been
 * one job of their own: one rsync run per flush (each run costs a process start, a daemon
 * handshake and a file list: ~36 ms of CPU on the two ends, more than most storm batches' data).
 *
 * Renames: the old paths of a pending rename are held and go in the job of its new path, which
 * carries the rename (RsyncJob.renames), so the receiver can build the new path from its old copy
 * before that copy is deleted.
 */
import type { ChangeSet } from './change-set.js';
import type { Action, PendingEntry, PlanLimits, Rename, RsyncJob } from './types.js';

export interface Plan {
  readonly jobs: RsyncJob[];
  /** When the planner should be asked again if nothing else happens (undefined: nothing pending). */
  readonly wakeAt: number | undefined;
}

/** Below this many paths a batch is not split across workers: one rsync start is cheaper. */
export const MIN_SPLIT = 200;

/**
 * A tree is "still being filled" while events inside it came less than this long ago. @parcel/watcher
 * reports within ~50 ms of a write (500 ms under load, its batching window), so 300 ms of quiet
 * means the writer moved on; the ceiling still bounds the wait. The default, and parcel's.
 */
export const TREE_QUIET_MS = 300;

/**
 * The same with tssersync's inotify backend, which reads the kernel's queue at least every 25 ms
 * in a burst (src/watch/inotify/pace.ts): 100 ms of quiet is four reads with nothing in the tree.
 * Measured (npm run bench, burst1k on a journaled ext4, 2 rounds alternating): 300 ms left the
 * destination equal 0.63-0.82 s after the writer began (1.8-2.1x bare), most of it this wait;
 * 100 ms 0.43-0.66 s (1.4x), and no file of the 1k or the 10k burst was received twice.
 */
export const INOTIFY_TREE_QUIET_MS = 100;

export function plan(
  changes: ChangeSet,
  channel: { root: string; remoteId: string },
  now: number,
  limits: PlanLimits,
  freeSlots: number,
): Plan {
  return quietPlan(changes, now, limits) ?? planInFull(changes, channel, now, limits, freeSlots);
}

/**
 * The answer while a burst is still settling, without copying and sorting every pending entry.
 * The channel asks the planner at every batch of events; in the 2,000-op storm that was ~30 plans
 * over ~350 pending entries each, 8-10 ms of the CLI's main thread (a build that timed plan()).
 * Nothing is ready when the channel has not been quiet for its settle window, it is not the
 * leading edge, and no pending entry is as old as the ceiling: then no entry is due and no flush
 * happens (see planInFull). The wake-up is the full plan's or earlier (the oldest of all pending
 * entries, where the full plan looks at those free to start only): an early wake-up only plans
 * again. undefined: plan in full.
 */
function quietPlan(changes: ChangeSet, now: number, limits: PlanLimits): Plan | undefined {
  if (changes.size === 0) return { jobs: [], wakeAt: undefined };
  const settleAt = changes.lastActivity + settleFor(changes, now, limits);
  if (now >= settleAt || leadingEdge(changes, now, limits)) return undefined;
  const oldest = changes.oldestFirstSeen()!;
  if (now - oldest >= limits.maxDelayMs) return undefined;
  return { jobs: [], wakeAt: Math.min(oldest + limits.maxDelayMs, settleAt) };
}

/** plan() without its shortcut for a settling channel (quietPlan): exported for the test that holds them equal. */
export function planInFull(
  changes: ChangeSet,
  channel: { root: string; remoteId: string },
  now: number,
  limits: PlanLimits,
  freeSlots: number,
): Plan {
  const pending = changes.entries();
  if (pending.length === 0) return { jobs: [], wakeAt: undefined };
  const quietSince = changes.lastActivity;
  const lead = leadingEdge(changes, now, limits);
  const settleMs = settleFor(changes, now, limits);
  const treeQuietMs = Math.min(Math.max(limits.settleMs, limits.treeQuietMs ?? TREE_QUIET_MS), limits.maxDelayMs);

  const candidates: PendingEntry[] = [];
  let oldest = Infinity;
  for (const e of pending) {
    if (changes.overlapsInFlight(e.path, e.action)) continue; // woken by the job that ends
    if (changes.heldFor(e.path) !== undefined) continue; // goes with its rename's new path
    candidates.push(e);
    oldest = Math.min(oldest, e.firstSeen);
  }
  // Flushed: quiet, the leading edge, or the oldest entry at its ceiling.
  const ceiling = now - oldest >= limits.maxDelayMs;
  const flush = lead || ceiling || now - quietSince >= settleMs;
  // When a tree may be "still being filled": at a ceiling, judged per tree (those quiet go with the
  // batch); after quiet, by the whole channel, so the trees of a burst go together once it is over
  // instead of one by one as each falls quiet.
  const fillingUntil = (e: PendingEntry): number => (e.action !== 'tree' || lead ? -Infinity : (ceiling ? e.lastSeen : quietSince) + treeQuietMs);
  const ready: PendingEntry[] = [];
  let wakeAt = Infinity;
  // At a ceiling flush, what would reach its own ceiling within half of one goes too (a filling
  // tree included): in a storm every entry reaches its ceiling at its own moment, and each moment
  // was a flush of its own, so jobs ran back to back with a few paths each (issue 11 profile: 18
  // tree jobs of 1-24 paths in the 2,000-op storm). Never later than the ceiling, only earlier.
  const dueAge = ceiling ? limits.maxDelayMs / 2 : limits.maxDelayMs;
  for (const e of candidates) {
    const due = now - e.firstSeen >= dueAge;
    const filling = now < fillingUntil(e);
    if (due || (flush && !filling)) ready.push(e);
    else wakeAt = Math.min(wakeAt, e.firstSeen + limits.maxDelayMs, flush ? fillingUntil(e) : quietSince + settleMs);
  }
  if (freeSlots <= 0 || ready.length === 0) return { jobs: [], wakeAt: finite(wakeAt) };

  const jobs: RsyncJob[] = [];
  const byAction: Record<Action, PendingEntry[]> = { tree: [], path: [] };
  const oldestOf: Record<Action, number> = { tree: Infinity, path: Infinity };
  for (const e of ready) {
    byAction[e.action].push(e);
    oldestOf[e.action] = Math.min(oldestOf[e.action], e.firstSeen);
  }
  // Trees first (they carry new directories, whose contents events may never report), unless the
  // paths have waited longer. With one free slot (the lane runs one rsync while jobs are short),
  // trees first starved the paths: in the 2,000-op storm each job's end found a few more trees
  // due, so 10 tree jobs of 1-9 paths ran back to back while 347 paths waited past the ceiling
  // (1.35 s). Oldest first, the ready group that waited longest goes, and the other next.
  const order: readonly Action[] = oldestOf.path < oldestOf.tree ? ['path', 'tree'] : ['tree', 'path'];
  // The paths ride in the last tree job (RsyncJob.flat) when they would have been one job of their
  // own anyway: one rsync run per flush instead of two. Not with the root among the trees (that job
  // is a full sync), nor the root itself as a path (a tree of "" is a full sync).
  const ride =
    byAction.tree.length > 0 &&
    byAction.path.length > 0 &&
    byAction.tree.length + byAction.path.length <= limits.maxBatch &&
    (byAction.path.length <= MIN_SPLIT || freeSlots <= 2) &&
    !byAction.tree.some((e) => e.path === '') &&
    !byAction.path.some((e) => e.path === '');
  for (const action of ride ? (['tree'] as const) : order) {
    const list = byAction[action];
    if (list.length === 0 || jobs.length >= freeSlots) continue;
    const other = byAction[action === 'tree' ? 'path' : 'tree'];
    // Leave one slot for the other group when it is still to be planned (riding paths count as one).
    const slots = freeSlots - jobs.length - ((action === order[0] || ride) && other.length > 0 ? 1 : 0);
    // A tree entry is a whole directory (a new one holds what its events never reported), so trees
    // are spread over the free workers however few they are; paths only in batches of MIN_SPLIT.
    const count = Math.max(1, Math.min(slots, action === 'tree' ? list.length : Math.ceil(list.length / MIN_SPLIT)));
    const size = Math.min(limits.maxBatch, Math.ceil(list.length / count));
    for (let i = 0; i < list.length && jobs.length < freeSlots; i += size) {
      const paths = list.slice(i, i + size).map((e) => e.path);
      const last = i + size >= list.length;
      const flat = ride && last ? byAction.path.map((e) => e.path) : undefined;
      if (flat) paths.push(...flat);
      const renames = renamesOf(changes, paths);
      jobs.push({ root: channel.root, remoteId: channel.remoteId, action, paths, ...(action === 'tree' ? reportedOf(changes, paths) : {}), ...(flat ? { flat } : {}), ...renames });
    }
  }
  const planned = new Set(jobs.flatMap((j) => j.paths));
  if (ready.some((e) => !planned.has(e.path))) wakeAt = Math.min(wakeAt, now); // more ready than slots
  return { jobs, wakeAt: finite(wakeAt) };
}

/** What a job's path is as a pending entry: a riding path (RsyncJob.flat) is a path, not a tree. */
export function entryAction(job: RsyncJob): (path: string) => Action {
  if (!job.flat || job.flat.length === 0) return () => job.action;
  const flat = new Set(job.flat);
  return (p) => (flat.has(p) ? 'path' : job.action);
}

/** The settle window now: the configured one, widened by sustained activity (see above). */
export function settleFor(changes: ChangeSet, now: number, limits: PlanLimits): number {
  const active = now - changes.activeSince;
  if (!Number.isFinite(active)) return limits.settleMs;
  // An eighth: a few edits in a row keep the configured window (30 ms until 240 ms of activity).
  return Math.max(limits.settleMs, Math.min(active / 8, limits.maxDelayMs / 2));
}

/** The first changes after an idle spell: sent without a settle window. */
export function leadingEdge(changes: ChangeSet, now: number, limits: PlanLimits): boolean {
  const { start, quietBefore, taken } = changes.run;
  return !taken && quietBefore >= limits.maxDelayMs && now - start < limits.settleMs;
}

/**
 * The renames among a job's paths; their old paths join the job (appended to `paths`), except
 * those that overlap a running job: they are planned on their own once the new path is taken.
 */
function renamesOf(changes: ChangeSet, paths: string[]): { renames?: Rename[] } {
  const renames: Rename[] = [];
  const listed = new Set(paths);
  for (const p of [...paths]) {
    const r = changes.renamesOf(p);
    if (!r) continue;
    renames.push(...r.renames);
    for (const s of r.sources) {
      if (listed.has(s) || changes.firstSeen(s) === undefined || changes.overlapsInFlight(s, 'tree')) continue;
      listed.add(s);
      paths.push(s);
    }
  }
  return renames.length > 0 ? { renames } : {};
}

/** What the trees of a job carry: the paths events reported inside them. */
function reportedOf(changes: ChangeSet, trees: readonly string[]): { also?: string[]; forceAll?: boolean } {
  const also: string[] = [];
  let forceAll = false;
  for (const t of trees) {
    const r = changes.reported(t);
    also.push(...r.also);
    forceAll ||= r.forceAll;
  }
  return { ...(also.length > 0 ? { also } : {}), ...(forceAll ? { forceAll } : {}) };
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}
