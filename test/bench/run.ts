/**
 * `npm run bench`: tssersync against bare rsync on the same writes, in the same run.
 *
 * Scenarios (each repeated `--reps` times, bare and tssersync alternating):
 * - burst1k:  1,000 files of 10-100 KB (55 MB) in 10 new directories, written as fast as possible.
 * - burst10k: 10,000 such files (562 MB) in 100 new directories.
 * - storm:    2,000 mixed operations (rewrites, half same-size; appends; creates; deletes; renames;
 *             new and removed directories) on a 1,000-file tree already replicated.
 * - latency:  one 50 KB file written while idle, `--samples` times, against a bare push of one file.
 *
 * For each burst and the storm: the writer's time alone and with tssersync running; end to end
 * (writer start until the destination equals the source, byte for byte); CPU of tssersync's whole
 * process tree (node, the watcher child, every rsync it starts: a cgroup of its own, see cpu.ts)
 * until it is idle again (the trailing reconcile included), and of the receiving rsync daemon.
 * Bare = the same writer alone, then one `rsync -a` of the result (`-a --delete` for the storm).
 *
 * The machine is shared and noisy (other test runs use the same two cores): quote medians and
 * ratios. Usage:
 *   npm run bench [-- --scenarios burst1k,storm --reps 3 --samples 20 --params=-artuz
 *                     --xml '<priority nice="0"/>' --out docs/benchmarks.md --trace FILE --files
 *                     --sync --drop-caches --cli OTHER/dist/cli.js]
 * `--params=-a` gives tssersync bare's own options (the stock `-artuz` compresses, bare does not);
 * `--files` has the daemon log every file it receives and counts them per run (a file sent twice
 * shows as received > distinct). `--sync` writes the page cache's dirty data back before each run (see
 * the option); `--cli` runs another build as tssersync (a copy of an earlier dist/, for before and
 * after in alternating benches).
 *
 * Nothing is deleted between runs: each run writes into a source tree and a daemon module of its
 * own, and all of it is removed at the end. On an ext4 without a journal (this machine's root file
 * system) a file created within one to six minutes of a mass delete in its block group costs the
 * kernel a scan past every recently deleted inode (fs/ext4/ialloc.c find_inode_bit →
 * recently_deleted): emptying
 * the last run's 10,000 files made the next run's receiving daemon pay 1.5–3 s of system time that
 * depended on when the delete happened, not on what the replicator did. `--delete-between` brings
 * the old cleanup back, to see that effect. TMPDIR picks the file system for all of it (the report
 * names it): a server's is usually journaled, e.g. as root `truncate -s 20G /var/tmp/j.img &&
 * mkfs.ext4 -q /var/tmp/j.img && mkdir -p /mnt/jfs && mount -o loop /var/tmp/j.img /mnt/jfs`, then
 * `TMPDIR=/mnt/jfs npm run bench`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile, readFile, stat, readdir, rm } from 'node:fs/promises';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir, treeDiff } from '../support/tree.js';
import { CLI, startCli, writeXml } from '../support/cli.js';
import { meterFor, ownCpuMs, reapedChildrenMs, threadCpuMs, type CpuMeter } from './cpu.js';
import { writeBurst, writeStorm, writeStormTree, type Expected } from './writers.js';
import { fsKindOf, fsKindText } from './fs-kind.js';

const ALL = ['burst1k', 'burst10k', 'storm', 'latency'] as const;
type Scenario = (typeof ALL)[number];

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: ALL.join(',') },
    reps: { type: 'string', default: '3' },
    samples: { type: 'string', default: '20' },
    /** commonParams of tssersync's config (Sersync's stock is -artuz). */
    params: { type: 'string', default: '-artuz' },
    /** Extra XML inside <tssersync> (e.g. '<priority nice="0"/>' for today's behaviour). */
    xml: { type: 'string', default: '' },
    out: { type: 'string' },
    /** Write tssersync's own output (with --debug: every job) to this file, to see where the time went. */
    trace: { type: 'string' },
    /** The daemon logs every file it receives; each run of tssersync says how many, and how many more than once. */
    files: { type: 'boolean', default: false },
    /** Per run, write the measured window and the CPU of each thread of tssersync's node processes into DIR/<scenario>-<rep>/window.json. */
    profile: { type: 'string' },
    /** Another build's dist/cli.js to run as tssersync (before/after comparisons in one session). */
    cli: { type: 'string' },
    /** With --profile: also V8 CPU profiles of the CLI and the watcher child (the profiler itself costs CPU: compare thread figures from runs without it). */
    'cpu-prof': { type: 'boolean', default: false },
    /** Extra node flags for tssersync's CLI (space-separated; the watcher child inherits them), e.g. '--single-threaded-gc'. */
    'node-args': { type: 'string', default: '' },
    /**
     * Before the measured window, a warm-up in the same tssersync process: 300 files written in a
     * directory of their own and a storm of 1,000 operations on them, replicated, removed, replicated. The first burst a process sees also
     * pays V8's compilation of the hot paths; a daemon that has been running for a while does not.
     */
    warm: { type: 'boolean', default: false },
    /**
     * Run the receiving daemon at this nice level (renice after start; its per-connection children
     * inherit it). On loopback the receiver shares the cores with the writer, which a real backup
     * host does not: this separates what the replicator costs the writer from what the local
     * receiver costs it. Bare's rsync runs after its writer, so this does not touch bare's figures.
     */
    'daemon-nice': { type: 'string' },
    /**
     * Put the receiving daemon's modules (and its config) under this directory instead of TMPDIR,
     * e.g. /dev/shm: with `--daemon-nice 19` the closest this one machine comes to a receiver on
     * another host, whose writes share neither the writer's cores nor its disk.
     */
    'daemon-tmp': { type: 'string' },
    /**
     * sync(1) before each measured run, bare's and tssersync's alike, outside the window: each run
     * starts with nothing dirty in the page cache. Without it a run may share the cores and the
     * disk with the writeback of the runs before it (1.1 GB per 10k run: its source and its
     * module), started whenever the kernel's thresholds say. It did not remove the large outliers
     * of the eighth session (bare's 10k on the journaled loop ext4: 1.9-6.4 s within one bench
     * with it, 1.9-6.9 s without): those came from elsewhere (docs/benchmarks.md).
     */
    sync: { type: 'boolean', default: false },
    /**
     * As root: `--sync`, then the clean page cache dropped (/proc/sys/vm/drop_caches), before each
     * measured run. Nothing is deleted between runs, so each 10k run leaves ~1.1 GB in the page cache
     * (twice that through a loop device's backing file); once free memory runs out, every later
     * run's writes pay for reclaim: the ninth session saw the receiving daemon's system time go
     * from 1.0-1.9 s to 3.5-4.4 s from the fourth or fifth run of a bench on, bare's and
     * tssersync's alike, whichever came first.
     */
    'drop-caches': { type: 'boolean', default: false },
    /** Empty the modules and remove the trees between runs, as before (see the header: it taxes the next run's file creations on a journal-less ext4). */
    'delete-between': { type: 'boolean', default: false },
  },
});
if (values['drop-caches'] && process.getuid?.() !== 0) throw new Error('--drop-caches writes /proc/sys/vm/drop_caches: run the bench as root, or leave the option out');
const SCENARIOS = values.scenarios.split(',').map((s) => s.trim()).filter(Boolean) as Scenario[];
for (const s of SCENARIOS) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}; known: ${ALL.join(', ')}`);
const REPS = Number(values.reps);
const SAMPLES = Number(values.samples);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.ceil(q * s.length) - 1);
  return s[Math.max(0, i)]!;
}
const sec = (ms: number) => (ms / 1000).toFixed(2);

function rsync(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('rsync', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`rsync exit ${code}: ${err}`))));
  });
}

/** One measured run: ms. */
interface Run {
  writer: number;
  endToEnd: number;
  /** CPU of the replicator: bare's rsync client, or tssersync's whole tree. */
  cpuSender: number;
  cpuDaemon: number;
  /** Of cpuDaemon, system (kernel) time, where the meter can tell. */
  cpuDaemonSys?: number;
  /** tssersync only: rsync processes seen at once, at most (sampled). */
  maxProcs?: number;
  /** tssersync only: of cpuSender, what its node processes (daemon and watcher child) used. */
  cpuNode?: number;
  /** tssersync only: rsync runs it made over the window (connections in the daemon's log: every run counts, the forced re-sends, seeds and fallback deletes too). */
  connections?: number;
  /** tssersync only, with --files: files the daemon received over the window, and how many distinct. */
  received?: { total: number; distinct: number };
}

interface Bench {
  daemon: RsyncDaemon;
  daemonCpu: CpuMeter;
  auth: string[];
  work: string;
  seed: Buffer;
  traces: string[];
  cpuHow: string;
}

type Writer = (root: string) => Promise<Expected>;

interface Shape {
  /** Prepare the tree before the writer runs (storm: the existing tree), returns its state. */
  prepare(root: string): Promise<Expected | undefined>;
  write(root: string, before: Expected | undefined): Promise<Expected>;
  bareArgs: string[];
}

function shapes(seed: Buffer): Record<'burst1k' | 'burst10k' | 'storm', Shape> {
  return {
    burst1k: { prepare: async () => undefined, write: (r) => writeBurst(r, seed, 1000, 10), bareArgs: ['-a'] },
    burst10k: { prepare: async () => undefined, write: (r) => writeBurst(r, seed, 10_000, 100), bareArgs: ['-a'] },
    storm: {
      prepare: (r) => writeStormTree(r, seed, 1000),
      write: (r, before) => writeStorm(r, seed, new Map(before), 2000),
      bareArgs: ['-a', '--delete'],
    },
  };
}

/**
 * Until the clock is in the next whole second. The storm starts from a tree written and pushed
 * just before: on a fast disk all of that and the storm's first same-size rewrites fell in one
 * second, and bare's single `rsync -a` (quick check: size and mtime in whole seconds) then left
 * those files stale (seen at 13:05 on a quiet machine). Both runs wait the same.
 */
async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 5);
}

async function emptyDir(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
}

/** The daemon's module for one run (bare's or tssersync's): its own, so no run follows a mass delete (see the header). */
function moduleOf(kind: 'bare' | 'live', scenario: string, rep: number): string {
  return values['delete-between'] ? kind : `${kind}-${scenario}-${rep}`;
}

/** See --sync. Twice: the loop device's writeback dirties its backing file, which the second pass writes. */
function syncDisks(): void {
  if (!values.sync && !values['drop-caches']) return;
  for (let i = 0; i < 2; i++) spawnSync('sync', [], { stdio: 'ignore' });
  if (values['drop-caches']) writeFileSync('/proc/sys/vm/drop_caches', '1');
}

async function bareRun(b: Bench, shape: Shape, rep: number, name: string): Promise<Run> {
  const staged = join(b.work, `bare-${name}-${rep}`);
  const module = moduleOf('bare', name, rep);
  const dest = b.daemon.modules[module]!;
  await mkdir(staged);
  if (values['delete-between']) await emptyDir(dest);
  const before = await shape.prepare(staged);
  if (before) {
    await rsync(['-a', ...b.auth, './', `${b.daemon.user}@127.0.0.1::${module}/`], staged);
    await nextSecond();
  }
  syncDisks();
  const d0 = await b.daemonCpu.usageMs();
  const s0 = await b.daemonCpu.systemMs();
  const c0 = await reapedChildrenMs();
  const t0 = performance.now();
  await shape.write(staged, before);
  const tw = performance.now();
  await rsync([...shape.bareArgs, ...b.auth, './', `${b.daemon.user}@127.0.0.1::${module}/`], staged);
  const t1 = performance.now();
  const run: Run = { writer: tw - t0, endToEnd: t1 - t0, cpuSender: (await reapedChildrenMs()) - c0, cpuDaemon: (await b.daemonCpu.usageMs()) - d0, cpuDaemonSys: since(s0, await b.daemonCpu.systemMs()) };
  const diffs = await treeDiff(staged, dest);
  if (diffs.length) throw new Error(`bare rsync left differences: ${diffs.slice(0, 3).join('; ')}`);
  if (values['delete-between']) await rm(staged, { recursive: true, force: true });
  return run;
}

async function tssRun(b: Bench, shape: Shape, rep: number, name: string): Promise<Run> {
  const src = join(b.work, `src-${name}-${rep}`);
  const state = join(b.work, `state-${name}-${rep}`);
  const module = moduleOf('live', name, rep);
  const dest = b.daemon.modules[module]!;
  await mkdir(src);
  await mkdir(state);
  if (values['delete-between']) await emptyDir(dest);
  const before = await shape.prepare(src);
  if (before) {
    await rsync(['-a', ...b.auth, './', `${b.daemon.user}@127.0.0.1::${module}/`], src);
    await nextSecond();
  }
  const conf = await writeXml(join(b.work, `confxml-${name}-${rep}.xml`), { src, state, daemon: b.daemon, module, tssersync: values.xml });
  if (values.params !== '-artuz') await writeFile(conf, (await readFile(conf, 'utf8')).replace('params="-artuz"', `params="${values.params}"`));
  const cli = startTss(['-o', conf, ...(values.trace ? ['--debug'] : [])], `${name}-${rep}`);
  const meter = await meterFor(cli.child.pid!, `tss-${name}-${rep}`);
  b.cpuHow = meter.how;
  try {
    await waitLive(cli);
    await sleep(500);
    if (values.warm) await warmUp(b, src, dest);
    syncDisks();
    const idleProcs = await meter.processes();
    let maxProcs = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxProcs = Math.max(maxProcs, (await meter.processes().catch(() => 0)) - idleProcs);
        await sleep(20);
      }
    })();
    const d0 = await b.daemonCpu.usageMs();
    const s0 = await b.daemonCpu.systemMs();
    const l0 = await connections(b.daemon.logFile, module);
    const logAt = values.trace || values.files ? (await stat(b.daemon.logFile).catch(() => undefined))?.size ?? 0 : 0;
    const c0 = await meter.usageMs();
    const n0 = await ownCpuMs(cli.child.pid!, 'node');
    const m0 = process.hrtime.bigint();
    const th0 = values.profile ? await threadCpuMs(cli.child.pid!) : undefined;
    const t0 = performance.now();
    const want = await shape.write(src, before);
    const tw = performance.now();
    const equalAt = await converge(src, dest, want, t0);
    // CPU until tssersync is idle again: the trailing reconcile of a burst runs 1 s after the last
    // event, so wait past that, then until no rsync of its own is left.
    while (performance.now() - tw < 1600) await sleep(50);
    for (let quiet = 0, i = 0; quiet < 3 && i < 600; i++) {
      quiet = (await meter.processes()) <= idleProcs ? quiet + 1 : 0;
      await sleep(50);
    }
    sampling = false;
    await sampler;
    if (values.trace) b.traces.push(`=== ${name} rep ${rep}: the daemon's log over the window\n${(await readFile(b.daemon.logFile)).subarray(logAt).toString('utf8')}`);
    const run: Run = { writer: tw - t0, endToEnd: equalAt - t0, cpuSender: (await meter.usageMs()) - c0, cpuDaemon: (await b.daemonCpu.usageMs()) - d0, cpuDaemonSys: since(s0, await b.daemonCpu.systemMs()), maxProcs, cpuNode: (await ownCpuMs(cli.child.pid!, 'node')) - n0, connections: (await connections(b.daemon.logFile, module)) - l0 };
    if (values.files) run.received = received((await readFile(b.daemon.logFile)).subarray(logAt).toString('latin1'), module);
    // The measured window on CLOCK_MONOTONIC (µs), the clock of V8's profile timestamps.
    if (values.profile) {
      const dir = join(values.profile, `${name}-${rep}`);
      const threads = threadDelta(th0!, await threadCpuMs(cli.child.pid!));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'window.json'), JSON.stringify({ startUs: Number(m0 / 1000n), endUs: Number(process.hrtime.bigint() / 1000n), run, threads }));
    }
    return run;
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await meter.close();
    if (values.trace) b.traces.push(`=== ${name} rep ${rep}\n${cli.output()}`);
    if (values['delete-between']) {
      await rm(src, { recursive: true, force: true });
      await rm(state, { recursive: true, force: true });
    }
  }
}

