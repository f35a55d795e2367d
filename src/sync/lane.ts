/**
 * One lane per remote: a p-queue of rsync jobs with the configured concurrency, each retried with
 * backoff (p-retry). A dead remote fills only its own lane. Paths that do not land are returned
 * to the caller (never dropped): it puts them in the replay log.
 *
 *   running ──stop('drain')──► draining ──queue idle──────────► stopped
 *      └──────stop('abort')──► aborting ──running rsyncs killed──┘
 *
 * Outside `running`, run() resolves at once with every path failed: the caller keeps them.
 */
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import pRetry, { AbortError } from 'p-retry';
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { unreachable } from '../errors.js';
import type { Emit } from '../events.js';
import { attempt, type AttemptContext, type DeleteForm } from './attempt.js';
import type { ForceForm } from './argv.js';
import { sshControlDir } from './ssh-control.js';
import { adaptiveConcurrency, WINDOW } from './concurrency.js';
import { busyBetween, cpuTimes, type CpuTimes } from './machine-load.js';
import { FOLD_BUDGET, planSend } from './send-plan.js';
import { SentHistory } from './sent-history.js';
import { autoParts, DEFAULT_MIN_ENTRIES, type FullSyncSplit, type PartPlan } from './full-parts.js';
import { probeDeleteMissingArgsDetailed } from './delete.js';
import { failureText } from './messages.js';
import { racedPaths } from './vanished.js';
import { findPriorityTools, missingToolText, ownNice, priorityPrefix, reniceFor, reniceSupported, type PriorityTools } from './priority.js';
import type { RsyncProgress } from './stats.js';
import type { JobResult, OutcomeClass, RsyncOutcome, SyncRequest } from './types.js';
import type { Rename } from '../core/types.js';
import { displayName } from '../core/names.js';

export interface LaneOptions {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  /** rsync processes at once for this remote, at most (`-n` / thread count); see concurrency.ts. */
  readonly concurrency: number;
  /** Follow the machine and the job durations below `concurrency` (concurrency.ts). @default true */
  readonly adaptive?: boolean;
  /** Cores to plan for. @default os.availableParallelism() */
  readonly cores?: number;
  /** The machine's CPU counters (machine-load.ts; tests give their own). @default cpuTimes */
  readonly cpuTimes?: () => CpuTimes;
  /** Attempts after the first before the paths are handed back as failed. */
  readonly retries: number;
  readonly emit: Emit;
  /** Put the argv of each run in job-start events. */
  readonly debug: boolean;
  /** Backoff between attempts. @default { min: 1000, max: 30000 } */
  readonly retryDelayMs?: { readonly min: number; readonly max: number };
  /** Never use --delete-missing-args, even where the probe would allow it (tests, odd receivers). */
  readonly forceDeleteFallback?: boolean;
}

export type LaneState = 'running' | 'draining' | 'aborting' | 'stopped';

interface Ticket {
  readonly req: SyncRequest;
  readonly resolve: (r: JobResult) => void;
}

/** Times a job looks at the disk again after paths vanished under it, before that counts as a failure. */
const RACE_LOOKS = 3;
/** The machine's busy share is taken over at least this much wall time (see #observe). */
const BUSY_WINDOW_MS = 500;

/** Thrown inside p-retry to ask for another attempt. */
class AttemptFailed extends Error {}

/** Looked up once per process; a missing tool is reported once. */
let tools: PriorityTools | undefined;
let toolsReported = false;

export class Lane {
  readonly #o: LaneOptions;
  /** The configured settings with the priority resolved (resolvePriority: set on rsync itself, or launcher words). */
  readonly #rsync: RsyncSettings;
  readonly #queue: PQueue;
  /** A priority that could not be set on a running rsync was reported (once per lane). */
  #priorityReported = false;
  readonly #abort = new AbortController();
  readonly #waiting = new Set<Ticket>();
  #state: LaneState = 'running';
  readonly #slotFree = new Set<() => void>();
  /** What this remote was sent lately: which paths need --ignore-times, which are already there. */
  readonly #history = new SentHistory(Date.now());
  /** Durations of the last jobs, for adaptiveConcurrency(). */
  readonly #durations: number[] = [];
  readonly #cores: number;
  /** How busy the machine was lately (machine-load.ts), for adaptiveConcurrency(): the last reading and the share since the one before. */
  readonly #readCpu: () => CpuTimes;
  #cpuAt: CpuTimes;
  #busy: number | undefined;
  /** Cached probe answer; a pending probe is shared by concurrent jobs. */
  #form: Promise<DeleteForm> | undefined;
  /** How forced sends bypass the quick check (argv.ts FORCE_OPTION): --checksum until the remote refuses it. */
  #forceForm: ForceForm = 'checksum';

