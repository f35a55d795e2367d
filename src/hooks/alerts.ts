/**
 * Alerts to plugins: the `alert` EngineEvents (raised once per change of state by
 * src/status/alerts.ts) delivered to every http plugin with `<webhook events="alerts|both">` and
 * every command plugin with `<param events="alerts|both">`.
 *
 *   http:    POST {"event":"remote-failing","alert":"remote-failing","subject":"10.0.0.2::www",
 *                  "message":"…","active":true,"time":"2026-…Z","replayed":false,"host":"web1"}
 *   command: PREFIX EVENT SUBJECT MESSAGE   (argv words, no shell; a shell prefix is a config error)
 *
 * Each plugin gets its alerts in order (one at a time), retried with backoff like a batch; after
 * the last retry the alert goes to `<stateDir>/alerts.jsonl` (0600, fsync'd) and is delivered
 * again by the replay timer (`failLog timeToExecute`), at the next start, and by `--retry-log`,
 * with `replayed: true` and its original `time` — the message says when it happened.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFile, open } from 'node:fs/promises';
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import type { Config, CommandPluginConfig, HttpPluginConfig, PluginConfig } from '../config/types.js';
import { errorText, HookError } from '../errors.js';
import type { Emit, EngineEvent } from '../events.js';
import { ensureDir, writeFileAtomic, FILE_MODE } from '../replay/fs-durable.js';
import { alertName, type AlertEvent } from '../status/alerts.js';
import { runArgv } from './command.js';
import { hookNames } from './index.js';

export interface AlertPayload {
  /** `remote-failing` / `remote-back`, `root-halted` / `root-resumed`, `replay-old` / `replay-cleared`, `lag-high` / `lag-normal`, `watcher-degraded` / `watcher-healthy`. */
  readonly event: string;
  readonly alert: AlertEvent['alert'];
  /** The remote id or the root path. */
  readonly subject: string;
  readonly message: string;
  /** true when raised, false when it cleared. */
  readonly active: boolean;
  /** ISO time it happened (a replayed alert keeps it). */
  readonly time: string;
  readonly replayed: boolean;
  readonly host: string;
}

interface Target {
  readonly name: string;
  send(a: AlertPayload): Promise<void>;
}

interface Stored {
  readonly hook: string;
  readonly alert: AlertPayload;
  readonly error: string;
  readonly attempts: number;
}

export interface AlertHooksOptions {
  readonly emit: Emit;
  /** Retries after the first failed delivery. @default config.retries */
  readonly retries?: number;
  readonly retryDelayMs?: { readonly min: number; readonly max: number };
}

export function alertsFile(stateDir: string): string {
  return join(stateDir, 'alerts.jsonl');
}

function wantsAlerts(p: PluginConfig): p is HttpPluginConfig | CommandPluginConfig {
  return (p.kind === 'http' || p.kind === 'command') && (p.events === 'alerts' || p.events === 'both');
}

export function payloadOf(e: AlertEvent, replayed = false): AlertPayload {
  return { event: alertName(e), alert: e.alert, subject: e.subject, message: e.message, active: e.active, time: new Date(e.at).toISOString(), replayed, host: hostname() };
}

export class AlertHooks {
  readonly #targets: Target[];
  readonly #queues = new Map<Target, PQueue>();
  readonly #abort = new AbortController();
  readonly #file: string;
  readonly #timer: NodeJS.Timeout | undefined;
  #writing = Promise.resolve();