/** See --warm: a burst of 300 files in `warm/` and a storm of 1,000 operations on them, until the destination equals it, then its removal, until it is gone; then 1.6 s of quiet (the trailing reconcile). */
async function warmUp(b: Bench, src: string, dest: string): Promise<void> {
  const files = await writeBurst(join(src, 'warm'), b.seed, 300, 3);
  await writeStorm(join(src, 'warm'), b.seed, new Map([...files].map(([rel, size]) => [rel, size])), 1000, 7);
  const deadline = performance.now() + 60_000;
  while ((await treeDiff(join(src, 'warm'), join(dest, 'warm'))).length > 0) {
    if (performance.now() > deadline) throw new Error('the warm-up burst did not replicate within 60 s');
    await sleep(50);
  }
  await rm(join(src, 'warm'), { recursive: true, force: true });
  while (await stat(join(dest, 'warm')).catch(() => undefined)) {
    if (performance.now() > deadline) throw new Error('the warm-up removal did not replicate within 60 s');
    await sleep(50);
  }
  await sleep(1600);
}

/** Files received into `module` in a stretch of the daemon's log (`transfer logging = yes`: one `recv` line per file sent). */
function received(log: string, module: string): { total: number; distinct: number } {
  const names = [...log.matchAll(new RegExp(`\\] recv \\S+ \\[[^\\]]+\\] ${module} \\(\\S+\\) (.+) \\d+$`, 'gm'))].map((m) => m[1]!);
  return { total: names.length, distinct: new Set(names).size };
}

