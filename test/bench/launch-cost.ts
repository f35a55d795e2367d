/**
 * What starting rsync costs one small job (src/sync/priority.ts): the wall time of one push of a
 * new 50 KB file to a local daemon, with tssersync's argv for a path job, started through `nice`
 * and `ionice` (two more execs), through one of them, or directly (the priority then set on the
 * running rsync), against a bare `rsync -a -I --sockopts=TCP_NODELAY` of the same file. ROUNDS
 * rounds (default 15), the forms alternating; prints the median wall time and the client's mean CPU
 * per run (reaped children's utime+stime: 10 ms ticks, so only the mean over many runs means much).
 *
 * Usage (a measurement: under the bench lock): TMPDIR=/mnt/jfs flock /work/bench.lock node --import tsx test/bench/launch-cost.ts [ROUNDS]
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { reapedChildrenMs } from './cpu.js';

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 15);
  const d = await startRsyncDaemon({ modules: ['m'] });
  const src = await tempDir('tss-launch-');
  const auth = [`--port=${d.port}`, `--password-file=${d.passwordFile}`];
  const dest = `${d.user}@127.0.0.1::m/`;
  /** Spawn to exit, as a lane's job sees it. */
  const run = (argv: readonly string[], stdin?: Buffer): Promise<number> =>
    new Promise((resolve, reject) => {
      const t = performance.now();
      const c = spawn(argv[0]!, argv.slice(1), { cwd: src.path, stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'inherit'] });
      if (stdin) c.stdin!.end(stdin);
      c.on('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`exit ${code}: ${argv.join(' ')}`))));
    });
  // tssersync's argv of a one-path job with the stock -artuz (-u dropped), as src/sync/argv.ts builds it.
  const job = (pre: string[], params = ['-artz']) => (f: string): [string[], Buffer] => [
    [...pre, 'rsync', '--info=stats1', '--modify-window=-1', ...params, '-R', '--files-from=-', '--from0', '--delete-missing-args', '--force', '--timeout=100', '--sockopts=TCP_NODELAY', ...auth, './', dest],
    Buffer.from(`${f}\0`),
  ];
  const forms: Record<string, (f: string) => [string[], Buffer?]> = {
    'bare rsync -a -I': (f) => [['rsync', '-a', '-I', '--sockopts=TCP_NODELAY', ...auth, f, dest]],
    'job via nice + ionice': job(['nice', '-n', '10', 'ionice', '-c2', '-n7']),
    'job via nice only': job(['nice', '-n', '10']),
    'job, rsync directly': job([]),
    'job, rsync directly, no -z': job([], ['-art']),
  };
  const times = new Map<string, number[]>();
  const cpu = new Map<string, number>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, form] of Object.entries(forms)) {
        const f = `f${round}-${name.replace(/\W+/g, '-')}.bin`;
        await writeFile(join(src.path, f), randomBytes(50 * 1024));
        const [argv, stdin] = form(f);
        const c0 = await reapedChildrenMs();
        const ms = await run(argv, stdin);
        cpu.set(name, (cpu.get(name) ?? 0) + (await reapedChildrenMs()) - c0);
        times.set(name, [...(times.get(name) ?? []), ms]);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await d.stop();
    await src.cleanup();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`one new 50 KB file pushed to a local daemon: spawn to exit (median of ${rounds}), the client's CPU (mean):`);
  for (const [name, xs] of times) console.log(`  ${name.padEnd(28)} ${median(xs).toFixed(1)} ms, CPU ${((cpu.get(name) ?? 0) / rounds).toFixed(1)} ms`);
}

await main();
