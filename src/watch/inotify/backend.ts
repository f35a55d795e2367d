/**
 * The Linux backend of the watcher child: one inotify watch per directory, nothing per file.
 *
 *            start()                        root deleted / moved / unmounted
 *   (new) ───────────► scanning ──► live ───────────────────────────────► dead
 *                      (events are         ▲   │ new or moved-in dir: watch it, then scan it
 *                       read already)      └───┘ (nothing created in between is missed)
 *
 * - Paths come from a DirMap (wd → parent and name): a renamed directory is one re-link.
 * - A new (or moved-in) directory is watched FIRST, then listed, its subdirectories likewise, and
 *   only then reported: the parent syncs it as a whole tree after this moment, so whatever was
 *   created before a watch existed is in that tree, and everything after raises events.
 * - IN_MOVED_FROM waits a moment for its IN_MOVED_TO (same cookie): a pair is a rename inside the
 *   tree, a lone IN_MOVED_FROM is a move out (its subtree is unwatched), a lone IN_MOVED_TO a move in.
 *   A directory a scan finds already watched (moved into a directory before that had its watch)
 *   is a rename too: add_watch gives back its wd, whose old path the map still holds.
 * - IN_Q_OVERFLOW (wd -1): the kernel dropped events and cannot say where: the tree is walked again
 *   (directories created meanwhile get their watch) and the root is reported as a gap.
 * - ENOSPC (out of watches): the directory is reported once with the sysctl to raise, kept on a
 *   list, tried again every `unwatchedPollMs`, and reported as a gap each time it still fails, so
 *   the parent reconciles it: polled, never silently unwatched.
 * - Excluded directories are never watched.
 */
import { read } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { EventSwitches, Pattern } from '../../config/types.js';
import { nameFromBytes, pathBytes } from '../../core/names.js';
import { isExcluded } from '../filter.js';
import type { KernelEvent, RawEvent } from '../protocol.js';
import {
  DIR_MASK, EACCES, ENOENT, ENOSPC, ENOTDIR, IN_ATTRIB, IN_DONT_FOLLOW, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_DELETE_SELF,
  IN_IGNORED, IN_ISDIR, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_Q_OVERFLOW, IN_UNMOUNT,
} from './constants.js';
import { decodeEvents, type InotifyEvent } from './decode.js';
import { DirMap } from './dir-map.js';
import { LeafTest } from './leaf.js';
import { DEFAULT_PACE, TokenBucket, type PaceOptions } from './pace.js';
import type { InotifyCalls } from './syscalls.js';

export interface InotifySink {
  events(events: RawEvent[]): void;
  /** `dir` relative to the root. */
  gap(dir: string, reason: string): void;
  warn(message: string): void;
  /** The watch is dead (the root is gone or reading failed). */
  fatal(message: string): void;
}

export interface InotifyOptions {
  readonly root: string;
  readonly excludes: readonly Pattern[];
  readonly switches: EventSwitches;
  readonly unwatchedPollMs: number;
  /** How often the descriptor is read once events come fast (pace.ts). @default DEFAULT_PACE */
  readonly pace?: PaceOptions;
}

/** How long an IN_MOVED_FROM waits for its IN_MOVED_TO before it counts as a move out. */
const MOVE_PAIR_MS = 20;
/** Directory listings in flight during a scan. */
const SCAN_WORKERS = 4;
/** 64 KiB: about 2,000 events per read; the kernel never splits one. */
const READ_SIZE = 64 * 1024;
/** A read within this of READ_SIZE may have left events behind (one event is at most 16 + 256 bytes). */
const FULL_MARGIN = 4096;

const raiseHint =
  'the inotify watch limit is reached: raise it with `sysctl -w fs.inotify.max_user_watches=N` ' +
  '(and keep it in /etc/sysctl.d/90-tssersync.conf)';

interface PendingMove {
  readonly rel: string;
  readonly isDir: boolean;
  /** The moved directory's own watch, if it had one. */
  readonly childWd: number | undefined;
  readonly timer: NodeJS.Timeout;
}

type State = 'new' | 'scanning' | 'live' | 'dead';