/** Transfers to `module` the daemon logged so far (one `rsync to MODULE/ from` line per run). */
async function connections(logFile: string, module: string): Promise<number> {
  const log = await readFile(logFile, 'utf8').catch(() => '');
  let n = 0;
  for (let i = log.indexOf(`rsync to ${module}/`); i >= 0; i = log.indexOf(`rsync to ${module}/`, i + 1)) n++;
  return n;
}

/**
 * When the destination first held the final state: polled cheaply (the files' sizes, walking on
 * from the first one not yet there, then a count of the destination's files), confirmed byte for
 * byte; the time is that of the cheap check the byte check confirmed.
 */
async function converge(src: string, dst: string, want: Expected, t0: number): Promise<number> {
  const list = [...want].sort(([a], [b]) => (a < b ? -1 : 1));
  let cursor = 0;
  let rest = 10;
  for (;;) {
    if (performance.now() - t0 > 300_000) {
      const diffs = await treeDiff(src, dst);
      throw new Error(`the destination did not converge within 300 s: ${diffs.length} differences, e.g. ${diffs.slice(0, 5).join('; ')}`);
    }
    // statSync: the promise form costs 50-75 µs of CPU a call (the pool round trip), 10,000 calls
    // 0.5-0.7 s in this process at nice 0 beside tssersync's rsyncs at nice 10, which bare's run
    // (no polling: its rsync is awaited) never competes with.
    for (; cursor < list.length; cursor++) {
      const [rel, size] = list[cursor]!;
      const st = statOrUndefined(join(dst, rel));
      if (st?.size !== size) break;
    }
    if (cursor === list.length && (await countFiles(dst)) === list.length) {
      const at = performance.now();
      const diffs = await treeDiff(src, dst);
      if (diffs.length === 0) return at;
      cursor = 0; // a same-size rewrite not there yet: look again from the start
      rest = Math.min(rest * 2, 1000); // byte checks are dear: back off
    }
    await sleep(rest);
  }
}

