/**
 * Remote health: a remote is failing from its first job that ends in the replay log until one of
 * its jobs lands again. Said once each way (remote-health events), so a dead remote does not
 * flood the log. While any remote is failing, its replay log is retried every
 * `tuning.unhealthyRetryMs` (schedule.ts): recovery is noticed even when nothing new changes.
 */
import type { Emit } from '../events.js';

export class RemoteHealth {
  /** remote id → the cause of its first failure. */
  readonly #failing = new Map<string, string>();

  constructor(
    private readonly emit: Emit,
    /** Replays the replay log (the failing remotes' paths are in it). */
    private readonly replay: () => void,
  ) {}

  get anyFailing(): boolean {
    return this.#failing.size > 0;
  }

  isFailing(remote: string): boolean {
    return this.#failing.has(remote);
  }

  /** A job for `remote` left paths in the replay log. */
  failed(remote: string, cause: string): void {
    if (this.#failing.has(remote)) return;
    this.#failing.set(remote, cause);
    this.emit({ type: 'remote-health', level: 'error', message: `remote ${remote} is failing: ${cause}`, remote, healthy: false, cause });
  }

  /**
   * A job for `remote` landed. `replay`: a live job (not a replay) brought it back, so what it
   * failed before is replayed now instead of at the next timer.
   */
  answered(remote: string, replay: boolean): void {
    if (!this.#failing.delete(remote)) return;
    this.emit({ type: 'remote-health', level: 'info', message: `remote ${remote} answers again${replay ? ': replaying its failed paths' : ''}`, remote, healthy: true });
    if (replay) this.replay();
  }

  /** The retry timer's tick. */
  retry(): void {
    if (this.anyFailing) this.replay();
  }
}
