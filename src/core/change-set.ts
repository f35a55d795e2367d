/**
 * The pending work for one (root, remote) channel: one entry per path, merged as changes arrive.
 * Pure: no I/O, no clock (`now` is an argument). Bounded: past the caps, entries fold upward into
 * a `tree` of their directory, finally of the root (invariant 5).
 *
 *   add ──► pending ──take──► in flight ──finish──► (gone)
 *              ▲                    │
 *              └── re-added while in flight: stays pending and runs again after ("dirty")
 */
import type { Action, PendingEntry } from './types.js';
import { ancestors, isAncestor, parentOf } from './paths.js';

export interface ChangeSetCaps {
  /** Pending entries directly in one directory before they fold into a `tree` of it. */
  readonly maxPerDir: number;
  /** Pending entries in all before the busiest directory folds. */
  readonly maxTotal: number;
}

/**
 * Why these numbers: one rsync `tree` of a directory re-scans it, which costs about as much as
 * listing a few thousand paths, so folding below ~2,000 siblings would make rsync do more work, not
 * less; 200,000 entries is ~40 MB of strings, far below the machine, and a burst that big goes out
 * as a handful of tree jobs anyway. Tests lower both (syncthing does the same with 8 and 32).
 */
export const DEFAULT_CAPS: ChangeSetCaps = { maxPerDir: 2000, maxTotal: 200_000 };

/**
 * How a new change folds into a pending one on the same path: `old × new → result`.
 * `tree` covers `path` (a recursive sync with delete also sends the entry itself).
 */
export const MERGE: Readonly<Record<Action, Readonly<Record<Action, Action>>>> = {
  path: { path: 'path', tree: 'tree' },
  tree: { path: 'tree', tree: 'tree' },
};

interface Mutable {
  path: string;
  action: Action;
  firstSeen: number;
  lastSeen: number;
}

export class ChangeSet {
  readonly #pending = new Map<string, Mutable>();
  /** Pending entries counted per parent directory, for the per-directory cap. */
  readonly #perDir = new Map<string, number>();
  readonly #inFlight = new Map<string, Action>();
  /** Pending `tree` paths, so an add can find a covering ancestor without scanning. */
  readonly #trees = new Set<string>();
  readonly #caps: ChangeSetCaps;
  #lastActivity = -Infinity;
  /** When the current run of activity began (an add to an empty, idle set), and the quiet before it. */
  #runStart = -Infinity;
  #quietBefore = 0;
  /** Something of the current run has been taken: its leading edge is gone. */
  #runTaken = false;

  constructor(caps: ChangeSetCaps = DEFAULT_CAPS) {
    this.#caps = caps;
  }