  constructor(o: LaneOptions) {
    this.#o = o;
    this.#rsync = withSharedSsh(resolvePriority(o.rsync, o.remote, o.emit), o.remote);
    this.#cores = o.cores ?? availableParallelism();
    this.#readCpu = o.cpuTimes ?? cpuTimes;
    this.#cpuAt = this.#readCpu();
    this.#queue = new PQueue({ concurrency: this.#target() });
    // p-queue emits `next` after a task ended and the queue's counts went down.
    this.#queue.on('next', () => {
      for (const l of this.#slotFree) l();
    });
    if (o.forceDeleteFallback) this.#form = Promise.resolve('fallback');
  }

  get state(): LaneState {
    return this.#state;
  }
  /** Jobs queued plus running. */
  get pending(): number {
    return this.#queue.size + this.#queue.pending;
  }
  /** rsyncs at once now (planners size their batches by the free ones). */
  get concurrency(): number {
    return this.#queue.concurrency;
  }

  #target(): number {
    const limit = Math.max(1, this.#o.concurrency);
    return this.#o.adaptive === false ? limit : adaptiveConcurrency(limit, this.#cores, this.#durations, this.#busy);
  }

  #observe(durationMs: number): void {
    this.#durations.push(durationMs);
    if (this.#durations.length > WINDOW) this.#durations.shift();
    // The busy share over at least BUSY_WINDOW_MS of wall time (jobs ending a few ms apart would
    // each see a window too short to mean anything): until then the last share stands.
    const now = this.#readCpu();
    if (now.total - this.#cpuAt.total >= BUSY_WINDOW_MS * this.#cores) {
      this.#busy = busyBetween(this.#cpuAt, now) ?? this.#busy;
      this.#cpuAt = now;
    }
    const t = this.#target();
    if (t !== this.#queue.concurrency) this.#queue.concurrency = t;
  }

  run(req: SyncRequest): Promise<JobResult> {
    switch (this.#state) {
      case 'running':
        break;
      case 'draining':
      case 'aborting':
      case 'stopped':
        return Promise.resolve(stoppedResult(req, this.#state));
      default:
        unreachable(this.#state);
    }
    return new Promise((resolve) => {
      const ticket: Ticket = { req, resolve };
      this.#waiting.add(ticket);
      void this.#queue.add(async () => {
        // Already answered by stop('abort') while it waited.
        if (!this.#waiting.delete(ticket)) return;
        resolve(await this.#execute(req));
      });
    });
  }

  /** See LanePort.onSlotFree: called after every job of this lane (live, replay, full sync) ends. */
  onSlotFree(listener: () => void): () => void {
    this.#slotFree.add(listener);
    return () => this.#slotFree.delete(listener);
  }

  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }

  async stop(mode: 'drain' | 'abort'): Promise<void> {
    if (this.#state === 'stopped') return;
    if (mode === 'abort') {
      this.#state = 'aborting';
      for (const t of this.#waiting) t.resolve(stoppedResult(t.req, 'aborting'));
      this.#waiting.clear();
      this.#queue.clear();
      this.#abort.abort(new Error('lane aborted'));
    } else if (this.#state === 'running') {
      this.#state = 'draining';
    }
    await this.#queue.onIdle();
    this.#state = 'stopped';
  }

  async #execute(req: SyncRequest): Promise<JobResult> {
    const { remote, emit, retries } = this.#o;
    const delay = this.#o.retryDelayMs ?? { min: 1000, max: 30000 };
    // A remote that refuses --checksum gets --ignore-times, which would rewrite every file of a
    // folded tree run on the receiver: there the forced re-send keeps its run of its own.
    const prep = await planSend(req, this.#history, Date.now(), this.#forceForm === 'checksum' ? FOLD_BUDGET : NO_FOLD);
    if (prep.send.length === 0 && prep.after.length === 0) return { ok: true, outcome: nothingToSend() };
    let remaining: readonly string[] = prep.send;
    let last: RsyncOutcome | undefined;
    const signal = this.#abort.signal;
    const progress = req.full
      ? throttled<RsyncProgress>(PROGRESS_EVERY_MS, (p) =>
          emit({ type: 'progress', level: 'debug', message: `full sync of ${req.root} to ${remote.id}: ${p.checked} entries checked, ${p.bytes} bytes sent`, root: req.root, remote: remote.id, files: p.checked, bytes: p.bytes }),
        )
      : undefined;
    try {
      await pRetry(
        async (n) => {
          const started = { argv: undefined as readonly string[] | undefined };
          // A retry may follow a partial transfer: force it.
          const sendReq: SyncRequest = { ...req, ignoreTimes: prep.force || n > 1 };
          // Riding paths sent only by the forced run (send-plan.ts): on the first attempt they are
          // not in `remaining`, so they fail with it whenever that run does not land them.
          const after = n === 1 ? prep.after : [];
          const token = this.#history.begin(req.root, req.action, remaining, after, prep.at);
          const ctx: AttemptContext = {
            remote,
            rsync: this.#rsync,
            signal,
            deleteForm: (probe) => this.#deleteForm(probe),
            rejectFastForm: () => this.#rejectFastForm(),
            forceForm: () => this.#forceForm,
            rejectChecksum: () => this.#rejectChecksum(),
            ...(progress ? { onProgress: progress.see } : {}),
            ...(req.full
              ? {
                  fullSplit: this.#fullSplit(),
                  onParts: (plan: PartPlan) =>
                    emit({ type: 'info', level: 'debug', message: `full sync of ${req.root} to ${remote.id}: ${plan.parts.length + 1} rsync runs at once (about ${plan.estimate} entries; ${plan.others.length} director${plan.others.length === 1 ? 'y' : 'ies'} outside the first run)` }),
                }
              : {}),
            onSeed: (rename, r) => emit({ type: 'info', level: 'debug', message: seedText(remote.id, req.root, rename, r) }),
            onArgv: (argv) => {
              if (started.argv) return;
              started.argv = argv;
              emit({
                type: 'job-start',
                level: 'debug',
                message: `rsync to ${remote.id}: ${remaining.length} path(s) from ${req.root}${n > 1 ? ` (attempt ${n})` : ''}`,
                remote: remote.id,
                root: req.root,
                paths: remaining.length,
                ...(this.#o.debug ? { argv } : {}),
              });
            },
          };
          const run = (r: SyncRequest, paths: readonly string[]) => attempt(r, paths, ctx).catch((err: unknown) => ({ outcome: internalOutcome(err, 'internal error', 'fatal'), failed: paths }));
          const once = (paths: readonly string[]) => run(sendReq, paths);
          let res: { outcome: RsyncOutcome; failed: readonly string[] } = remaining.length > 0 ? await once(remaining) : { outcome: nothingToSend(), failed: [] };
          // Paths renamed or deleted under the job are a race, not a failure: look at the disk again now.
          for (let look = 0; look < RACE_LOOKS && res.failed.length > 0 && res.outcome.exitCode === 23; look++) {
            const raced = racedPaths(res.outcome.stderrTail, res.failed, req.root);
            if (!raced) break;
            emit({ type: 'info', level: 'debug', message: `rsync to ${remote.id}: ${raced.length} path(s) from ${req.root} changed on disk while being sent: looking again` });
            res = await once(raced);
          }
          if (prep.alsoForced.length > 0) {
            if (res.failed.length === 0) {
              // What events reported inside the tree and the quick check could miss: forced. If it
              // fails, the whole tree is retried (its paths are what the caller knows).
              const also = await run({ root: req.root, action: 'path', paths: prep.alsoForced, ignoreTimes: true }, prep.alsoForced);
              if (also.failed.length > 0) res = { outcome: also.outcome, failed: [...remaining, ...after] };
            } else if (after.length > 0) {
              res = { outcome: res.outcome, failed: [...res.failed, ...after] };
            }
          }
          const failedSet = new Set(res.failed);
          this.#history.finish(token, req.root, req.action, [...remaining, ...after].filter((p) => !failedSet.has(p)), prep.at, Date.now(), true, vouches(req, res.failed));
          progress?.flush();
          last = res.outcome;
          if (res.outcome.priorityError !== undefined && !this.#priorityReported) {
            // Replication goes on at rsync's inherited priority; said once per lane.
            this.#priorityReported = true;
            emit({ type: 'info', level: 'warn', message: `rsync to ${remote.id}: ${res.outcome.priorityError}; rsync runs at tssersync's own priority (<priority> in the config)` });
          }
          const sent = res.outcome.bytesSent;
          if (sent !== undefined && sent > 0) {
            emit({ type: 'transfer', level: 'debug', message: `rsync to ${remote.id}: ${sent} byte(s) sent from ${req.root}`, remote: remote.id, root: req.root, bytesSent: sent });
          }
          if (res.failed.length === 0) return;
          remaining = res.failed;
          const willRetry = !signal.aborted && res.outcome.class !== 'fatal' && n <= retries;
          emit({
            type: 'job-failed',
            level: willRetry ? 'warn' : 'error',
            message: failureText(remote.id, res.outcome, remaining.length, req.paths.length),
            remote: remote.id,
            root: req.root,
            paths: remaining.length,
            exitCode: res.outcome.exitCode,
            attempt: n,
            willRetry,
          });
          throw willRetry ? new AttemptFailed() : new AbortError('no retry');
        },
        { retries, minTimeout: delay.min, maxTimeout: delay.max, factor: 2, randomize: true, signal, unref: true },
      );
    } catch (err) {
      if (!last) last = internalOutcome(err);
      return { ok: false, outcome: last, failedPaths: remaining };
    }
    const outcome = last ?? internalOutcome(new Error('no attempt ran'));
    this.#observe(outcome.durationMs);
    emit({
      type: 'job-done',
      level: 'info',
      message: `rsync to ${remote.id}: ${req.paths.length} path(s) from ${req.root} landed in ${outcome.durationMs} ms`,
      remote: remote.id,
      root: req.root,
      paths: req.paths.length,
      durationMs: outcome.durationMs,
    });
    return { ok: true, outcome };
  }

  /** How many runs a full sync may take at once (full-parts.ts): `<fullSync parts>`, else auto. */
  #fullSplit(): FullSyncSplit {
    const conf = this.#o.rsync.fullSync;
    const limit = Math.max(1, this.#o.concurrency);
    const parts = conf?.parts === undefined || conf.parts === 'auto' ? autoParts(limit, this.#cores) : Math.min(conf.parts, limit);
    return { parts, minEntries: conf?.minEntries ?? DEFAULT_MIN_ENTRIES };
  }

  /**
   * Asks the remote now what the first delete would ask (engine start): in the background, the
   * answer cached. Through the queue, like any job: it is an rsync run, and `-n` bounds them all.
   */
  prepare(): void {
    if (this.#state !== 'running' || this.#form) return;
    this.#queue
      .add(async () => {
        if (this.#state === 'running') await this.#deleteForm(true);
      })
      .catch(() => undefined);
  }

  #deleteForm(probe: boolean): Promise<DeleteForm> {
    if (this.#form) return this.#form;
    if (!probe) return Promise.resolve('unknown');
    const asked = probeDeleteMissingArgsDetailed(this.#o.remote, this.#rsync, this.#abort.signal).then(({ answer, outcome }): DeleteForm => {
      if (answer === 'unknown') {
        // The remote could not be asked: forget the answer, use the safe form this time.
        this.#form = undefined;
        return 'unknown';
      }
      if (answer === 'unsupported') {
        this.#o.emit({
          type: 'remote-health',
          level: 'warn',
          message: `${this.#o.remote.id} rejects --delete-missing-args (${failureText(this.#o.remote.id, outcome)}); deletes use the filter form`,
          remote: this.#o.remote.id,
          healthy: true,
          cause: 'delete-missing-args unsupported',
        });
      }
      return answer === 'supported' ? 'fast' : 'fallback';
    });
    this.#form = asked;
    return asked;
  }

  #rejectFastForm(): void {
    this.#form = Promise.resolve('fallback');
  }

  #rejectChecksum(): void {
    if (this.#forceForm === 'ignore-times') return;
    this.#forceForm = 'ignore-times';
    this.#o.emit({
      type: 'remote-health',
      level: 'warn',
      message: `${this.#o.remote.id} refuses --checksum (rsyncd.conf refuse options); forced re-sends use --ignore-times, which rewrites every file the remote already has: allow checksum on the module to save that work`,
      remote: this.#o.remote.id,
      healthy: true,
      cause: 'checksum refused',
    });
  }
}

/**
 * `rsync` with its priority resolved (priority.ts): set on each rsync once it runs where this
 * system can (no extra exec per run), on its process group for an ssh remote (rsync forks ssh at
 * once); else `launcher` words from the tools this machine has.
 */
export function resolvePriority(rsync: RsyncSettings, remote: RemoteConfig, emit: Emit): RsyncSettings {
  if (!rsync.priority || rsync.launcher || rsync.renice) return rsync;
  if (rsync.priority.nice === 0 && !rsync.priority.ionice) return rsync;
  // Over ssh on its process group (rsync forks ssh at once): priority.ts.
  const group = remote.mode === 'ssh';
  if (process.env['TSSERSYNC_PRIORITY_LAUNCHER'] !== '1' && reniceSupported(rsync.priority, group)) {
    return { ...rsync, renice: reniceFor(rsync.priority, ownNice(), group) };
  }
  tools ??= findPriorityTools();
  const missing = missingToolText(rsync.priority, tools);
  if (missing && !toolsReported) {
    toolsReported = true;
    emit({ type: 'info', level: 'info', message: missing });
  }
  return { ...rsync, launcher: priorityPrefix(rsync.priority, tools) };
}

/** An ssh remote's runs share one ssh connection (ssh-control.ts), where a private socket directory can be made. */
function withSharedSsh(rsync: RsyncSettings, remote: RemoteConfig): RsyncSettings {
  if (remote.mode !== 'ssh' || rsync.sshControl !== undefined) return rsync;
  const dir = sshControlDir();
  return dir === undefined ? rsync : { ...rsync, sshControl: dir };
}

/** What a rename's seed did (rename.ts), for the debug log. */
function seedText(remote: string, root: string, rename: Rename, r: { outcome: RsyncOutcome } | { why: string }): string {
  const what = `rename ${displayName(rename.from)} -> ${displayName(rename.to)} in ${root} to ${remote}`;
  if ('why' in r) return `${what}: sent as new (${r.why})`;
  const o = r.outcome;
  if (o.class !== 'done') return `${what}: seeding from the remote's old copy failed (${o.meaning}); the job sends it`;
  return `${what}: seeded from the remote's old copy in ${o.durationMs} ms${o.bytesSent !== undefined ? `, ${o.bytesSent} byte(s) sent` : ''}`;
}

/**
 * Whether a tree job that ended so vouches for the files under it (sent-history.ts): none of its
 * paths failed, and no rename seeded the remote from a copy whose own history is elsewhere.
 */
function vouches(req: SyncRequest, failed: readonly string[]): boolean {
  return failed.length === 0 && (req.renames === undefined || req.renames.length === 0);
}

/** send-plan.ts FoldBudget that never folds. */
const NO_FOLD = { bytes: -1, entries: -1 };

/** A full sync's progress events at most this often (the model and the 10 s log line need no more). */
const PROGRESS_EVERY_MS = 500;

/** `see` passes a value on at most every `ms`; `flush` passes on the last one held back. */
function throttled<T>(ms: number, fn: (v: T) => void): { see: (v: T) => void; flush: () => void } {
  let last = -Infinity;
  let held: T | undefined;
  return {
    see(v) {
      const now = Date.now();
      if (now - last < ms) return void (held = v);
      last = now;
      held = undefined;
      fn(v);
    },
    flush() {
      if (held !== undefined) fn(held);
      held = undefined;
    },
  };
}

function nothingToSend(): RsyncOutcome {
  return { exitCode: 0, signal: null, class: 'done', meaning: 'already on the remote', stderrTail: '', durationMs: 0, failedPaths: [], spawnError: undefined };
}

function stoppedResult(req: SyncRequest, state: LaneState): JobResult {
  return { ok: false, outcome: internalOutcome(new Error(`lane is ${state}`), 'aborted'), failedPaths: req.paths };
}

/** An outcome for what never reached rsync: a stopped lane, or argv that cannot be built. */
function internalOutcome(err: unknown, meaning = 'internal error', cls: OutcomeClass = 'retry'): RsyncOutcome {
  const text = err instanceof Error ? err.message : String(err);
  return { exitCode: null, signal: null, class: cls, meaning, stderrTail: '', durationMs: 0, failedPaths: [], spawnError: text };
}
