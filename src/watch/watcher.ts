/**
 * The parent side of the watch layer: one watcher child process per root (child.ts), turned into
 * filtered `Change`s, with the gaps of @parcel/watcher closed by re-subscribing and by telling the
 * caller where to reconcile (`onGap`). See /work/shared/reference/watcher-facts.md.
 *
 * Per root, a RootWatch (root-watch.ts: its phases are drawn and switched there):
 *
 *              start()                     root gone / replaced (poll)
 *   (none) ───────────► live ─────────────────────────────────► absent
 *                        │  ▲  new child live: swap, onGap          │
 *  new dir (parcel only),│  │                                       │ root back: new child live,
 *     child error/death  ▼  │                                       │ onRootState(true), onGap(root, '')
 *                     replacing ◄───────────────────────────────────┘
 *
 * A replacement always starts the new child and waits until it is live before the old one is
 * stopped: a fresh subscription crawls the whole tree, so nothing between the two is missed.
 *
 * Two backends run in the child (protocol.ts): our own over Linux inotify (the default there),
 * which watches new directories itself and reports renames, overflows and unwatchable directories;
 * and @parcel/watcher, whose new directories need the re-watch above. The child says which one it
 * runs when it is live (inotify falls back to parcel with a warning when its FFI cannot load).
 */
import type { EventSwitches, Pattern } from '../config/types.js';
import type { Change } from '../core/types.js';
import { EnvironmentError } from '../errors.js';
import type { Emit } from '../events.js';
import { WatchChild } from './child-handle.js';
import type { BackendName, ChildOptions, RawEvent } from './protocol.js';
import { resolveBatch } from './resolve.js';
import { describeRoot, rootState, sameDir } from './root-state.js';
import { DEFAULT_WATCH_TUNING, errorText, RootWatch, subscribeHint, type WatchTuning } from './root-watch.js';

export { DEFAULT_WATCH_TUNING, type WatchTuning };


export interface WatcherOptions {
  roots: readonly string[];
  excludes: readonly Pattern[];
  switches: EventSwitches;
  emit: Emit;
  onChanges: (changes: Change[]) => void;
  /** Something may have been missed under `dir` (relative to root, "" = whole root): caller reconciles it. */
  onGap: (root: string, dir: string, reason: string) => void;
  /** The root vanished / is not a directory / came back: caller must stop deletes for it (safety). */
  onRootState?: (root: string, present: boolean) => void;
  /** Tests lower these. @default DEFAULT_WATCH_TUNING */
  tuning?: Partial<WatchTuning>;
  /**
   * `inotify` (our own, Linux only) or `parcel` (@parcel/watcher). @default inotify on Linux, parcel elsewhere.
   * An inotify child that cannot load its FFI falls back to parcel with a warning.
   */
  backend?: BackendName;
}

/** The backend a Watcher uses when none is configured. */
export function defaultBackend(): BackendName {
  return process.platform === 'linux' ? 'inotify' : 'parcel';
}

export class Watcher {
  readonly #o: WatcherOptions;
  readonly #t: WatchTuning;
  readonly #roots = new Map<string, RootWatch>();
  /** Replaced children still draining their last events. */
  readonly #retiring = new Set<WatchChild>();
  #poll: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #childOptions: ChildOptions;