export class InotifyWatch {
  readonly #o: InotifyOptions;
  readonly #sys: InotifyCalls;
  readonly #sink: InotifySink;
  readonly #map = new DirMap();
  readonly #leaf = new LeafTest();
  readonly #mask: number;
  #fd = -1;
  #state: State = 'new';
  /** Kernel events are handled strictly in order, scans included. */
  #chain: Promise<void> = Promise.resolve();
  readonly #moves = new Map<number, PendingMove>();
  /**
   * Directories a scan found already watched elsewhere in the tree: moved into a new directory
   * before it had a watch (`mkdir d && mv x d/`: no IN_MOVED_TO was raised for it). The kernel
   * hands back the same wd, so the old path is known: reported as renames after the scan.
   */
  #movedIn: { from: string; to: string }[] = [];
  /**
   * Directories that could not be watched (out of watches, or unreadable), by their watched parent
   * and name, like the DirMap: a rename of an ancestor carries them along, and their path is
   * rebuilt at each retry (paths went stale under a renamed ancestor and were then dropped).
   */
  readonly #unwatched = new Map<string, { readonly parentWd: number; readonly name: string }>();
  #unwatchedTimer: NodeJS.Timeout | undefined;
  /** The next read, while it waits for its turn (pace.ts). */
  #readTimer: NodeJS.Timeout | undefined;

  constructor(o: InotifyOptions, sys: InotifyCalls, sink: InotifySink) {
    this.#o = o;
    this.#sys = sys;
    this.#sink = sink;
    // IN_MODIFY fires on every write(2) and IN_ATTRIB on every chmod: only asked for when they count.
    this.#mask = DIR_MASK & ~(o.switches.modify ? 0 : IN_MODIFY) & ~(o.switches.attrib ? 0 : IN_ATTRIB);
  }

  get watches(): number {
    return this.#map.size;
  }

