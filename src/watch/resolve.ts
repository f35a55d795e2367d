/**
 * Raw watcher events → `Change`s: relative POSIX paths, the disk's state by lstat when the batch
 * arrives, deduplicated, filtered and switched. Events are hints; what lstat says is the truth.
 */
import { lstat } from 'node:fs/promises';
import { relative, sep, isAbsolute } from 'node:path';
import type { EventSwitches, Pattern } from '../config/types.js';
import type { Change, PathState } from '../core/types.js';
import { parentOf } from '../core/paths.js';
import { isGone } from '../core/gone.js';
import { isExcluded } from './filter.js';
import { allowed } from './switches.js';
import type { RawEvent } from './protocol.js';

export interface ResolveRules {
  readonly excludes: readonly Pattern[];
  readonly switches: EventSwitches;
}

export interface Resolved {
  readonly changes: Change[];
  /** Directories among the changes (new, or replaced): the current subscription cannot see inside them. */
  readonly newDirs: string[];
  /** The batch mentioned the root itself: check the root now. */
  readonly touchedRoot: boolean;
  /** The root itself was reported deleted: its subscription is dead even if a new root already stands there. */
  readonly rootDeleted: boolean;
}

/** `abs` relative to `root` in POSIX form, or undefined when it is not below the root. */
export function toRelative(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

async function stateOf(abs: string): Promise<PathState> {
  try {
    const st = await lstat(abs);
    // A symlink to a directory is a link, sent as a link: 'file'.
    return st.isDirectory() ? 'dir' : 'file';
  } catch (err) {
    // Only ENOENT and ENOTDIR (an ancestor became a file) mean gone. An entry we cannot stat
    // (EACCES: a parent was chmod 000; EIO…) is still there: sent as a path, rsync reports it as
    // failed with its cause and the remote keeps it. Never a delete (core/gone.ts).
    return isGone(err) ? 'missing' : 'file';
  }
}

/**
 * The highest missing ancestor of a missing `rel` (still below the root). `rm -rf top` whose own
 * delete event was lost still yields `top`, and after `mv d1 d2` a stale `d1/sub/f` yields `d1`.
 */
async function highestMissing(root: string, rel: string, known: Map<string, PathState>): Promise<string> {
  let top = rel;
  for (let p = parentOf(rel); p !== ''; p = parentOf(p)) {
    let st = known.get(p);
    if (st === undefined) {
      st = await stateOf(`${root}/${p}`);
      known.set(p, st);
    }
    if (st !== 'missing') break;
    top = p;
  }
  return top;
}

export async function resolveBatch(root: string, events: readonly RawEvent[], rules: ResolveRules): Promise<Resolved> {
  let touchedRoot = false;
  let rootDeleted = false;
  // Last event wins per path: parcel already coalesces per window, duplicates only come from overlap.
  const byPath = new Map<string, RawEvent['type']>();
  for (const e of events) {
    const rel = toRelative(root, e.path);
    if (rel === undefined) continue;
    if (rel === '') {
      touchedRoot = true;
      if (e.type === 'delete') rootDeleted = true;
      continue;
    }
    byPath.set(rel, e.type);
  }
  const known = await statesOf(root, [...byPath.keys()]);
  const out = new Map<string, Change>();
  for (const [rel, event] of byPath) {
    const state = known.get(rel) ?? 'missing';
    let path = rel;
    let ev = event;
    if (state === 'missing') {
      path = await highestMissing(root, rel, known);
      if (path !== rel) ev = 'delete';
    }
    const excluded =
      state === 'missing'
        ? // We cannot know what a vanished path was: excluded as either kind means it was never replicated.
          isExcluded(rules.excludes, path, false) || isExcluded(rules.excludes, path, true)
        : isExcluded(rules.excludes, path, state === 'dir');
    if (excluded || !allowed(rules.switches, ev, state)) continue;
    out.set(path, { root, path, event: ev, state });
  }
  // A missing directory swallows what was reported below it.
  const changes: Change[] = [];
  for (const c of out.values()) {
    if (!hasMissingAncestor(c.path, out)) changes.push(c);
  }
  const newDirs = changes.filter((c) => c.state === 'dir').map((c) => c.path);
  return { changes, newDirs, touchedRoot, rootDeleted };
}

/** lstat in parallel slices: a 16k-event batch must not take 16k sequential round trips. */
async function statesOf(root: string, rels: readonly string[]): Promise<Map<string, PathState>> {
  const known = new Map<string, PathState>();
  const SLICE = 64;
  for (let i = 0; i < rels.length; i += SLICE) {
    const slice = rels.slice(i, i + SLICE);
    const states = await Promise.all(slice.map((r) => stateOf(`${root}/${r}`)));
    slice.forEach((r, j) => known.set(r, states[j] ?? 'missing'));
  }
  return known;
}

function hasMissingAncestor(path: string, out: Map<string, Change>): boolean {
  for (let p = parentOf(path); p !== ''; p = parentOf(p)) {
    if (out.get(p)?.state === 'missing') return true;
  }
  return false;
}
