/**
 * A storm's tree job sent both ways (src/sync/send-plan.ts FoldBudget): a tree run with the quick
 * check and a forced run (`--checksum`) of the files that need it, against one run with
 * `--checksum` over everything. The remote holds a 1,000-file tree (20 directories, 1-64 KB); the
 * job brings DIRS new directories of 6 files (0.5-16 KB), RIDING riding files rewritten (half the
 * same size), FR of them and FA of the new files forced. The remote is restored before each run.
 * 8 rounds, alternating; prints client + daemon CPU (medians).
 *
 * Usage (under the bench lock): DIRS=80 RIDING=200 FR=50 FA=20 TMPDIR=/mnt/jfs flock /work/bench.lock node --import tsx test/bench/fold-job.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { meterFor, reapedChildrenMs } from './cpu.js';
import { pushTo } from './push.js';

async function main() {
  const d = await startRsyncDaemon({ modules: ['m'] });
  const src = await tempDir('tss-foldjob-');
  const pristine = await tempDir('tss-foldjob-p-');
  const meter = await meterFor(d.pid!, 'foldjob-daemon');
  const seed = randomBytes(8 << 20);
  const dest = d.modules['m']!;
  const sizes: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const rel = `t${String(Math.floor(i / 50)).padStart(2, '0')}/s${i}.dat`;
    await mkdir(join(src.path, rel, '..'), { recursive: true });
    const size = 1024 + ((i * 7919) % (63 * 1024));
    sizes.push(size);
    await writeFile(join(src.path, rel), seed.subarray(i * 3, i * 3 + size));
  }
  const push = (extra: string[], list: string[]) => pushTo(d, src.path, extra, list);
  const dirs = [...new Set(Array.from({ length: 1000 }, (_, i) => `t${String(Math.floor(i / 50)).padStart(2, '0')}`))];
  await push(['-r', '--delete'], dirs);
  spawnSync('cp', ['-a', `${dest}/.`, pristine.path]);
  // The storm's later tree job: 80 new directories of 6 files, 200 riding files rewritten (half same size), 50 of them and 20 new files forced.
  const riding: string[] = [];
  for (let k = 0; k < Number(process.env.RIDING ?? 200); k++) {
    const i = (k * 37) % 1000;
    const rel = `t${String(Math.floor(i / 50)).padStart(2, '0')}/s${i}.dat`;
    const size = k % 2 === 0 ? sizes[i]! : 512 + ((k * 131) % 32768);
    await writeFile(join(src.path, rel), seed.subarray(5_000_000 + k, 5_000_000 + k + size));
    riding.push(rel);
  }
  const trees: string[] = [];
  const also: string[] = [];
  for (let n = 0; n < Number(process.env.DIRS ?? 80); n++) {
    trees.push(`nd${n}`);
    await mkdir(join(src.path, `nd${n}`));
    for (let j = 0; j < 6; j++) {
      await writeFile(join(src.path, `nd${n}/n${j}.dat`), seed.subarray(n * 100 + j, n * 100 + j + 512 + ((n * 7 + j * 977) % 16384)));
      also.push(`nd${n}/n${j}.dat`);
    }
  }
  const forcedRiding = riding.slice(0, Number(process.env.FR ?? 50));
  const forcedAlso = also.slice(0, Number(process.env.FA ?? 20));
  const restRiding = riding.slice(forcedRiding.length);
  const forms: Record<string, () => Promise<void>> = {
    'two runs: tree (quick check) + forced run': async () => {
      await push(['--modify-window=-1', '-r', '--delete', '--force'], [...trees, ...restRiding]);
      await push(['--checksum', '--force'], [...forcedAlso, ...forcedRiding]);
    },
    'one run, --checksum over trees and riding files': async () => {
      await push(['--checksum', '-r', '--delete', '--force'], [...trees, ...riding]);
    },
  };
  const rows = new Map<string, number[]>();
  for (let rep = 0; rep < 8; rep++) {
    for (const [k, run] of Object.entries(forms)) {
      spawnSync('sh', ['-c', `rm -rf "${dest}"/* && cp -a "${pristine.path}"/. "${dest}"/`]);
      await new Promise((r) => setTimeout(r, 150));
      const c0 = await reapedChildrenMs();
      const d0 = await meter.usageMs();
      await run();
      await new Promise((r) => setTimeout(r, 150));
      rows.set(k, [...(rows.get(k) ?? []), (await reapedChildrenMs()) - c0 + (await meter.usageMs()) - d0]);
    }
  }
  for (const [k, v] of rows) { const s = [...v].sort((a, b) => a - b); console.log(`${k.padEnd(50)} median ${((s[3]! + s[4]!) / 2).toFixed(0)} ms  (${s.map((x) => x.toFixed(0)).join(' ')})`); }
  await meter.close(); await d.stop(); await src.cleanup(); await pristine.cleanup();
}
main().catch((e) => { console.error(e); process.exit(1); });
