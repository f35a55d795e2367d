/**
 * Values that flow through the pure core. Paths are always relative to their root, POSIX-style,
 * without a leading "./" or "/"; the root itself is "" (empty string).
 */

/** What the disk says about a path the watcher reported, resolved at the edge with lstat. */
export type PathState = 'file' | 'dir' | 'missing';

/** One observation from the watcher, after filtering and lstat. */
export interface Change {
  readonly root: string;
  readonly path: string;
  /** The watcher's word for it; a hint only. */
  readonly event: 'create' | 'update' | 'delete';
  /** What lstat said when the change was observed. */
  readonly state: PathState;
  /**
   * A rename inside the root, seen by the inotify backend: the path this entry had before. The
   * old path is reported too, as its own (missing) change; this only says the two are one move.
   */
  readonly from?: string;
}

/**
 * What must be done for a pending path:
 * - `path`: send this one entry (file content, symlink, or directory attributes, not recursed).
 *   If it is missing locally when rsync runs, it is deleted on the remote.
 * - `tree`: send the whole subtree recursively and delete what is extra on the remote inside it
 *   (a new directory, a renamed one, a reconcile). Missing locally = deleted on the remote.
 */
export type Action = 'path' | 'tree';

export interface PendingEntry {
  readonly path: string;
  readonly action: Action;
  /** `now` of the first change folded into this entry. */
  readonly firstSeen: number;
  /** `now` of the latest change folded into this entry. */
  readonly lastSeen: number;
}

/**
 * A rename inside the root whose new path goes in a job: the remote's copy of `from` may let the
 * receiver build `to` without the bytes crossing the wire (src/sync/rename.ts). A hint only: the
 * job sends `to` in full and deletes the old paths either way.
 */
export interface Rename {
  /** The path the remote had (the first of a chain of renames still pending). */
  readonly from: string;
  readonly to: string;
}

/** A batch of paths for one rsync invocation on one root and one remote. */
export interface RsyncJob {
  readonly root: string;
  readonly remoteId: string;
  readonly action: Action;
  /** Paths relative to root; for `tree`, "" means the whole root. */
  readonly paths: readonly string[];
  /**
   * `tree` jobs: paths inside the trees that events reported changed. A tree goes without
   * --ignore-times, so the lane re-sends those of them a same-second rewrite could hide.
   */
  readonly also?: readonly string[];
  /** `tree` jobs: more such paths than the change set keeps: send the trees with --ignore-times. */
  readonly forceAll?: boolean;
  /**
   * `tree` jobs: path entries of the same flush riding in the tree job (listed in `paths` too, after
   * the trees), so a flush is one rsync run instead of a tree run and a path run (each run costs a
   * process start and a daemon handshake: ~36 ms of CPU on the two ends). The lane sends each as a
   * path job would (never recursed into, forced where a same-second rewrite could hide).
   */
  readonly flat?: readonly string[];
  /**
   * Renames among the job's paths. Their old paths ride in the same job (listed in `paths`,
   * missing locally: deleted), so the remote's old copy is still there while the new path is sent.
   */
  readonly renames?: readonly Rename[];
}

export interface PlanLimits {
  /** A path must be quiet this long before it is sent. */
  readonly settleMs: number;
  /** ...unless its batch has waited this long since its first change. */
  readonly maxDelayMs: number;
  /** Most paths in one rsync job. */
  readonly maxBatch: number;
  /** A tree receiving events waits for this much quiet inside it (up to maxDelayMs). @default TREE_QUIET_MS (300); the inotify backend's channels INOTIFY_TREE_QUIET_MS (100) */
  readonly treeQuietMs?: number;
}
