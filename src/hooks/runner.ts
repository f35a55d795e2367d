/**
 * Runs the hooks after batches land. Each hook has its own queue, so a slow or failing hook never
 * delays another, and submit() never waits for any of them. A failed delivery is retried with
 * backoff (p-retry), only for the part that failed (PartialDeliveryError); after the last retry
 * the rest goes to onGiveUp, where the engine writes replay records. Nothing is dropped silently:
 * a full queue, a stop, or a delivery still running when close() gives up all end in onGiveUp.
 *
 *    open ──close()──► closing ──deliveries done, or the grace ran out──► closed
 *     │                   │ retries cut short; running deliveries get `closeGraceMs`;
 *     │                   │ what is left then is given up
 *     └ submit(): queue   └ submit(): give up at once (so does closed)
 *
 * A job (one hook × one batch) settles exactly once: delivered, or given up (onGiveUp).
 */
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import { unreachable } from '../errors.js';
import type { Emit } from '../events.js';
import { errorText, remainder } from './failure.js';
import type { Hook, LandedBatch } from './types.js';

export interface HookRunnerOptions {
  readonly hooks: Hook[];
  readonly emit: Emit;
  /** Retries after the first failed delivery. @default 3 */
  readonly retries?: number;
  /** Backoff between retries, doubling from min to max. @default { min: 1000, max: 30000 } */
  readonly retryDelayMs?: { readonly min: number; readonly max: number };
  /** Called once per hook and batch that could not be delivered (the engine writes replay records). */
  readonly onGiveUp: (hook: string, batch: LandedBatch, error: string) => Promise<void>;
  /** Batches waiting per hook; past it new batches go straight to onGiveUp. @default 1000 */
  readonly maxQueued?: number;
  /** Deliveries per hook at once. @default 4 */
  readonly concurrency?: number;
  /** close(): how long running deliveries may finish before they are given up. @default 5000 */
  readonly closeGraceMs?: number;
}

interface Job {
  readonly hook: Hook;
  /** What is still to deliver: shrinks as parts of the batch get through. */
  pending: LandedBatch;
  lastError: string;
  settled: boolean;
}

export type HookRunnerState = 'open' | 'closing' | 'closed';

export class HookRunner {
  readonly #o: HookRunnerOptions;
  readonly #queues = new Map<Hook, PQueue>();
  readonly #jobs = new Set<Job>();
  readonly #abort = new AbortController();
  #state: HookRunnerState = 'open';

  constructor(o: HookRunnerOptions) {
    this.#o = o;
    for (const h of o.hooks) this.#queues.set(h, new PQueue({ concurrency: o.concurrency ?? 4 }));
  }

  get state(): HookRunnerState {
    return this.#state;
  }

  /** Hands a landed batch to every hook; returns at once. */
  submit(batch: LandedBatch): void {
    if (batch.items.length === 0) return;
    for (const [hook, queue] of this.#queues) {
      const job: Job = { hook, pending: batch, lastError: '', settled: false };
      switch (this.#state) {
        case 'open':
          if (queue.size >= (this.#o.maxQueued ?? 1000)) {
            void this.#giveUp(job, `${queue.size} batches already wait for this hook`);
          } else {
            this.#jobs.add(job);
            void queue.add(() => this.#run(job));
          }
          break;
        case 'closing':
        case 'closed':
          void this.#giveUp(job, 'tssersync is stopping');
          break;
        default:
          unreachable(this.#state);
      }
    }
  }

  async #run(job: Job): Promise<void> {
    const { hook } = job;
    const retries = this.#o.retries ?? 3;
    const delay = this.#o.retryDelayMs ?? { min: 1000, max: 30000 };
    // p-retry rejects once the signal is aborted even when the attempt in flight then succeeds:
    // a batch delivered during close() must not also go to the replay log.
    let delivered = false;
    try {
      await pRetry(async () => {
        await hook.deliver(job.pending);
        delivered = true;
      }, {
        retries,
        minTimeout: delay.min,
        maxTimeout: delay.max,
        factor: 2,
        randomize: true,
        signal: this.#abort.signal,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          job.pending = remainder(job.pending, error);
          job.lastError = errorText(error);
          if (retriesLeft > 0 && this.#state === 'open') {
            this.#o.emit({ type: 'hook', level: 'warn', message: `${job.lastError} (attempt ${attemptNumber} of ${retries + 1}, retrying)`, hook: hook.name, ok: false, paths: job.pending.items.length });
          }
        },
      });
    } catch (err) {
      if (!delivered) return this.#giveUp(job, job.lastError || errorText(err));
    }
    if (job.settled) return;
    job.settled = true;
    this.#jobs.delete(job);
    this.#o.emit({ type: 'hook', level: 'debug', message: `${hook.name}: delivered ${job.pending.items.length} path(s)`, hook: hook.name, ok: true, paths: job.pending.items.length });
  }

  async #giveUp(job: Job, error: string): Promise<void> {
    if (job.settled) return;
    job.settled = true;
    this.#jobs.delete(job);
    const { hook, pending } = job;
    this.#o.emit({ type: 'hook', level: 'error', message: `${hook.name}: giving up on ${pending.items.length} path(s), written to the replay log: ${error}`, hook: hook.name, ok: false, paths: pending.items.length });
    try {
      await this.#o.onGiveUp(hook.name, pending, error);
    } catch (err) {
      this.#o.emit({ type: 'hook', level: 'error', message: `${hook.name}: could not record ${pending.items.length} failed path(s): ${errorText(err)}`, hook: hook.name, ok: false, paths: pending.items.length });
    }
  }

  /** Resolves when every submitted batch was delivered or given up. */
  async drain(): Promise<void> {
    while (this.#jobs.size > 0 || [...this.#queues.values()].some((q) => q.size + q.pending > 0)) {
      await Promise.all([...this.#queues.values()].map((q) => q.onIdle()));
    }
  }

  /** Cuts retries short, lets running deliveries finish for a grace period, gives up the rest, closes the hooks. */
  async close(): Promise<void> {
    switch (this.#state) {
      case 'open':
        break;
      case 'closing':
      case 'closed':
        return;
      default:
        unreachable(this.#state);
    }
    this.#state = 'closing';
    this.#abort.abort(new Error('tssersync is stopping'));
    const closing = Promise.all(this.#o.hooks.map((h) => h.close().catch(() => {})));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, this.#o.closeGraceMs ?? 5000)));
    await Promise.race([Promise.all([this.drain(), closing]), grace]);
    clearTimeout(timer);
    await Promise.all([...this.#jobs].map((j) => this.#giveUp(j, j.lastError || 'tssersync stopped before the delivery finished')));
    this.#state = 'closed';
  }
}
