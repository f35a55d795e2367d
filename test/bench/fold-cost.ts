/**
 * What folding a tree job's forced re-send into its tree run trades (src/sync/send-plan.ts
 * FoldBudget): the CPU of a small forced run of its own (a connection: nice, ionice, rsync, the
 * daemon's fork and handshake) against the extra cost of `--checksum` over a tree run, for a tree
 * of 1,000 files of 1-64 KB (33 MB, the storm's shape) and of 2 of its directories (3.3 MB), all
 * already on the receiver. 8 rounds, alternating; prints client + daemon CPU per run (medians).
 *
 * Usage (a measurement: under the bench lock): TMPDIR=/mnt/jfs flock /work/bench.lock node --import tsx test/bench/fold-cost.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';
import { meterFor, reapedChildrenMs } from './cpu.js';
import { pushTo } from './push.js';

async function main() {
  const d = await startRsyncDaemon({ modules: ['m'] });
  const src = await tempDir('tss-fold-');
  const meter = await meterFor(d.pid!, 'fold-daemon');
  const seed = randomBytes(8 << 20);
  const rels: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const rel = `t${String(Math.floor(i / 50)).padStart(2, '0')}/s${i}.dat`;
    await mkdir(join(src.path, rel, '..'), { recursive: true });
    const size = 1024 + ((i * 7919) % (63 * 1024));
    await writeFile(join(src.path, rel), seed.subarray(i * 3, i * 3 + size));
    rels.push(rel);
  }
  const push = (extra: string[], list: string[]) => pushTo(d, src.path, extra, list);
  const dirs = [...new Set(rels.map((r) => r.split('/')[0]!))];
  await push(['-r', '--delete'], dirs);
  const forms: Record<string, [string[], string[]]> = {
    'forced path run, 4 files (--checksum)': [['--checksum', '--force'], rels.slice(0, 4)],
    'tree run, 20 dirs 33 MB, quick check': [['--modify-window=-1', '-r', '--delete', '--force'], dirs],
    'tree run, 20 dirs 33 MB, --checksum': [['--checksum', '-r', '--delete', '--force'], dirs],
    'tree run, 2 dirs 3.3 MB, quick check': [['--modify-window=-1', '-r', '--delete', '--force'], dirs.slice(0, 2)],
    'tree run, 2 dirs 3.3 MB, --checksum': [['--checksum', '-r', '--delete', '--force'], dirs.slice(0, 2)],
  };
  const rows = new Map<string, number[]>();
  for (let rep = 0; rep < 8; rep++) {
    for (const [k, [extra, list]] of Object.entries(forms)) {
      await new Promise((r) => setTimeout(r, 100));
      const c0 = await reapedChildrenMs();
      const d0 = await meter.usageMs();
      await push(extra, list);
      await new Promise((r) => setTimeout(r, 100));
      rows.set(k, [...(rows.get(k) ?? []), (await reapedChildrenMs()) - c0 + (await meter.usageMs()) - d0]);
    }
  }
  for (const [k, v] of rows) { const s = [...v].sort((a, b) => a - b); console.log(`${k.padEnd(42)} median ${s[4]!.toFixed(0)} ms  (${s.map((x) => x.toFixed(0)).join(' ')})`); }
  await meter.close(); await d.stop(); await src.cleanup();
}
main().catch((e) => { console.error(e); process.exit(1); });
