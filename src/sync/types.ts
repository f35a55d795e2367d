import type { Action, Rename } from '../core/types.js';

/** How tssersync reacts to an rsync exit. See exit-codes.ts for the table and its reasons. */
export type OutcomeClass = 'done' | 'retry' | 'partial' | 'fatal';

/** The result of one rsync run, success and failure alike. */
export interface RsyncOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly class: OutcomeClass;
  /** Human text for the exit code, e.g. "error in socket I/O". */
  readonly meaning: string;
  /** Last few KB of stderr, secrets never included. */
  readonly stderrTail: string;
  readonly durationMs: number;
  /** For `partial` (exit 23/24): relative paths rsync named as failed, when it could tell. */
  readonly failedPaths: readonly string[];
  /** Spawn failed (rsync not installed, etc.). */
  readonly spawnError: string | undefined;
  /** Bytes rsync said it sent (its stats line); undefined when it printed none. */
  readonly bytesSent?: number | undefined;
  /** The priority could not be set on the running rsync (RunOptions.renice): what failed. */
  readonly priorityError?: string;
}

/** One unit of work for a lane, built from a planner job. */
export interface SyncRequest {
  readonly root: string;
  readonly action: Action;
  readonly paths: readonly string[];
  /** Full sync: whole root, recursive, --delete, crontab excludes applied. */
  readonly full?: boolean;
  /** Extra rsync --exclude globs (crontab filter). */
  readonly excludes?: readonly string[];
  /**
   * `--ignore-times`: send even what the quick check calls equal. Unset: the lane decides per job
   * (see sent-history.ts); path jobs used to always set it.
   */
  readonly ignoreTimes?: boolean;
  /**
   * Tree jobs: paths inside the trees that events reported as changed (swallowed by the tree). A
   * tree is sent without --ignore-times, so those that could hide a same-second rewrite are sent
   * again after it, forced.
   */
  readonly also?: readonly string[];
  /** Tree jobs: too many such paths were reported to keep: force the whole tree. */
  readonly forceAll?: boolean;
  /** Tree jobs: paths listed in `paths` that are path entries riding along (RsyncJob.flat): never recursed into. */
  readonly flat?: readonly string[];
  /**
   * Renames among the paths (their old paths are in `paths` too): before the send, the receiver
   * is seeded from its old copies (rename.ts), so the send finds the bytes there already.
   */
  readonly renames?: readonly Rename[];
}

/** What a lane hands back for one request: landed, or which relative paths did not make it. */
export type JobResult =
  | { ok: true; outcome: RsyncOutcome }
  | { ok: false; outcome: RsyncOutcome; failedPaths: readonly string[] };
