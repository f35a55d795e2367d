/**
 * What of a request a lane sends, and how: the edge around SentHistory (sent-history.ts), which
 * decides from lstat's answers. Paths a path job already landed since their last change are left
 * out; `--checksum` (FORCE_OPTION) only where a same-second rewrite could pass rsync's quick check;
 * the paths a tree carries (`also`) are picked for a forced re-send after it where that is needed,
 * or the whole tree run is forced when its trees are small (FoldBudget).
 */
import { lstatSync, readdirSync } from 'node:fs';
import { nameFromBytes, pathBytes } from '../core/names.js';
import type { PathStat, SentHistory } from './sent-history.js';
import type { SyncRequest } from './types.js';

export interface SendPlan {
  /** The request's paths still to send. */
  readonly send: readonly string[];
  /** Send them forced (--checksum, FORCE_OPTION). */
  readonly force: boolean;
  /** Tree jobs: reported paths inside the trees, and the riding paths of `after`, to send after them, forced. */
  readonly alsoForced: readonly string[];
  /**
   * Tree jobs: riding paths (`flat`) left out of `send` and sent only in the forced run: those a
   * same-second rewrite could hide, and directories (the tree run's -r would recurse into them).
   */
  readonly after: readonly string[];
  /** When the paths were stat'ed: what the sends are remembered as having seen. */
  readonly at: number;
}

/**
 * When a tree job's forced re-send goes in its tree run instead of a run of its own: the run is
 * then forced as a whole (`--checksum`), so every file in the trees and every riding file is
 * compared by size and whole-file checksum, the ones that needed forcing included. That costs a
 * checksum of each file on the sender, and on the receiver of each file whose size matches; a run
 * of its own costs a connection. Measured on this machine (client + daemon CPU, a daemon on
 * loopback, medians of 8, test/bench/fold-cost.ts): a forced run of 4 small files 17 ms; a tree
 * run of 33 MB the receiver already has 34 ms, 70 ms with --checksum. For a storm's tree job
 * (new directories of 6 files, riding rewrites, half of them same-size, some forced; two runs
 * against one): 2 directories and 6 riding files 48 -> 30 ms, 20 and 50 (about 2 MB) 89 -> 63 ms,
 * 80 and 200 (about 9 MB) 224 -> 223 ms. So the budget is where the fold still clearly pays; it
 * also bounds the walk that sizes the trees.
 */
export interface FoldBudget {
  /** Bytes of regular files in the trees and riding files, at most. */
  readonly bytes: number;
  /** Entries walked in the trees, at most: past this the walk stops and the forced run stays separate. */
  readonly entries: number;
}

export const FOLD_BUDGET: FoldBudget = { bytes: 4 << 20, entries: 1000 };

export async function planSend(req: SyncRequest, history: SentHistory, at: number, fold: FoldBudget = FOLD_BUDGET): Promise<SendPlan> {
  if (req.action === 'tree' || req.full) {
    const also = req.also ?? [];
    const flat = req.flat ?? [];
    const stats = await statAll(req.root, [...also, ...flat]);
    const alsoForced = also.filter((p, i) => {
      const st = stats[i];
      return st !== undefined && !history.alreadyThere(req.root, p, st) && history.needsForce(req.root, p, st, at);
    });
    const force = req.ignoreTimes ?? req.forceAll ?? false;
    // Each riding path as a path job would decide it: left out when already there; in the forced
    // run when a same-second rewrite could hide it or it is a directory; else in the tree run,
    // whose quick check compares nanoseconds. A missing one rides (the tree run deletes it).
    // A rename's new file that needs forcing stays in the tree run as well, where its seed
    // (rename.ts) gives the receiver the old copy first: the forced run then moves only a delta.
    const renamed = req.renames && req.renames.length > 0 ? new Set(req.renames.map((r) => r.to)) : undefined;
    const there = new Set<string>();
    const after: string[] = [];
    const both: string[] = [];
    let afterDir = false;
    let ridingBytes = 0;
    flat.forEach((p, i) => {
      const st = stats[also.length + i];
      if (st && history.alreadyThere(req.root, p, st)) return void there.add(p);
      if (st) ridingBytes += st.size;
      if (st && (st.dir || (!force && history.needsForce(req.root, p, st, at)))) {
        afterDir ||= st.dir;
        (!st.dir && renamed?.has(p) ? both : after).push(p);
      }
    });
    const forced = [...alsoForced, ...after, ...both];
    // One run, forced as a whole, in place of a tree run and a forced run (FoldBudget). Not with a
    // riding directory (the tree run would recurse into it), nor for a full sync.
    if (!req.full && !force && forced.length > 0 && !afterDir) {
      const riding = new Set(flat);
      const trees = req.paths.filter((p) => !riding.has(p));
      const known = new Map<string, LocalStat | undefined>();
      also.forEach((p, i) => known.set(p, stats[i]));
      if (ridingBytes <= fold.bytes && (await treesWithin(req.root, trees, { bytes: fold.bytes - ridingBytes, entries: fold.entries }, known))) {
        return { send: there.size === 0 ? req.paths : req.paths.filter((p) => !there.has(p)), force: true, alsoForced: [], after: [], at };
      }
    }
    if (flat.length === 0) return { send: req.paths, force, alsoForced, after: [], at };
    const leave = new Set([...there, ...after]);
    return { send: leave.size === 0 ? req.paths : req.paths.filter((p) => !leave.has(p)), force, alsoForced: forced, after, at };
  }
  if (req.ignoreTimes !== undefined) return { send: req.paths, force: req.ignoreTimes, alsoForced: [], after: [], at };
  const stats = await statAll(req.root, req.paths);
  const send: string[] = [];
  let force = false;
  req.paths.forEach((p, i) => {
    const st = stats[i];
    if (st && history.alreadyThere(req.root, p, st)) return;
    send.push(p);
    if (st && !force) force = history.needsForce(req.root, p, st, at);
  });
  return { send, force, alsoForced: [], after: [], at };
}

