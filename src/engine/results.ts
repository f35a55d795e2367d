/**
 * What happens when a live job ends: paths that did not land go to the replay log (durably,
 * before the channel lets go of them), the operator hears why once per job, the remote's health
 * follows, and what landed goes on to the hooks. Hook deliveries given up end in the replay log
 * here too, as `hook:<name>` records.
 */
import { entryAction } from '../core/planner.js';
import type { RsyncJob } from '../core/types.js';
import type { Emit } from '../events.js';
import type { LandedBatch } from '../hooks/types.js';
import type { ReplayLog } from '../replay/log.js';
import { hookTarget } from '../replay/target.js';
import { heldForOperator } from '../sync/exit-codes.js';
import type { RsyncOutcome } from '../sync/types.js';
import type { Channel } from './channel.js';
import type { RemoteHealth } from './health.js';
import type { Landing } from './landed.js';
import { outcomeText } from '../sync/messages.js';

export interface JobResultsDeps {
  readonly log: ReplayLog;
  readonly emit: Emit;
  /** Attempts after the first (the record's `attempts` is 1 + retries). */
  readonly retries: number;
  readonly health: RemoteHealth;
  readonly landing: Landing;
  /** A stop is under way: failed paths stay pending (the stop snapshot saves them), not in the replay log. */
  readonly stopping: () => boolean;
}

export class JobResults {
  constructor(private readonly d: JobResultsDeps) {}

  /** The channel's onResult. Throwing keeps the failed paths pending in the channel. */
  async onResult(ch: Channel, job: RsyncJob, landed: readonly string[], failed: readonly string[], outcome: RsyncOutcome): Promise<void> {
    const { log, emit, health } = this.d;
    if (failed.length > 0 && this.d.stopping()) throw new Error('stopping: keep pending');
    if (failed.length > 0) {
      const now = new Date().toISOString();
      const message = outcomeText(outcome);
      const attempts = 1 + this.d.retries;
      const action = entryAction(job);
      await log.append(failed.map((path) => ({ time: now, root: ch.root, remote: ch.remoteId, path, action: action(path), exitCode: outcome.exitCode, message, attempts })));
      emit({
        type: 'job-failed',
        level: 'error',
        message: `${failed.length} path(s) for ${ch.remoteId} written to the replay log ${log.path}: ${message}`,
        remote: ch.remoteId,
        root: ch.root,
        paths: failed.length,
        exitCode: outcome.exitCode,
        attempt: attempts,
        willRetry: false,
        logged: true,
      });
      if (heldForOperator(outcome.exitCode)) {
        // A safety guard, not a sick remote: say so once per job and leave the records for an
        // operator (automatic replays skip them; `--retry-log` sends them).
        emit({
          type: 'safety',
          level: 'error',
          message: `maxDelete stopped deletions on ${ch.remoteId} for ${ch.root}: ${failed.length} path(s) held in ${log.path}; check them, raise <maxDelete> if intended, then run tssersync --retry-log`,
          root: ch.root,
          check: 'maxDelete',
        });
      } else {
        health.failed(ch.remoteId, message);
      }
    } else if (landed.length > 0) {
      health.answered(ch.remoteId, true);
    }
    this.d.landing.landed(ch.root, ch.remoteId, landed);
  }

  /** The hook runner's onGiveUp: one record per path, for `hook:<name>`. */
  async hookGaveUp(hook: string, batch: LandedBatch, error: string): Promise<void> {
    const time = new Date().toISOString();
    await this.d.log.append(
      batch.items.map((i) => ({ time, root: batch.root, remote: hookTarget(hook), path: i.path, action: 'path' as const, exitCode: null, message: error, attempts: 1 + this.d.retries })),
    );
  }
}