function statOrUndefined(path: string): { size: number } | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function since(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) n += await countFiles(join(dir, e.name));
    else n++;
  }
  return n;
}

function table(name: string, bare: Run[], tss: Run[]): string[] {
  const m = (rs: Run[], f: (r: Run) => number) => median(rs.map(f));
  const cpu = (r: Run) => r.cpuSender + r.cpuDaemon;
  const row = (what: string, f: (r: Run) => number, fmt = sec) => {
    const a = m(bare, f);
    const t = m(tss, f);
    return `| ${what} | ${fmt(a)} | ${fmt(t)} | ${(t / a).toFixed(2)} |`;
  };
  const sys = (r: Run) => (r.cpuDaemonSys === undefined ? '' : ` (daemon ${sec(r.cpuDaemon)} s, of it ${sec(r.cpuDaemonSys)} s system)`);
  const runs = (rs: Run[]) => rs.map((r) => `${sec(r.endToEnd)} s / ${sec(cpu(r))} s CPU${sys(r)}`).join('; ');
  return [
    `**${name}** (${tss.length} runs each, medians, seconds)`,
    '',
    '| | bare | tssersync | ratio |',
    '|---|---|---|---|',
    row('writer', (r) => r.writer),
    row('end to end', (r) => r.endToEnd),
    row('CPU, sender side (bare: rsync client; tssersync: its whole tree)', (r) => r.cpuSender),
    row('CPU, receiving daemon', (r) => r.cpuDaemon),
    row('CPU, total', cpu),
    '',
    `runs, end to end / CPU total: bare ${runs(bare)}; tssersync ${runs(tss)}; tssersync's rsyncs at once, at most: ${tss.map((r) => r.maxProcs).join(', ')}; of tssersync's CPU, its node processes: ${tss.map((r) => sec(r.cpuNode ?? 0)).join(', ')} s; its rsync runs (daemon connections): ${tss.map((r) => r.connections ?? '?').join(', ')}${values.files ? `; files received by the daemon (distinct): ${tss.map((r) => (r.received ? `${r.received.total} (${r.received.distinct})` : '?')).join(', ')}` : ''}`,
    '',
  ];
}

