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
 * The tree is built once per run in a temp dir (and removed after). The receiver starts empty: no
 * step needs the old files there. Usage:
 *   npm run bench:scale -- [--files 1000000] [--dirs 20000] [--backend inotify|parcel] [--samples 10] [--out docs/benchmarks.md]
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { startCli, writeXml } from '../support/cli.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000000' },
    dirs: { type: 'string', default: '20000' },
    backend: { type: 'string', default: 'inotify' },
    samples: { type: 'string', default: '10' },
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

/** 2-level layout: d000/d00000 … so no directory holds more than a few hundred entries. */
function dirOf(i: number): string {
  return `t${String(i % 100).padStart(2, '0')}/d${String(i).padStart(5, '0')}`;
}

async function buildTree(root: string): Promise<void> {
  const per = Math.ceil(FILES / DIRS);
  const body = Buffer.alloc(100, 'x');
  const t = performance.now();
  for (let d = 0; d < DIRS; d += 20) {
    const group = Array.from({ length: Math.min(20, DIRS - d) }, (_, k) => d + k);
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

async function main(): Promise<void> {
  const work = await tempDir('tss-scale-');
  const daemon = await startRsyncDaemon({ modules: ['live', 'one'] });
  const lines: string[] = [];
  const log = (s: string) => (console.log(s), lines.push(s));
  try {
    const src = join(work.path, 'src');
    const state = join(work.path, 'state');
    await mkdir(state, { recursive: true });
    const tb = performance.now();
    await buildTree(src);
    log(`tree: ${FILES.toLocaleString('en')} files of 100 B in ${DIRS.toLocaleString('en')} directories (+100 parents), built in ${((performance.now() - tb) / 1000).toFixed(0)} s; backend ${BACKEND}`);
    const dst = daemon.modules.live!;
    const conf = await writeXml(join(work.path, 'confxml.xml'), {
      src, state, daemon, module: 'live',
      tssersync: `<watcher backend="${BACKEND}"/><reconcile interval="0"/>`,
    });

    const run = startCli(['-o', conf, ...(values.trace ? ['--debug'] : [])]);
    try {
      const ready = await until('ready', async () => /watching \d+ root/.test(run.output()), 600_000);
      log(`ready: ${(ready / 1000).toFixed(2)} s after start (target <= 10 s at 1M files)`);
      await sleep(3000);
      const idle = await ownRss(run.child.pid!);
      log(`RSS idle: engine ${mb(idle.engine)} + watcher ${mb(idle.watcher)} = ${mb(idle.engine + idle.watcher)} (target <= 150 MB)`);

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
      const per = Math.ceil(FILES / DIRS);
      const victims = Array.from({ length: Math.ceil(10_000 / per) }, (_, k) => join(src, dirOf(k)));
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
      log(`rm -rf of ${victims.length * per} files in ${victims.length} directories (${ms(rmTook)}), then one new file: landed ${ms(next)} after it was written (target <= 2 s)`);

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
      const one = join(work.path, 'one');
      await mkdir(one);
      await writeFile(join(one, 'x.bin'), randomBytes(50 * 1024));
      const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, '--sockopts=TCP_NODELAY'];
      const bare: number[] = [];
      for (let i = 0; i < SAMPLES; i++) bare.push(await rsync(['-a', '-I', ...auth, 'x.bin', `${daemon.user}@127.0.0.1::one/`], one));
      log(`one 50 KB file, ${SAMPLES} samples, stock switches: tssersync median ${ms(median(lat))} (min ${ms(Math.min(...lat))}, max ${ms(Math.max(...lat))}); bare TCP_NODELAY rsync push median ${ms(median(bare))}; difference ${ms(median(lat) - median(bare))} (target <= 15 ms)`);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      if (values.trace) await writeFile(values.trace, run.output());
    }
    log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, load average at the end ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
    if (values.out) {
      const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
      const block = `\n### Scale run of ${stamp} UTC (\`npm run bench:scale -- --files ${FILES} --dirs ${DIRS} --backend ${BACKEND}\`)\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
      const prev = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
      await writeFile(values.out, prev + block);
    }
  } finally {
    // A cleanup error must not hide the error that ended the run.
    await daemon.stop().catch((e: unknown) => console.error(`cleanup: ${e instanceof Error ? e.message : String(e)}`));
    await rm(work.path, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
