/**
 * What a forced send costs (a same-size rewrite within one second could pass the quick check, so
 * the lane forces it: src/sync/argv.ts FORCE_OPTION): 1,000 files of 10-100 KB pushed as one path
 * job (`-artz -R --files-from`) to a daemon that already holds them, then again after a same-size
 * rewrite of every one, with `--ignore-times`, `--checksum` and `-W --ignore-times`, 3 times each,
 * alternating. Prints the client's CPU (reaped children) and the receiving daemon's (its cgroup).
 *
 * Usage (a measurement: under the bench lock): flock /work/bench.lock node --import tsx test/bench/forced-send.ts [FILES]
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { meterFor, reapedChildrenMs } from './cpu.js';

const FORMS: Record<string, string[]> = { '--ignore-times': ['--ignore-times'], '--checksum': ['--checksum'], '-W --ignore-times': ['-W', '--ignore-times'] };

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const d = await startRsyncDaemon({ modules: ['m'] });
  const src = await tempDir('tss-forced-');
  const meter = await meterFor(d.pid!, 'forced-daemon');
  try {
    const seed = randomBytes(4 << 20);
    const rels = Array.from({ length: n }, (_, i) => `d${i % 10}/f${i}.bin`);
    const write = async (salt: number) => {
      for (const [i, rel] of rels.entries()) {
        await mkdir(join(src.path, rel, '..'), { recursive: true });
        const size = 10_240 + ((i * 337) % 92_000);
        const off = (i * 7919 + salt * 104_729) % (seed.length - size);
        await writeFile(join(src.path, rel), seed.subarray(off, off + size));
      }
    };
    const push = (extra: string[]) =>
      new Promise<void>((resolve, reject) => {
        const argv = ['-artz', '--modify-window=-1', '-R', '--files-from=-', '--from0', ...extra, `--port=${d.port}`, `--password-file=${d.passwordFile}`, '--sockopts=TCP_NODELAY', './', `${d.user}@127.0.0.1::m/`];
        const p = spawn('rsync', argv, { cwd: src.path, stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (b: Buffer) => (err += b.toString()));
        p.stdin.end(rels.map((r) => `./${r}\0`).join(''));
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exit ${code}: ${err}`))));
      });
    await write(0);
    await push([]);
    const rows = new Map<string, string[]>();
    for (const rewritten of [false, true]) {
      for (let rep = 0; rep < 3; rep++) {
        for (const [k, [name, extra]] of Object.entries(FORMS).entries()) {
          if (rewritten) await write(1 + rep + 10 * k);
          await new Promise((r) => setTimeout(r, 200));
          const c0 = await reapedChildrenMs();
          const d0 = await meter.usageMs();
          const t0 = performance.now();
          await push(extra);
          const wall = performance.now() - t0;
          await new Promise((r) => setTimeout(r, 200));
          const key = `${rewritten ? 'same-size rewrites' : 'the same files'}, ${name}`;
          rows.set(key, [...(rows.get(key) ?? []), `${Math.round((await reapedChildrenMs()) - c0)}+${Math.round((await meter.usageMs()) - d0)} ms (${Math.round(wall)} ms wall)`]);
        }
      }
    }
    console.log(`${n} files, client + daemon CPU per push (${meter.how}):`);
    for (const [k, v] of rows) console.log(`${k.padEnd(40)} ${v.join(' | ')}`);
  } finally {
    await meter.close();
    await d.stop();
    await src.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
