/**
 * Wires the pipeline: watcher → change sets → planner → lanes → replay log / hooks, plus the
 * controllers (initial and periodic full sync, reconcile on watcher gaps, replay timer, restarts).
 *
 *   idle ──start()──► starting ──► running ──stop()──► stopping ──► stopped
 *                        │                                  ▲
 *                        └──────── start failed ────────────┘
 */
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, PluginName, RemoteConfig } from './config/types.js';
import type { Change, RsyncJob } from './core/types.js';
import { actionFor } from './core/classify.js';
import type { RootState } from './core/safety.js';
import type { Emit } from './events.js';
import { Channel, type LanePort } from './engine/channel.js';
import { Confirmations } from './engine/confirmations.js';
import { outcomeText } from './engine/outcome-text.js';
import { BurstDetector } from './engine/burst.js';
import { changedSince } from './engine/catch-up.js';
import { Lane } from './sync/lane.js';
import type { RsyncOutcome } from './sync/types.js';
import { Watcher } from './watch/watcher.js';
import { checkInotifyLimits, countDirectories } from './watch/limits.js';
import { ReplayLog } from './replay/log.js';
import type { ReplayRecord } from './replay/types.js';
import { replayRecords, type ReplayGroup } from './replay/replayer.js';
import { loadPending, savePending, markRunning, markStopped, pendingPath, type PendingSnapshot } from './replay/pending-store.js';
import { createHook, createHooks, hookNames } from './hooks/index.js';
import { HookRunner } from './hooks/runner.js';
import type { Hook, LandedBatch, LandedItem } from './hooks/types.js';

export type EngineState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface EngineOptions {
  readonly emit: Emit;
  /** `-r`: full sync of every remote once the watchers are up. */
  readonly fullSync?: boolean;
  /** `-m NAME`: run only this plugin on its own watch root, no rsync. */
  readonly pluginOnly?: PluginName;
  /** Tests: shorter retry delays, watcher debounce etc. */
  readonly retryDelayMs?: { min: number; max: number };
  /** Tests: force the filter-based delete fallback. */
  readonly forceDeleteFallback?: boolean;
}

export interface ReplayResult {
  readonly replayed: readonly ReplayRecord[];
  readonly left: readonly ReplayRecord[];
  readonly corrupt: number;
}

const HALT_PROBE_MS = 2000;
const UNHEALTHY_RETRY_MS = 15_000;
/** A stop waits until the watcher has been quiet this long (at most STOP_QUIET_MAX_MS). */
const STOP_QUIET_MS = 400;
const STOP_QUIET_MAX_MS = 3_000;
/** Catch-up looks back this far before the saved stop time: resending a few paths is harmless, a clock step is not. */
const CATCH_UP_MARGIN_MS = 2_000;

export class Engine {
  #state: EngineState = 'idle';
  readonly channels: Channel[] = [];
  readonly #lanes = new Map<string, Lane>();
  readonly #hooks: Hook[];
  readonly #hookRunner: HookRunner | undefined;
  readonly #confirm = new Map<string, Confirmations>();
  readonly #unhealthy = new Map<string, string>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #bursts = new BurstDetector();
  readonly #burstTimers = new Map<string, NodeJS.Timeout>();
  readonly #standby: Hook[] = [];
  /** Changes are taken from the watcher: while running, and while a stop waits for the last ones. */
  #intakeOpen = false;
  #lastIntake = 0;
  readonly replayLog: ReplayLog;
  #watcher: Watcher | undefined;
  #replaying: Promise<ReplayResult> | undefined;
  readonly #emit: Emit;

  constructor(
    readonly config: Config,
    private readonly opts: EngineOptions,
  ) {
    this.#emit = opts.emit;
    this.replayLog = new ReplayLog(config.failLog.path);
    // Sersync's -m runs the named plugin whether or not the file starts it.
    const plugins = opts.pluginOnly ? (config.definedPlugins ?? config.plugins).filter((p) => p.kind === opts.pluginOnly) : config.plugins;
    this.#hooks = createHooks(plugins, { emit: this.#emit });
    this.#hookRunner =
      this.#hooks.length > 0
        ? new HookRunner({
            hooks: this.#hooks,
            emit: this.#emit,
            retries: config.retries,
            ...(opts.retryDelayMs ? { retryDelayMs: opts.retryDelayMs } : {}),
            onGiveUp: (hook, batch, error) => this.#hookGaveUp(hook, batch, error),
          })
        : undefined;
    this.#buildChannels(plugins);
  }

