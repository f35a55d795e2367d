/**
 * Every timer the engine runs, behind one tuning object: the periodic controllers (replay log,
 * crontab full sync, reconcile), the failing-remote retry, the halted-root probe, the quiet wait
 * before a stop and the burst timers. Tests pass a shorter `EngineTuning` instead of sleeping for
 * production intervals. All timers are unref'd: none keeps the process alive on its own.
 */
import { DEFAULT_BURST, type BurstOptions } from './burst.js';

export interface EngineTuning {
  /** How often a halted channel's root is probed to see whether it is back. @default 2000 */
  readonly haltProbeMs: number;
  /** A failing remote gets its replay log retried this often, so recovery is noticed even when nothing changes. @default 15000 */
  readonly unhealthyRetryMs: number;
  /** A stop waits until the watcher has been quiet this long… @default 400 */
  readonly stopQuietMs: number;
  /** …but at most this long. @default 3000 */
  readonly stopQuietMaxMs: number;
  /** Catch-up looks back this far before the saved stop time: resending a few paths is harmless, a clock step is not. @default 2000 */
  readonly catchUpMarginMs: number;
  /** One minute of the config's `<failLog timeToExecute>`, `<crontab schedule>` and reconcile intervals. @default 60000 */
  readonly minuteMs: number;
  /** Event bursts: when one is noticed and when its reconcile runs (src/engine/burst.ts). */
  readonly burst: BurstOptions;
}

export const DEFAULT_TUNING: EngineTuning = {
  haltProbeMs: 2000,
  unhealthyRetryMs: 15_000,
  stopQuietMs: 400,
  stopQuietMaxMs: 3_000,
  catchUpMarginMs: 2_000,
  minuteMs: 60_000,
  burst: DEFAULT_BURST,
};

export function tuningWith(t: Partial<EngineTuning> | undefined): EngineTuning {
  return { ...DEFAULT_TUNING, ...t, burst: { ...DEFAULT_BURST, ...t?.burst } };
}

/**
 * Test seam for runs of the CLI as a subprocess (test/e2e): `TSSERSYNC_TUNING` holds a JSON
 * Partial<EngineTuning>, honoured only together with `TSSERSYNC_TEST=1` (scripts/run-tests.mjs
 * sets it), so an operator's environment never changes the daemon's timers by accident.
 */
export function tuningFromEnv(env: NodeJS.ProcessEnv): Partial<EngineTuning> {
  const raw = env['TSSERSYNC_TUNING'];
  if (env['TSSERSYNC_TEST'] !== '1' || raw === undefined || raw === '') return {};
  const t: unknown = JSON.parse(raw);
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new Error(`TSSERSYNC_TUNING: expected a JSON object, got ${raw}`);
  return t as Partial<EngineTuning>;
}

export class Schedule {
  readonly #intervals: NodeJS.Timeout[] = [];
  readonly #keyed = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(readonly tuning: EngineTuning) {}

  /** Run `fn` every `ms` (nothing for 0 or less: an interval the config switched off). */
  every(ms: number, fn: () => void): void {
    if (this.#stopped || !(ms > 0)) return;
    this.#intervals.push(setInterval(fn, ms).unref());
  }

  /** Run `fn` every `minutes` of the config (scaled by `tuning.minuteMs`). */
  everyMinutes(minutes: number, fn: () => void): void {
    this.every(minutes * this.tuning.minuteMs, fn);
  }

  /** Run `fn` once, `ms` from now; a later call with the same key replaces the earlier one. */
  after(key: string, ms: number, fn: () => void): void {
    if (this.#stopped) return;
    clearTimeout(this.#keyed.get(key));
    const timer = setTimeout(() => {
      this.#keyed.delete(key);
      fn();
    }, ms);
    timer.unref();
    this.#keyed.set(key, timer);
  }

  /** Resolves once `quiet()` is true or `maxMs` has passed, polling every 25 ms. */
  async until(quiet: () => boolean, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (!quiet() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#intervals) clearInterval(t);
    for (const t of this.#keyed.values()) clearTimeout(t);
    this.#intervals.length = 0;
    this.#keyed.clear();
  }
}
