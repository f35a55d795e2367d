/** Per-root bookkeeping of the Watcher, and the numbers it runs by. */
import { unreachable } from '../errors.js';
import type { WatchChild } from './child-handle.js';
import type { RawEvent } from './protocol.js';
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
  /** inotify: deletes are held this long after the last one (and at most deleteSettleMaxMs), so an rm -rf resolves to its top. */
  readonly deleteSettleMs: number;
  readonly deleteSettleMaxMs: number;
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
  // Well inside the engine's 400 ms stop quiet time, so a stop never outruns a held delete.
  deleteSettleMs: 50,
  deleteSettleMaxMs: 250,
};

/**
 * Where one root's watch stands. Which child is live, which one is on its way, and whether the root
 * counts as present are one value, so they cannot disagree:
 *
 *       begin(child)      started()                          replaceDone() [present]
 *   new ───────► starting ───────────────► live ◄────────────────────────────────────────┐
 *                              │ ▲                                          │
 *        replaceBegin(next):   │ │ replaceFailed() [present]                │
 *        rewatch, new dirs     ▼ │ (the old child stays)                    │
 *        (parcel), restart   replacing{present} ────────────────────────────┘
 *                              │ ▲        │
 *     rootLost()               │ │        │ rootLost(): replacing{present: false}
 *     (from live: the child    │ │        ▼ replaceDone()/replaceFailed() [!present]
 *      is stopped after)       ▼ │ replaceBegin(next)
 *                             absent ◄──────────────────────
 *                              │ rootBack() once the new child is live
 *                              └────────────────────────────────► live
 *
 *   any ──stop()──► stopped
 *
 * A child error or death does not change the phase: the restart is a timer (`restart`) that ends in
 * replaceBegin. Timers and counters that only schedule work live beside the phase, not in it.
 */
export type RootPhase =
  | { readonly kind: 'new' }
  | { readonly kind: 'starting'; readonly child: WatchChild }
  | { readonly kind: 'live'; readonly child: WatchChild; readonly since: number }
  | { readonly kind: 'replacing'; readonly child: WatchChild | undefined; readonly next: WatchChild; readonly present: boolean; readonly since: number }
  /** The root is missing, not a directory, or another directory: deletes are halted. `child` is the last one (stopped or being stopped). */
  | { readonly kind: 'absent'; readonly child: WatchChild | undefined }
  | { readonly kind: 'stopped' };

export class RootWatch {
  readonly root: string;
  #phase: RootPhase;
  identity: RootState;
  /** Replacements run one at a time per root. */
  lock: Promise<void> = Promise.resolve();
  /** Batches are resolved in arrival order. */
  batches: Promise<void> = Promise.resolve();
  /**
   * The last batch queued on `batches` and not started yet: events that arrive meanwhile join it
   * (one lstat per path instead of one per path per message). Closed when anything else is queued.
   */
  open: { readonly events: RawEvent[]; readonly from: WatchChild } | undefined;
  /** parcel: new directories waiting for a re-watch (debounced, with a ceiling). */
  readonly rewatch: { dirs: Set<string>; since: number; timer: NodeJS.Timeout | undefined; queued: boolean } = { dirs: new Set(), since: 0, timer: undefined, queued: false };
  /** inotify: delete events held for coalescing (Watcher.#onEvents). */
  readonly deletes: { events: RawEvent[]; since: number; timer: NodeJS.Timeout | undefined } = { events: [], since: 0, timer: undefined };
  /** Restart after a child error or death, with backoff. */
  readonly restart: { timer: NodeJS.Timeout | undefined; attempt: number } = { timer: undefined, attempt: 0 };
  /** Root checks run one at a time; `rootDeleted` is the live child's word, consumed by the next check. */
  readonly check: { running: boolean; rootDeleted: boolean } = { running: false, rootDeleted: false };

  constructor(root: string, identity: RootState) {
    this.root = root;
    this.identity = identity;
    this.#phase = { kind: 'new' };
  }

  get phase(): RootPhase {
    return this.#phase;
  }

