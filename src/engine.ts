/**
 * Wires the pipeline and runs its lifecycle: watcher → intake → channels → lanes → replay log /
 * hooks. Each job lives in src/engine/: the mode's wiring (wiring.ts), restart recovery
 * (recovery.ts), the replay log (replay-controller.ts, results.ts), remote health (health.ts),
 * every timer (schedule.ts), hook confirmation (landed.ts), what the watcher says (intake.ts).
 *
 *   idle ──start()──► starting ──watcher up──► running ──stop()──► stopping ──saved──► stopped
 *                        │                                                              ▲
 *                        └───────────────── the watcher could not start ────────────────┘
 *
 * stop() from idle or starting also saves and stops; from stopping or stopped it does nothing.
 */
import type { Config, PluginName } from './config/types.js';
import { INOTIFY_TREE_QUIET_MS } from './core/planner.js';
import { unreachable } from './errors.js';
import type { Emit } from './events.js';
import { createHooks, type LandedBatch } from './hooks/index.js';
import type { Channel } from './engine/channel.js';
import { RemoteHealth } from './engine/health.js';
import { Intake, warnOnLimits } from './engine/intake.js';
import { Landing } from './engine/landed.js';
import { recover, stopSnapshot } from './engine/recovery.js';
import { ReplayController, type ReplayResult } from './engine/replay-controller.js';
import { JobResults } from './engine/results.js';
import { Schedule, tuningFromEnv, tuningWith, type EngineTuning } from './engine/schedule.js';
import { wire, type Wiring } from './engine/wiring.js';
import { ReplayLog } from './replay/log.js';
import { markRunning, markStopped, pendingPath, savePending } from './replay/pending-store.js';
import { Watcher } from './watch/watcher.js';

export type { ReplayResult } from './engine/replay-controller.js';
export type { EngineTuning } from './engine/schedule.js';

export type EngineState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface EngineOptions {
  readonly emit: Emit;
  /** `-r`: full sync of every remote once the watchers are up. */
  readonly fullSync?: boolean;
  /** `-m NAME`: run only this plugin on its own watch root, no rsync. */
  readonly pluginOnly?: PluginName;
  /** Tests: shorter retry delays. */
  readonly retryDelayMs?: { min: number; max: number };
  /** Tests: force the filter-based delete fallback. */
  readonly forceDeleteFallback?: boolean;
  /** Tests: shorter timers (schedule.ts). */
  readonly tuning?: Partial<EngineTuning>;
}

export class Engine {
  #state: EngineState = 'idle';
  readonly replayLog: ReplayLog;
  readonly #emit: Emit;
  readonly #wiring: Wiring;
  readonly #landing: Landing;
  readonly #schedule: Schedule;
  readonly #intake: Intake;
  readonly #replays: ReplayController;
  readonly #health: RemoteHealth;
  #watcher: Watcher | undefined;

  constructor(
    readonly config: Config,
    private readonly opts: EngineOptions,
  ) {
    const emit = (this.#emit = opts.emit);
    this.replayLog = new ReplayLog(config.failLog.path);
    this.#schedule = new Schedule(tuningWith({ ...tuningFromEnv(process.env), ...opts.tuning }));
    this.#health = new RemoteHealth(emit, () => this.#replays.kick());
    let results: JobResults | undefined;
    const w = (this.#wiring = wire(config, {
      emit,
      pluginOnly: opts.pluginOnly,
      retryDelayMs: opts.retryDelayMs,
      forceDeleteFallback: opts.forceDeleteFallback,
      onResult: (ch, job, landed, failed, outcome) => results!.onResult(ch, job, landed, failed, outcome),
      onHalt: (ch, check, message) => emit({ type: 'safety', level: 'error', message, root: ch.root, check }),
    }));
    const hooks = createHooks(w.plugins, { emit });
    const onGiveUp = (hook: string, batch: LandedBatch, error: string) => results!.hookGaveUp(hook, batch, error);
    const landing = (this.#landing = new Landing({ hooks, emit, retries: config.retries, retryDelayMs: opts.retryDelayMs, onGiveUp, wiring: w }));
    results = new JobResults({ log: this.replayLog, emit, retries: config.retries, health: this.#health, landing, stopping: () => this.#state === 'stopping' || this.#state === 'stopped' });
    this.#intake = new Intake(w.channels, emit, this.#schedule);
    this.#replays = new ReplayController({
      config,
      log: this.replayLog,
      emit,
      hooks,
      wiring: w,
      onReplayed: (root, remote, landed, ok) => {
        if (ok) this.#health.answered(remote, false);
        landing.landed(root, remote, landed);
      },
    });
  }

  get state(): EngineState {
    return this.#state;
  }

  get channels(): readonly Channel[] {
    return this.#wiring.channels;
  }

  /** Roots actually watched: the config's, or in plugin-only mode the plugin's own. */
  get roots(): string[] {
    return [...new Set(this.channels.map((c) => c.root))];
  }

