/**
 * `npm run bench:scale`: tssersync watching a large tree (default 1,000,000 files of 100 B in 20,000
 * directories), the CLI as a subprocess against a real rsync daemon.
 *
 * Measured:
 * - ready: from spawning tssersync until it reports `watching 1 root(s)` (every directory watched);
 * - RSS of tssersync's own processes (the engine and its watcher child; rsync children not counted),
 *   idle and just after a new directory;
 * - a new directory with a file in it: until the file is on the receiver; and whether the watcher
 *   child was replaced (a re-crawl of the root) or the root reconciled;
 * - `rm -rf` of 10,000 files, then one new file: until that file is on the receiver;
 * - one 50 KB file with Sersync's stock switches, against a bare TCP_NODELAY rsync push of it.
 *
 * - `full`: `tssersync -r -o conf.xml` on an unchanged tree (spawn → `full sync … done`, startup
 *   and the watcher's scan included) against a bare `rsync -a --delete` of the same tree to a
 *   receiver already holding it, alternating, medians; wall and CPU of both ends;
 * - `latency`: the one-file latency matrix (issue 9's 17 ms vs 55–63 ms question): a 50 KB file
 *   written as a new file and as a rewrite of an existing one, with a long and a short pause between
 *   samples, for each backend, each against a bare TCP_NODELAY push in the same run.
 *
 * - `lsyncd` (when lsyncd is installed): lsyncd 2.x on the same tree, to the same daemon, as the
 *   peer the issue names: its start (watches, then its own full rsync of the root: what `-r` does)
 *   until it logs `Startup … finished`, its RSS idle after that, and one new 50 KB file until it
 *   is on the receiver (`delay = 0`, lsyncd's quickest; stock is 15 s).
 *
 * The tree is built in a temp dir and removed after, or kept in `--tree DIR` (DIR/src, with
 * DIR/tree.json once complete; DIR/recv holds the receiver's copy for `full`) and reused by later
 * runs with the same --files/--dirs: build it outside the bench lock with `--build-only`. What a run
 * changes in the tree (new files, the rm -rf victims) is put back at the start of the next one.
 *
 * More directories than fs.inotify.max_user_watches allows: the bench raises the limit itself when
 * it runs as root (written to /proc/sys/fs/inotify/max_user_watches, the old value put back at the
 * end, both said in the output); without root it stops with the command to run. Usage:
 *   npm run bench:scale -- [--files 1000000] [--dirs 20000] [--backend inotify|parcel] [--samples 10]
 *     [--scenarios watch,full,latency,lsyncd] [--runs 3] [--tree DIR] [--build-only] [--out docs/benchmarks.md]
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { startCli, writeXml } from '../support/cli.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000000' },
    dirs: { type: 'string', default: '20000' },
    backend: { type: 'string', default: 'inotify' },
    samples: { type: 'string', default: '10' },
    /** watch (ready, RSS, new directory, rm -rf, stock latency), full (-r vs bare), latency (the matrix). */
    scenarios: { type: 'string', default: 'watch' },
    /** Runs of each side in `full`. */
    runs: { type: 'string', default: '3' },
    /** Keep the tree here and reuse it (see above). */
    tree: { type: 'string' },
    'build-only': { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Write tssersync's own output (with --debug: every job) to this file. */
    trace: { type: 'string' },
  },
});
const FILES = Number(values.files);
const DIRS = Number(values.dirs);
const SAMPLES = Number(values.samples);
const BACKEND = values.backend;
if (BACKEND !== 'inotify' && BACKEND !== 'parcel') throw new Error('--backend: inotify or parcel');
const SCENARIOS = new Set(values.scenarios.split(','));
for (const sc of SCENARIOS) if (!['watch', 'full', 'latency', 'lsyncd'].includes(sc)) throw new Error(`--scenarios: watch, full, latency, lsyncd (not ${sc})`);
const RUNS = Number(values.runs);
const PER = Math.ceil(FILES / DIRS);
/** The leaf directories the watch scenario's rm -rf removes (10,000 files). */
const VICTIMS = Math.ceil(10_000 / PER);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

