/**
 * What the watcher reports, into the channels: changes fan out to every channel of their root;
 * gaps become a reconcile of the directory; a root that is back resumes its halted channels;
 * event bursts get a reconcile of their scope once they are over (and one per ceiling while they
 * last, burst.ts). Intake stays open while a stop waits for the watcher to go quiet.
 */
import { join } from 'node:path';
import type { Action, Change } from '../core/types.js';
import { actionFor } from '../core/classify.js';
import type { Emit } from '../events.js';
import { checkInotifyLimits, countDirectories } from '../watch/limits.js';
import { probeRoot } from '../watch/root-state.js';
import { BurstDetector } from './burst.js';
import type { Channel } from './channel.js';
import type { Schedule } from './schedule.js';

export class Intake {
  readonly #bursts: BurstDetector;
  #open = false;
  #live = false;
  #lastChange = 0;
  /** Whether a root's watcher reports every loss itself (inotify: an overflow is a gap): then bursts need no reconcile. */
  #complete: (root: string) => boolean = () => false;

  constructor(
    private readonly channels: readonly Channel[],
    private readonly emit: Emit,
    private readonly schedule: Schedule,
  ) {
    this.#bursts = new BurstDetector(schedule.tuning.burst);
  }

  /** Tell intake which roots' event streams are complete (see #complete). */
  completeEvents(fn: (root: string) => boolean): void {
    this.#complete = fn;
  }

  /** Take changes and run the burst controller (the engine is running). */
  open(): void {
    this.#open = true;
    this.#live = true;
  }

  /** A stop began: still take changes (they are saved as pending), start no more reconciles. */
  draining(): void {
    this.#live = false;
  }

  close(): void {
    this.#open = false;
    this.#live = false;
  }

  /**
   * Changes written just before a stop are still in the watcher's 50 ms batch or on their way from
   * its child process: wait until intake has been quiet for a moment, so they are saved as pending
   * instead of being lost (the SIGTERM-mid-burst test lost its last 60 files without this).
   */
  quiet(): Promise<void> {
    const t = this.schedule.tuning;
    return this.schedule.until(() => Date.now() - this.#lastChange >= t.stopQuietMs, t.stopQuietMaxMs);
  }

  enqueue(root: string, path: string, action: Action, from?: string): void {
    for (const ch of this.channels) if (ch.root === root) ch.add(path, action, from);
  }

  onChanges(changes: readonly Change[]): void {
    if (!this.#open) return;
    this.#lastChange = Date.now();
    for (const c of changes) this.enqueue(c.root, c.path, actionFor(c), c.from);
    if (!this.#live) return;
    const now = Date.now();
    for (const root of new Set(changes.map((c) => c.root))) {
      if (this.#complete(root)) continue;
      const burst = this.#bursts.record(root, changes.filter((c) => c.root === root).map((c) => c.path), now);
      if (burst?.kind === 'started') {
        this.emit({ type: 'watch', level: 'info', message: `event burst on ${join(root, burst.scope)}: reconciling it once it is over`, root, detail: 'burst' });
      } else if (burst?.kind === 'ongoing') {
        this.emit({ type: 'watch', level: 'warn', message: `event burst on ${join(root, burst.scope)} goes on: reconciling it now`, root, detail: 'burst' });
        this.enqueue(root, burst.scope, 'tree');
      }
      this.#afterBurst(root);
    }
  }

  onGap(root: string, dir: string, reason: string): void {
    this.emit({ type: 'watch', level: 'info', message: `reconciling ${join(root, dir)} (${reason})`, root, detail: reason });
    this.enqueue(root, dir, 'tree');
  }

  onRootState(root: string, present: boolean): void {
    if (present) for (const ch of this.channels) if (ch.root === root) ch.resume();
    this.emit({
      type: 'safety',
      level: present ? 'info' : 'error',
      message: present
        ? `watch root ${root} is back: resuming replication`
        : `watch root ${root} disappeared: replication and deletes for it are halted until it is back`,
      root,
      check: 'rootMissing',
    });
  }

  /** The halt-probe timer's tick: a halted channel whose root has content again resumes. */
  probeHalted(): void {
    for (const ch of this.channels) {
      if (ch.state !== 'halted') continue;
      void probeRoot(ch.root).then((s) => {
        if (s.exists && s.isDir && !s.empty) ch.resume();
      });
    }
  }

  /** The trailing reconcile: what vanished from the watcher's batches during the burst. */
  #afterBurst(root: string): void {
    this.schedule.after(`burst\0${root}`, this.#bursts.quietMs + 10, () => {
      if (!this.#live) return;
      const scope = this.#bursts.settled(root, Date.now());
      if (scope === undefined) return;
      this.emit({ type: 'watch', level: 'info', message: `event burst on ${join(root, scope)} is over: reconciling it`, root, detail: 'burst' });
      this.enqueue(root, scope, 'tree');
    });
  }
}

/**
 * Best effort: warn when the inotify limits are too low for the roots' directories; never stops
 * replication. `watches(root)`: what the inotify backend already counted while it set its watches
 * (walking the tree again for it cost 1.2 s of CPU beside -r of 1,000,000 files); parcel's roots
 * are walked.
 */
export async function warnOnLimits(roots: readonly string[], emit: Emit, watches: (root: string) => number | undefined = () => undefined): Promise<void> {
  try {
    let dirs = 0;
    const directories: Record<string, number> = {};
    for (const r of roots) dirs += directories[r] = watches(r) ?? (await countDirectories(r, 10_000_000));
    const res = await checkInotifyLimits(dirs);
    // The counts for status and metrics (watches needed against the limit).
    const known = res.watches > 0;
    emit({ type: 'inotify', level: 'debug', message: `${dirs} directories to watch`, directories, maxUserWatches: known ? res.watches : null, maxUserInstances: known ? res.instances : null });
    if (!res.ok && res.message) emit({ type: 'limits', level: 'warn', message: res.message });
  } catch {
    // best effort
  }
}