  async start(): Promise<void> {
    switch (this.#state) {
      case 'idle':
        break;
      case 'starting':
      case 'running':
      case 'stopping':
      case 'stopped':
        throw new Error(`engine cannot start from state ${this.#state}`);
      default:
        unreachable(this.#state);
    }
    this.#state = 'starting';
    const { uncleanPrevious } = await markRunning(this.config.stateDir, this.#wiring.run);
    const roots = this.roots;
    const intake = this.#intake;
    this.#watcher = new Watcher({
      roots,
      excludes: this.config.excludes,
      switches: this.config.events,
      ...(this.config.watcherBackend ? { backend: this.config.watcherBackend } : {}),
      emit: this.#emit,
      onChanges: (changes) => intake.onChanges(changes),
      onGap: (root, dir, reason) => intake.onGap(root, dir, reason),
      onRootState: (root, present) => intake.onRootState(root, present),
    });
    const watcher = this.#watcher;
    intake.completeEvents((root) => watcher.eventsComplete(root));
    // A root the inotify backend watches is reported within ~25 ms of a write: its trees need
    // less quiet before they go (planner.ts INOTIFY_TREE_QUIET_MS); parcel's keep the default.
    // Asked at each plan: a root that comes back (or falls back to parcel) gets its new backend's.
    for (const ch of this.channels) ch.treeQuietFrom(() => (watcher.backendOf(ch.root) === 'inotify' ? INOTIFY_TREE_QUIET_MS : undefined));
    try {
      await this.#watcher.start();
    } catch (err) {
      this.#state = 'stopped';
      await markStopped(this.config.stateDir, this.#wiring.run).catch(() => {});
      throw err;
    }
    this.#state = 'running';
    intake.open();
    const remotes = this.#wiring.lanes.size;
    this.#emit({ type: 'started', level: 'info', message: `watching ${roots.length} root(s), replicating to ${remotes} remote(s)`, roots: roots.length, remotes });
    void warnOnLimits(roots, this.#emit, (root) => watcher.watchesOf(root));
    const running = () => this.#state === 'running';
    const recovery = { config: this.config, emit: this.#emit, wiring: this.#wiring, intake, running, catchUpMarginMs: this.#schedule.tuning.catchUpMarginMs, pendingFile: this.#pendingFile() };
    await recover(recovery, { fullSync: this.opts.fullSync === true, uncleanPrevious });
    this.#startTimers();
    this.#replays.kick();
    // Each remote is asked whether it takes --delete-missing-args now, not at the first delete: the
    // answer costs one connection either way, and asked here it is neither the first delete's
    // wait nor one more run in the middle of a burst.
    for (const lane of this.#wiring.lanes.values()) lane.prepare();
  }

  /** Stop intake, stop running jobs, persist what is not confirmed; the next start sends it first. */
  async stop(reason = 'stop'): Promise<void> {
    switch (this.#state) {
      case 'stopping':
      case 'stopped':
        return;
      case 'idle':
      case 'starting':
      case 'running':
        break;
      default:
        unreachable(this.#state);
    }
    this.#state = 'stopping';
    this.#emit({ type: 'stopping', level: 'info', message: `stopping (${reason}): saving pending changes`, reason });
    this.#schedule.stop();
    this.#intake.draining();
    await this.#intake.quiet();
    this.#intake.close();
    await this.#watcher?.stop().catch(() => {});
    await savePending(this.#pendingFile(), stopSnapshot(this.channels, new Date()));
    for (const ch of this.channels) ch.stop();
    await Promise.all([...this.#wiring.lanes.values()].map((l) => l.stop('abort')));
    await this.#landing.close();
    await this.#replays.close();
    await markStopped(this.config.stateDir, this.#wiring.run);
    this.#state = 'stopped';
  }

  /** Resolves when every channel has nothing pending or running (tests, -r progress). */
  async idle(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.idle()));
    await this.#landing.drain();
  }

  /** Queue a full sync of every root (the `-r` and crontab controller). */
  fullSync(): void {
    for (const root of this.roots) this.#intake.enqueue(root, '', 'tree');
  }

  /** Replay the replay log now: what lands is removed, what still fails stays (with its cause). See ReplayController. */
  replayNow(opts: { operator?: boolean } = {}): Promise<ReplayResult> {
    return this.#replays.replayNow(opts);
  }

  #startTimers(): void {
    const s = this.#schedule;
    s.everyMinutes(this.config.failLog.intervalMinutes, () => this.#replays.kick());
    if (this.#wiring.syncs) {
      if (this.config.crontab.enabled) s.everyMinutes(this.config.crontab.intervalMinutes, () => this.fullSync());
      s.everyMinutes(this.config.reconcileIntervalMinutes, () => this.fullSync());
    }
    s.every(s.tuning.unhealthyRetryMs, () => this.#health.retry());
    s.every(s.tuning.haltProbeMs, () => this.#intake.probeHalted());
  }

  #pendingFile(): string {
    return pendingPath(this.config.stateDir, this.#wiring.run);
  }
}