/** 2-level layout: d000/d00000 … so no directory holds more than a few hundred entries. */
function dirOf(i: number): string {
  return `t${String(i % 100).padStart(2, '0')}/d${String(i).padStart(5, '0')}`;
}

async function buildTree(root: string, upTo = DIRS): Promise<void> {
  const per = PER;
  const body = Buffer.alloc(100, 'x');
  const t = performance.now();
  for (let d = 0; d < upTo; d += 20) {
    const group = Array.from({ length: Math.min(20, upTo - d) }, (_, k) => d + k);
    await Promise.all(
      group.map(async (i) => {
        const dir = join(root, dirOf(i));
        await mkdir(dir, { recursive: true });
        for (let f = 0; f < per && i * per + f < FILES; f += 50) {
          await Promise.all(Array.from({ length: Math.min(50, per - f) }, (_, k) => writeFile(join(dir, `f${f + k}`), body)));
        }
      }),
    );
    if (d % 2000 === 0 && d > 0) process.stderr.write(`  built ${d}/${DIRS} directories (${((performance.now() - t) / 1000).toFixed(0)} s)\n`);
  }
}

/** VmRSS in KB of `pid` and of its children running the watcher (not rsync). */
async function ownRss(pid: number): Promise<{ engine: number; watcher: number; watcherPids: number[] }> {
  const rss = async (p: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  let watcher = 0;
  const watcherPids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = await readFile(`/proc/${p}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2).split(' ')[1] !== String(pid)) continue;
      if (!/watch\/child/.test(await readFile(`/proc/${p}/cmdline`, 'utf8'))) continue;
      watcher += await rss(Number(p));
      watcherPids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return { engine: await rss(pid), watcher, watcherPids };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t = performance.now();
  while (!(await probe())) {
    if (performance.now() - t > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(2);
  }
  return performance.now() - t;
}

const sameBytes = (file: string, body: Buffer) => async () => (await readFile(file).catch(() => undefined))?.equals(body) ?? false;

function rsync(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('rsync', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`rsync exit ${code}: ${err}`))));
  });
}

/** CPU ms of a process: its own (utime+stime) and its reaped children's (cutime+cstime). */
async function cpuMs(pid: number | 'self'): Promise<{ own: number; children: number }> {
  const st = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return { own: (Number(f[11]) + Number(f[12])) * 10, children: (Number(f[13]) + Number(f[14])) * 10 };
}

/** The receiver's CPU is counted once the daemon has reaped its per-connection child. */
async function daemonIdle(pid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    if (kids.trim() === '') return;
    await sleep(10);
  }
}

const WATCHES = '/proc/sys/fs/inotify/max_user_watches';

/**
 * One inotify watch per directory, for the user: raise fs.inotify.max_user_watches when the tree
 * needs more than it allows (with room for the other watchers of this user). Returns the undo.
 */
async function ensureWatches(dirs: number, log: (s: string) => void): Promise<() => Promise<void>> {
  const current = Number((await readFile(WATCHES, 'utf8')).trim());
  const needed = dirs + 100 + 65_536;
  if (current >= needed) return async () => {};
  if (process.getuid?.() !== 0) {
    console.error(`bench:scale: ${dirs.toLocaleString('en')} directories need fs.inotify.max_user_watches >= ${needed} (now ${current}): run as root, or first: sudo sysctl -w fs.inotify.max_user_watches=${needed}`);
    process.exit(2);
  }
  await writeFile(WATCHES, `${needed}\n`);
  log(`fs.inotify.max_user_watches raised by the bench from ${current} to ${needed} for this run (put back to ${current} at the end)`);
  return async () => {
    await writeFile(WATCHES, `${current}\n`);
    console.log(`fs.inotify.max_user_watches put back to ${current}`);
  };
}

/** A tree kept between runs (--tree): built once, put back to its built state before each run. */
async function prepareTree(dir: string | undefined, scratch: string, log: (s: string) => void): Promise<{ src: string; recv: string }> {
  const base = dir ?? scratch;
  const src = join(base, 'src');
  const recv = join(base, 'recv');
  const marker = join(base, 'tree.json');
  const want = JSON.stringify({ files: FILES, dirs: DIRS, layout: 1 });
  if (dir && (await readFile(marker, 'utf8').catch(() => '')) === want) {
    // What the watch scenario added or removed last time.
    for (const n of await readdir(src)) if (n === 'fresh' || n === 'after-rm' || n.startsWith('latency-')) await rm(join(src, n), { recursive: true, force: true });
    await buildTree(src, VICTIMS);
    log(`tree: ${FILES.toLocaleString('en')} files of 100 B in ${DIRS.toLocaleString('en')} directories (+100 parents), kept in ${dir} from an earlier build`);
    return { src, recv };
  }
  await rm(src, { recursive: true, force: true });
  await rm(recv, { recursive: true, force: true });
  await mkdir(base, { recursive: true });
  const tb = performance.now();
  await buildTree(src);
  await writeFile(marker, want);
  log(`tree: ${FILES.toLocaleString('en')} files of 100 B in ${DIRS.toLocaleString('en')} directories (+100 parents), built in ${((performance.now() - tb) / 1000).toFixed(0)} s`);
  return { src, recv };
}

type Log = (s: string) => void;
const stats = (xs: number[]) => `median ${ms(median(xs))} (min ${ms(Math.min(...xs))}, max ${ms(Math.max(...xs))})`;

async function watchScenario(src: string, work: string, daemon: RsyncDaemon, log: Log): Promise<void> {
  const state = join(work, 'state-watch');
  await mkdir(state, { recursive: true });
  const dst = daemon.modules.live!;
  const conf = await writeXml(join(work, 'confxml-watch.xml'), {
    src, state, daemon, module: 'live',
    tssersync: `<watcher backend="${BACKEND}"/><reconcile interval="0"/>`,
  });
  log(`watch scenario, backend ${BACKEND} (the receiver starts empty: no step needs the old files there)`);
  const run = startCli(['-o', conf, ...(values.trace ? ['--debug'] : [])]);
  try {
    const ready = await until('ready', async () => /watching \d+ root/.test(run.output()), 600_000);
    log(`ready: ${(ready / 1000).toFixed(2)} s after start (target <= 10 s at 1M files)`);
    await sleep(3000);
    const idle = await ownRss(run.child.pid!);
    log(`RSS idle: engine ${mb(idle.engine)} + watcher ${mb(idle.watcher)} = ${mb(idle.engine + idle.watcher)} (target <= 150 MB at 20k directories, <= 250 MB at 200k)`);

    // A new directory with one file in it.
    const reconcilesBefore = (run.output().match(/reconciling /g) ?? []).length;
    const body = randomBytes(1024);
    await mkdir(join(src, 'fresh', 'inner'), { recursive: true });
    await writeFile(join(src, 'fresh', 'inner', 'f'), body);
    const landed = await until('new directory', sameBytes(join(dst, 'fresh', 'inner', 'f'), body), 120_000);
    const after = await ownRss(run.child.pid!);
    // A later write inside, so a watcher that cannot see into new directories shows it.
    const body2 = randomBytes(1024);
    await writeFile(join(src, 'fresh', 'inner', 'g'), body2);
    const inside = await until('write inside the new directory', sameBytes(join(dst, 'fresh', 'inner', 'g'), body2), 120_000);
    const replaced = after.watcherPids.some((p) => !idle.watcherPids.includes(p)) || after.watcherPids.length > idle.watcherPids.length;
    const reconciles = (run.output().match(/reconciling /g) ?? []).length - reconcilesBefore;
    log(`new directory: its file landed in ${ms(landed)}, a write inside it ${ms(inside)} later (target < 200 ms); watcher child replaced (root re-crawled): ${replaced ? 'yes' : 'no'}; reconciles: ${reconciles}`);
    log(`RSS just after the new directory: engine ${mb(after.engine)} + watcher ${mb(after.watcher)} = ${mb(after.engine + after.watcher)}`);

    // rm -rf of 10,000 files (whole leaf directories), then the next change.
    const victims = Array.from({ length: VICTIMS }, (_, k) => join(src, dirOf(k)));
    const tRm = performance.now();
    await new Promise<void>((resolve, reject) => {
      const p = spawn('rm', ['-rf', ...victims], { stdio: 'ignore' });
      p.on('error', reject);
      p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`rm exited ${c}`))));
    });
    const rmTook = performance.now() - tRm;
    const body3 = randomBytes(1024);
    await writeFile(join(src, 'after-rm'), body3);
    const next = await until('the change after rm -rf', sameBytes(join(dst, 'after-rm'), body3), 300_000);
    log(`rm -rf of ${victims.length * PER} files in ${victims.length} directories (${ms(rmTook)}), then one new file: landed ${ms(next)} after it was written (target <= 2 s)`);

    // One-file latency, stock switches, against a bare push.
    await sleep(1500);
    const lat: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const b = randomBytes(50 * 1024);
      const name = `latency-${i}.bin`;
      const t = performance.now();
      await writeFile(join(src, name), b);
      await until(name, sameBytes(join(dst, name), b), 10_000);
      lat.push(performance.now() - t);
      await sleep(1200);
    }
    const bare: number[] = [];
    for (let i = 0; i < SAMPLES; i++) bare.push(await barePush(work, daemon));
    log(`one 50 KB file, ${SAMPLES} samples, stock switches: tssersync ${stats(lat)}; bare TCP_NODELAY rsync push median ${ms(median(bare))}; difference ${ms(median(lat) - median(bare))} (target <= 15 ms)`);
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
    if (values.trace) await writeFile(values.trace, run.output());
  }
}

/** One bare `rsync -a -I` push of a 50 KB file to module `one`, TCP_NODELAY: its wall time. */
async function barePush(work: string, daemon: RsyncDaemon): Promise<number> {
  const one = join(work, 'one');
  await mkdir(one, { recursive: true });
  await writeFile(join(one, 'x.bin'), randomBytes(50 * 1024));
  const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, '--sockopts=TCP_NODELAY'];
  return rsync(['-a', '-I', ...auth, 'x.bin', `${daemon.user}@127.0.0.1::one/`], one);
}

/**
 * `tssersync -r -o conf.xml` against `rsync -a --delete`, both on the unchanged tree to a receiver
 * holding it. tssersync's run is timed from its spawn to its `full sync … done` line: node's start,
 * the config, the watcher's scan of the tree (-r starts once the watchers are up) and the rsync.
 */
async function fullScenario(src: string, recv: string, work: string, daemon: RsyncDaemon, log: Log): Promise<void> {
  // The module's directory is the kept receiver copy (DIR/recv), so it survives between runs.
  await mkdir(recv, { recursive: true });
  const moduleDir = daemon.modules.full!;
  await rm(moduleDir, { recursive: true, force: true });
  await symlink(recv, moduleDir);
  const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`];
  const dest = `${daemon.user}@127.0.0.1::full/`;
  const tw = performance.now();
  await rsync(['-a', '--delete', ...auth, './', dest], src);
  log(`full scenario: the receiver brought up to date first (${((performance.now() - tw) / 1000).toFixed(1)} s, not measured); then ${RUNS} runs of each side, alternating, medians`);
  const state = join(work, 'state-full');
  await mkdir(state, { recursive: true });
  const conf = await writeXml(join(work, 'confxml-full.xml'), {
    src, state, daemon, module: 'full',
    tssersync: `<watcher backend="${BACKEND}"/><reconcile interval="0"/>`,
  });
  // The same as one rsync run (<fullSync parts="1"/>, the behaviour before full syncs went in
  // parts, src/sync/full-parts.ts): says what the parts bring, in the same alternation. (The
  // default nice was measured the same way against <priority start="false"/>: it cost nothing
  // measurable; docs/benchmarks.md.)
  const stateOff = join(work, 'state-full-one-run');
  await mkdir(stateOff, { recursive: true });
  const confOff = await writeXml(join(work, 'confxml-full-one-run.xml'), {
    src, state: stateOff, daemon, module: 'full',
    tssersync: `<watcher backend="${BACKEND}"/><reconcile interval="0"/><fullSync parts="1"/>`,
  });
  type M = { wall: number; ready?: number; client: number; server: number; split?: string };
  const ours: M[] = [];
  const oursOff: M[] = [];
  const bare: M[] = [];
  let fullSyncs = 0;
  const oursOnce = async (conf: string): Promise<M> => {
    const s0 = (await cpuMs(daemon.pid!)).children;
    const t0 = performance.now();
    let ready: number | undefined;
    const run = startCli(['-r', '-o', conf, ...(values.trace ? ['--debug'] : [])]);
    try {
      await until('tssersync -r', async () => {
        if (ready === undefined && /watching \d+ root/.test(run.output())) ready = performance.now() - t0;
        if (/full sync of .* failed/.test(run.output())) throw new Error(`full sync failed\n${run.output()}`);
        if (run.child.exitCode !== null) throw new Error(`tssersync exited\n${run.output()}`);
        return /full sync of .* done/.test(run.output());
      }, 1_800_000);
      const wall = performance.now() - t0;
      const cli = await cpuMs(run.child.pid!);
      const { watcherPids } = await ownRss(run.child.pid!);
      let watcher = 0;
      for (const p of watcherPids) watcher += (await cpuMs(p)).own;
      await daemonIdle(daemon.pid!);
      const server = (await cpuMs(daemon.pid!)).children - s0;
      fullSyncs = (run.output().match(/full sync of .* started/g) ?? []).length;
      if (values.trace) await appendFile(values.trace, `--- tssersync -r -o ${conf}\n${run.output()}`);
      const split = `engine ${(cli.own / 1000).toFixed(1)} s, watcher child ${(watcher / 1000).toFixed(1)} s, rsync ${(cli.children / 1000).toFixed(1)} s`;
      return { wall, ready: ready ?? wall, client: cli.own + cli.children + watcher, server, split };
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  };
  const bareOnce = async (): Promise<M> => {
    const [c0, s0, t0] = [(await cpuMs('self')).children, (await cpuMs(daemon.pid!)).children, performance.now()];
    await rsync(['-a', '--delete', ...auth, './', dest], src);
    const wall = performance.now() - t0;
    await daemonIdle(daemon.pid!);
    return { wall, client: (await cpuMs('self')).children - c0, server: (await cpuMs(daemon.pid!)).children - s0 };
  };
  // One of ours unmeasured first: its state dir then holds a clean stop, as every later run sees it.
  await oursOnce(conf);
  await oursOnce(confOff);
  for (let i = 0; i < RUNS; i++) {
    ours.push(await oursOnce(conf));
    bare.push(await bareOnce());
    oursOff.push(await oursOnce(confOff));
    console.log(`  run ${i + 1}: tssersync ${(ours[i]!.wall / 1000).toFixed(2)} s (watching after ${((ours[i]!.ready ?? 0) / 1000).toFixed(2)} s; CPU ${ours[i]!.split}), bare ${(bare[i]!.wall / 1000).toFixed(2)} s, tssersync as one rsync run ${(oursOff[i]!.wall / 1000).toFixed(2)} s`);
  }
  const m = (xs: M[], k: 'wall' | 'ready' | 'client' | 'server') => median(xs.map((x) => x[k] ?? 0));
  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  const cpu = (xs: M[]) => median(xs.map((x) => x.client + x.server));
  log(`tssersync -r -o conf.xml (commonParams -artuz, stock; ${fullSyncs} full sync per run): wall ${s(m(ours, 'wall'))} (runs ${ours.map((x) => s(x.wall)).join(', ')}; of which until \`watching 1 root(s)\` ${ours.map((x) => s(x.ready ?? 0)).join(', ')}), CPU tssersync side (node, watcher child, rsync) ${s(m(ours, 'client'))} + receiver ${s(m(ours, 'server'))}; last run's split: ${ours.at(-1)?.split}`);
  log(`bare rsync -a --delete: wall ${s(m(bare, 'wall'))} (runs ${bare.map((x) => s(x.wall)).join(', ')}), CPU sender ${s(m(bare, 'client'))} + receiver ${s(m(bare, 'server'))}`);
  log(`ratio tssersync -r / bare: wall ${(m(ours, "wall") / m(bare, "wall")).toFixed(2)} (target <= 1.1), CPU ${(cpu(ours) / cpu(bare)).toFixed(2)}`);
  log(`tssersync -r with <fullSync parts="1"/> (one rsync run): wall ${s(m(oursOff, 'wall'))} (runs ${oursOff.map((x) => s(x.wall)).join(', ')}), CPU tssersync side ${s(m(oursOff, 'client'))} + receiver ${s(m(oursOff, 'server'))}; ratio to bare: wall ${(m(oursOff, 'wall') / m(bare, 'wall')).toFixed(2)}, CPU ${(cpu(oursOff) / cpu(bare)).toFixed(2)} (what the parts bring)`);
}

/**
 * The latency matrix: the same 50 KB write with a long (1,200 ms, the old bench) and a short
 * (150 ms) pause between samples, as a new file and as a rewrite of a file the receiver has, per
 * backend; a bare TCP_NODELAY push after each sample, in the pause.
 */
async function latencyScenario(work: string, daemon: RsyncDaemon, log: Log): Promise<void> {
  const src = join(work, 'lat-src');
  await mkdir(src, { recursive: true });
  for (let d = 0; d < 10; d++) {
    await mkdir(join(src, `d${d}`), { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(src, `d${d}`, `f${f}`), 'x'.repeat(100))));
  }
  const pauses = [1200, 150];
  for (const p of pauses) for (let i = 0; i < SAMPLES; i++) await writeFile(join(src, `old-${p}-${i}.bin`), randomBytes(50 * 1024));
  const dst = daemon.modules.lat!;
  const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`];
  log(`latency matrix: one 50 KB file, ${SAMPLES} samples per cell, stock switches (closeWrite on, createFile off), a bare TCP_NODELAY push after each sample in the same run; tree of 1,000 files`);
  for (const backend of ['inotify', 'parcel']) {
    await rsync(['-a', '--delete', ...auth, './', `${daemon.user}@127.0.0.1::lat/`], src);
    const state = join(work, `state-lat-${backend}`);
    await mkdir(state, { recursive: true });
    const conf = await writeXml(join(work, `confxml-lat-${backend}.xml`), {
      src, state, daemon, module: 'lat',
      tssersync: `<watcher backend="${backend}"/><reconcile interval="0"/>`,
    });
    const run = startCli(['-o', conf]);
    try {
      await until('ready', async () => /watching \d+ root/.test(run.output()), 60_000);
      await sleep(2000);
      for (const pause of pauses) {
        for (const kind of ['new file', 'rewrite'] as const) {
          const lat: number[] = [];
          const bare: number[] = [];
          for (let i = 0; i < SAMPLES; i++) {
            const b = randomBytes(50 * 1024);
            const name = kind === 'new file' ? `new-${backend}-${pause}-${i}.bin` : `old-${pause}-${i}.bin`;
            const t = performance.now();
            await writeFile(join(src, name), b);
            await until(name, sameBytes(join(dst, name), b), 10_000);
            lat.push(performance.now() - t);
            const tb = performance.now();
            bare.push(await barePush(work, daemon));
            await sleep(Math.max(0, pause - (performance.now() - tb)));
          }
          log(`${backend}, pause ${pause} ms, ${kind}: tssersync ${stats(lat)}; bare push median ${ms(median(bare))}; difference ${ms(median(lat) - median(bare))}`);
        }
      }
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }
}

/** A Lua string literal (lsyncd's config is Lua): every byte but the printable ASCII as `\ddd`. */
function lua(s: string): string {
  return `"${[...Buffer.from(s)].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`)).join('')}"`;
}

/** lsyncd on the same tree and daemon: its start (watches + its own full rsync), RSS, one new file. */
async function lsyncdScenario(bin: string, src: string, recv: string, work: string, daemon: RsyncDaemon, log: Log): Promise<void> {
  await mkdir(recv, { recursive: true });
  const moduleDir = daemon.modules.full!;
  await rm(moduleDir, { recursive: true, force: true });
  await symlink(recv, moduleDir);
  // The receiver first brought up to date, as for `full`: lsyncd's start then checks, not copies.
  await rsync(['-a', '--delete', `--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, './', `${daemon.user}@127.0.0.1::full/`], src);
  const logFile = join(work, 'lsyncd.log');
  const conf = join(work, 'lsyncd.lua');
  await writeFile(
    conf,
    `settings { logfile = ${lua(logFile)}, statusFile = ${lua(join(work, 'lsyncd.status'))}, nodaemon = true, insist = false }
sync { default.rsync, source = ${lua(src)}, target = ${lua(`${daemon.user}@127.0.0.1::full`)}, delay = 0,
  rsync = { archive = true, password_file = ${lua(daemon.passwordFile)}, _extra = { ${lua(`--port=${daemon.port}`)} } } }
`,
  );
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? '?';
  const t0 = performance.now();
  const p = spawn(bin, [conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const text = () => readFile(logFile, 'utf8').catch(() => '');
  try {
    await until('lsyncd start', async () => {
      if (p.exitCode !== null) throw new Error(`lsyncd exited ${p.exitCode}: ${err}${await text()}`);
      return /Startup of .* finished/.test(await text());
    }, 1_800_000);
    const start = performance.now() - t0;
    const cpu = await cpuMs(p.pid!);
    await sleep(2000);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
    const lat: number[] = [];
    for (let i = 0; i < Math.min(SAMPLES, 5); i++) {
      const body = randomBytes(50 * 1024);
      const name = `lsyncd-${i}.bin`;
      const t = performance.now();
      await writeFile(join(src, name), body);
      await until('lsyncd one file', sameBytes(join(recv, name), body), 120_000);
      lat.push(performance.now() - t);
      await rm(join(src, name));
      await sleep(1500);
    }
    log(`lsyncd (${version}, default.rsync, delay = 0, archive): start until \`Startup … finished\` (its watches, then its own rsync of the whole root: what \`-r\` does) ${(start / 1000).toFixed(2)} s, CPU lsyncd ${(cpu.own / 1000).toFixed(1)} s + its rsync ${(cpu.children / 1000).toFixed(1)} s; RSS idle after it ${Math.round(rss / 1024)} MB; one new 50 KB file landed after median ${Math.round(median(lat))} ms (${lat.map((x) => Math.round(x)).join(', ')} ms)`);
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => (p.exitCode !== null ? r(undefined) : p.once('exit', r)));
  }
}

