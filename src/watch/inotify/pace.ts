/**
 * How often the inotify descriptor is read: a token bucket, pure (time is an argument).
 *
 * Measured (npm run bench, main at d5106db): the backend issued the next read as soon as one
 * returned, so in a burst each read brought 1-5 events: 3,538 reads and messages to the parent
 * for the storm's 4,854 events, 4,016 for the 10k burst's 19,300. Every read is a thread-pool
 * round trip, a decode, a batch, an IPC message and, in the parent, a resolve with an lstat per
 * path: a file's IN_CREATE and IN_CLOSE_WRITE read apart cost two of each. The watcher child
 * alone used 1.5 s of CPU in the 10k burst. At 10 ms the child still used 0.35-0.98 s there (one
 * read every 10 ms for as long as the writer ran); 25 ms cuts the reads by 2.5.
 *
 * So while tokens are left the next read goes at once (a change after a quiet spell, and the few
 * events that follow it, such as one file's create and close_write, are never delayed); once the
 * bucket is empty (a burst), the next read waits for a token and brings everything the kernel
 * queued meanwhile. The kernel queue (fs.inotify.max_queued_events, 16,384 by default) holds far
 * more than arrives in `refillMs`, and a read that filled its buffer is followed at once (the
 * caller's rule), so pacing never causes an overflow that reading at once would have avoided.
 */
export interface PaceOptions {
  /** Reads in a row before pacing starts. @default 4 */
  readonly capacity: number;
  /** Then one read per this many ms: 40 a second; in a burst the planner waits out its settle window (30 ms, widening) anyway. @default 25 */
  readonly refillMs: number;
}

export const DEFAULT_PACE: PaceOptions = { capacity: 4, refillMs: 25 };

export class TokenBucket {
  readonly #o: PaceOptions;
  #tokens: number;
  #at: number;

  constructor(now: number, o: PaceOptions = DEFAULT_PACE) {
    this.#o = o;
    this.#tokens = o.capacity;
    this.#at = now;
  }

  /** Take a token: how long to wait first (0: go now). */
  take(now: number): number {
    this.#tokens = Math.min(this.#o.capacity, this.#tokens + (Math.max(0, now - this.#at)) / this.#o.refillMs);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    const wait = Math.ceil((1 - this.#tokens) * this.#o.refillMs);
    // The token that arrives after `wait` is this read's.
    this.#tokens -= 1;
    return wait;
  }
}
