/**
 * One (root, remote) channel: its change set, its lane and its timer. The edge around the pure
 * planner: it owns the clock, checks the root before dispatching, runs jobs and reports results.
 *
 *   running ──root missing / emptied──► halted ──root back (resume)──► running
 *      │                                                          
 *      └──stop()──► stopped
 */
import { ChangeSet, type ChangeSetCaps } from '../core/change-set.js';
import { entryAction, leadingEdge, plan } from '../core/planner.js';
import { checkJobs, type RootState } from '../core/safety.js';
import type { Action, PlanLimits, RsyncJob } from '../core/types.js';
import type { JobResult, SyncRequest, RsyncOutcome } from '../sync/types.js';
import { unreachable } from '../errors.js';
import type { Emit } from '../events.js';

/** `queue` events at most this often per channel (the status model needs counts, not every add). */
const QUEUE_REPORT_MS = 1000;

/** What a channel needs of a lane (src/sync/lane.ts, or the plugin-only stand-in). */
export interface LanePort {
  run(req: SyncRequest): Promise<JobResult>;
  readonly pending: number;
  readonly concurrency: number;
  /**
   * Calls `listener` whenever a job of the lane ends (any channel's, a replay's), so a channel that
   * found the lane full plans again instead of waiting for its next event; returns the unsubscribe.
   * A lane that is never full (the plugin-only stand-in) need not have it.
   */
  onSlotFree?(listener: () => void): () => void;
}

export interface ChannelDeps {
  readonly root: string;
  readonly remoteId: string;
  readonly lane: LanePort;
  readonly limits: PlanLimits;
  readonly caps?: ChangeSetCaps;
  /** rsync --exclude globs for full syncs of this root (crontab filter). */
  readonly fullSyncExcludes: readonly string[];
  readonly probeRoot: (root: string) => Promise<RootState>;
  readonly now: () => number;
  /** A job ended: `landed` reached the remote, `failed` did not (the engine makes them durable). */
  readonly onResult: (ch: Channel, job: RsyncJob, landed: readonly string[], failed: readonly string[], outcome: RsyncOutcome) => Promise<void>;
  readonly onHalt: (ch: Channel, check: string, message: string) => void;
  /** Where `queue` and `full-sync` events go (the status model). */
  readonly emit?: Emit;
}

export type ChannelState = 'running' | 'halted' | 'stopped';

export class Channel {
  readonly changes: ChangeSet;
  #state: ChannelState = 'running';
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #planning = false;
  #again = false;
  readonly #running = new Set<Promise<void>>();
  readonly #unsubscribe: (() => void) | undefined;
  /** The last plan found the lane full with work pending: the next freed slot wakes this channel. */
  #waitingForSlot = false;
  /** The oldest change each running job carries (epoch ms): lag counts what is in flight too. */
  readonly #runningOldest = new Map<Promise<void>, number>();
  readonly #emit: Emit | undefined;
  #reportTimer: NodeJS.Timeout | undefined;
  #reportedAt = -Infinity;
  /** The tree quiet of the backend watching the root, asked at each plan (treeQuietFrom). */
  #treeQuiet: () => number | undefined = () => undefined;