async function main(): Promise<void> {
  const work = await tempDir('tss-scale-');
  const lines: string[] = [];
  const log = (s: string) => (console.log(s), lines.push(s));
  let daemon: RsyncDaemon | undefined;
  let restoreWatches = async () => {};
  try {
    const needsTree = SCENARIOS.has('watch') || SCENARIOS.has('full') || SCENARIOS.has('lsyncd') || values['build-only'];
    const tree = needsTree ? await prepareTree(values.tree, work.path, log) : undefined;
    if (values['build-only']) return;
    if (tree) restoreWatches = await ensureWatches(DIRS, log);
    daemon = await startRsyncDaemon({ modules: ['live', 'one', 'full', 'lat'] });
    if (tree && SCENARIOS.has('full')) await fullScenario(tree.src, tree.recv, work.path, daemon, log);
    if (tree && SCENARIOS.has('watch')) await watchScenario(tree.src, work.path, daemon, log);
    if (SCENARIOS.has('latency')) await latencyScenario(work.path, daemon, log);
    const lsyncd = spawnSync('which', ['lsyncd'], { encoding: 'utf8' }).stdout.trim();
    if (tree && lsyncd && SCENARIOS.has('lsyncd')) await lsyncdScenario(lsyncd, tree.src, tree.recv, work.path, daemon, log);
    else log(`lsyncd: ${lsyncd ? `installed at ${lsyncd} (measured with --scenarios lsyncd)` : 'not installed on this machine (not measured; apt-get install lsyncd, then --scenarios lsyncd)'}`);
    const rsyncVersion = spawnSync('rsync', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.replace(/\s+/g, ' ').trim();
    log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, ${rsyncVersion}, node ${process.version}, load average at the end ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
    if (values.out) {
      const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
      const block = `\n### Scale run of ${stamp} UTC (\`npm run bench:scale -- --files ${FILES} --dirs ${DIRS} --backend ${BACKEND} --scenarios ${values.scenarios}\`)\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
      const prev = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
      await writeFile(values.out, prev + block);
    }
  } finally {
    // A cleanup error must not hide the error that ended the run.
    await restoreWatches().catch((e: unknown) => console.error(`cleanup: ${e instanceof Error ? e.message : String(e)}`));
    await daemon?.stop().catch((e: unknown) => console.error(`cleanup: ${e instanceof Error ? e.message : String(e)}`));
    await rm(work.path, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
