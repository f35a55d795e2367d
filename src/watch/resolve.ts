/**
 * Raw watcher events → `Change`s: relative POSIX paths, the disk's state by lstat when the batch
 * arrives, deduplicated, filtered and switched. Events are hints; what lstat says is the truth,
 * except for a path the inotify backend last saw go away (see resolveBatch).
 */
import { lstatSync } from 'node:fs';
import { relative, sep, isAbsolute } from 'node:path';
import type { EventSwitches, Pattern } from '../config/types.js';
import type { Change, PathState } from '../core/types.js';
import { isExactName, pathBytes } from '../core/names.js';
import { parentOf } from '../core/paths.js';
import { isGone } from '../core/gone.js';
import { isExcluded } from './filter.js';
import { allowed, kernelAllowed, type KernelKind } from './switches.js';
import type { KernelEvent, RawEvent } from './protocol.js';

export interface ResolveRules {
  readonly excludes: readonly Pattern[];
  readonly switches: EventSwitches;
}

export interface Resolved {
  readonly changes: Change[];
  /** Directories among the changes (new, or replaced) that parcel's subscription cannot see inside. */
  readonly newDirs: string[];
  /** Directories to reconcile because a name below them was not exact (parcel's lossy decoding). */
  readonly gaps: string[];
  /** The batch mentioned the root itself: check the root now. */
  readonly touchedRoot: boolean;
  /** The root itself was reported deleted: its subscription is dead even if a new root already stands there. */
  readonly rootDeleted: boolean;
}

/** `abs` relative to `root` in POSIX form, or undefined when it is not below the root. */
/** A relative path with an empty, `.` or `..` segment, or a trailing slash: needs path.relative. */
const NOT_CANONICAL = /(^|\/)\.{0,2}(\/|$)/;

