/** Per-root bookkeeping of the Watcher, and the numbers it runs by. */
import type { WatchChild } from './child-handle.js';
import type { RootState } from './root-state.js';

export interface WatchTuning {
  /** Quiet time after the last new directory before the root is re-subscribed. */
  readonly rewatchDebounceMs: number;
  /** ...but at most this long after the first of them (a long untar keeps creating directories). */
  readonly rewatchMaxDelayMs: number;
  /** How often each root's existence and identity is checked (a stat: cheap). */
  readonly rootPollMs: number;
  /** Backoff between restarts of a failed watcher: doubles from min up to max. */
  readonly restartMinMs: number;
  readonly restartMaxMs: number;
  /** A child live this long resets the backoff. */
  readonly stableMs: number;
  /** How long a replaced child keeps forwarding events after its successor is live. */
  readonly retireGraceMs: number;
  /** inotify: how often a directory that could not be watched (ENOSPC) is tried again, else reconciled. */
  readonly unwatchedPollMs: number;
}

/**
 * 250 ms lets a burst of `mkdir`s (an untar) end before the tree is re-crawled. The 1 s root poll is
 * one stat per root per second, and halts deletes within a second of a root vanishing (parcel says nothing).
 */
export const DEFAULT_WATCH_TUNING: WatchTuning = {
  rewatchDebounceMs: 250,
  rewatchMaxDelayMs: 2000,
  rootPollMs: 1000,
  restartMinMs: 200,
  restartMaxMs: 30_000,
  stableMs: 60_000,
  // Twice parcel's longest coalescing window under load (500 ms).
  retireGraceMs: 1000,
  unwatchedPollMs: 10_000,
};

export interface RootWatch {
  readonly root: string;
  /** The live child (or the last one, if it died). */
  child: WatchChild | undefined;
  /** A child being started to replace `child`. */
  pending: WatchChild | undefined;
  identity: RootState;
  present: boolean;
  liveSince: number;
  /** Replacements run one at a time per root. */
  lock: Promise<void>;
  /** Batches are resolved in arrival order. */
  batches: Promise<void>;
  newDirs: Set<string>;
  /** When the oldest of `newDirs` was collected. */
  newDirsSince: number;
  rewatchTimer: NodeJS.Timeout | undefined;
  rewatchQueued: boolean;
  restartTimer: NodeJS.Timeout | undefined;
  restartAttempt: number;
  checking: boolean;
  /** The live child reported the root deleted; consumed by the next root check. */
  rootDeleted: boolean;
}

export function newRootWatch(root: string, identity: RootState): RootWatch {
  return {
    root,
    child: undefined,
    pending: undefined,
    identity,
    present: true,
    liveSince: Date.now(),
    lock: Promise.resolve(),
    batches: Promise.resolve(),
    newDirs: new Set(),
    newDirsSince: 0,
    rewatchTimer: undefined,
    rewatchQueued: false,
    restartTimer: undefined,
    restartAttempt: 0,
    checking: false,
    rootDeleted: false,
  };
}

/** One definition, in src/errors.ts. */
export { errorText } from '../errors.js';

export function subscribeHint(message: string): string {
  return /ENOSPC|No space left/i.test(message)
    ? `${message} (the inotify watch limit is reached: raise fs.inotify.max_user_watches)`
    : message;
}