  constructor(
    config: Config,
    private readonly o: AlertHooksOptions,
  ) {
    const names = hookNames(config.plugins);
    this.#targets = config.plugins.flatMap((p, i) => (wantsAlerts(p) ? [target(names[i]!, p)] : []));
    for (const t of this.#targets) this.#queues.set(t, new PQueue({ concurrency: 1 }));
    this.#file = alertsFile(config.stateDir);
    this.retries = o.retries ?? config.retries;
    const every = config.failLog.intervalMinutes;
    if (this.#targets.length > 0 && every > 0) this.#timer = setInterval(() => void this.replayNow().catch(() => {}), every * 60_000).unref();
  }

  readonly retries: number;

  get enabled(): boolean {
    return this.#targets.length > 0;
  }

  /** The sink: alert events are delivered, everything else is ignored. */
  see = (e: EngineEvent): void => {
    if (e.type !== 'alert' || this.#targets.length === 0) return;
    const payload = payloadOf(e);
    for (const t of this.#targets) void this.#deliver(t, payload);
  };

  /** Deliver what the alert log holds; what still fails stays. Resolves with the counts. */
  async replayNow(): Promise<{ replayed: number; left: number }> {
    const stored = await this.#read();
    if (stored.length === 0) return { replayed: 0, left: 0 };
    const left: Stored[] = [];
    for (const s of stored) {
      const t = this.#targets.find((x) => x.name === s.hook);
      if (!t) {
        left.push({ ...s, error: `hook ${s.hook} takes no alerts in the config` });
        continue;
      }
      const replay: AlertPayload = { ...s.alert, replayed: true, message: `${s.alert.message} (happened at ${s.alert.time}; replayed)` };
      try {
        await t.send(replay);
        this.o.emit({ type: 'hook', level: 'info', message: `${t.name}: replayed alert ${replay.event} ${replay.subject} from ${replay.time}`, hook: t.name, ok: true });
      } catch (err) {
        left.push({ ...s, error: errorText(err), attempts: s.attempts + 1 });
      }
    }
    await this.#serially(() => writeFileAtomic(this.#file, left.map((s) => `${JSON.stringify(s)}\n`).join('')));
    return { replayed: stored.length - left.length, left: left.length };
  }

  /** Cut retries short; an alert still being retried goes to the alert log. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#abort.abort(new Error('tssersync is stopping'));
    await Promise.all([...this.#queues.values()].map((q) => q.onIdle()));
    await this.#writing;
  }

  async #deliver(t: Target, a: AlertPayload): Promise<void> {
    const queue = this.#queues.get(t)!;
    let attempts = 0;
    let lastError = '';
    await queue.add(async () => {
      let delivered = false;
      try {
        await pRetry(
          async () => {
            attempts++;
            await t.send(a);
            delivered = true;
          },
          {
            retries: this.retries,
            minTimeout: this.o.retryDelayMs?.min ?? 1000,
            maxTimeout: this.o.retryDelayMs?.max ?? 30_000,
            factor: 2,
            randomize: true,
            signal: this.#abort.signal,
            onFailedAttempt: ({ error }) => {
              lastError = errorText(error);
            },
          },
        );
        this.o.emit({ type: 'hook', level: 'debug', message: `${t.name}: delivered alert ${a.event} ${a.subject}`, hook: t.name, ok: true });
      } catch (err) {
        if (delivered) return;
        const error = lastError || errorText(err);
        this.o.emit({ type: 'hook', level: 'error', message: `${t.name}: giving up on alert ${a.event} ${a.subject}, written to ${this.#file}: ${error}`, hook: t.name, ok: false });
        await this.#serially(() => this.#append({ hook: t.name, alert: a, error, attempts })).catch((e: unknown) => {
          this.o.emit({ type: 'hook', level: 'error', message: `${t.name}: could not record alert ${a.event} ${a.subject}: ${errorText(e)}`, hook: t.name, ok: false });
        });
      }
    });
  }

  #serially(fn: () => Promise<void>): Promise<void> {
    const next = this.#writing.then(fn, fn);
    this.#writing = next.catch(() => {});
    return next;
  }

  async #append(s: Stored): Promise<void> {
    await ensureDir(join(this.#file, '..'));
    const fh = await open(this.#file, 'a', FILE_MODE);
    try {
      await fh.chmod(FILE_MODE);
      await fh.writeFile(`${JSON.stringify(s)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async #read(): Promise<Stored[]> {
    const text = await readFile(this.#file, 'utf8').catch(() => '');
    const out: Stored[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const s = JSON.parse(line) as Stored;
        if (typeof s.hook === 'string' && s.alert && typeof s.alert.event === 'string') out.push(s);
      } catch {
        // a torn last line: skipped (it was never acknowledged as recorded)
      }
    }
    return out;
  }
}

function target(name: string, p: HttpPluginConfig | CommandPluginConfig): Target {
  if (p.kind === 'http') {
    return {
      name,
      async send(a) {
        let res: Response;
        try {
          res = await fetch(p.url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...p.headers },
            body: JSON.stringify(a),
            redirect: 'manual',
            signal: AbortSignal.timeout(p.timeoutMs),
          });
        } catch (err) {
          const e = err as Error & { cause?: { code?: string } };
          throw new HookError(name, `alert POST: ${e.name === 'TimeoutError' ? `no reply within ${p.timeoutMs} ms` : (e.cause?.code ?? e.message)}`);
        }
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new HookError(name, `alert POST replied ${res.status} ${res.statusText}`.trim());
      },
    };
  }
  return {
    name,
    async send(a) {
      // Always a failure when it fails: ignoreError excuses per-path commands, not a lost page.
      const r = await runArgv([...p.prefix, a.event, a.subject, a.message], p.timeoutMs);
      if (!r.ok) throw new HookError(name, `alert command: ${r.message}`);
    },
  };
}

