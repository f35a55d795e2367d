/** Messages between the watcher child process (child.ts) and its parent (watcher.ts), over IPC. */
import type { EventSwitches, WatcherBackend } from '../config/types.js';

/** Which backend a child runs: our own over the kernel's inotify (Linux), or @parcel/watcher (portable). */
export type BackendName = WatcherBackend;

/**
 * What the inotify backend saw, exactly (parcel gives none of this):
 * - `create`, `close_write`, `modify`, `attrib`, `delete`: the kernel event of that name;
 * - `moved_from` / `moved_to`: an entry moved out of / into the watched tree;
 * - `rename`: an IN_MOVED_FROM and IN_MOVED_TO pair inside the tree (`from` is the old path).
 */
export type KernelEvent = 'create' | 'close_write' | 'modify' | 'attrib' | 'delete' | 'moved_from' | 'moved_to' | 'rename';

export interface RawEvent {
  /**
   * Absolute path. From parcel: its (lossy) JS string. From inotify: the canonical string of
   * core/names.ts, exact for any bytes (structured clone over IPC keeps lone surrogates).
   */
  readonly path: string;
  readonly type: 'create' | 'update' | 'delete';
  /** Set by the inotify backend only. */
  readonly kernel?: KernelEvent;
  /** The kernel said IN_ISDIR (inotify only). */
  readonly isDir?: boolean;
  /** For `rename`: the absolute path the entry had before. */
  readonly from?: string;
}

/** A compiled exclude, as it crosses the process boundary. */
export interface WirePattern {
  readonly source: string;
  readonly flags: string;
}

/** What the parent tells a new child (argv[2], JSON); the roots follow as argv[3…]. */
export interface ChildOptions {
  readonly backend: BackendName;
  /** Excluded directories are never watched (inotify). */
  readonly excludes: readonly WirePattern[];
  /** IN_MODIFY and IN_ATTRIB are only asked of the kernel when their switch is on. */
  readonly switches: EventSwitches;
  /** How often a directory that could not be watched (ENOSPC) is tried again and otherwise reported as a gap. */
  readonly unwatchedPollMs: number;
}

export type ChildMessage =
  | { readonly type: 'events'; readonly root: string; readonly events: readonly RawEvent[] }
  /** The subscription for `root` is live: every change after this moment is reported. */
  | { readonly type: 'ready'; readonly root: string; readonly backend: BackendName; readonly watches?: number }
  /** Subscribing failed, or the live subscription reported an error (it may be dead). */
  | { readonly type: 'error'; readonly root: string; readonly message: string }
  /** Something under `dir` ("" = the whole root) may have been missed: reconcile it. */
  | { readonly type: 'gap'; readonly root: string; readonly dir: string; readonly reason: string }
  /** Worth telling the operator; the subscription goes on (e.g. the watch limit, a fallback). */
  | { readonly type: 'warning'; readonly root: string; readonly message: string };

export function isChildMessage(m: unknown): m is ChildMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return (t === 'events' || t === 'ready' || t === 'error' || t === 'gap' || t === 'warning') && typeof (m as { root?: unknown }).root === 'string';
}
