/**
 * CPU of a whole process tree, children included, for the benchmarks.
 *
 * Preferred: a cgroup of our own (v2 `cpu.stat usage_usec`, else v1 `cpuacct.usage`): every process
 * forked inside it is counted, including the rsyncs that come and go between two readings. A pid is
 * moved in right after spawn, before it has had time to fork (node takes tens of ms to start).
 * Fallback where no cgroup can be made: /proc/PID/stat of the tree, utime+stime of every live
 * member plus cutime+cstime (what they reaped); exact when read while the tree is quiet.
 */
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CpuMeter {
  /** How the figure is taken, for the report. */
  readonly how: string;
  /** CPU used so far by the tree, in ms. */
  usageMs(): Promise<number>;
  /** Of that, in the kernel (system time), in ms; undefined where the source cannot tell. */
  systemMs(): Promise<number | undefined>;
  /** Processes in the tree now. */
  processes(): Promise<number>;
  close(): Promise<void>;
}

const CG2 = '/sys/fs/cgroup/unified';
const CG2_ROOT = '/sys/fs/cgroup';
const CG1 = '/sys/fs/cgroup/cpuacct';
export const TICK_MS = 10; // CLK_TCK is 100 on Linux for every architecture we run on

/** A meter over the tree of `pid` (moved into a fresh cgroup when one can be made). */
export async function meterFor(pid: number, name: string): Promise<CpuMeter> {
  for (const base of [CG2, CG2_ROOT]) {
    const m = await cgroup2(base, pid, name).catch(() => undefined);
    if (m) return m;
  }
  const m1 = await cgroup1(pid, name).catch(() => undefined);
  return m1 ?? procTree(pid);
}

async function cgroup2(base: string, pid: number, name: string): Promise<CpuMeter> {
  const controllers = await readFile(join(base, 'cgroup.controllers'), 'utf8'); // throws if not v2
  void controllers;
  const dir = join(base, `tss-bench-${process.pid}-${name}`);
  await mkdir(dir);
  try {
    await writeFile(join(dir, 'cgroup.procs'), `${pid}\n`);
  } catch (err) {
    await rmdir(dir).catch(() => {});
    throw err;
  }
  return {
    how: `cgroup v2 ${dir} cpu.stat usage_usec`,
    async usageMs() {
      const m = /usage_usec (\d+)/.exec(await readFile(join(dir, 'cpu.stat'), 'utf8'));
      return Number(m?.[1] ?? 0) / 1000;
    },
    async systemMs() {
      const m = /system_usec (\d+)/.exec(await readFile(join(dir, 'cpu.stat'), 'utf8'));
      return m ? Number(m[1]) / 1000 : undefined;
    },
    processes: () => countProcs(dir),
    close: () => release(dir, base),
  };
}

async function cgroup1(pid: number, name: string): Promise<CpuMeter> {
  const dir = join(CG1, `tss-bench-${process.pid}-${name}`);
  await mkdir(dir);
  try {
    await writeFile(join(dir, 'cgroup.procs'), `${pid}\n`);
  } catch (err) {
    await rmdir(dir).catch(() => {});
    throw err;
  }
  return {
    how: `cgroup v1 ${dir} cpuacct.usage`,
    async usageMs() {
      return Number((await readFile(join(dir, 'cpuacct.usage'), 'utf8')).trim()) / 1e6;
    },
    systemMs: async () => undefined,
    processes: () => countProcs(dir),
    close: () => release(dir, CG1),
  };
}

async function countProcs(dir: string): Promise<number> {
  return (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean).length;
}

/** Move what is left back to the parent and remove the cgroup. */
async function release(dir: string, parent: string): Promise<void> {
  const left = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  for (const p of left) await writeFile(join(parent, 'cgroup.procs'), `${p}\n`).catch(() => {});
  await rmdir(dir).catch(() => {});
}

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  readonly ticks: number;
}

export async function procStat(pid: number | 'self'): Promise<Stat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // The command name is in parentheses and may hold spaces: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  const n = (i: number) => Number(f[i - 3]);
  return { pid: pid === 'self' ? process.pid : pid, ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) };
}

/** CPU ms this process's reaped children used (cutime+cstime of /proc/self/stat). */
export async function reapedChildrenMs(): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[16 - 3]) + Number(f[17 - 3])) * TICK_MS;
}

function procTree(root: number): CpuMeter {
  async function members(): Promise<Stat[]> {
    const all: Stat[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const s = await procStat(Number(name));
      if (s) all.push(s);
    }
    const inTree = new Set([root]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of all) if (!inTree.has(s.pid) && inTree.has(s.ppid)) (inTree.add(s.pid), (grew = true));
    }
    return all.filter((s) => inTree.has(s.pid));
  }
  return {
    how: '/proc/PID/stat utime+stime+cutime+cstime summed over the live tree (no cgroup could be made)',
    async usageMs() {
      return (await members()).reduce((a, s) => a + s.ticks, 0) * TICK_MS;
    },
    systemMs: async () => undefined,
    processes: async () => (await members()).length,
    close: async () => {},
  };
}

/** utime+stime (ms) of `pid` and its descendants named `comm`, own CPU only (not what they reaped). */
export async function ownCpuMs(pid: number, comm: string): Promise<number> {
  const all: { pid: number; ppid: number; comm: string; own: number }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (!text) continue;
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    all.push({ pid: Number(name), ppid: Number(f[1]), comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), own: Number(f[11]) + Number(f[12]) });
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of all) if (!tree.has(s.pid) && tree.has(s.ppid)) (tree.add(s.pid), (grew = true));
  }
  return all.filter((s) => tree.has(s.pid) && s.comm === comm).reduce((a, s) => a + s.own, 0) * TICK_MS;
}

/**
 * Per thread, utime+stime (ms) of `pid` and of its node descendants (the watcher child): where a
 * node process's CPU goes beyond its main thread (the libuv pool's fs calls, V8's GC helpers),
 * which a V8 CPU profile of the main thread cannot show. Keyed `pid/tid`; tid = pid is the main thread;
 * `pid/tid system` is the kernel's share of it.
 */
export async function threadCpuMs(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const pids = [pid];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = await procStat(Number(name));
    const comm = await readFile(`/proc/${name}/comm`, 'utf8').catch(() => '');
    if (s?.ppid === pid && comm.trim() === 'node') pids.push(s.pid);
  }
  for (const p of pids) {
    for (const tid of await readdir(`/proc/${p}/task`).catch(() => [] as string[])) {
      const text = await readFile(`/proc/${p}/task/${tid}/stat`, 'utf8').catch(() => '');
      if (!text) continue;
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(`${p}/${tid}`, (Number(f[11]) + Number(f[12])) * TICK_MS);
      // The kernel's part apart: system calls, page faults, the pipe to the child.
      out.set(`${p}/${tid} system`, Number(f[12]) * TICK_MS);
    }
  }
  return out;
}