  constructor(o: WatcherOptions) {
    this.#o = o;
    this.#t = { ...DEFAULT_WATCH_TUNING, ...o.tuning };
    const backend = o.backend ?? defaultBackend();
    this.#childOptions = {
      backend: backend === 'inotify' && process.platform !== 'linux' ? 'parcel' : backend,
      excludes: o.excludes.map((p) => ({ source: p.regex.source, flags: p.regex.flags })),
      switches: o.switches,
      unwatchedPollMs: this.#t.unwatchedPollMs,
    };
  }

  /** The backend the child watching `root` runs (after any fallback), once it is live. */
  backendOf(root: string): BackendName | undefined {
    return this.#roots.get(root)?.child?.backend;
  }

  /** The directories the inotify backend watches under `root` when it went live; undefined for parcel. */
  watchesOf(root: string): number | undefined {
    return this.#roots.get(root)?.child?.watches;
  }

  /** Resolves when every root is subscribed; rejects with EnvironmentError for a missing root. */
  async start(): Promise<void> {
    for (const root of this.#o.roots) {
      const s = await rootState(root);
      if (s.kind !== 'dir') throw new EnvironmentError(`watch root ${root} is ${describeRoot(s)}: create it or fix <localpath watch="…"> in the config`);
      this.#roots.set(root, new RootWatch(root, s));
    }
    const all = [...this.#roots.values()];
    const started = await Promise.allSettled(all.map((rw) => this.#startChild(rw)));
    const failed = started.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await this.stop();
      const reason = (started[failed] as PromiseRejectedResult).reason;
      throw new EnvironmentError(`cannot watch ${all[failed]?.root}: ${subscribeHint(errorText(reason))}`);
    }
    for (const rw of all) this.#o.emit({ type: 'watch', level: 'info', message: `watching ${rw.root}`, root: rw.root, ...backendOf(rw) });
    this.#poll = setInterval(() => {
      for (const rw of this.#roots.values()) void this.#checkRoot(rw);
    }, this.#t.rootPollMs);
  }

  /** A fresh subscription in a NEW child, started before the old one is stopped; resolves when it is live. */
  rewatch(root: string): Promise<void> {
    const rw = this.#roots.get(root);
    if (!rw) return Promise.reject(new Error(`not watching ${root}`));
    return this.#serial(rw, () => this.#replace(rw));
  }

  /**
   * True while `root` is watched by the inotify backend: its stream misses nothing without saying
   * so (a kernel overflow, an unwatchable directory and a restart all come as onGap), so a burst of
   * events needs no reconcile of its own. parcel loses events silently under churn: false.
   */
  eventsComplete(root: string): boolean {
    const rw = this.#roots.get(root);
    return rw?.phase.kind === 'live' && rw.child?.backend === 'inotify';
  }

  /** The pid of the child watching `root` (tests, status). */
  childPid(root: string): number | undefined {
    return this.#roots.get(root)?.child?.pid;
  }

  async stop(): Promise<void> {
    // Deletes held for coalescing are handed over first: a stop must not lose them.
    for (const rw of this.#roots.values()) {
      if (rw.deletes.events.length > 0 && rw.child) this.#flushDeletes(rw, rw.child);
      await rw.batches;
    }
    this.#stopped = true;
    if (this.#poll) clearInterval(this.#poll);
    const children: WatchChild[] = [];
    for (const rw of this.#roots.values()) children.push(...rw.stop());
    await Promise.all([...children, ...this.#retiring].map((c) => c.stop()));
  }

  // --- children -----------------------------------------------------------------------------

  #spawn(rw: RootWatch): WatchChild {
    const c: WatchChild = new WatchChild(rw.root, this.#childOptions, {
      onEvents: (events) => this.#onEvents(rw, events, c),
      onGap: (dir, reason) => {
        if (rw.child === c || this.#retiring.has(c)) this.#gapAfterBatches(rw, dir, reason);
      },
      onWarning: (message) => {
        if (rw.child === c || rw.pending === c) this.#watchError(rw, message);
      },
      onError: (message) => {
        if (rw.child === c) this.#failed(rw, message);
      },
      onExit: (description) => {
        if (rw.child === c) this.#failed(rw, description);
      },
    });
    return c;
  }

  async #startChild(rw: RootWatch): Promise<void> {
    const c = this.#spawn(rw);
    rw.begin(c);
    await c.ready();
    rw.started(Date.now());
  }

  /** Start a new child, wait until it is live, then stop the old one. Run under #serial. */
  async #replace(rw: RootWatch): Promise<void> {
    if (this.#stopped) return;
    const next = this.#spawn(rw);
    rw.replaceBegin(next);
    try {
      await next.ready();
    } catch (err) {
      rw.replaceFailed();
      await next.stop();
      throw err;
    }
    if (this.#stopped) {
      await next.stop();
      return;
    }
    const old = rw.replaceDone(Date.now());
    if (old) {
      this.#retiring.add(old);
      void old.retire(this.#t.retireGraceMs).finally(() => this.#retiring.delete(old));
    }
  }

  #serial(rw: RootWatch, job: () => Promise<void>): Promise<void> {
    const run = rw.lock.then(job);
    rw.lock = run.catch(() => {});
    return run;
  }

  // --- events -------------------------------------------------------------------------------

  #onEvents(rw: RootWatch, events: readonly RawEvent[], from: WatchChild): void {
    if (this.#stopped) return;
    if (from.backend === 'inotify') {
      // inotify reports an rm -rf entry by entry, as it happens: the files of a directory come while
      // the directory still stands. Held a moment, they resolve to the highest missing ancestor (one
      // change for the tree, not one per file); every other event goes at once.
      const now: RawEvent[] = [];
      const held = rw.deletes;
      for (const e of events) {
        if ((e.kernel === 'delete' || e.kernel === 'moved_from') && e.path !== rw.root) held.events.push(e);
        else now.push(e);
      }
      if (held.events.length > 0) {
        if (held.timer === undefined) held.since = Date.now();
        clearTimeout(held.timer);
        const wait = Math.max(0, Math.min(this.#t.deleteSettleMs, held.since + this.#t.deleteSettleMaxMs - Date.now()));
        held.timer = setTimeout(() => this.#flushDeletes(rw, from), wait);
      }
      if (now.length === 0) return;
      events = now;
    }
    this.#resolve(rw, events, from);
  }

  /**
   * Batches are resolved one at a time, in order; while one is resolved, what arrives joins the
   * next (rw.open). Under a burst this merges a file's create and close_write, read apart, into
   * one lstat; when idle a batch starts at once.
   */
  #resolve(rw: RootWatch, events: readonly RawEvent[], from: WatchChild): void {
    const open = rw.open;
    if (open && open.from === from) {
      for (const e of events) open.events.push(e);
      return;
    }
    const batch = { events: [...events], from };
    rw.open = batch;
    const rules = { excludes: this.#o.excludes, switches: this.#o.switches };
    rw.batches = rw.batches
      .then(async () => {
        if (rw.open === batch) rw.open = undefined;
        const r = await resolveBatch(rw.root, batch.events, rules);
        if (this.#stopped) return;
        // A retiring child's word on the root is stale: its successor already watches what stands there now.
        if (r.touchedRoot) void this.#checkRoot(rw, r.rootDeleted && from === rw.child);
        if (r.changes.length > 0) this.#call(() => this.#o.onChanges(r.changes));
        for (const dir of r.gaps) this.#gap(rw, dir, 'a name the watcher could not decode exactly');
        // inotify watched its new directories before it reported them: no re-crawl of the root.
        if (r.newDirs.length > 0 && from.backend !== 'inotify') this.#newDirs(rw, r.newDirs);
      })
      .catch((err) => this.#watchError(rw, `handling watcher events failed: ${errorText(err)}`));
  }

  #flushDeletes(rw: RootWatch, from: WatchChild): void {
    const held = rw.deletes;
    clearTimeout(held.timer);
    held.timer = undefined;
    const events = held.events.splice(0);
    if (events.length > 0) this.#resolve(rw, events, from);
  }

  /** The current subscription cannot see inside new directories: re-subscribe once the burst is over. */
  #newDirs(rw: RootWatch, dirs: readonly string[]): void {
    const rewatch = rw.rewatch;
    if (rewatch.dirs.size === 0) rewatch.since = Date.now();
    for (const d of dirs) rewatch.dirs.add(d);
    clearTimeout(rewatch.timer);
    // The debounce resets on every new directory, but a long untar must not postpone it forever.
    const ceiling = rewatch.since + this.#t.rewatchMaxDelayMs - Date.now();
    rewatch.timer = setTimeout(() => {
      if (rewatch.queued || this.#stopped) return;
      rewatch.queued = true;
      void this.#serial(rw, async () => {
        rewatch.queued = false;
        // Taken when the rewatch starts: directories arriving later get a rewatch of their own.
        const dirs = [...rewatch.dirs];
        rewatch.dirs.clear();
        if (!rw.present || this.#stopped) return;
        try {
          await this.#replace(rw);
        } catch (err) {
          this.#failed(rw, `re-watching after new directories failed: ${errorText(err)}`);
          return;
        }
        for (const d of dirs) this.#gap(rw, d, 'new directory');
      });
    }, Math.max(0, Math.min(this.#t.rewatchDebounceMs, ceiling)));
  }

  // --- failures and the root ----------------------------------------------------------------

  /** The child died or reported an error: restart with backoff, then reconcile the whole root. */
  #failed(rw: RootWatch, reason: string): void {
    if (this.#stopped) return;
    this.#watchError(rw, reason);
    const restart = rw.restart;
    if (restart.timer || !rw.present) return;
    if (Date.now() - rw.liveSince > this.#t.stableMs) restart.attempt = 0;
    const delay = Math.min(this.#t.restartMaxMs, this.#t.restartMinMs * 2 ** restart.attempt);
    restart.attempt++;
    restart.timer = setTimeout(() => {
      restart.timer = undefined;
      void this.#serial(rw, async () => {
        if (!rw.present || this.#stopped) return;
        try {
          await this.#replace(rw);
        } catch (err) {
          this.#failed(rw, `restarting the watcher failed: ${errorText(err)}`);
          return;
        }
        this.#o.emit({ type: 'watch', level: 'info', message: `watcher for ${rw.root} restarted`, root: rw.root, detail: reason, ...backendOf(rw) });
        this.#gap(rw, '', `watcher restarted: ${reason}`);
      });
    }, delay);
  }

  /** `deleted`: the child saw the root itself deleted, so whatever stands there now is another directory. */
  async #checkRoot(rw: RootWatch, deleted = false): Promise<void> {
    const check = rw.check;
    if (deleted) check.rootDeleted = true;
    if (check.running || this.#stopped) return;
    check.running = true;
    deleted = check.rootDeleted;
    check.rootDeleted = false;
    try {
      const now = await rootState(rw.root);
      if (rw.present && (deleted || !sameDir(rw.identity, now))) {
        // Deleting the root kills parcel's subscription silently; a replaced root is a directory it never saw.
        rw.rootLost();
        this.#o.emit({ type: 'watch-error', level: 'error', message: `watch root ${rw.root} is ${now.kind === 'dir' ? 'a different directory now' : describeRoot(now)}: halting its deletes until it is watched again`, root: rw.root, error: describeRoot(now) });
        this.#call(() => this.#o.onRootState?.(rw.root, false));
        await this.#serial(rw, async () => {
          await rw.child?.stop();
        });
      }
      if (rw.phase.kind === 'absent' && now.kind === 'dir' && !this.#stopped) {
        await this.#serial(rw, async () => {
          await this.#replace(rw);
          rw.rootBack(Date.now(), now);
          rw.restart.attempt = 0;
        });
        this.#o.emit({ type: 'watch', level: 'info', message: `watch root ${rw.root} is back: watching it again`, root: rw.root, ...backendOf(rw) });
        this.#call(() => this.#o.onRootState?.(rw.root, true));
        this.#gap(rw, '', 'root came back');
      }
    } catch (err) {
      // Not live yet (e.g. removed again while subscribing): the next poll tries again.
      this.#watchError(rw, `re-watching ${rw.root} failed: ${errorText(err)}`);
    } finally {
      check.running = false;
    }
    if (check.rootDeleted) void this.#checkRoot(rw);
  }

  /** A gap the child reported, after the events it sent before it (they are resolved in order). */
  #gapAfterBatches(rw: RootWatch, dir: string, reason: string): void {
    rw.open = undefined;
    rw.batches = rw.batches.then(() => this.#gap(rw, dir, reason));
  }

  #gap(rw: RootWatch, dir: string, reason: string): void {
    if (!this.#stopped) this.#call(() => this.#o.onGap(rw.root, dir, reason));
  }

  #watchError(rw: RootWatch, error: string): void {
    if (this.#stopped) return;
    this.#o.emit({ type: 'watch-error', level: 'warn', message: `watcher for ${rw.root}: ${error}`, root: rw.root, error });
  }

  /** Callers' callbacks never throw into the watcher's timers and IPC handlers. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#o.emit({ type: 'info', level: 'error', message: `a watcher callback threw: ${errorText(err)}` });
    }
  }
}

/** The backend a live root runs, for status (after a fallback it is not the configured one). */
function backendOf(rw: RootWatch): { backend?: string } {
  const b = rw.child?.backend;
  return b ? { backend: b } : {};
}