  get state(): EngineState {
    return this.#state;
  }

  /** Roots actually watched: the config's, or in plugin-only mode the plugin's own. */
  get roots(): string[] {
    return [...new Set(this.channels.map((c) => c.root))];
  }

  #buildChannels(plugins: Config['plugins']): void {
    const limits = { settleMs: this.config.settleMs, maxDelayMs: this.config.maxDelayMs, maxBatch: 5000 };
    const common = {
      limits,
      fullSyncExcludes: this.config.crontab.excludes,
      probeRoot,
      now: () => Date.now(),
      onResult: (ch: Channel, job: RsyncJob, landed: readonly string[], failed: readonly string[], outcome: RsyncOutcome) =>
        this.#onResult(ch, job, landed, failed, outcome),
      onHalt: (ch: Channel, check: string, message: string) => {
        this.#emit({ type: 'safety', level: 'error', message, root: ch.root, check });
      },
    };
    if (this.opts.pluginOnly) {
      // Plugin-only mode (Sersync's -m): no rsync; a change "lands" as soon as it settles.
      const lane: LanePort = { pending: 0, concurrency: 64, run: async () => ({ ok: true, outcome: okOutcome() }) };
      for (const p of plugins) {
        const watch = 'watch' in p && p.watch ? p.watch : this.config.roots[0]?.path;
        if (!watch) continue;
        if (this.channels.some((c) => c.root === watch)) continue;
        this.channels.push(new Channel({ ...common, root: watch, remoteId: `plugin:${p.kind}`, lane }));
        this.#confirm.set(watch, new Confirmations([`plugin:${p.kind}`], 'any'));
      }
      return;
    }
    for (const root of this.config.roots) {
      for (const remote of root.remotes) {
        const lane = this.#laneFor(remote);
        this.channels.push(new Channel({ ...common, root: root.path, remoteId: remote.id, lane }));
      }
      this.#confirm.set(root.path, new Confirmations(root.remotes.map((r) => r.id), this.config.hookWhen));
    }
  }

  #laneFor(remote: RemoteConfig): Lane {
    let lane = this.#lanes.get(remote.id);
    if (!lane) {
      lane = new Lane({
        remote,
        rsync: this.config.rsync,
        concurrency: this.config.threads,
        retries: this.config.retries,
        emit: this.#emit,
        debug: this.config.debug,
        ...(this.opts.retryDelayMs ? { retryDelayMs: this.opts.retryDelayMs } : {}),
        ...(this.opts.forceDeleteFallback ? { forceDeleteFallback: true } : {}),
      });
      this.#lanes.set(remote.id, lane);
    }
    return lane;
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`engine cannot start from state ${this.#state}`);
    this.#state = 'starting';
    const { uncleanPrevious } = await markRunning(this.config.stateDir, this.#run);
    const roots = this.roots;
    this.#watcher = new Watcher({
      roots,
      excludes: this.config.excludes,
      switches: this.config.events,
      ...(this.config.watcherBackend ? { backend: this.config.watcherBackend } : {}),
      emit: this.#emit,
      onChanges: (changes) => this.#onChanges(changes),
      onGap: (root, dir, reason) => {
        this.#emit({ type: 'watch', level: 'info', message: `reconciling ${join(root, dir)} (${reason})`, root, detail: reason });
        this.#enqueue(root, dir, 'tree');
      },
      onRootState: (root, present) => {
        if (present) for (const ch of this.channels) if (ch.root === root) ch.resume();
        this.#emit({
          type: 'safety',
          level: present ? 'info' : 'error',
          message: present
            ? `watch root ${root} is back: resuming replication`
            : `watch root ${root} disappeared: replication and deletes for it are halted until it is back`,
          root,
          check: 'rootMissing',
        });
      },
    });
    try {
      await this.#watcher.start();
    } catch (err) {
      this.#state = 'stopped';
      await markStopped(this.config.stateDir, this.#run).catch(() => {});
      throw err;
    }
    this.#state = 'running';
    this.#intakeOpen = true;
    this.#emit({
      type: 'started',
      level: 'info',
      message: `watching ${roots.length} root(s), replicating to ${this.#lanes.size} remote(s)`,
      roots: roots.length,
      remotes: this.#lanes.size,
    });
    void this.#checkLimits(roots);

    // Saved pending work from a clean stop goes first, then what changed while stopped (by ctime);
    // an unclean stop means we cannot know what was missed, so every root gets a full sync (as does -r).
    const saved = await loadPending(this.#pendingFile()).catch(() => undefined);
    if (saved) this.#restorePending(saved);
    if (this.opts.fullSync || uncleanPrevious) {
      if (uncleanPrevious && !this.opts.fullSync) {
        this.#emit({ type: 'info', level: 'warn', message: 'the previous run did not stop cleanly: catching up with a full sync of every root' });
      }
      for (const root of roots) this.#enqueue(root, '', 'tree');
    } else if (saved && !this.opts.pluginOnly) {
      this.#syncNewChannels(saved);
      void this.#catchUp(roots, Date.parse(saved.savedAt) - CATCH_UP_MARGIN_MS);
    }
    this.#startTimers();
    void this.replayNow().catch(() => {});
  }

  /**
   * A root or remote added to the config since the last stop (a SIGHUP reload, a restart) has never
   * been synced: a changed-since scan would miss everything older, so it gets a full sync.
   */
  #syncNewChannels(saved: PendingSnapshot): void {
    const known = new Set(saved.lanes.map((l) => `${l.root}\0${l.remote}`));
    for (const ch of this.channels) {
      if (known.has(`${ch.root}\0${ch.remoteId}`)) continue;
      this.#emit({ type: 'info', level: 'info', message: `${ch.root} → ${ch.remoteId} is new in the config: full sync` });
      ch.add('', 'tree');
    }
  }

  /** What changed while stopped (after a clean stop; the watcher is already live, so nothing falls between). */
  async #catchUp(roots: readonly string[], sinceMs: number): Promise<void> {
    for (const root of roots) {
      const t0 = Date.now();
      try {
        const { entries, scanned } = await changedSince(root, sinceMs, this.config.excludes);
        if (this.#state !== 'running') return;
        for (const e of entries) this.#enqueue(root, e.path, e.action);
        const what = entries.some((e) => e.path === '') ? 'a full sync (the root itself changed)' : `${entries.length} change(s)`;
        this.#emit({ type: 'info', level: 'info', message: `catching up on ${root} since the last stop: ${what} (${scanned} entries looked at in ${Date.now() - t0} ms)` });
      } catch (err) {
        if (this.#state !== 'running') return;
        this.#emit({ type: 'info', level: 'warn', message: `catching up on ${root} since the last stop failed (${errText(err)}): a full sync instead` });
        this.#enqueue(root, '', 'tree');
      }
    }
  }

  /** Stop intake, stop running jobs, persist what is not confirmed; the next start sends it first. */
  async stop(reason = 'stop'): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    this.#emit({ type: 'stopping', level: 'info', message: `stopping (${reason}): saving pending changes`, reason });
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#burstTimers.values()) clearTimeout(t);
    await this.#quiesce();
    this.#intakeOpen = false;
    await this.#watcher?.stop().catch(() => {});
    const snapshot: PendingSnapshot = {
      savedAt: new Date().toISOString(),
      lanes: this.channels.map((ch) => ({ remote: ch.remoteId, root: ch.root, entries: ch.changes.unconfirmed() })),
    };
    await savePending(this.#pendingFile(), snapshot);
    for (const ch of this.channels) ch.stop();
    await Promise.all([...this.#lanes.values()].map((l) => l.stop('abort')));
    await this.#hookRunner?.close().catch(() => {});
    await Promise.all(this.#standby.map((h) => h.close().catch(() => {})));
    await markStopped(this.config.stateDir, this.#run);
    this.#state = 'stopped';
  }

  /** Resolves when every channel has nothing pending or running (tests, -r progress). */
  async idle(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.idle()));
    await this.#hookRunner?.drain();
  }

  /** Queue a full sync of every root (the `-r` and crontab controller). */
  fullSync(): void {
    for (const root of this.roots) this.#enqueue(root, '', 'tree');
  }

  /** Replay the replay log now: what lands is removed, what still fails stays (with its cause). */
  /**
   * `operator`: an explicit `--retry-log`, which also replays what a safety guard held back
   * (deletes stopped by maxDelete); automatic replays leave those for an operator to look at.
   */
  replayNow(opts: { operator?: boolean } = {}): Promise<ReplayResult> {
    this.#replaying ??= this.#replay(opts.operator === true).finally(() => (this.#replaying = undefined));
    return this.#replaying;
  }

  async #replay(operator: boolean): Promise<ReplayResult> {
    const { records: all, corrupt, mark } = await this.replayLog.read();
    for (const c of corrupt) {
      this.#emit({ type: 'replay', level: 'warn', message: `replay log ${this.replayLog.path}:${c.line}: skipped a corrupt line (${c.error})`, records: 0 });
    }
    // `-m NAME` has no lanes: it replays only hook records, and leaves rsync records as they are
    // (replaying them here would overwrite their cause with "not in the config").
    const mine = (r: ReplayRecord): boolean => !this.opts.pluginOnly || r.remote.startsWith('hook:');
    const due = (r: ReplayRecord): boolean => mine(r) && (operator || !heldForOperator(r));
    const held = all.filter((r) => !due(r));
    const records = all.filter(due);
    if (records.length === 0) return { replayed: [], left: held, corrupt: corrupt.length };
    const result = await replayRecords(records, (g) => this.#replayGroup(g), () => new Date());
    await this.replayLog.rewrite([...held, ...result.left], mark);
    this.#emit({
      type: 'replay',
      level: result.left.length > 0 ? 'warn' : 'info',
      message: `replayed ${result.replayed.length} record(s), ${result.left.length} still failing`,
      records: records.length,
      left: result.left.length,
    });
    return { replayed: result.replayed, left: result.left, corrupt: corrupt.length };
  }

  async #replayGroup(g: ReplayGroup): Promise<{ failed: readonly string[]; exitCode: number | null; message: string }> {
    if (g.remote.startsWith('hook:')) {
      const hook = this.#hooks.find((h) => `hook:${h.name}` === g.remote) ?? this.#standbyHook(g.remote.slice(5));
      if (!hook) return { failed: g.paths, exitCode: null, message: `hook ${g.remote.slice(5)} is not defined in the config` };
      try {
        // The batch names the root's remotes (as when it first landed), not the `hook:` record id.
        const remotes = this.channels.filter((c) => c.root === g.root).map((c) => c.remoteId);
        await hook.deliver(await landedBatch(g.root, remotes, g.paths));
        return { failed: [], exitCode: 0, message: 'ok' };
      } catch (err) {
        return { failed: g.paths, exitCode: null, message: errText(err) };
      }
    }
    const lane = this.#lanes.get(g.remote);
    if (!lane) return { failed: g.paths, exitCode: null, message: `remote ${g.remote} is not in the config` };
    const full = g.action === 'tree' && g.paths.includes('');
    const res = await lane.run(full ? { root: g.root, action: 'tree', paths: [''], full: true, excludes: this.config.crontab.excludes } : { root: g.root, action: g.action, paths: g.paths });
    if (res.ok) {
      this.#markHealthy(g.remote, false);
      this.#landed(g.root, g.remote, g.paths);
      return { failed: [], exitCode: 0, message: 'ok' };
    }
    const failedSet = new Set(res.failedPaths);
    this.#landed(g.root, g.remote, g.paths.filter((p) => !failedSet.has(p)));
    return { failed: res.failedPaths, exitCode: res.outcome.exitCode, message: outcomeText(res.outcome) };
  }

  /**
   * A hook record left by `-m NAME` (the plugin is defined but not started in <sersync>): built on
   * demand, named as `-m` names it, so `--retry-log` can deliver it.
   */
  #standbyHook(name: string): Hook | undefined {
    const defined = this.config.definedPlugins ?? [];
    for (const kind of new Set(defined.map((p) => p.kind))) {
      const ofKind = defined.filter((p) => p.kind === kind);
      const names = hookNames(ofKind);
      const i = names.indexOf(name);
      if (i < 0) continue;
      const hook = createHook(ofKind[i]!, { emit: this.#emit, name });
      this.#standby.push(hook);
      return hook;
    }
    return undefined;
  }

  /**
   * Changes written just before a stop are still in the watcher's 50 ms batch or on their way from
   * its child process: wait until intake has been quiet for a moment, so they are saved as pending
   * instead of being lost (the SIGTERM-mid-burst test lost its last 60 files without this).
   */
  async #quiesce(): Promise<void> {
    const deadline = Date.now() + STOP_QUIET_MAX_MS;
    while (Date.now() - this.#lastIntake < STOP_QUIET_MS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  #onChanges(changes: readonly Change[]): void {
    if (!this.#intakeOpen) return;
    this.#lastIntake = Date.now();
    for (const c of changes) this.#enqueue(c.root, c.path, actionFor(c));
    if (this.#state !== 'running') return;
    const now = Date.now();
    for (const root of new Set(changes.map((c) => c.root))) {
      const burst = this.#bursts.record(root, changes.filter((c) => c.root === root).map((c) => c.path), now);
      if (burst?.kind === 'started') {
        this.#emit({ type: 'watch', level: 'info', message: `event burst on ${join(root, burst.scope)}: reconciling it once it is over`, root, detail: 'burst' });
      } else if (burst?.kind === 'ongoing') {
        this.#emit({ type: 'watch', level: 'warn', message: `event burst on ${join(root, burst.scope)} goes on: reconciling it now`, root, detail: 'burst' });
        this.#enqueue(root, burst.scope, 'tree');
      }
      this.#afterBurst(root);
    }
  }

  /** The trailing reconcile: what vanished from the watcher's batches during the burst. */
  #afterBurst(root: string): void {
    clearTimeout(this.#burstTimers.get(root));
    const timer = setTimeout(() => {
      this.#burstTimers.delete(root);
      if (this.#state !== 'running') return;
      const scope = this.#bursts.settled(root, Date.now());
      if (scope === undefined) return;
      this.#emit({ type: 'watch', level: 'info', message: `event burst on ${join(root, scope)} is over: reconciling it`, root, detail: 'burst' });
      this.#enqueue(root, scope, 'tree');
    }, this.#bursts.quietMs + 10);
    timer.unref();
    this.#burstTimers.set(root, timer);
  }

  #enqueue(root: string, path: string, action: 'path' | 'tree'): void {
    for (const ch of this.channels) if (ch.root === root) ch.add(path, action);
  }

  async #onResult(ch: Channel, job: RsyncJob, landed: readonly string[], failed: readonly string[], outcome: RsyncOutcome): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      if (failed.length > 0) throw new Error('stopping: keep pending'); // saved by stop()
    }
    if (failed.length > 0) {
      const now = new Date().toISOString();
      const message = outcomeText(outcome);
      await this.replayLog.append(
        failed.map((path) => ({ time: now, root: ch.root, remote: ch.remoteId, path, action: job.action, exitCode: outcome.exitCode, message, attempts: 1 + this.config.retries })),
      );
      this.#emit({
        type: 'job-failed',
        level: 'error',
        message: `${failed.length} path(s) for ${ch.remoteId} written to the replay log ${this.replayLog.path}: ${message}`,
        remote: ch.remoteId,
        root: ch.root,
        paths: failed.length,
        exitCode: outcome.exitCode,
        attempt: 1 + this.config.retries,
        willRetry: false,
      });
      if (heldForOperator(outcome)) {
        // A safety guard, not a sick remote: say so once per job and leave the records for an
        // operator (automatic replays skip them; `--retry-log` sends them).
        this.#emit({
          type: 'safety',
          level: 'error',
          message: `maxDelete stopped deletions on ${ch.remoteId} for ${ch.root}: ${failed.length} path(s) held in ${this.replayLog.path}; check them, raise <maxDelete> if intended, then run tssersync --retry-log`,
          root: ch.root,
          check: 'maxDelete',
        });
      } else if (!this.#unhealthy.has(ch.remoteId)) {
        this.#unhealthy.set(ch.remoteId, message);
        this.#emit({ type: 'remote-health', level: 'error', message: `remote ${ch.remoteId} is failing: ${message}`, remote: ch.remoteId, healthy: false, cause: message });
      }
    } else if (landed.length > 0) {
      this.#markHealthy(ch.remoteId, true);
    }
    this.#landed(ch.root, ch.remoteId, landed);
  }

  #markHealthy(remote: string, replay: boolean): void {
    if (!this.#unhealthy.delete(remote)) return;
    this.#emit({ type: 'remote-health', level: 'info', message: `remote ${remote} answers again${replay ? ': replaying its failed paths' : ''}`, remote, healthy: true });
    if (replay) void this.replayNow().catch(() => {});
  }

  #landed(root: string, remote: string, paths: readonly string[]): void {
    if (!this.#hookRunner || paths.length === 0) return;
    const ready = this.#confirm.get(root)?.confirm(remote, paths) ?? [];
    if (ready.length === 0) return;
    const remotes = this.channels.filter((c) => c.root === root).map((c) => c.remoteId);
    void landedBatch(root, remotes, ready).then((b) => this.#hookRunner?.submit(b));
  }

  async #hookGaveUp(hook: string, batch: LandedBatch, error: string): Promise<void> {
    const time = new Date().toISOString();
    await this.replayLog.append(
      batch.items.map((i) => ({ time, root: batch.root, remote: `hook:${hook}`, path: i.path, action: 'path' as const, exitCode: null, message: error, attempts: 1 + this.config.retries })),
    );
  }

  #restorePending(saved: PendingSnapshot): void {
    let n = 0;
    for (const lane of saved.lanes) {
      const ch = this.channels.find((c) => c.root === lane.root && c.remoteId === lane.remote);
      // A remote that left the config: its work goes to every channel of the root, harmlessly.
      const targets = ch ? [ch] : this.channels.filter((c) => c.root === lane.root);
      for (const e of lane.entries) for (const t of targets) (t.add(e.path, e.action), n++);
    }
    if (n > 0) this.#emit({ type: 'info', level: 'info', message: `resuming ${n} pending change(s) saved at ${saved.savedAt}` });
  }

  #startTimers(): void {
    const every = (minutes: number, fn: () => void) => {
      if (minutes > 0) this.#timers.push(setInterval(fn, minutes * 60_000).unref());
    };
    every(this.config.failLog.intervalMinutes, () => void this.replayNow().catch(() => {}));
    if (!this.opts.pluginOnly) {
      if (this.config.crontab.enabled) every(this.config.crontab.intervalMinutes, () => this.fullSync());
      every(this.config.reconcileIntervalMinutes, () => this.fullSync());
    }
    // A failing remote gets its replay log retried every 15 s, so recovery is noticed even when
    // nothing new changes.
    this.#timers.push(
      setInterval(() => {
        if (this.#unhealthy.size > 0) void this.replayNow().catch(() => {});
      }, UNHEALTHY_RETRY_MS).unref(),
    );
    this.#timers.push(
      setInterval(() => {
        for (const ch of this.channels) {
          if (ch.state !== 'halted') continue;
          void probeRoot(ch.root).then((s) => {
            if (s.exists && s.isDir && !s.empty) ch.resume();
          });
        }
      }, HALT_PROBE_MS).unref(),
    );
  }

  async #checkLimits(roots: readonly string[]): Promise<void> {
    try {
      let dirs = 0;
      for (const r of roots) dirs += await countDirectories(r, 10_000_000);
      const res = await checkInotifyLimits(dirs);
      if (!res.ok && res.message) this.#emit({ type: 'limits', level: 'warn', message: res.message });
    } catch {
      // best effort: the limits check never stops replication
    }
  }

  #pendingFile(): string {
    return pendingPath(this.config.stateDir, this.#run);
  }

  /** State files of a plugin-only run are its own (see pendingPath). */
  get #run(): string | undefined {
    return this.opts.pluginOnly ? `m-${this.opts.pluginOnly}` : undefined;
  }
}

