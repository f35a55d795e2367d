/**
 * How many rsyncs a lane runs at once: a pure function of the machine and of how long its recent
 * jobs took. `-n` / `<threads>` is the upper bound, never exceeded.
 *
 * Why: each rsync is two busy processes on the sending host (sender and its I/O) while it runs, and
 * the application writing the files needs the same cores. Ten rsyncs on two cores (the old fixed
 * default) made a burst's writer run up to 17 times slower and cost 3-6 times the CPU of one bare
 * rsync, for no gain: the work is the same, only contended. So:
 * - by default, one rsync per core;
 * - when jobs are short (under SHORT_MS), start-up and handshake dominate and parallel jobs mostly
 *   compete: half the cores (the planner makes batches larger instead);
 * - when jobs are long (over LONG_MS) and the machine has CPU to spare, they are bound by the
 *   network or the remote, not by our CPU: more streams help, up to two per core. Long jobs on a
 *   machine whose cores are busy (over BUSY_MAX) are long because they share the cores with the
 *   application: more streams only add contention (npm run bench, 10k burst on 2 cores: 4 rsyncs at
 *   once in the runs whose jobs took over 2 s for that reason; docs/benchmarks.md).
 */
export const SHORT_MS = 200;
export const LONG_MS = 2000;
/** The share of all cores busy (any process) above which long jobs do not get more streams. */
export const BUSY_MAX = 0.75;
/** Jobs looked at: the last few, so the lane follows a change of conditions within seconds. */
export const WINDOW = 8;

/**
 * `busy`: the share of the machine's CPU time (all cores, every process) that was busy lately,
 * 0..1; undefined when not known (then long jobs are taken as bound by the network).
 */
export function adaptiveConcurrency(limit: number, cores: number, recentMs: readonly number[], busy?: number): number {
  const c = Math.max(1, Math.floor(cores));
  let want = c;
  if (recentMs.length >= 3) {
    const m = median(recentMs.slice(-WINDOW));
    if (m < SHORT_MS) want = Math.ceil(c / 2);
    else if (m > LONG_MS && !(busy !== undefined && busy > BUSY_MAX)) want = 2 * c;
  }
  return Math.max(1, Math.min(limit, want));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
