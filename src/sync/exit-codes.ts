/**
 * rsync exit code → what tssersync does about it. One literal table (see
 * /work/shared/reference/rsync-facts.md); surprising rows carry their reason beside them.
 *
 * Sersync counts 23 as success and lsyncd counts 23 and 24 as success and dies on anything it
 * does not know: both lose data. Here nothing is "done" unless rsync says every path landed.
 */
import type { OutcomeClass } from './types.js';

export interface ExitRow {
  readonly class: OutcomeClass;
  readonly meaning: string;
  /** Why this class, where it is not obvious. */
  readonly reason?: string;
  /**
   * A safety guard fired, not a sick remote: the paths wait in the replay log for an operator
   * (automatic replays skip them, `--retry-log` sends them) and the remote is not marked failing.
   */
  readonly heldForOperator?: true;
}

export const EXIT_TABLE: Readonly<Record<number, ExitRow>> = {
  0: { class: 'done', meaning: 'success' },
  1: { class: 'fatal', meaning: 'syntax or usage error', reason: 'the argv or config is wrong; retrying repeats it' },
  2: {
    class: 'fatal',
    meaning: 'protocol incompatibility',
    reason: 'permanent for this form; a receiver rejecting --delete-missing-args (rsync #910) lands here, the lane then switches that remote to the filter delete',
  },
  3: { class: 'retry', meaning: 'errors selecting input/output files, dirs' },
  4: { class: 'fatal', meaning: 'requested action not supported', reason: 'an option the receiver refuses; retrying repeats it' },
  5: {
    class: 'retry',
    meaning: 'error starting client-server protocol',
    reason: 'daemon refused, auth failed or module missing: often fixed on the remote side, so retry, then the replay log keeps the paths',
  },
  6: { class: 'retry', meaning: 'daemon unable to append to log file' },
  10: { class: 'retry', meaning: 'error in socket I/O' },
  11: { class: 'retry', meaning: 'error in file I/O' },
  12: { class: 'retry', meaning: 'error in rsync protocol data stream' },
  13: { class: 'retry', meaning: 'errors with program diagnostics' },
  14: { class: 'retry', meaning: 'error in IPC code' },
  20: { class: 'retry', meaning: 'received SIGUSR1 or SIGINT' },
  21: { class: 'retry', meaning: 'some error returned by waitpid()' },
  22: { class: 'retry', meaning: 'error allocating core memory buffers' },
  23: {
    class: 'partial',
    meaning: 'partial transfer due to error',
    reason: 'some paths failed (e.g. refused by the receiver): find which, retry only those; never success blindly',
  },
  24: {
    class: 'done',
    meaning: 'partial transfer due to vanished source files',
    reason: 'everything present was transferred; a vanished path is deleted locally and its delete event (or the next job) follows',
  },
  25: {
    class: 'fatal',
    meaning: '--max-delete limit stopped deletions',
    reason: 'a safety guard fired: an operator must look, retrying would fire it again',
    heldForOperator: true,
  },
  30: { class: 'retry', meaning: 'timeout in data send/receive' },
  35: { class: 'retry', meaning: 'timeout waiting for daemon connection' },
  255: { class: 'retry', meaning: 'ssh or remote shell failure' },
};

/**
 * Unknown codes retry: the retry budget bounds the cost and the replay log keeps the paths, while
 * `done` would lose data and `fatal` would stop a lane for a code a newer rsync merely added.
 */
const UNKNOWN: ExitRow = { class: 'retry', meaning: 'unknown exit code' };

/**
 * The exit code that stands for what happened. Pushing to an rsync daemon, the receiver's
 * --max-delete stop (its exit 25) does not reach the client, which exits 0 (rsync 3.2–3.5 seen
 * here); only the receiver's message on stderr tells. Taking that as 0 would call held-back
 * deletes "landed".
 */
export function effectiveExit(code: number | null, stderr: string): number | null {
  if (code === 0 && MAX_DELETE_STOP.test(stderr)) return 25;
  return code;
}
const MAX_DELETE_STOP = /^Deletions stopped due to --max-delete limit/m;

/** The exit code's row says its paths wait for an operator (see ExitRow.heldForOperator). */
export function heldForOperator(code: number | null): boolean {
  return code !== null && EXIT_TABLE[code]?.heldForOperator === true;
}

export function classifyExit(code: number | null, signal: string | null): { class: OutcomeClass; meaning: string } {
  if (code === null) {
    // Killed (our abort, OOM killer, operator): the paths did not land; try again.
    return { class: 'retry', meaning: `killed by ${signal ?? 'an unknown signal'}` };
  }
  const row = EXIT_TABLE[code] ?? UNKNOWN;
  return { class: row.class, meaning: row.meaning };
}
