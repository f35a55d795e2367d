/**
 * The daemon's status sink: the StatusModel fed from the EngineEvent stream (like the logger),
 * the alerts it raises fed back into that stream, the replay-log counter, and the status socket.
 * Lives as long as the process (across SIGHUP reloads): counters carry over; `reload` applies a
 * new config's channels, thresholds and replay log (the socket's group is set once, at listen).
 */
import type { Config } from '../config/types.js';
import type { Emit, EngineEvent } from '../events.js';
import { AlertDetector } from './alerts.js';
import { problems, type Thresholds } from './health.js';
import { StatusModel } from './model.js';
import { ReplayCounter } from './replay-count.js';
import { STATUS_SCHEMA_VERSION, type StatusReport } from './report.js';
import { StatusSocket, statusSocketPath } from './socket.js';

/** Time-based alerts (lag, replay age) are checked this often even when no event comes. */
const TICK_MS = 1000;

export function thresholdsOf(config: Config): Thresholds {
  return {
    lagSeconds: config.status?.lagSeconds ?? 60,
    replayAgeSeconds: config.status?.replayAgeSeconds ?? 600,
    watchesShare: 0.9,
  };
}

function channelsOf(config: Config): { root: string; remote: string }[] {
  return config.roots.flatMap((r) => r.remotes.map((m) => ({ root: r.path, remote: m.id })));
}

export class StatusService {
  readonly model: StatusModel;
  #alerts: AlertDetector;
  #thresholds: Thresholds;
  #counter: ReplayCounter;
  readonly #socket: StatusSocket;
  readonly #tick: NodeJS.Timeout;
  #forward: Emit;

  /** `forward`: the whole stream (logger and every sink), where alerts and counts go. */
  constructor(
    private config: Config,
    forward: Emit,
    private readonly now: () => number = Date.now,
  ) {
    this.#forward = forward;
    this.#thresholds = thresholdsOf(config);
    this.model = new StatusModel(channelsOf(config));
    this.#alerts = new AlertDetector(this.#thresholds);
    this.#counter = new ReplayCounter(config.failLog.path, (e) => this.#forward(e));
    this.#socket = new StatusSocket(statusSocketPath(config.stateDir), () => this.report());
    this.#tick = setInterval(() => this.#checkAlerts(), TICK_MS).unref();
  }

  /** The sink: every EngineEvent comes through here. */
  see = (e: EngineEvent): void => {
    this.model.apply(e, this.now());
    this.#counter.see(e);
    if (e.type !== 'alert' && e.type !== 'queue') this.#checkAlerts();
  };

  /** A reloaded config (SIGHUP): its channels show at once, its thresholds and replay log apply from now on. */
  reload(config: Config): void {
    const before = this.config;
    this.config = config;
    this.model.declare(channelsOf(config));
    this.#thresholds = thresholdsOf(config);
    // A fresh detector raises what is wrong under the new thresholds once; the model keeps the old alerts until cleared.
    this.#alerts = new AlertDetector(this.#thresholds, this.#alerts.active());
    if (config.failLog.path !== before.failLog.path) {
      this.#counter.close();
      this.#counter = new ReplayCounter(config.failLog.path, (e) => this.#forward(e));
    }
  }

  async listen(): Promise<void> {
    await this.#socket.listen(this.config.status?.group);
  }

  get socketPath(): string {
    return this.#socket.path;
  }

  report(): StatusReport {
    const s = this.model.snapshot(this.now());
    const found = problems(s, this.#thresholds);
    return {
      version: STATUS_SCHEMA_VERSION,
      pid: process.pid,
      config: this.config.file,
      ...s,
      current: found.length === 0,
      problems: found,
      thresholds: { lagSeconds: this.#thresholds.lagSeconds, replayAgeSeconds: this.#thresholds.replayAgeSeconds },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#tick);
    this.#counter.close();
    await this.#socket.close();
  }

  #checkAlerts(): void {
    const now = this.now();
    const raised = this.#alerts.check(this.model.snapshot(now), now);
    // Fed back into the stream after this event is done, so every sink sees events in order.
    if (raised.length > 0) queueMicrotask(() => raised.forEach((a) => this.#forward(a)));
  }
}
