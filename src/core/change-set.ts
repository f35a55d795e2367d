/**
 * The pending work for one (root, remote) channel: one entry per path, merged as changes arrive.
 * Pure: no I/O, no clock (`now` is an argument). Bounded: past the caps, entries fold upward into
 * a `tree` of their directory, finally of the root (invariant 5).
 *
 *   add ──► pending ──take──► in flight ──finish──► (gone)
 *              ▲                    │
 *              └── re-added while in flight: stays pending and runs again after ("dirty")
 *
 * Renames (the inotify backend reports `from`): the entry that sends the new path (its own, or a
 * pending tree above it) remembers the path the remote has (`renames`: new → old, the first of a
 * chain a→b→c) and the old paths to delete (`sources`). While that entry is pending, the old paths
 * are held (`heldFor`): they go in its job, so the remote's old copy is still there while the new
 * path is sent (src/sync/rename.ts), and are deleted by that job.
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
 * A gap in activity at least this long ends a stretch of activity (`activeSince`). The default
 * ceiling (maxDelayMs): a gap that long would give the next change its leading edge anyway.
 */
export const ACTIVITY_GAP_MS = 1000;

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
  /** A tree's: paths below it that events reported changed (see RsyncJob.also). */
  also?: Set<string>;
  /** A tree's: more `also` than the caps allow were dropped: force the whole tree. */
  forceAll?: boolean;
  /** Renames this entry sends: new path (this one, or below this tree) → the path the remote has. */
  renames?: Map<string, string>;
  /** Old paths of those renames, to take along with this entry. */
  sources?: Set<string>;
}

/** What a pending entry carries for its job: renames to seed, old paths to delete with it. */
export interface PendingRenames {
  readonly renames: readonly { readonly from: string; readonly to: string }[];
  readonly sources: readonly string[];
}

/** The reported paths a pending or in-flight tree carries. */
export interface Reported {
  readonly also: readonly string[];
  readonly forceAll: boolean;
}

export class ChangeSet {
  readonly #pending = new Map<string, Mutable>();
  /** Pending entries counted per parent directory, for the per-directory cap. */
  readonly #perDir = new Map<string, number>();
  readonly #inFlight = new Map<string, Action>();
  /**
   * In-flight paths strictly below each directory (only directories with at least one), so a
   * pending tree finds an in-flight descendant without a pass over everything in flight: the
   * planner asks for every pending entry at every plan, and a storm keeps hundreds of paths in
   * flight (a pass each was 11-15 ms of the CLI's main thread per storm, and grows as pending ×
   * in flight).
   */
  readonly #inFlightBelow = new Map<string, number>();
  /**
   * Pending entries below each directory (counted at every strict ancestor): a new tree looks for
   * the entries it swallows only where there are any. It passed over every pending entry (and
   * copied them) for each new directory: 23 ms of the CLI's main thread in a storm's profile.
   */
  readonly #pendingBelow = new Map<string, number>();
  /** What in-flight trees carry, for unconfirmed() (saved on stop). */
  readonly #inFlightAlso = new Map<string, readonly string[]>();
  /** `also` paths held in all pending trees: bounded by maxTotal like the entries themselves. */
  #alsoTotal = 0;
  /** A rename's old path → its pending new path (see the header). */
  readonly #sourceOf = new Map<string, string>();
  /** Pending `tree` paths, so an add can find a covering ancestor without scanning. */
  readonly #trees = new Set<string>();
  readonly #caps: ChangeSetCaps;
  #lastActivity = -Infinity;
  /** When the current run of activity began (an add to an empty, idle set), and the quiet before it. */
  #runStart = -Infinity;
  #quietBefore = 0;
  /** Something of the current run has been taken: its leading edge is gone. */
  #runTaken = false;
  /** Start of the current stretch of activity without a gap of ACTIVITY_GAP_MS. */
  #activeSince = -Infinity;

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

  /** Since when changes have been arriving without a gap of ACTIVITY_GAP_MS (a burst, a storm). */
  get activeSince(): number {
    return this.#activeSince;
  }

