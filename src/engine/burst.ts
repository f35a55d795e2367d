/**
 * Notices event bursts large enough to risk lost events, and says which tree to reconcile and when.
 * The kernel queue holds 16,384 events by default; @parcel/watcher also drops changes under churn:
 * within one 50 ms window a path that is created (or renamed over) and then removed vanishes from
 * the batch, so a save-over followed by a delete never reports the delete.
 *
 * A burst is `threshold` events within `windowMs`. It owes a reconcile of the smallest directory
 * holding every path of the burst once the root has been quiet for `quietMs` (what vanished during
 * the burst), and one every `ceilingMs` while it lasts, so endless churn cannot postpone it forever.
 * Not one at the start: a reconcile of the root in flight holds back every job below it (no two
 * rsyncs overlap), and in the 10,000-file bench that alone made the burst land 20% later than a
 * bare rsync. Pure: `now` is an argument; the engine owns the timers.
 */
import { parentOf } from '../core/paths.js';

export interface BurstOptions {
  readonly threshold: number;
  readonly windowMs: number;
  readonly quietMs: number;
  readonly ceilingMs: number;
}

// 200 events in 2 s: well above a person or a deploy script, well below what loses events.
export const DEFAULT_BURST: BurstOptions = { threshold: 200, windowMs: 2000, quietMs: 1000, ceilingMs: 30_000 };

/** What record() noticed: a burst just `started`, or one `ongoing` for a ceiling and due a reconcile of `scope` now. */
export interface BurstSignal {
  readonly kind: 'started' | 'ongoing';
  readonly scope: string;
}

interface RootBurst {
  windowStart: number;
  count: number;
  /** A burst was noticed and its trailing reconcile is still owed. */
  active: boolean;
  /** When the burst started or was last reconciled while it lasted. */
  reconciledAt: number;
  lastEvent: number;
  /** Deepest common ancestor of the burst's paths ("" = the root). */
  scope: string | undefined;
}

export class BurstDetector {
  readonly #roots = new Map<string, RootBurst>();
  readonly #o: BurstOptions;

  constructor(o: Partial<BurstOptions> = {}) {
    this.#o = { ...DEFAULT_BURST, ...o };
  }

  get quietMs(): number {
    return this.#o.quietMs;
  }

  /** Count the changed `paths` of `root` at `now`; says when a burst starts and when a long one is due a reconcile. */
  record(root: string, paths: readonly string[], now: number): BurstSignal | undefined {
    let b = this.#roots.get(root);
    if (!b) {
      b = { windowStart: now, count: 0, active: false, reconciledAt: now, lastEvent: now, scope: undefined };
      this.#roots.set(root, b);
    }
    if (now - b.windowStart > this.#o.windowMs) {
      b.windowStart = now;
      b.count = 0;
      if (!b.active) b.scope = undefined;
    }
    b.count += paths.length;
    b.lastEvent = now;
    for (const p of paths) b.scope = b.scope === undefined ? parentOf(p) : commonAncestor(b.scope, p);
    if (!b.active && b.count >= this.#o.threshold) {
      b.active = true;
      b.reconciledAt = now;
      return { kind: 'started', scope: b.scope ?? '' };
    }
    if (b.active && now - b.reconciledAt >= this.#o.ceilingMs) {
      b.reconciledAt = now;
      return { kind: 'ongoing', scope: b.scope ?? '' };
    }
    return undefined;
  }

  /** After a burst, once `root` has been quiet for `quietMs`: the scope of the trailing reconcile. */
  settled(root: string, now: number): string | undefined {
    const b = this.#roots.get(root);
    if (!b?.active || now - b.lastEvent < this.#o.quietMs) return undefined;
    this.#roots.delete(root);
    return b.scope ?? '';
  }
}

/** Deepest directory holding both `dir` and `path` (relative paths, "" = root). */
export function commonAncestor(dir: string, path: string): string {
  if (dir === '') return '';
  if (path === dir || path.startsWith(`${dir}/`)) return dir;
  return commonAncestor(parentOf(dir), path);
}
