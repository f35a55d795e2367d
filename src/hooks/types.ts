import type { PathState } from '../core/types.js';

/** A set of paths that has landed on the remotes, handed to every hook. */
export interface LandedBatch {
  readonly root: string;
  /** The remote(s) that confirmed it. */
  readonly remotes: readonly string[];
  readonly items: readonly LandedItem[];
  /** Epoch ms when it landed. */
  readonly time: number;
}

export interface LandedItem {
  /** Relative to the root. */
  readonly path: string;
  /** Absolute path on the source host. */
  readonly absolute: string;
  readonly state: PathState;
}

/** The seam every plugin implements, built-ins included. */
export interface Hook {
  readonly name: string;
  /**
   * Deliver a batch. Resolves when delivered; rejects with HookError on failure. The caller
   * (the hook runner) retries with backoff and writes what still fails to the replay log.
   */
  deliver(batch: LandedBatch): Promise<void>;
  close(): Promise<void>;
}