  /** Watch the root and every directory below it; resolves when all are watched. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`inotify watch cannot start from ${this.#state}`);
    this.#state = 'scanning';
    this.#fd = this.#sys.init();
    // The root itself may be a symlink to the directory (/data -> /mnt/disk1/data): followed. Only
    // entries below it are never followed (IN_DONT_FOLLOW): a symlink there is a file to send.
    const r = this.#sys.addWatch(this.#fd, pathBytes(this.#o.root, ''), (this.#mask & ~IN_DONT_FOLLOW) | IN_DELETE_SELF | IN_MOVE_SELF);
    if (r.wd === undefined) throw new Error(`cannot watch ${this.#o.root}: ${errnoText(r.errno)}${r.errno === ENOSPC ? ` (${raiseHint})` : ''}`);
    this.#map.setRoot(r.wd);
    // Reading starts before the scan: the queue (16,384 events) would overflow during a long one.
    this.#readLoop();
    await this.#scanBelow(r.wd);
    if (this.#state === 'scanning') this.#state = 'live';
    this.#reportUnwatched();
  }

  // --- reading ------------------------------------------------------------------------------

  /**
   * A blocking read on the libuv thread pool: the child does nothing else, and the next read is
   * issued as soon as one returns, so the kernel queue drains while events are being handled.
   */
  #readLoop(): void {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    const pace = new TokenBucket(performance.now(), this.#o.pace ?? DEFAULT_PACE);
    const next = (): void => {
      this.#readTimer = undefined;
      if (this.#state === 'dead') return;
      read(this.#fd, buf, 0, READ_SIZE, null, (err, n) => {
        if (this.#state === 'dead') return;
        if (err) {
          if (err.code === 'EAGAIN' || err.code === 'EINTR') return next();
          this.#die(`reading inotify events failed: ${err.message}`);
          return;
        }
        // Decoded at once: the names are copied out, so the buffer is free for the next read.
        const events = decodeEvents(buf, n);
        this.#chain = this.#chain
          .then(() => this.#handle(events))
          .catch((e: unknown) => this.#sink.warn(`handling inotify events failed: ${e instanceof Error ? e.message : String(e)}`));
        // A nearly full buffer: more is queued in the kernel, read it at once (never risk an overflow).
        const wait = n > READ_SIZE - FULL_MARGIN ? 0 : pace.take(performance.now());
        if (wait === 0) next();
        else this.#readTimer = setTimeout(next, wait);
      });
    };
    next();
  }

  async #handle(events: readonly InotifyEvent[]): Promise<void> {
    const out = new Batch(this.#o.root);
    for (const ev of events) {
      if (this.#state === 'dead') return;
      if (ev.mask & IN_Q_OVERFLOW) {
        // Lost events may include IN_CREATE of directories, which would stay unwatched: walk the
        // tree again (a known directory gives back its own wd), then reconcile the root.
        out.flush(this.#sink);
        const root = this.#map.rootWd;
        if (root !== undefined) await this.#scanBelow(root);
        this.#renamesFound(out);
        this.#sink.gap('', 'inotify event queue overflow (fs.inotify.max_queued_events)');
        continue;
      }
      if (ev.name === '') {
        this.#self(ev, out);
        continue;
      }
      const rel = this.#map.entryPath(ev.wd, ev.name);
      if (rel === undefined) continue; // a watch already forgotten (its directory moved out or was deleted)
      const isDir = (ev.mask & IN_ISDIR) !== 0;
      if (ev.mask & IN_MOVED_FROM) this.#movedFrom(ev, rel, isDir, out);
      if (ev.mask & IN_MOVED_TO) await this.#movedTo(ev, rel, isDir, out);
      if (ev.mask & IN_CREATE) {
        if (isDir) await this.#newDir(ev.wd, ev.name, rel);
        out.push(rel, 'create', 'create', isDir);
        this.#renamesFound(out);
      }
      if (ev.mask & IN_DELETE) {
        if (isDir) this.#forget(this.#map.child(ev.wd, ev.name), false);
        if (isDir) this.#unwatched.delete(unwatchedKey(ev.wd, ev.name));
        out.push(rel, 'delete', 'delete', isDir);
      }
      if (ev.mask & IN_CLOSE_WRITE) out.push(rel, 'update', 'close_write', false);
      if (ev.mask & IN_MODIFY) out.push(rel, 'update', 'modify', false);
      if (ev.mask & IN_ATTRIB) out.push(rel, 'update', 'attrib', isDir);
    }
    out.flush(this.#sink);
    this.#reportUnwatched();
  }

  /** Events about a watched directory itself (no name). */
  #self(ev: InotifyEvent, out: Batch): void {
    const isRoot = ev.wd === this.#map.rootWd;
    if (isRoot && ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
      // The parent checks the root (and halts its deletes); this watch can see nothing any more.
      out.push('', 'delete', 'delete', true);
      out.flush(this.#sink);
      this.#map.remove(ev.wd);
      this.#die(`watch root ${this.#o.root} was ${ev.mask & IN_MOVE_SELF ? 'moved' : 'deleted or unmounted'}`);
      return;
    }
    // A subdirectory's own IN_DELETE_SELF / IN_IGNORED: the kernel dropped the watch. Its parent
    // reports the entry (IN_DELETE); a moved one keeps its watch (IN_MOVE_SELF is ignored).
    if (ev.mask & (IN_IGNORED | IN_DELETE_SELF | IN_UNMOUNT)) this.#map.remove(ev.wd);
  }

  #movedFrom(ev: InotifyEvent, rel: string, isDir: boolean, out: Batch): void {
    const childWd = isDir ? this.#map.child(ev.wd, ev.name) : undefined;
    // An unwatched directory moved away: its new place (if in the tree) is tried as a new one.
    if (isDir) this.#unwatched.delete(unwatchedKey(ev.wd, ev.name));
    const timer = setTimeout(() => {
      this.#chain = this.#chain.then(() => this.#movedOut(ev.cookie));
    }, MOVE_PAIR_MS);
    this.#moves.set(ev.cookie, { rel, isDir, childWd, timer });
    void out;
  }

  /** No IN_MOVED_TO came: the entry left the tree. Its watches would follow it: remove them. */
  #movedOut(cookie: number): void {
    const m = this.#moves.get(cookie);
    if (!m || this.#state === 'dead') return;
    this.#moves.delete(cookie);
    this.#forget(m.childWd, true);
    const out = new Batch(this.#o.root);
    out.push(m.rel, 'delete', 'moved_from', m.isDir);
    out.flush(this.#sink);
  }

  async #movedTo(ev: InotifyEvent, rel: string, isDir: boolean, out: Batch): Promise<void> {
    const from = this.#moves.get(ev.cookie);
    if (from) {
      clearTimeout(from.timer);
      this.#moves.delete(ev.cookie);
    }
    if (!isDir) {
      if (from) out.rename(from.rel, rel, false);
      else out.push(rel, 'create', 'moved_to', false);
      return;
    }
    const excluded = isExcluded(this.#o.excludes, rel, true);
    if (from?.childWd !== undefined && !excluded && this.#map.move(from.childWd, ev.wd, ev.name)) {
      // A rename inside the tree: the whole subtree's paths follow in O(1); nothing to scan.
      out.rename(from.rel, rel, true);
      return;
    }
    // Moved in from outside, from an unwatched (excluded) place, or into an excluded one.
    if (from) {
      this.#forget(from.childWd, true);
      out.push(from.rel, 'delete', 'moved_from', true);
    }
    if (!excluded) await this.#newDir(ev.wd, ev.name, rel);
    out.push(rel, 'create', 'moved_to', true);
    this.#renamesFound(out);
  }

  /** Report the directories the last scan found moved in (see #movedIn). */
  #renamesFound(out: Batch): void {
    for (const m of this.#movedIn.splice(0)) out.rename(m.from, m.to, true);
  }

  // --- watching directories -----------------------------------------------------------------

  /** Watch a new directory, then everything below it (watch first, then list). */
  async #newDir(parentWd: number, name: string, rel: string): Promise<void> {
    if (isExcluded(this.#o.excludes, rel, true)) return;
    const wd = this.#watch(parentWd, name, rel);
    if (wd !== undefined) await this.#scanBelow(wd);
  }

  /** add_watch for the entry `name` of `parentWd`; undefined when it is gone, not a directory or unwatchable. */
  #watch(parentWd: number, name: string, rel: string, bytes = pathBytes(this.#o.root, rel)): number | undefined {
    const r = this.#sys.addWatch(this.#fd, bytes, this.#mask);
    if (r.wd !== undefined) {
      const before = this.#map.has(r.wd) ? this.#map.pathOf(r.wd) : undefined;
      if (this.#map.add(r.wd, parentWd, name) && before !== undefined && before !== rel) this.#movedIn.push({ from: before, to: rel });
      this.#unwatched.delete(unwatchedKey(parentWd, name));
      return r.wd;
    }
    const key = unwatchedKey(parentWd, name);
    if (r.errno === ENOSPC) this.#unwatched.set(key, { parentWd, name });
    else if (r.errno === ENOENT || r.errno === ENOTDIR) this.#unwatched.delete(key); // gone: nothing to poll
    else {
      // EACCES and the like: rsync could not read it either, but say so and keep reconciling it.
      if (r.errno === EACCES) this.#unwatched.set(key, { parentWd, name });
      this.#sink.warn(`cannot watch ${rel}: ${errnoText(r.errno)}`);
    }
    return undefined;
  }

  /**
   * Breadth-first: list each watched directory, watch its subdirectories. SCAN_WORKERS listings at
   * a time (the thread pool has UV_THREADPOOL_SIZE threads, one of them held by the blocking read).
   */
  async #scanBelow(wd: number): Promise<void> {
    const queue = [wd];
    let active = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (active < SCAN_WORKERS && queue.length > 0 && this.#state !== 'dead') {
          const dirWd = queue.shift()!;
          active++;
          void this.#list(dirWd, queue).finally(() => {
            active--;
            pump();
          });
        }
        if (active === 0 && (queue.length === 0 || this.#state === 'dead')) resolve();
      };
      pump();
    });
  }

  /** List one watched directory; watch its subdirectories and queue them. */
  async #list(dirWd: number, queue: number[]): Promise<void> {
    const dirRel = this.#map.pathOf(dirWd);
    if (dirRel === undefined) return;
    // A leaf (no subdirectory, by its link count) has nothing to watch below it: not listed.
    if (this.#leaf.isLeaf(pathBytes(this.#o.root, dirRel))) return;
    let entries;
    try {
      entries = await readdir(pathBytes(this.#o.root, dirRel), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      // Gone, or moved while we listed it (then its wd is still known under its new path).
      const now = this.#map.pathOf(dirWd);
      if (now !== undefined && now !== dirRel) queue.push(dirWd);
      return;
    }
    const here = this.#map.pathOf(dirWd);
    if (here === undefined) return;
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const name = nameFromBytes(e.name as unknown as Buffer);
      const rel = here === '' ? name : `${here}/${name}`;
      if (isExcluded(this.#o.excludes, rel, true)) continue;
      // The leaf test right after the watch, on the same bytes: most directories of a large tree
      // are leaves, and each queued one cost a path rebuild and an async listing turn to find so.
      const bytes = pathBytes(this.#o.root, rel);
      const child = this.#watch(dirWd, name, rel, bytes);
      if (child !== undefined && !this.#leaf.isLeaf(bytes)) queue.push(child);
    }
  }

  /** Remove the watches of `wd`'s subtree (moved out: they would keep watching it outside the root). */
  #forget(wd: number | undefined, removeWatches: boolean): void {
    if (wd === undefined) return;
    for (const w of this.#map.remove(wd)) if (removeWatches) this.#sys.rmWatch(this.#fd, w);
  }

  // --- directories without a watch ----------------------------------------------------------

  #reportUnwatched(): void {
    if (this.#unwatched.size === 0 || this.#unwatchedTimer || this.#state === 'dead') return;
    const some = [...this.#unwatched.values()]
      .slice(0, 3)
      .map((u) => this.#map.entryPath(u.parentWd, u.name) ?? u.name)
      .join(', ');
    this.#sink.warn(`${this.#unwatched.size} director${this.#unwatched.size === 1 ? 'y is' : 'ies are'} not watched (${some}${this.#unwatched.size > 3 ? ', …' : ''}): ${raiseHint}; until then they are reconciled every ${this.#o.unwatchedPollMs} ms`);
    this.#unwatchedTimer = setTimeout(() => {
      this.#unwatchedTimer = undefined;
      this.#chain = this.#chain.then(() => this.#retryUnwatched());
    }, this.#o.unwatchedPollMs);
  }

  /** Try each unwatched directory again; a success is reported as a new tree, a failure as a gap. */
  async #retryUnwatched(): Promise<void> {
    const out = new Batch(this.#o.root);
    // An unwatched directory's own subdirectories are never tried (a scan does not enter it): each
    // entry has a watched parent, and once it is watched its scan finds what is below.
    for (const [key, u] of [...this.#unwatched]) {
      if (this.#state === 'dead') return;
      const rel = this.#map.entryPath(u.parentWd, u.name);
      if (rel === undefined) {
        this.#unwatched.delete(key); // its parent left the tree (deleted, moved out)
        continue;
      }
      const wd = this.#watch(u.parentWd, u.name, rel);
      if (wd !== undefined) {
        await this.#scanBelow(wd);
        out.push(rel, 'create', 'create', true);
      } else if (this.#unwatched.has(key)) {
        this.#sink.gap(rel, 'not watched (inotify watch limit): polled');
      }
    }
    out.flush(this.#sink);
    this.#unwatchedTimer = setTimeout(() => {
      this.#unwatchedTimer = undefined;
      this.#chain = this.#chain.then(() => this.#retryUnwatched());
    }, this.#o.unwatchedPollMs);
    if (this.#unwatched.size === 0) {
      clearTimeout(this.#unwatchedTimer);
      this.#unwatchedTimer = undefined;
    }
  }


  /**
   * Stop reading. The pending blocking read holds a thread-pool thread that process exit would
   * wait for: removing a watch queues IN_IGNORED, which ends that read.
   */
  stop(): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    clearTimeout(this.#unwatchedTimer);
    clearTimeout(this.#readTimer);
    for (const m of this.#moves.values()) clearTimeout(m.timer);
    if (this.#fd < 0) return;
    const root = this.#map.rootWd;
    if (root !== undefined) this.#sys.rmWatch(this.#fd, root);
    else {
      // The root's watch is already gone (it was deleted): add and remove a throwaway one.
      const wake = this.#sys.addWatch(this.#fd, Buffer.from('/'), IN_DELETE_SELF);
      if (wake.wd !== undefined) this.#sys.rmWatch(this.#fd, wake.wd);
    }
  }

  #die(message: string): void {
    if (this.#state === 'dead') return;
    this.#sink.fatal(message);
    this.stop();
  }
}

function errnoText(errno: number): string {
  switch (errno) {
    case ENOSPC:
      return 'ENOSPC (no inotify watches left)';
    case ENOENT:
      return 'ENOENT (no such directory)';
    case ENOTDIR:
      return 'ENOTDIR (not a directory)';
    case EACCES:
      return 'EACCES (permission denied)';
    default:
      return `errno ${errno}`;
  }
}

/** The events of one read, deduplicated: a file written in 1,000 chunks is one `modify`, not 1,000. */
/** The #unwatched key of the entry `name` of the watched directory `parentWd`. */
function unwatchedKey(parentWd: number, name: string): string {
  return `${parentWd}\0${name}`;
}

class Batch {
  readonly #root: string;
  readonly #events: RawEvent[] = [];
  readonly #seen = new Set<string>();

  constructor(root: string) {
    this.#root = root.endsWith('/') ? root.slice(0, -1) : root;
  }

  #abs(rel: string): string {
    return rel === '' ? this.#root : `${this.#root}/${rel}`;
  }

  push(rel: string, type: RawEvent['type'], kernel: KernelEvent, isDir: boolean): void {
    if (kernel === 'modify' || kernel === 'attrib' || kernel === 'close_write') {
      const key = `${kernel}\0${rel}`;
      if (this.#seen.has(key)) return;
      this.#seen.add(key);
    }
    this.#events.push({ path: this.#abs(rel), type, kernel, isDir });
  }

  rename(fromRel: string, toRel: string, isDir: boolean): void {
    this.#events.push({ path: this.#abs(toRel), type: 'create', kernel: 'rename', isDir, from: this.#abs(fromRel) });
  }

  flush(sink: InotifySink): void {
    if (this.#events.length === 0) return;
    sink.events(this.#events.splice(0));
    this.#seen.clear();
  }
}