async function latency(b: Bench, log: (s: string) => void): Promise<void> {
  const src = join(b.work, 'src-latency');
  const state = join(b.work, 'state-latency');
  await mkdir(src);
  await mkdir(state);
  const conf = await writeXml(join(b.work, 'confxml-latency.xml'), { src, state, daemon: b.daemon, module: 'live', tssersync: values.xml });
  await emptyDir(b.daemon.modules['live']!);
  const cli = startTss(['-o', conf, ...(values.trace ? ['--debug'] : [])], 'latency');
  const dst = b.daemon.modules['live']!;
  try {
    await waitLive(cli);
    await sleep(1000);
    const lat: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const body = randomBytes(50 * 1024);
      const name = `latency-${i}.bin`;
      const t = performance.now();
      await writeFile(join(src, name), body);
      const target = join(dst, name);
      for (;;) {
        const got = await readFile(target).catch(() => undefined);
        if (got && got.equals(body)) break;
        if (performance.now() - t > 10_000) throw new Error(`${name} did not replicate in 10 s`);
        await sleep(1);
      }
      lat.push(performance.now() - t);
      // Idle means idle: the watcher batches events for 50 ms within 500 ms of its previous
      // report, and the planner keeps its leading edge for changes after 1 s of quiet.
      await sleep(1200);
    }
    const one = join(b.work, 'one');
    await mkdir(one);
    await writeFile(join(one, 'x.bin'), randomBytes(50 * 1024));
    const bareOne: number[] = [];
    for (let i = 0; i < SAMPLES; i++) bareOne.push(await rsync(['-a', '-I', ...b.auth, 'x.bin', `${b.daemon.user}@127.0.0.1::one/`], one));
    log(`**latency**: single 50 KB file after a quiet spell, ${SAMPLES} samples: tssersync median ${median(lat).toFixed(0)} ms, p95 ${quantile(lat, 0.95).toFixed(0)} ms; bare rsync push median ${median(bareOne).toFixed(0)} ms (ratio ${(median(lat) / median(bareOne)).toFixed(2)})`);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
    if (values.trace) b.traces.push(`=== latency\n${cli.output()}`);
  }
}