/** What the channel checks before dispatching: does the root exist, and is it empty? */
export async function probeRoot(root: string): Promise<RootState> {
  try {
    const st = await lstat(root);
    if (!st.isDirectory()) return { exists: true, isDir: false, empty: true };
    const dir = await opendir(root);
    try {
      return { exists: true, isDir: true, empty: (await dir.read()) === null };
    } finally {
      await dir.close().catch(() => {});
    }
  } catch {
    return { exists: false, isDir: false, empty: true };
  }
}

async function landedBatch(root: string, remotes: readonly string[], paths: readonly string[]): Promise<LandedBatch> {
  const items: LandedItem[] = await Promise.all(
    paths.map(async (path) => {
      const absolute = path === '' ? root : join(root, path);
      const st = await lstat(absolute).catch(() => undefined);
      return { path, absolute, state: !st ? ('missing' as const) : st.isDirectory() ? ('dir' as const) : ('file' as const) };
    }),
  );
  return { root, remotes, items, time: Date.now() };
}

/** rsync's exit 25: the --max-delete guard fired; repeating the job would fire it again. */
function heldForOperator(r: { readonly exitCode: number | null }): boolean {
  return r.exitCode === 25;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function okOutcome(): RsyncOutcome {
  return { exitCode: 0, signal: null, class: 'done', meaning: 'success', stderrTail: '', durationMs: 0, failedPaths: [], spawnError: undefined };
}

