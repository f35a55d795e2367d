/**
 * What of a request a lane sends, and how: the edge around SentHistory (sent-history.ts), which
 * decides from lstat's answers. Paths a path job already landed since their last change are left
 * out; `--ignore-times` only where a same-second rewrite could pass rsync's quick check; the paths
 * a tree carries (`also`) are picked for a forced re-send after it where that is needed.
 */
import { lstatSync } from 'node:fs';
import { pathBytes } from '../core/names.js';
import type { PathStat, SentHistory } from './sent-history.js';
import type { SyncRequest } from './types.js';

export interface SendPlan {
  /** The request's paths still to send. */
  readonly send: readonly string[];
  /** Send them with --ignore-times. */
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

export async function planSend(req: SyncRequest, history: SentHistory, at: number): Promise<SendPlan> {
  if (req.action === 'tree' || req.full) {
    const also = req.also ?? [];
    const flat = req.flat ?? [];
    const stats = await statAll(req.root, [...also, ...flat]);
    const alsoForced = also.filter((p, i) => {
      const st = stats[i];
      return st !== undefined && !history.alreadyThere(req.root, p, st) && history.needsForce(req.root, p, st, at);
    });
    const force = req.ignoreTimes ?? req.forceAll ?? false;
    if (flat.length === 0) return { send: req.paths, force, alsoForced, after: [], at };
    // Each riding path as a path job would decide it: left out when already there; in the forced
    // run when a same-second rewrite could hide it or it is a directory; else in the tree run,
    // whose quick check compares nanoseconds. A missing one rides (the tree run deletes it).
    // A rename's new file that needs forcing stays in the tree run as well, where its seed
    // (rename.ts) gives the receiver the old copy first: the forced run then moves only a delta.
    const renamed = req.renames && req.renames.length > 0 ? new Set(req.renames.map((r) => r.to)) : undefined;
    const leave = new Set<string>();
    const after: string[] = [];
    const both: string[] = [];
    flat.forEach((p, i) => {
      const st = stats[also.length + i];
      if (st && history.alreadyThere(req.root, p, st)) leave.add(p);
      else if (st && (st.dir || (!force && history.needsForce(req.root, p, st, at)))) {
        if (!st.dir && renamed?.has(p)) both.push(p);
        else (after.push(p), leave.add(p));
      }
    });
    return { send: leave.size === 0 ? req.paths : req.paths.filter((p) => !leave.has(p)), force, alsoForced: [...alsoForced, ...after, ...both], after, at };
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
}

function statOf(abs: Buffer): LocalStat | undefined {
  try {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    return st ? { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, dir: st.isDirectory() } : undefined;
  } catch {
    return undefined;
  }
}