export function toRelative(root: string, abs: string): string | undefined {
  // Fast path (every event: path.relative normalises both sides, 2-3 µs each): the backends build
  // `${root}/${rel}` with rel already canonical.
  if (abs.length > root.length + 1 && abs.startsWith(root) && abs.charCodeAt(root.length) === 0x2f && !root.endsWith('/')) {
    const rest = abs.slice(root.length + 1);
    if (!NOT_CANONICAL.test(rest)) return rest;
  }
  const rel = relative(root, abs);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

interface Detail {
  readonly state: PathState;
  /** Never raises IN_CLOSE_WRITE: a symlink, a hard link, a device, fifo or socket. */
  readonly linkLike: boolean;
}

const MISSING: Detail = { state: 'missing', linkLike: false };

async function detailOf(abs: string | Buffer): Promise<Detail> {
  return detailOfSync(abs);
}

/** lstatSync: 10 µs of CPU against 50-75 µs for fs/promises (thread pool, and an Error with a stack per missing path). */
function detailOfSync(abs: string | Buffer): Detail {
  try {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return MISSING;
    // Unlinked while we looked (IN_ATTRIB for the link count comes before IN_DELETE): gone.
    if (st.nlink === 0) return MISSING;
    // A symlink to a directory is a link, sent as a link: 'file'.
    if (st.isDirectory()) return { state: 'dir', linkLike: false };
    return { state: 'file', linkLike: !st.isFile() || st.nlink > 1 };
  } catch (err) {
    // Only ENOENT and ENOTDIR (an ancestor became a file) mean gone. An entry we cannot stat
    // (EACCES: a parent was chmod 000; EIO…) is still there: sent as a path, rsync reports it as
    // failed with its cause and the remote keeps it. Never a delete (core/gone.ts).
    return isGone(err) ? MISSING : { state: 'file', linkLike: false };
  }
}

/**
 * The highest missing ancestor of a missing `rel` (still below the root). `rm -rf top` whose own
 * delete event was lost still yields `top`, and after `mv d1 d2` a stale `d1/sub/f` yields `d1`.
 */
async function highestMissing(root: string, rel: string, known: Map<string, Detail>): Promise<string> {
  let top = rel;
  for (let p = parentOf(rel); p !== ''; p = parentOf(p)) {
    let st = known.get(p);
    if (st === undefined) {
      st = await detailOf(pathBytes(root, p));
      known.set(p, st);
    }
    if (st.state !== 'missing') break;
    top = p;
  }
  return top;
}

export async function resolveBatch(root: string, events: readonly RawEvent[], rules: ResolveRules): Promise<Resolved> {
  let touchedRoot = false;
  let rootDeleted = false;
  // Last event wins per path: parcel already coalesces per window, duplicates only come from overlap.
  const byPath = new Map<string, RawEvent['type']>();
  /** inotify: every kernel event seen per path, and where a renamed entry came from. */
  const kinds = new Map<string, Set<KernelEvent>>();
  const renamedFrom = new Map<string, string>();
  const gaps = new Set<string>();
  const note = (rel: string, kind: KernelEvent): void => {
    let set = kinds.get(rel);
    if (!set) kinds.set(rel, (set = new Set()));
    set.add(kind);
  };
  for (const e of events) {
    const rel = toRelative(root, e.path);
    if (rel === undefined) continue;
    if (rel === '') {
      touchedRoot = true;
      if (e.type === 'delete') rootDeleted = true;
      continue;
    }
    if (e.kernel === undefined && !isExactName(rel)) {
      // parcel decoded the bytes lossily (U+FFFD): the name cannot be sent, its directory can.
      gaps.add(parentOf(rel));
      continue;
    }
    byPath.set(rel, e.type);
    if (e.kernel === undefined) continue;
    if (e.kernel === 'rename') {
      const old = e.from === undefined ? undefined : toRelative(root, e.from);
      note(rel, 'moved_to');
      if (old !== undefined && old !== '') {
        note(old, 'moved_from');
        byPath.set(old, 'delete');
        renamedFrom.set(rel, old);
      }
    } else note(rel, e.kernel);
  }
  // A path whose last kernel event in this batch took it away (IN_DELETE, IN_MOVED_FROM, a
  // rename's old path) is missing without asking the disk: whatever stands there now was put there
  // after that event, and its own events (IN_CREATE, IN_MOVED_TO) follow, in this batch (then they
  // are the last) or in the next. A remote delete still happens only for a path missing when rsync
  // runs (send-plan, the fast delete form). In the 2,000-op storm that was 1,900 of resolve's 3,640
  // lstats (4-5 us each beside the writer). parcel's events are coalesced hints: always asked.
  const known = new Map<string, Detail>();
  const ask: string[] = [];
  for (const [rel, type] of byPath) {
    if (type === 'delete' && kinds.has(rel)) known.set(rel, MISSING);
    else ask.push(rel);
  }
  await statesOf(root, ask, known);
  const out = new Map<string, Change>();
  for (const [rel, event] of byPath) {
    const detail = known.get(rel) ?? MISSING;
    const state = detail.state;
    const seen = kinds.get(rel);
    let path = rel;
    let ev = event;
    if (seen) {
      if (!kernelPermits(rules.switches, seen, detail)) continue;
      ev = state === 'missing' ? 'delete' : seen.has('create') || seen.has('moved_to') ? 'create' : 'update';
    }
    if (state === 'missing') {
      path = await highestMissing(root, rel, known);
      if (path !== rel) ev = 'delete';
    }
    const excluded =
      state === 'missing'
        ? // We cannot know what a vanished path was: excluded as either kind means it was never replicated.
          isExcluded(rules.excludes, path, false) || isExcluded(rules.excludes, path, true)
        : isExcluded(rules.excludes, path, state === 'dir');
    if (excluded || (!seen && !allowed(rules.switches, ev, state))) continue;
    const from = renamedFrom.get(rel);
    out.set(path, from !== undefined && path === rel ? { root, path, event: ev, state, from } : { root, path, event: ev, state });
  }
  // A missing directory swallows what was reported below it.
  const changes: Change[] = [];
  for (const c of out.values()) {
    if (!hasMissingAncestor(c.path, out)) changes.push(c);
  }
  // Only parcel needs to re-watch for new directories; inotify watched them before reporting them.
  const newDirs = changes.filter((c) => c.state === 'dir' && !kinds.has(c.path)).map((c) => c.path);
  return { changes, newDirs, gaps: [...gaps], touchedRoot, rootDeleted };
}

/** Any of the kernel events seen for a path lets it through, judged against what the disk holds now. */
function kernelPermits(switches: EventSwitches, seen: ReadonlySet<KernelEvent>, detail: Detail): boolean {
  for (const k of seen) {
    const kind: KernelKind = k === 'rename' ? 'moved_to' : k === 'create' && detail.linkLike ? 'create_link' : k;
    if (kernelAllowed(switches, kind, detail.state)) return true;
  }
  return false;
}

/** lstat into `known`, synchronous, a turn of the event loop every 512 paths (a 16k-event batch must not block for long). */
async function statesOf(root: string, rels: readonly string[], known: Map<string, Detail>): Promise<void> {
  for (let i = 0; i < rels.length; i++) {
    if (i > 0 && i % 512 === 0) await new Promise((r) => setImmediate(r));
    known.set(rels[i]!, detailOfSync(pathBytes(root, rels[i]!)));
  }
}

function hasMissingAncestor(path: string, out: Map<string, Change>): boolean {
  for (let p = parentOf(path); p !== ''; p = parentOf(p)) {
    if (out.get(p)?.state === 'missing') return true;
  }
  return false;
}