  constructor(readonly deps: ChannelDeps) {
    this.changes = new ChangeSet(deps.caps);
    this.#emit = deps.emit;
    // The wake-up rule: a freed worker slot wakes every channel with work waiting for it.
    this.#unsubscribe = deps.lane.onSlotFree?.(() => {
      if (!this.#waitingForSlot || this.#state !== 'running') return;
      this.#waitingForSlot = false;
      this.#wakeAt(this.deps.now());
    });
  }

  get root(): string {
    return this.deps.root;
  }
  get remoteId(): string {
    return this.deps.remoteId;
  }
  get state(): ChannelState {
    return this.#state;
  }
  /** Jobs running now. */
  get busy(): number {
    return this.#running.size;
  }

  /** `from`: a rename inside the root (the inotify backend's Change.from). */
  add(path: string, action: Action, from?: string): void {
    if (this.#state === 'stopped') return;
    const now = this.deps.now();
    this.changes.add(path, action, now, from);
    this.#wakeAt(leadingEdge(this.changes, now, this.deps.limits) ? now : now + this.deps.limits.settleMs);
    this.#report();
  }

  /** The root is back: try again. */
  resume(): void {
    if (this.#state === 'halted') this.#state = 'running';
    this.#wakeAt(this.deps.now());
    this.#report();
  }

  /** Resolves when nothing is pending or running (tests, --retry-log, drain). */
  async idle(): Promise<void> {
    while (this.changes.size > 0 || this.#running.size > 0) {
      if (this.#running.size > 0) await Promise.race(this.#running);
      else await new Promise((r) => setTimeout(r, 10));
      if (this.#state !== 'running') return;
    }
  }

  stop(): void {
    this.#state = 'stopped';
    this.#unsubscribe?.();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#reportTimer) clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
  }

  /** A throttled `queue` event: one now if the last was long enough ago, else one when it is due. */
  #report(): void {
    if (!this.#emit || this.#reportTimer) return;
    const wait = this.#reportedAt + QUEUE_REPORT_MS - this.deps.now();
    if (wait <= 0) return this.#sendReport();
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#sendReport();
    }, wait);
    this.#reportTimer.unref();
  }

  #sendReport(): void {
    if (!this.#emit) return;
    this.#reportedAt = this.deps.now();
    const pending = this.changes.size;
    const inFlight = this.changes.inFlightCount;
    let oldest: number | null = this.changes.oldestFirstSeen() ?? null;
    for (const t of this.#runningOldest.values()) oldest = oldest === null ? t : Math.min(oldest, t);
    this.#emit({
      type: 'queue',
      level: 'debug',
      message: `${this.root} → ${this.remoteId}: ${pending} path(s) pending, ${inFlight} in flight`,
      root: this.root,
      remote: this.remoteId,
      pending,
      inFlight,
      oldestMs: oldest,
      state: this.#state,
    });
  }

  #wakeAt(at: number): void {
    if (this.#state === 'stopped' || at >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      void this.#tick();
    }, Math.max(0, at - this.deps.now()));
  }

  async #tick(): Promise<void> {
    if (this.#planning) {
      this.#again = true;
      return;
    }
    this.#planning = true;
    try {
      do {
        this.#again = false;
        await this.#planOnce();
      } while (this.#again);
    } finally {
      this.#planning = false;
    }
  }

  /**
   * How long a tree must be quiet before it is sent (PlanLimits.treeQuietMs) depends on how soon
   * the backend watching this root reports a write (planner.ts INOTIFY_TREE_QUIET_MS). `source`
   * says it, asked at each plan: the backend is known once the watcher is live, and can change
   * when the root comes back or the watcher is restarted.
   */
  treeQuietFrom(source: () => number | undefined): void {
    this.#treeQuiet = source;
  }

  /** The tree quiet this channel's plans use now (undefined: the planner's default, TREE_QUIET_MS). */
  get treeQuietMs(): number | undefined {
    return this.#treeQuiet() ?? this.deps.limits.treeQuietMs;
  }

  /** The planner's limits: the configured ones, with the tree quiet of the backend watching the root. */
  get #limits(): PlanLimits {
    const ms = this.#treeQuiet();
    return ms === undefined ? this.deps.limits : { ...this.deps.limits, treeQuietMs: ms };
  }

  async #planOnce(): Promise<void> {
    switch (this.#state) {
      case 'stopped':
      case 'halted':
        return;
      case 'running':
        break;
      default:
        unreachable(this.#state);
    }
    const free = this.deps.lane.concurrency - this.deps.lane.pending;
    this.#waitingForSlot = free <= 0 && this.changes.size > 0;
    const now = this.deps.now();
    const p = plan(this.changes, { root: this.root, remoteId: this.remoteId }, now, this.#limits, free);
    if (p.jobs.length > 0) {
      const halt = checkJobs(this.root, p.jobs, await this.deps.probeRoot(this.root));
      if (halt) {
        this.#state = 'halted';
        this.deps.onHalt(this, halt.check, halt.message);
        this.#report();
        return;
      }
      for (const job of p.jobs) this.#dispatch(job, this.#oldestOf(job, now));
    }
    if (p.wakeAt !== undefined) this.#wakeAt(p.wakeAt);
  }

  /** The oldest change a job carries (before it is taken from the pending set). */
  #oldestOf(job: RsyncJob, now: number): number {
    let oldest = now;
    for (const p of job.paths) oldest = Math.min(oldest, this.changes.firstSeen(p) ?? now);
    return oldest;
  }

  #dispatch(job: RsyncJob, oldest: number): void {
    this.changes.take(job.paths);
    const full = job.action === 'tree' && job.paths.includes('');
    const emit = this.#emit;
    if (full) emit?.({ type: 'full-sync', level: 'info', message: `full sync of ${this.root} to ${this.remoteId} started`, root: this.root, remote: this.remoteId, phase: 'start' });
    const req: SyncRequest = full
      ? { root: job.root, action: 'tree', paths: [''], full: true, excludes: this.deps.fullSyncExcludes }
      : { root: job.root, action: job.action, paths: job.paths };
    const reported: SyncRequest = { ...req, ...(job.also ? { also: job.also } : {}), ...(job.forceAll ? { forceAll: true } : {}), ...(job.flat && !full ? { flat: job.flat } : {}), ...(job.renames && !full ? { renames: job.renames } : {}) };
    const run = (async () => {
      let result: JobResult;
      try {
        result = await this.deps.lane.run(reported);
      } catch (err) {
        // Lanes return outcomes; an exception here is a bug, but the paths must still not be lost.
        const outcome = crashOutcome(err);
        result = { ok: false, outcome, failedPaths: job.paths };
      }
      const failed = result.ok ? [] : result.failedPaths;
      const failedSet = new Set(failed);
      const landed = job.paths.filter((p) => !failedSet.has(p));
      if (full) {
        const phase = result.ok ? 'done' : 'failed';
        emit?.({ type: 'full-sync', level: result.ok ? 'info' : 'warn', message: `full sync of ${this.root} to ${this.remoteId} ${phase}`, root: this.root, remote: this.remoteId, phase });
      }
      try {
        await this.deps.onResult(this, job, landed, failed, result.outcome);
        this.changes.finish(job.paths);
      } catch {
        // Could not make the failure durable (replay log unwritable): keep the paths pending.
        this.changes.finish(job.paths);
        const action = entryAction(job);
        for (const p of failed) this.changes.add(p, action(p), this.deps.now());
      }
    })();
    this.#running.add(run);
    this.#runningOldest.set(run, oldest);
    this.#report();
    void run.finally(() => {
      this.#running.delete(run);
      this.#runningOldest.delete(run);
      this.#wakeAt(this.deps.now());
      this.#report();
    });
  }
}

function crashOutcome(err: unknown): RsyncOutcome {
  return {
    exitCode: null,
    signal: null,
    class: 'retry',
    meaning: 'internal error',
    stderrTail: String(err instanceof Error ? err.message : err),
    durationMs: 0,
    failedPaths: [],
    spawnError: String(err),
  };
}