  get size(): number {
    return this.#pending.size;
  }
  get inFlightCount(): number {
    return this.#inFlight.size;
  }
  /** `now` of the latest add: the settle window resets on activity. */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** Start of the current run of activity and how long the set had been idle before it. */
  get run(): { readonly start: number; readonly quietBefore: number; readonly taken: boolean } {
    return { start: this.#runStart, quietBefore: this.#quietBefore, taken: this.#runTaken };
  }

  add(path: string, action: Action, now: number): void {
    if (this.#pending.size === 0 && this.#inFlight.size === 0) {
      this.#quietBefore = now - this.#lastActivity;
      this.#runStart = now;
      this.#runTaken = false;
    }
    this.#lastActivity = now;
    for (const anc of ancestors(path)) {
      const t = this.#trees.has(anc) ? this.#pending.get(anc) : undefined;
      if (t) {
        // A pending tree already covers this path; activity inside it delays its settle.
        t.lastSeen = now;
        return;
      }
    }
    const old = this.#pending.get(path);
    if (old) {
      old.action = MERGE[old.action][action];
      old.lastSeen = now;
      if (old.action === 'tree') this.#becameTree(old);
      return;
    }
    const entry: Mutable = { path, action, firstSeen: now, lastSeen: now };
    this.#insert(entry);
    if (action === 'tree') this.#becameTree(entry);
    this.#enforceCaps(path, now);
  }

  /** `firstSeen` of a pending path; undefined when it is not pending. */
  firstSeen(path: string): number | undefined {
    return this.#pending.get(path)?.firstSeen;
  }

  /** The oldest `firstSeen` pending: one pass, no copy, no sort (the status model's lag, once a second). */
  oldestFirstSeen(): number | undefined {
    let oldest: number | undefined;
    for (const e of this.#pending.values()) if (oldest === undefined || e.firstSeen < oldest) oldest = e.firstSeen;
    return oldest;
  }

  /** Pending entries, oldest first. */
  entries(): PendingEntry[] {
    return [...this.#pending.values()].sort((a, b) => a.firstSeen - b.firstSeen).map((e) => ({ ...e }));
  }

  /**
   * Whether a pending entry may start now: rsync must never run twice at once on overlapping
   * paths, or an older copy could land after a newer one.
   */
  overlapsInFlight(path: string, action: Action): boolean {
    if (this.#inFlight.has(path)) return true;
    for (const anc of ancestors(path)) if (this.#inFlight.get(anc) === 'tree') return true;
    if (action === 'tree') for (const p of this.#inFlight.keys()) if (isAncestor(path, p)) return true;
    return false;
  }

  /** Move entries from pending to in flight (the planner chose them). */
  take(paths: readonly string[]): void {
    this.#runTaken = true;
    for (const p of paths) {
      const e = this.#pending.get(p);
      if (!e) continue;
      this.#remove(e);
      this.#inFlight.set(p, e.action);
    }
  }

  /** The job for these paths ended (landed, or durably in the replay log). */
  finish(paths: readonly string[]): void {
    for (const p of paths) this.#inFlight.delete(p);
  }

  /** Everything not yet confirmed: pending and in flight (for saving on stop). */
  unconfirmed(): { path: string; action: Action }[] {
    const out = [...this.#pending.values()].map((e) => ({ path: e.path, action: e.action }));
    for (const [path, action] of this.#inFlight) out.push({ path, action });
    return out;
  }

  #insert(e: Mutable): void {
    this.#pending.set(e.path, e);
    const dir = parentOf(e.path);
    this.#perDir.set(dir, (this.#perDir.get(dir) ?? 0) + 1);
    if (e.action === 'tree') this.#trees.add(e.path);
  }

  #remove(e: Mutable): void {
    this.#pending.delete(e.path);
    this.#trees.delete(e.path);
    const dir = parentOf(e.path);
    const n = (this.#perDir.get(dir) ?? 1) - 1;
    if (n <= 0) this.#perDir.delete(dir);
    else this.#perDir.set(dir, n);
  }

  /** A tree swallows its pending descendants, keeping the earliest firstSeen. */
  #becameTree(t: Mutable): void {
    this.#trees.add(t.path);
    for (const e of [...this.#pending.values()]) {
      if (isAncestor(t.path, e.path)) {
        t.firstSeen = Math.min(t.firstSeen, e.firstSeen);
        this.#remove(e);
      }
    }
  }

  #enforceCaps(path: string, now: number): void {
    const dir = parentOf(path);
    if (path !== '' && (this.#perDir.get(dir) ?? 0) > this.#caps.maxPerDir) this.#fold(dir, now);
    while (this.#pending.size > this.#caps.maxTotal) {
      let busiest = '';
      let most = -1;
      for (const [d, n] of this.#perDir) {
        if (n > most || (n === most && d.length > busiest.length)) {
          busiest = d;
          most = n;
        }
      }
      // Folding the root's own children leaves one entry: the root.
      this.#fold(most <= 1 ? '' : busiest, now);
      if (this.#pending.size === 1 && this.#pending.has('')) break;
    }
  }

  #fold(dir: string, now: number): void {
    const existing = this.#pending.get(dir);
    if (existing) {
      existing.action = 'tree';
      existing.lastSeen = now;
      this.#becameTree(existing);
    } else {
      this.add(dir, 'tree', now);
    }
  }
}
