/** Messages between the watcher child process (child.ts) and its parent (watcher.ts), over IPC. */

export interface RawEvent {
  /** Absolute path, as @parcel/watcher reports it. */
  readonly path: string;
  readonly type: 'create' | 'update' | 'delete';
}

export type ChildMessage =
  | { readonly type: 'events'; readonly root: string; readonly events: readonly RawEvent[] }
  /** The subscription for `root` is live: every change after this moment is reported. */
  | { readonly type: 'ready'; readonly root: string }
  /** Subscribing failed, or the live subscription reported an error (it may be dead). */
  | { readonly type: 'error'; readonly root: string; readonly message: string };

export function isChildMessage(m: unknown): m is ChildMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return (t === 'events' || t === 'ready' || t === 'error') && typeof (m as { root?: unknown }).root === 'string';
}
