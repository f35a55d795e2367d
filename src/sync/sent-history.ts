/**
 * What one remote was sent lately, to decide per path whether rsync's quick check can be trusted
 * (no `--ignore-times`), and whether a path is already there (not sent again). Pure: times are
 * arguments; the lane passes Date.now() and lstat's answers.
 *
 * Why this is sound. rsync skips a file whose size and mtime (whole seconds) match the receiver's.
 * The receiver's copy of a file whose current mtime lies in second S can only look equal while
 * being stale if an earlier transfer read an older version with its mtime in S too: a read in S or
 * later. So a path needs `--ignore-times` only when a job of this remote that covered it (the path
 * itself, or a tree above it) was running at some time from S on. History older than `keepMs` is
 * forgotten, and the previous process's is unknown: a path whose S lies before what we remember is
 * always forced. This replaces forcing every path job: most paths of a burst or a storm are new or
 * changed in a second no transfer touched, and a re-send of a file the remote already has is then
 * a cheap quick-check skip instead of reading and checksumming it on both ends.
 *
 * A path is not sent again when a path job already landed it after its last change: that job
 * stat'ed it at `start`, and its ctime (which no application can set back) is older than that by
 * more than the kernel's coarse timestamp granularity. This is the dirty re-run after an in-flight
 * job that in fact read the final bytes.
 *
 * The same holds under a tree that landed whole (no path of the job failed), with one more
 * condition: its run went without --ignore-times, so its quick check can only have been misled by
 * a copy the remote got from an earlier transfer of a version with the same mtime second. So the
 * tree counts only for files whose mtime second lies after everything we remember covering the
 * tree (`freshSince`: the last end of a job above, on or inside it, this process's start, the
 * memory's horizon), and not at all when such a job was still running as it began. This is the
 * directory a burst's first change sent at once while it was being filled: its files written
 * before that job were sent again, forced, when the rest of the burst's events for them came in
 * (100 files of every 1,000-file burst, docs/benchmarks.md).
 *
 * Compromise: a writer that changes bytes through mmap stamps mtime and ctime only on its first
 * write to a clean page, so later writes to the same dirty pages move neither. rsync's quick check
 * cannot see such a change, and neither can these rules; only forcing every event's path (the old
 * behaviour, one delta pass over each re-sent file on both ends) did.
 */

export interface PathStat {
  /** Modification time, ms (what the quick check compares, in whole seconds). */
  readonly mtimeMs: number;
  /** Change time, ms: moves on every write, chmod or rename, and cannot be set by the application. */
  readonly ctimeMs: number;
}

interface Sent {
  /** When the job that sent it stat'ed its paths (before rsync started). */
  readonly start: number;
  readonly end: number;
  readonly tree: boolean;
  /** Sent by a path job with the force decided for it here (so its bytes were current at `start`). */
  readonly exact: boolean;
  /**
   * A tree that landed whole: a file under it unchanged since before `start`, with its mtime
   * second after this, is on the remote as it is (see above). Undefined: no such file.
   */
  readonly freshSince?: number;
}

interface Running {
  readonly root: string;
  readonly paths: ReadonlySet<string>;
  readonly trees: readonly string[];
  /** The job's own trees (not its riding paths): those that may get `freshSince`. */
  readonly ownTrees: ReadonlySet<string>;
  /** See Sent.freshSince; undefined when an overlapping job was running as this one began. */
  readonly freshSince: number | undefined;
}

/** ctime is taken from a coarse clock (one jiffy, 4-10 ms): a change stamped t happened before t + this. */
export const COARSE_MS = 20;
/** How long sends are remembered. A path whose mtime second is older is forced (a backlog, a replay, an old mtime set by the application). */
export const KEEP_MS = 10_000;
/**
 * Past this many remembered sends a tree job does not look for overlaps and vouches for nothing
 * (the behaviour before vouching): the look is one pass over them per tree job, and a burst of
 * 100,000 files with a hundred tree jobs would make it 10 million steps.
 */
export const VOUCH_SCAN_MAX = 20_000;

export class SentHistory {
  readonly #sent = new Map<string, Sent>();
  readonly #running = new Set<Running>();
  readonly #born: number;
  readonly #keepMs: number;
  readonly #vouchScanMax: number;
  #finishes = 0;

  constructor(born: number, keepMs = KEEP_MS, vouchScanMax = VOUCH_SCAN_MAX) {
    this.#born = born;
    this.#keepMs = keepMs;
    this.#vouchScanMax = vouchScanMax;
  }

