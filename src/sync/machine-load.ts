/**
 * How busy the machine's cores are, from the kernel's per-core counters (os.cpus(): /proc/stat):
 * what adaptiveConcurrency() needs to tell a job slowed by the network from one slowed by cores
 * shared with the application. Every process counts, tssersync's own rsyncs included.
 */
import { cpus } from 'node:os';

/** Cumulative CPU time of all cores, ms: busy (user, nice, system, irq) and in all (busy + idle). */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export function cpuTimes(): CpuTimes {
  let busy = 0;
  let idle = 0;
  for (const { times: t } of cpus()) {
    busy += t.user + t.nice + t.sys + t.irq;
    idle += t.idle;
  }
  return { busy, total: busy + idle };
}

/** The busy share between two readings, 0..1; undefined when no time passed between them. */
export function busyBetween(a: CpuTimes, b: CpuTimes): number | undefined {
  const total = b.total - a.total;
  return total > 0 ? Math.min(1, Math.max(0, (b.busy - a.busy) / total)) : undefined;
}
