import type { Action } from '../core/types.js';

/** One line of the replay log: a path that could not be replicated (or a hook that failed). */
export interface ReplayRecord {
  /** ISO time of the failure. */
  readonly time: string;
  readonly root: string;
  /** Remote id, or `hook:<name>` for a plugin failure. */
  readonly remote: string;
  readonly path: string;
  readonly action: Action;
  readonly exitCode: number | null;
  readonly message: string;
  /** Times this record was attempted (initial run + retries + replays). */
  readonly attempts: number;
  /** ISO time of the first failure, kept across replays (`time` is the latest one). Absent = `time`. */
  readonly since?: string;
}