  /**
   * A job starts: until `finish`, it may read any of its paths at any moment. `riding`: a tree
   * job's paths sent flat (a directory among them is not recursed into), `at` when it stat'ed them.
   */
  begin(root: string, action: 'path' | 'tree', paths: readonly string[], riding: readonly string[] = [], at = Date.now()): object {
    const all = riding.length > 0 ? [...paths, ...riding] : paths;
    const r: Running = {
      root,
      paths: new Set(all),
      trees: action === 'tree' ? [...all] : [],
      ownTrees: new Set(action === 'tree' ? paths : []),
      freshSince: action === 'tree' ? this.#freshSince(root, all, at) : undefined,
    };
    this.#running.add(r);
    return r;
  }

  /**
   * The job ended; `landed` reached the remote (only those count as sent). `whole`: no path of
   * the job failed (a tree then vouches for the files under it, see Sent.freshSince).
   */
  finish(token: object, root: string, action: 'path' | 'tree', landed: readonly string[], start: number, now: number, exact: boolean, whole = false): void {
    const r = token as Running;
    this.#running.delete(r);
    for (const p of landed) {
      const fresh = whole && action === 'tree' && r.freshSince !== undefined && r.ownTrees.has(p) ? { freshSince: r.freshSince } : {};
      this.#sent.set(key(root, p), { start, end: now, tree: action === 'tree', exact: exact && action === 'path', ...fresh });
    }
    this.#prune(now);
  }

  /** Whether `path` must be sent with `--ignore-times`: a same-size rewrite in the same second could pass the quick check. */
  needsForce(root: string, path: string, st: PathStat, now: number, self?: object): boolean {
    const second = Math.floor(st.mtimeMs / 1000) * 1000;
    if (second < Math.max(this.#born, now - this.#keepMs)) return true;
    // The path itself, then each ancestor up to the root (""), without building the list: this
    // runs for every path of every path job (10k burst: 10,000 calls).
    for (let p: string | undefined = path, self = true; p !== undefined; p = parentOf(p), self = false) {
      const s = this.#sent.get(key(root, p));
      if (s && s.end >= second && (self || s.tree)) return true;
    }
    for (const r of this.#running) {
      if (r === self || r.root !== root) continue;
      if (r.paths.has(path)) return true;
      if (r.trees.some((t) => t === '' || t === path || path.startsWith(`${t}/`))) return true;
    }
    return false;
  }

  /**
   * Whether `path` is on the remote as it is now: landed by a path job that stat'ed it after its
   * last change, or under a tree that landed whole after it and vouches for its mtime second.
   */
  alreadyThere(root: string, path: string, st: PathStat): boolean {
    const s = this.#sent.get(key(root, path));
    if (s !== undefined && s.exact && st.ctimeMs + COARSE_MS < s.start) return true;
    const second = Math.floor(st.mtimeMs / 1000) * 1000;
    for (let p: string | undefined = path; p !== undefined; p = parentOf(p)) {
      const t = this.#sent.get(key(root, p));
      if (t?.freshSince !== undefined && st.ctimeMs + COARSE_MS < t.start && second > t.freshSince) return true;
    }
    return false;
  }

  get size(): number {
    return this.#sent.size;
  }

  /**
   * Since when nothing we remember covered `paths` (what is above, on or inside them): the last
   * end of such a job, this process's start or the memory's horizon, whichever is latest;
   * undefined when such a job is still running. One pass over the history per tree job.
   */
  #freshSince(root: string, paths: readonly string[], at: number): number | undefined {
    if (this.#sent.size > this.#vouchScanMax) return undefined;
    const mine = new Set(paths);
    // Every path on or above one of `paths`: a q in here covers one of them.
    const above = new Set<string>();
    for (const p of paths) for (let q: string | undefined = p; q !== undefined && !above.has(q); q = parentOf(q)) above.add(q);
    const overlaps = (q: string): boolean => {
      if (above.has(q)) return true;
      // q under one of `paths`, by q's ancestors.
      for (let p = parentOf(q); p !== undefined; p = parentOf(p)) if (mine.has(p)) return true;
      return false;
    };
    for (const r of this.#running) {
      if (r.root !== root) continue;
      for (const q of r.paths) if (overlaps(q)) return undefined;
    }
    let since = Math.max(this.#born, at - this.#keepMs);
    const prefix = `${root}\0`;
    for (const [k, s] of this.#sent) if (s.end > since && k.startsWith(prefix) && overlaps(k.slice(prefix.length))) since = s.end;
    return since;
  }

  #prune(now: number): void {
    // Amortised: a burst of small jobs must not rescan the map after each one.
    if (++this.#finishes % 32 !== 0) return;
    for (const [k, s] of this.#sent) if (s.end < now - this.#keepMs) this.#sent.delete(k);
  }
}

/** "a/b" → "a", "a" → "", "" → undefined. */
function parentOf(p: string): string | undefined {
  if (p === '') return undefined;
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

function key(root: string, path: string): string {
  return `${root}\0${path}`;
}
