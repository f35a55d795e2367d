/**
 * What an rsync run form costs, without a writer running: the 10k burst (562 MB in 100 new
 * directories) pushed to an empty module, 3 times each, alternating: bare `rsync -a`, bare
 * `-artz`, tssersync's tree argv (nice/ionice, --modify-window=-1, -R --files-from -r --delete
 * --delete-missing-args) in one run, without -z, in 8 runs, and in 8 runs two at once. Prints the
 * receiving daemon's CPU (its own cgroup) and the client's (reaped children).
 *
 * Usage (a measurement: under the bench lock): flock /work/bench.lock node --import tsx test/bench/argv-cost.ts
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { meterFor, reapedChildrenMs } from './cpu.js';
import { writeBurst } from './writers.js';

function run(argv: string[], cwd: string, stdin?: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.stdin.end(stdin ? Buffer.from(stdin.map((s) => `${s}\0`).join('')) : undefined);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exit ${code}: ${err}`))));
  });
}

async function main(): Promise<void> {
  const d = await startRsyncDaemon({ modules: ['m'] });
  const daemonCpu = await meterFor(d.pid!, `argv-cost-${process.pid}`);
  const work = await tempDir('tss-argv-cost-');
  try {
    const src = join(work.path, 'src');
    await mkdir(src);
    await writeBurst(src, randomBytes(4 * 1024 * 1024), 10_000, 100);
    const dirs = (await readdir(src)).sort();
    const auth = [`--port=${d.port}`, `--password-file=${d.passwordFile}`, '--sockopts=TCP_NODELAY'];
    const dest = `${d.user}@127.0.0.1::m/`;
    const tss = (z: boolean) => ['/usr/bin/nice', '-n', '10', '/usr/bin/ionice', '-c2', '-n7', 'rsync', '--info=stats1', '--modify-window=-1', z ? '-artz' : '-art', '-R', '--files-from=-', '--from0', '-r', '--delete', '--force', '--delete-missing-args', ...auth, './', dest];
    const parts = Array.from({ length: 8 }, (_, i) => dirs.slice(i * 13, i * 13 + 13));
    const variants: Record<string, () => Promise<void>> = {
      'bare -a': () => run(['rsync', '-a', ...auth, './', dest], src),
      'bare -artz': () => run(['rsync', '-artz', ...auth, './', dest], src),
      "tssersync's tree argv, 1 run": () => run(tss(true), src, dirs),
      "tssersync's tree argv without -z, 1 run": () => run(tss(false), src, dirs),
      "tssersync's tree argv, 8 runs": async () => {
        for (const p of parts) await run(tss(true), src, p);
      },
      "tssersync's tree argv, 8 runs, 2 at once": async () => {
        await Promise.all([0, 1].map(async (k) => { for (let i = k; i < parts.length; i += 2) await run(tss(true), src, parts[i]!); }));
      },
    };
    const res: Record<string, { daemon: number; client: number }[]> = {};
    for (let rep = 0; rep < 3; rep++) {
      for (const [name, fn] of Object.entries(variants)) {
        for (const n of await readdir(d.modules.m!)) await rm(join(d.modules.m!, n), { recursive: true, force: true });
        const d0 = await daemonCpu.usageMs();
        const c0 = await reapedChildrenMs();
        await fn();
        (res[name] ??= []).push({ daemon: (await daemonCpu.usageMs()) - d0, client: (await reapedChildrenMs()) - c0 });
      }
    }
    const s = (ms: number) => (ms / 1000).toFixed(2);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [name, xs] of Object.entries(res)) {
      console.log(`${name}: daemon ${xs.map((x) => s(x.daemon)).join(' / ')} s (median ${s(med(xs.map((x) => x.daemon)))}), client ${xs.map((x) => s(x.client)).join(' / ')} s`);
    }
  } finally {
    await daemonCpu.close();
    await d.stop();
    await work.cleanup();
  }
}

void main();