/**
 * lstat is synchronous here, with a turn of the event loop whenever the loop has been held for
 * YIELD_MS: measured with process.cpuUsage, fs/promises lstat of a Buffer path costs 50-75 µs of
 * CPU (the thread pool round trip, and an Error with its stack for a missing path), lstatSync
 * 10 µs; in the 10k burst the promise form was 0.44 s of the engine's main thread. On a slow file
 * system (a network mount) each call takes longer, so the yield is by time, not by count.
 * HACK: a hung mount blocks the loop inside one call, where the promise form held only a pool
 * thread; rsync could not read that tree either.
 */
const YIELD_MS = 5;

/** lstat of each path (undefined: missing or unreadable: it is sent, and rsync says what it is). */
async function statAll(root: string, paths: readonly string[]): Promise<(LocalStat | undefined)[]> {
  const out: (LocalStat | undefined)[] = [];
  let since = performance.now();
  for (const p of paths) {
    if (performance.now() - since > YIELD_MS) {
      await new Promise((r) => setImmediate(r));
      since = performance.now();
    }
    out.push(statOf(pathBytes(root, p)));
  }
  return out;
}

interface LocalStat extends PathStat {
  readonly dir: boolean;
  readonly size: number;
}

function statOf(abs: Buffer): LocalStat | undefined {
  try {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    return st ? { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, dir: st.isDirectory(), size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the regular files below `trees` add up to at most `budget.bytes`, found within
 * `budget.entries` entries (each tree and everything below it; a missing one is empty). An entry
 * statAll just looked at (`known`: the reported paths inside the trees, in a burst most of a new
 * directory's files) is not lstat'ed again: the sizes only weigh the cost of a checksum, the
 * forced run is as safe either way. Symlinks are not followed, as rsync does not (a tree that is a
 * symlink counts as itself); the walk yields the event loop as statAll does.
 */
async function treesWithin(root: string, trees: readonly string[], budget: FoldBudget, known: ReadonlyMap<string, LocalStat | undefined>): Promise<boolean> {
  let bytes = 0;
  let entries = 0;
  let since = performance.now();
  const stack: string[] = [];
  /** Counts one entry; false when over the budget. */
  const see = (rel: string, st: LocalStat | undefined): boolean => {
    if (++entries > budget.entries) return false;
    if (st?.dir) stack.push(rel);
    else if (st) bytes += st.size;
    return bytes <= budget.bytes;
  };
  for (const t of trees) if (!see(t, statOf(pathBytes(root, t)))) return false;
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    if (performance.now() - since > YIELD_MS) {
      await new Promise((r) => setImmediate(r));
      since = performance.now();
    }
    let names: Buffer[];
    try {
      names = readdirSync(pathBytes(root, dir), { encoding: 'buffer' });
    } catch {
      continue; // gone since
    }
    if (entries + names.length > budget.entries) return false;
    for (const name of names) {
      const rel = dir === '' ? nameFromBytes(name) : `${dir}/${nameFromBytes(name)}`;
      if (!see(rel, known.has(rel) ? known.get(rel) : statOf(pathBytes(root, rel)))) return false;
    }
  }
  return true;
}
