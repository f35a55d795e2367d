/**
 * `npm run bench`: tssersync against a bare rsync of the same files, in the same run.
 *
 * 1. Burst: 10,000 files of 10-100 KB in 100 new directories, written into the watched root as fast
 *    as possible. Measured: from the end of the burst until the destination equals the source,
 *    against one bare `rsync -a` of the whole tree to an empty module (cold push).
 * 2. Latency: one 50 KB file written while idle, 20 samples: from the write until the destination
 *    has the same bytes; against a bare rsync push of that one file.
 *
 * The machine is shared and noisy: quote medians and ratios. Usage:
 *   npm run bench [-- --files 10000 --dirs 100 --samples 20 --out docs/benchmarks.md --trace FILE]
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile, readFile, stat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, treeDiff } from '../support/tree.js';
import { startCli, writeXml } from '../support/cli.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    dirs: { type: 'string', default: '100' },
    samples: { type: 'string', default: '20' },
    out: { type: 'string' },
    /** Write tssersync's own output (with --debug: every job) to this file, to see where the time went. */
    trace: { type: 'string' },
  },
});
const FILES = Number(values.files);
const DIRS = Number(values.dirs);
const SAMPLES = Number(values.samples);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.ceil(q * s.length) - 1);
  return s[Math.max(0, i)]!;
}

function rsync(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('rsync', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`rsync exit ${code}: ${err}`))));
  });
}

/** Files and their sizes below dir (cheap completeness check; the final check compares bytes). */
async function sizes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  async function walk(rel: string): Promise<void> {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true }).catch(() => [])) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.set(r, (await stat(join(dir, r)).catch(() => ({ size: -1 }))).size);
    }
  }
  await walk('');
  return out;
}

async function writeBurst(root: string, seed: Buffer): Promise<{ files: number; bytes: number }> {
  let bytes = 0;
  const per = Math.ceil(FILES / DIRS);
  for (let d = 0; d < DIRS; d++) {
    const dir = join(root, `dir${String(d).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: Math.min(per, FILES - d * per) }, (_, i) => {
        const size = 10_240 + ((d * 7919 + i * 104_729) % 92_160);
        bytes += size;
        const off = (d * 31 + i * 17) % (seed.length - size);
        return writeFile(join(dir, `f${i}.bin`), seed.subarray(off, off + size));
      }),
    );
  }
  return { files: FILES, bytes };
}

async function main(): Promise<void> {
  const work = await tempDir('tss-bench-');
  const daemon = await startRsyncDaemon({ modules: ['bare', 'live', 'one'] });
  const seed = randomBytes(4 * 1024 * 1024);
  const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, '--sockopts=TCP_NODELAY'];
  const lines: string[] = [];
  const log = (s: string) => (console.log(s), lines.push(s));
  try {
    // --- bare rsync of the whole burst, cold ---
    const staged = join(work.path, 'staged');
    await mkdir(staged);
    const { bytes } = await writeBurst(staged, seed);
    const bare = await rsync(['-a', ...auth, './', `${daemon.user}@127.0.0.1::bare/`], staged);
    log(`bare rsync -a of ${FILES} files (${(bytes / 1e6).toFixed(0)} MB) to an empty module: ${(bare / 1000).toFixed(2)} s`);

    // --- tssersync on the same burst ---
    const src = join(work.path, 'src');
    const state = join(work.path, 'state');
    await mkdir(src);
    await mkdir(state);
    const conf = await writeXml(join(work.path, 'confxml.xml'), { src, state, daemon, module: 'live' });
    const run = startCli(['-o', conf, ...(values.trace ? ['--debug'] : [])]);
    try {
      await waitFile(join(state, 'running'));
      await sleep(500);
      const t0 = performance.now();
      await writeBurst(src, seed);
      const burstEnd = performance.now();
      const want = await sizes(src);
      const dst = daemon.modules.live!;
      for (;;) {
        const got = await sizes(dst);
        if (got.size >= want.size && [...want].every(([k, v]) => got.get(k) === v)) break;
        if (performance.now() - burstEnd > 300_000) throw new Error('burst did not replicate within 300 s');
        await sleep(20);
      }
      const caughtUp = performance.now() - burstEnd;
      const diffs = await treeDiff(src, dst);
      if (diffs.length) throw new Error(`destination differs after the burst: ${diffs.slice(0, 5).join('; ')}`);
      log(`tssersync burst: writing took ${((burstEnd - t0) / 1000).toFixed(2)} s; destination equal ${(caughtUp / 1000).toFixed(2)} s after the burst ended (ratio to bare rsync: ${(caughtUp / bare).toFixed(2)}); byte-for-byte check passed`);

      // --- single-file latency ---
      await sleep(1000);
      const lat: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const body = randomBytes(50 * 1024);
        const name = `latency-${i}.bin`;
        const t = performance.now();
        await writeFile(join(src, name), body);
        const target = join(dst, name);
        for (;;) {
          const b = await readFile(target).catch(() => undefined);
          if (b && b.equals(body)) break;
          if (performance.now() - t > 10_000) throw new Error(`${name} did not replicate in 10 s`);
          await sleep(1);
        }
        lat.push(performance.now() - t);
        // Idle means idle: the watcher batches events for 50 ms within 500 ms of its previous
        // report, and the planner keeps its leading edge for changes after 1 s of quiet.
        await sleep(1200);
      }
      const one = join(work.path, 'one');
      await mkdir(one);
      await writeFile(join(one, 'x.bin'), randomBytes(50 * 1024));
      const bareOne: number[] = [];
      for (let i = 0; i < SAMPLES; i++) bareOne.push(await rsync(['-a', '-I', ...auth, 'x.bin', `${daemon.user}@127.0.0.1::one/`], one));
      log(`single 50 KB file, ${SAMPLES} samples: tssersync median ${median(lat).toFixed(0)} ms, p95 ${quantile(lat, 0.95).toFixed(0)} ms; bare rsync push median ${median(bareOne).toFixed(0)} ms (ratio ${(median(lat) / median(bareOne)).toFixed(2)})`);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      if (values.trace) await writeFile(values.trace, run.output());
    }
    log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
    if (values.out) {
      const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
      const block = `\n### Run of ${stamp} UTC (\`npm run bench\`)\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
      const prev = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
      await writeFile(values.out, prev + block);
    }
  } finally {
    await daemon.stop();
    await rm(work.path, { recursive: true, force: true });
  }
}

async function waitFile(p: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await stat(p).then(() => true, () => false)) return;
    await sleep(50);
  }
  throw new Error(`${p} did not appear`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
