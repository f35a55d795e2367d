/**
 * V8's optimizing tier, set for a daemon that handles bursts: imported first by the CLI and by the
 * watcher child (watch/child.ts), before any other module's code runs.
 *
 * Why. V8 compiles a function with TurboFan once it has executed about three interrupt budgets
 * (3 × 66 KB) of bytecode. tssersync's per-event code (resolve, change set, planner, lane) runs a
 * few thousand times per burst and then idles, so most of that compile work (on V8's worker
 * threads, CPU the server's application does not get) is spent on code that will not run long
 * enough to pay it back. With the budget 32 times larger, code must run tens of thousands of
 * times before TurboFan takes it, while the real hot loops (a 1M-entry scan, a full sync's entry
 * count) still reach TurboFan within their first tenth of a second. Until then the per-event paths
 * run in Ignition, the interpreter: V8 tiers up to Sparkplug (the baseline compiler) on the same
 * budget interrupts (`%GetOptimizationStatus` of a small function: interpreted after 10,000 calls,
 * TurboFan by 20,000; with V8's default budget, Sparkplug from ~1,000 calls). `--always-sparkplug`
 * (Sparkplug at once) was measured and saved nothing: storm, 4 rounds of 3 runs alternating, node
 * CPU median 0.155 s either way; test/bench/watch-cost.ts, no change in either process.
 *
 * Measured (docs/benchmarks.md, "Ninth session"): the 2,000-op storm's node CPU 0.46-0.51 s →
 * 0.32-0.36 s. `--max-opt=1` (no TurboFan at all) saved the same in the storm but runs a tight
 * loop ~19 times slower, which the 1M-file scans would pay.
 *
 * The watcher child (child.ts) imports this too. First left out (50-110 ms of CPU in the storm
 * either way, 4 runs of the whole bench each, too noisy to see it); measured alone with
 * test/bench/watch-cost.ts (the child's CPU over one storm, no engine beside it), the child used
 * 40 ms (30-50, 10 storms) with the budget against 55 ms (50-70, 10 storms) without: TurboFan
 * compiling its read and decode paths during the burst. Its start-up scan of 20,201 directories
 * kept its CPU (600-680 ms against 600-740 ms, 12 starts each) and was ready in 511-569 ms against
 * 483-581 ms. In the whole bench (storm, 4 rounds of 3 runs alternating): node CPU median 0.16 s
 * → 0.14 s.
 *
 * `TSSERSYNC_V8_TIERING=default` leaves V8's own settings (to compare, or if this ever hurts);
 * node flags given on the command line (`node --interrupt-budget=… dist/cli.js`) are overridden
 * unless that variable is set.
 */
import { setFlagsFromString } from 'node:v8';

/** 32 × V8's default of 67,584 (V8 11.3, Node 20). */
export const INTERRUPT_BUDGET = 2_162_688;

if (process.env['TSSERSYNC_V8_TIERING'] !== 'default') {
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
}