  /** The current child: the live one, the one being replaced, or the last one of an absent root. */
  get child(): WatchChild | undefined {
    const p = this.#phase;
    switch (p.kind) {
      case 'starting':
      case 'live':
      case 'replacing':
      case 'absent':
        return p.child;
      case 'new':
      case 'stopped':
        return undefined;
      default:
        return unreachable(p);
    }
  }

  /** The child being started to replace `child`. */
  get pending(): WatchChild | undefined {
    return this.#phase.kind === 'replacing' ? this.#phase.next : undefined;
  }

  /** Whether the root counts as present (its deletes are allowed). */
  get present(): boolean {
    const p = this.#phase;
    switch (p.kind) {
      case 'new':
      case 'starting':
      case 'live':
        return true;
      case 'replacing':
        return p.present;
      case 'absent':
      case 'stopped':
        return false;
      default:
        return unreachable(p);
    }
  }

  /** When the current child went live (0 when none is). */
  get liveSince(): number {
    const p = this.#phase;
    return p.kind === 'live' || p.kind === 'replacing' ? p.since : 0;
  }

  begin(child: WatchChild): void {
    if (this.#phase.kind !== 'new') throw this.#bad('begin');
    this.#phase = { kind: 'starting', child };
  }

  started(now: number): void {
    const p = this.#phase;
    if (p.kind !== 'starting') throw this.#bad('started');
    this.#phase = { kind: 'live', child: p.child, since: now };
  }

  replaceBegin(next: WatchChild): void {
    const p = this.#phase;
    switch (p.kind) {
      case 'live':
        this.#phase = { kind: 'replacing', child: p.child, next, present: true, since: p.since };
        return;
      case 'absent':
        this.#phase = { kind: 'replacing', child: p.child, next, present: false, since: 0 };
        return;
      case 'new':
      case 'starting':
      case 'replacing':
      case 'stopped':
        throw this.#bad('replaceBegin');
      default:
        return unreachable(p);
    }
  }

  /** The new child is live: it becomes the child; returns the old one, to retire. */
  replaceDone(now: number): WatchChild | undefined {
    const p = this.#phase;
    if (p.kind !== 'replacing') throw this.#bad('replaceDone');
    this.#phase = p.present ? { kind: 'live', child: p.next, since: now } : { kind: 'absent', child: p.next };
    return p.child;
  }

  /** The new child never went live: the old one stays. */
  replaceFailed(): void {
    const p = this.#phase;
    if (p.kind === 'stopped') return;
    if (p.kind !== 'replacing') throw this.#bad('replaceFailed');
    this.#phase = p.present && p.child ? { kind: 'live', child: p.child, since: p.since } : { kind: 'absent', child: p.child };
  }

  /** The root vanished or was replaced: halt its deletes. The caller stops the child. */
  rootLost(): void {
    const p = this.#phase;
    switch (p.kind) {
      case 'live':
        this.#phase = { kind: 'absent', child: p.child };
        return;
      case 'replacing':
        this.#phase = { ...p, present: false };
        return;
      case 'new':
      case 'starting':
      case 'absent':
      case 'stopped':
        return;
      default:
        return unreachable(p);
    }
  }

  /** The root is back and its new child is live. */
  rootBack(now: number, identity: RootState): void {
    const p = this.#phase;
    if (p.kind !== 'absent' || !p.child) throw this.#bad('rootBack');
    this.identity = identity;
    this.#phase = { kind: 'live', child: p.child, since: now };
  }

  /** Every child this root still has (to stop them); the phase becomes stopped. */
  stop(): WatchChild[] {
    const out = [this.child, this.pending].filter((c): c is WatchChild => c !== undefined);
    clearTimeout(this.rewatch.timer);
    clearTimeout(this.restart.timer);
    clearTimeout(this.deletes.timer);
    this.#phase = { kind: 'stopped' };
    return out;
  }

  #bad(transition: string): Error {
    return new Error(`watch of ${this.root}: ${transition} is not a transition from ${this.#phase.kind}`);
  }
}

/** One definition, in src/errors.ts. */
export { errorText } from '../errors.js';

export function subscribeHint(message: string): string {
  return /ENOSPC|No space left/i.test(message)
    ? `${message} (the inotify watch limit is reached: raise fs.inotify.max_user_watches)`
    : message;
}
