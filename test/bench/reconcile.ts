/**
 * `npm run bench:reconcile`: the cost of one full reconcile of an unchanged tree, as tssersync runs
 * it (the sync layer's Lane with a full tree request: the same argv and code path as -r, crontab and
 * the periodic reconcile), against a bare `rsync -a --delete` of the same tree, in the same run.
 *
 * Measured per run: wall time, and CPU of the rsync processes on both ends — the client's from this
 * process's reaped children, the receiver's from the daemon's reaped children (/proc/PID/stat
 * cutime+cstime). The machine is shared and noisy: medians and ratios. Usage:
 *   npm run bench:reconcile [-- --files 100000 --runs 5 --out docs/benchmarks.md]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Emit } from '../../src/events.js';
import { Lane } from '../../src/sync/lane.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { daemonRemote, makeConfig } from '../support/config.js';
import { tempDir } from '../support/tree.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    out: { type: 'string' },
  },
});
const FILES = Number(values.files);
const RUNS = Number(values.runs);
const PER_DIR = 100;
const TICK_MS = 10; // CLK_TCK is 100 on Linux

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU ms of a process's reaped children (fields 16 and 17 of /proc/PID/stat). */
async function childCpuMs(pid: number | 'self'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** The receiver's CPU is counted once the daemon has reaped its per-connection child. */
async function daemonIdle(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    if (kids.trim() === '') return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function rsync(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('rsync', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exit ${code}: ${err}`))));
  });
}

async function main(): Promise<void> {
  const work = await tempDir('tss-bench-reconcile-');
  const daemon = await startRsyncDaemon({ modules: ['tree'] });
  const lines: string[] = [];
  const log = (l: string) => (console.log(l), lines.push(l));
  try {
    const src = join(work.path, 'src');
    for (let d = 0; d < FILES / PER_DIR; d++) {
      const dir = join(src, `d${Math.floor(d / 100)}`, `e${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: PER_DIR }, (_, f) => writeFile(join(dir, `f${f}.html`), `<p>${d}/${f}</p>`.repeat(20))));
    }
    const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`];
    const dest = `${daemon.user}@127.0.0.1::tree/`;
    await rsync(['-a', ...auth, './', dest], src);

    const remote = daemonRemote(daemon, 'tree');
    const config = makeConfig(join(work.path, 'state'), [{ path: src, remotes: [remote] }]);
    // debug: the lane puts each run's argv in its job-start event; the report quotes it.
    let argv: readonly string[] = [];
    let parts = 'one run';
    const emit: Emit = (e) => {
      if (e.type === 'job-start' && e.argv) argv = e.argv;
      if (e.type === 'info' && / rsync runs at once/.test(e.message)) parts = e.message.replace(/^.*: (\d+ rsync runs at once)/, '$1');
    };
    // The engine's lane: -n / <threads> (default 10) as its limit, so a full sync goes in parts as
    // it does in tssersync (src/sync/full-parts.ts; the report quotes part 0's argv).
    const lane = new Lane({ remote, rsync: config.rsync, concurrency: config.threads, retries: 0, emit, debug: true });
    const measure = async (run: () => Promise<void>) => {
      const [c0, s0, t0] = [await childCpuMs('self'), await childCpuMs(daemon.pid!), performance.now()];
      await run();
      await daemonIdle(daemon.pid!);
      const [c1, s1, t1] = [await childCpuMs('self'), await childCpuMs(daemon.pid!), performance.now()];
      return { wall: t1 - t0, client: c1 - c0, server: s1 - s0 };
    };
    const ours: Array<{ wall: number; client: number; server: number }> = [];
    const bare: typeof ours = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(
        await measure(async () => {
          const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true, excludes: [] });
          if (!r.ok) throw new Error(`reconcile failed: ${r.outcome.meaning} ${r.outcome.stderrTail}`);
        }),
      );
      bare.push(await measure(() => rsync(['-a', '--delete', ...auth, './', dest], src)));
    }
    await lane.stop('drain');
    const m = (xs: typeof ours, k: 'wall' | 'client' | 'server') => median(xs.map((x) => x[k]));
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    log(`tree: ${FILES.toLocaleString('en')} files in ${FILES / PER_DIR} directories, unchanged since the last sync; ${RUNS} runs each, medians`);
    const shown = argv.map((a) => a.replace(work.path, '$TMP').replace(daemon.dir, '$DAEMON').replace(/^--port=\d+$/, '--port=N')).join(' ');
    log(`tssersync full reconcile (${parts}; the Lane's argv, of part 0 when in parts: \`${shown}\`): wall ${fmt(m(ours, 'wall'))}, CPU sender ${fmt(m(ours, 'client'))} + receiver ${fmt(m(ours, 'server'))}`);
    log(`bare rsync -a --delete: wall ${fmt(m(bare, 'wall'))}, CPU sender ${fmt(m(bare, 'client'))} + receiver ${fmt(m(bare, 'server'))}`);
    log(`ratio tssersync / bare: wall ${(m(ours, 'wall') / m(bare, 'wall')).toFixed(2)}, CPU ${((m(ours, 'client') + m(ours, 'server')) / (m(bare, 'client') + m(bare, 'server'))).toFixed(2)}`);
    const perMillion = (m(ours, 'wall') * 1_000_000) / FILES;
    log(`estimate for 1,000,000 files (linear in entries, not measured): about ${(perMillion / 1000).toFixed(0)} s wall per reconcile`);
    const rsyncVersion = execFileSync('rsync', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/\s+/g, ' ').trim();
    log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${rsyncVersion}, node ${process.version}; CPU from /proc/PID/stat cutime+cstime of this process (sender) and of the rsync daemon (receiver)`);
    if (values.out) {
      const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
      const block = `\n### Full reconcile of an unchanged tree, run of ${stamp} UTC (\`npm run bench:reconcile\`)\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`;
      const prev = await readFile(values.out, 'utf8').catch(() => '# Benchmarks\n');
      await writeFile(values.out, prev + block);
    }
  } finally {
    await daemon.stop();
    await work.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