  /** Start of the current run of activity and how long the set had been idle before it. */
  get run(): { readonly start: number; readonly quietBefore: number; readonly taken: boolean } {
    return { start: this.#runStart, quietBefore: this.#quietBefore, taken: this.#runTaken };
  }

  /** `from`: the path was renamed here from `from` (inside the root). */
  add(path: string, action: Action, now: number, from?: string): void {
    if (this.#pending.size === 0 && this.#inFlight.size === 0) {
      this.#quietBefore = now - this.#lastActivity;
      this.#runStart = now;
      this.#runTaken = false;
    }
    if (now - this.#lastActivity >= ACTIVITY_GAP_MS) this.#activeSince = now;
    this.#lastActivity = now;
    for (const anc of ancestors(path)) {
      const t = this.#trees.has(anc) ? this.#pending.get(anc) : undefined;
      if (t) {
        // A pending tree already covers this path; activity inside it delays its settle.
        t.lastSeen = now;
        if (action === 'path') this.#report(t, [path], false);
        if (from !== undefined) this.#renamed(t, path, from);
        return;
      }
    }
    const old = this.#pending.get(path);
    if (old) {
      old.action = MERGE[old.action][action];
      old.lastSeen = now;
      if (from !== undefined) this.#renamed(old, path, from);
      if (old.action === 'tree') this.#becameTree(old);
      return;
    }
    const entry: Mutable = { path, action, firstSeen: now, lastSeen: now };
    this.#insert(entry);
    if (from !== undefined) this.#renamed(entry, path, from);
    if (action === 'tree') this.#becameTree(entry);
    this.#enforceCaps(path, now);
  }

  /**
   * The pending new path a rename's old `path` waits for, or undefined: a held path is planned
   * only with that entry's job (the planner adds it there).
   */
  heldFor(path: string): string | undefined {
    const to = this.#sourceOf.get(path);
    return to !== undefined && to !== path && this.#pending.get(to)?.sources?.has(path) ? to : undefined;
  }

  /** The renames a pending entry carries, or undefined. */
  renamesOf(path: string): PendingRenames | undefined {
    const e = this.#pending.get(path);
    if (!e?.renames || e.renames.size === 0) return undefined;
    return { renames: [...e.renames].map(([to, from]) => ({ from, to })), sources: [...(e.sources ?? [])] };
  }

  /**
   * `e` sends `to`, renamed from `from`. A chain a→b→c keeps `a`, the path the remote has; the
   * renames recorded on `from`'s own pending entry (if any) move to `e`.
   */
  #renamed(e: Mutable, to: string, from: string): void {
    if (from === to) return;
    const prev = this.#pending.get(from);
    const origin = prev?.renames?.get(from) ?? from;
    e.renames ??= new Map();
    e.sources ??= new Set();
    if (origin !== to) e.renames.set(to, origin);
    e.sources.add(from);
    // `from` itself is gone: its own rename is the one just recorded; what is below it moved with it.
    prev?.renames?.delete(from);
    if (prev && prev !== e) this.#moveRenames(prev, e);
    e.sources.delete(e.path);
    for (const s of e.sources) this.#sourceOf.set(s, e.path);
  }

  /** What `from` carried for its job now rides with `to` (a chain, or a tree swallowing an entry). */
  #moveRenames(from: Mutable, to: Mutable): void {
    // The common case (a tree swallowing entries that carry no rename): nothing to move or remap.
    if (!from.renames && !from.sources) return;
    if (from.renames) {
      to.renames ??= new Map();
      for (const [n, o] of from.renames) if (!to.renames.has(n) && n !== o) to.renames.set(n, o);
    }
    if (from.sources) {
      to.sources ??= new Set();
      for (const s of from.sources) to.sources.add(s);
    }
    from.renames = undefined;
    from.sources = undefined;
    for (const s of to.sources ?? []) this.#sourceOf.set(s, to.path);
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
    if (this.#inFlight.size === 0) return false;
    if (this.#inFlight.has(path)) return true;
    for (let anc = path; anc !== ''; ) {
      anc = parentOf(anc);
      if (this.#inFlight.get(anc) === 'tree') return true;
    }
    return action === 'tree' && this.#inFlightBelow.has(path);
  }

  /** The changed paths a pending tree carries (for its job). */
  reported(path: string): Reported {
    const e = this.#pending.get(path);
    return { also: e?.also ? [...e.also] : [], forceAll: e?.forceAll === true };
  }

  /** Move entries from pending to in flight (the planner chose them). */
  take(paths: readonly string[]): void {
    this.#runTaken = true;
    for (const p of paths) {
      const e = this.#pending.get(p);
      if (!e) continue;
      if (e.also?.size) this.#inFlightAlso.set(p, [...e.also]);
      this.#remove(e);
      if (!this.#inFlight.has(p)) this.#countBelow(p, 1);
      this.#inFlight.set(p, e.action);
    }
  }

  /** The job for these paths ended (landed, or durably in the replay log). */
  finish(paths: readonly string[]): void {
    for (const p of paths) {
      if (this.#inFlight.delete(p)) this.#countBelow(p, -1);
      this.#inFlightAlso.delete(p);
    }
  }

  /** `p` entered (+1) or left (-1) the in-flight set: every directory above it counts it. */
  #countBelow(p: string, by: 1 | -1, below: Map<string, number> = this.#inFlightBelow): void {
    for (let anc = p; anc !== ''; ) {
      anc = parentOf(anc);
      const n = (below.get(anc) ?? 0) + by;
      if (n > 0) below.set(anc, n);
      else below.delete(anc);
    }
  }

  /** Everything not yet confirmed: pending and in flight (for saving on stop). Reported paths inside trees come back as paths. */
  unconfirmed(): { path: string; action: Action }[] {
    const out: { path: string; action: Action }[] = [];
    for (const e of this.#pending.values()) {
      out.push({ path: e.path, action: e.action });
      for (const a of e.also ?? []) out.push({ path: a, action: 'path' });
    }
    for (const [path, action] of this.#inFlight) out.push({ path, action });
    for (const also of this.#inFlightAlso.values()) for (const a of also) out.push({ path: a, action: 'path' });
    return out;
  }

  /** Remember under tree `t` that `paths` were reported changed; past the cap, force the whole tree instead. */
  #report(t: Mutable, paths: Iterable<string>, forceAll: boolean): void {
    if (forceAll) t.forceAll = true;
    if (t.forceAll) return this.#dropAlso(t);
    t.also ??= new Set();
    for (const p of paths) {
      if (p === t.path || t.also.has(p)) continue;
      t.also.add(p);
      if (++this.#alsoTotal > this.#caps.maxTotal) {
        t.forceAll = true;
        return this.#dropAlso(t);
      }
    }
  }

  #dropAlso(t: Mutable): void {
    this.#alsoTotal -= t.also?.size ?? 0;
    t.also = undefined;
  }

  #insert(e: Mutable): void {
    if (!this.#pending.has(e.path)) this.#countBelow(e.path, 1, this.#pendingBelow);
    this.#pending.set(e.path, e);
    const dir = parentOf(e.path);
    this.#perDir.set(dir, (this.#perDir.get(dir) ?? 0) + 1);
    if (e.action === 'tree') this.#trees.add(e.path);
  }

  #remove(e: Mutable): void {
    this.#alsoTotal -= e.also?.size ?? 0;
    for (const s of e.sources ?? []) if (this.#sourceOf.get(s) === e.path) this.#sourceOf.delete(s);
    if (this.#pending.delete(e.path)) this.#countBelow(e.path, -1, this.#pendingBelow);
    this.#trees.delete(e.path);
    const dir = parentOf(e.path);
    const n = (this.#perDir.get(dir) ?? 1) - 1;
    if (n <= 0) this.#perDir.delete(dir);
    else this.#perDir.set(dir, n);
  }

  /**
   * A tree swallows its pending descendants, keeping the earliest firstSeen and what they report
   * (a swallowed path still needs its same-second guard: the tree goes without --ignore-times).
   */
  #becameTree(t: Mutable): void {
    this.#trees.add(t.path);
    if (!this.#pendingBelow.has(t.path)) return;
    for (const e of [...this.#pending.values()]) {
      if (isAncestor(t.path, e.path)) {
        t.firstSeen = Math.min(t.firstSeen, e.firstSeen);
        const carried = [...(e.action === 'path' ? [e.path] : []), ...(e.also ?? [])];
        const forceAll = e.forceAll === true;
        this.#moveRenames(e, t);
        this.#remove(e);
        this.#report(t, carried, forceAll);
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