async function main(): Promise<void> {
  const work = await tempDir('tss-bench-');
  const perRun = SCENARIOS.filter((s) => s !== 'latency').flatMap((s) => Array.from({ length: REPS }, (_, rep) => [moduleOf('bare', s, rep), moduleOf('live', s, rep)]).flat());
  // --daemon-tmp: the daemon's modules on another file system (os.tmpdir() reads TMPDIR at each call).
  const tmp = process.env['TMPDIR'];
  if (values['daemon-tmp'] !== undefined) process.env['TMPDIR'] = values['daemon-tmp'];
  const daemon = await startRsyncDaemon({ modules: [...new Set(['bare', 'live', 'one', ...perRun])], ...(values.files ? { moduleExtra: ['transfer logging = yes'] } : {}) }).finally(() => {
    if (tmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = tmp;
  });
  const daemonCpu = await meterFor(daemon.pid!, 'daemon');
  if (values['daemon-nice'] !== undefined) {
    const r = spawnSync('renice', ['-n', values['daemon-nice'], '-p', String(daemon.pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`renice of the daemon failed: ${r.stderr}`);
  }
  const b: Bench = {
    daemon,
    daemonCpu,
    auth: [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, '--sockopts=TCP_NODELAY'],
    work: work.path,
    seed: randomBytes(4 * 1024 * 1024),
    traces: [],
    cpuHow: '',
  };
  const lines: string[] = [];
  const log = (s: string) => (console.log(s), lines.push(s));
  const load0 = loadavg()[0]!;
  try {
    const sh = shapes(b.seed);
    for (const s of SCENARIOS) {
      if (s === 'latency') {
        await latency(b, log);
        continue;
      }
      const bare: Run[] = [];
      const tss: Run[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        bare.push(await bareRun(b, sh[s], rep, s));
        tss.push(await tssRun(b, sh[s], rep, s));
        console.error(`${s} rep ${rep}: bare ${sec(bare.at(-1)!.endToEnd)} s, tssersync ${sec(tss.at(-1)!.endToEnd)} s`);
      }
      for (const l of table(s, bare, tss)) log(l);
    }
    log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${load0.toFixed(1)} at start and ${loadavg()[0]!.toFixed(1)} at the end (shared: other test runs use the same cores); ` +
        `${fsKindText(await fsKindOf(work.path))} (TMPDIR; the daemon's modules too); ${values['daemon-nice'] !== undefined ? `receiving daemon at nice ${values['daemon-nice']}; ` : ''}${values['daemon-tmp'] !== undefined ? `its modules under ${values['daemon-tmp']} (${fsKindText(await fsKindOf(values['daemon-tmp']))}); ` : ''}${values['drop-caches'] ? 'sync(1) and the clean page cache dropped before each run; ' : values.sync ? 'sync(1) before each run; ' : ''}commonParams ${values.params}${values.xml ? `, <tssersync> extra ${values.xml}` : ''}; CPU of tssersync's tree: ${b.cpuHow || 'n/a'}; of the daemon: ${daemonCpu.how}; of bare's rsync client: /proc/self/stat cutime+cstime`,
    );
    if (values.out) {
      const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
      const cmd = `npm run bench -- --scenarios ${SCENARIOS.join(',')} --reps ${REPS}${values.params !== '-artuz' ? ` --params ${values.params}` : ''}${values.xml ? ` --xml '${values.xml}'` : ''}`;
      const block = `\n### Run of ${stamp} UTC (\`${cmd}\`)\n\n${lines.join('\n')}\n`;
      const prev = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
      await writeFile(values.out, prev + block);
    }
  } finally {
    if (values.trace) await writeFile(values.trace, b.traces.join('\n'));
    await daemonCpu.close();
    await daemon.stop();
    await rm(work.path, { recursive: true, force: true });
  }
}

/** CPU ms per thread over the window, the busy ones only. */
function threadDelta(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) > 0) out[k] = v - (a.get(k) ?? 0);
  return out;
}

/**
 * The CLI; with --profile under `node --cpu-prof` (not allowed in NODE_OPTIONS), which the watcher
 * child inherits through execArgv: each writes a .cpuprofile into `<profile>/<tag>/` when it exits.
 */
function startTss(args: string[], tag: string): ReturnType<typeof startCli> {
  const prof = values.profile && values['cpu-prof'];
  const nodeArgs = values['node-args'].split(' ').filter(Boolean);
  if (!prof && !values.cli && nodeArgs.length === 0) return startCli(args);
  const child = spawn(process.execPath, [...nodeArgs, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${join(values.profile!, tag)}`] : []), values.cli ?? CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * Until the watcher is live ("watching N root(s)", emitted once every root's watch is set): the
 * run marker is written before the watcher starts, and under load writes made in between were
 * never seen (a fresh start has nothing to catch up from), so a run could wait forever.
 */
async function waitLive(cli: { output: () => string; child: { exitCode: number | null } }): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (/watching \d+ root\(s\)/.test(cli.output())) return;
    if (cli.child.exitCode !== null) throw new Error(`tssersync exited at start:\n${cli.output()}`);
    await sleep(50);
  }
  throw new Error(`tssersync did not start watching within 30 s:\n${cli.output()}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
