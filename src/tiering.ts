/**
 * V8's optimizing tier, set for a daemon that handles bursts: imported first by the CLI, before
 * any other module's code runs.
 *
 * Why. V8 compiles a function with TurboFan once it has executed about three interrupt budgets
 * (3 × 66 KB) of bytecode. tssersync's per-event code (resolve, change set, planner, lane) runs a
 * few thousand times per burst and then idles, so most of that compile work (on V8's worker
 * threads, CPU the server's application does not get) is spent on code that will not run long
 * enough to pay it back. With the budget 32 times larger, code must
 * run ~100,000 times before TurboFan takes it: the storm's per-event paths stay in Sparkplug (the
 * baseline compiler), while the real hot loops (a 1M-entry scan, a full sync's entry count) still
 * reach TurboFan within their first tenth of a second.
 *
 * Measured (docs/benchmarks.md, "Ninth session"): the 2,000-op storm's node CPU 0.46-0.51 s →
 * 0.32-0.36 s. `--max-opt=1` (no TurboFan at all) saved the same in the storm but runs a tight
 * loop ~19 times slower, which the 1M-file scans would pay.
 *
 * Not in the watcher child: it does little per event (50-110 ms of CPU in the storm either way,
 * 4 runs each), and its start-up scan of 20,000+ directories is the kind of loop TurboFan pays for.
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
