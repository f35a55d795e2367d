/**
 * `npm run bench:rename` — issue 9 item 2: a 100 MB directory renamed inside the root behind a
 * 5 MB/s link (`--bwlimit=5000` in commonParams, for tssersync and bare alike). The CLI runs as a
 * subprocess against a real rsync daemon on 127.0.0.1 holding the old tree; measured from the
 * rename until the destination equals the source (polled by names and sizes, then byte for byte).
 * Bare = one `rsync -a --delete --bwlimit=5000` of the renamed tree to a receiver holding the old
 * one, in the same run. Flags: `--mb N` (default 100), `--kbps N` (default 5000), `--reps N`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCli, writeXml } from '../support/cli.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { snapshot, tempDir, treeDiff, waitFor } from '../support/tree.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, kbps: { type: 'string', default: '5000' }, reps: { type: 'string', default: '3' } } });
const MB = Number(values.mb);
const KBPS = Number(values.kbps);
const REPS = Number(values.reps);

function rsync(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('rsync', args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rsync exited ${code}`))));
  });
}

async function build(src: string): Promise<void> {
  const dir = join(src, 'photos');
  await mkdir(join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < MB / 5; i++) await writeFile(join(dir, i % 2 ? 'sub' : '', `img${i}.jpg`), randomBytes(5 * 1024 * 1024));
  await mkdir(join(src, '2026'), { recursive: true });
}

async function clear(dir: string): Promise<void> {
  for (const e of await readdir(dir)) await rm(join(dir, e), { recursive: true, force: true });
}

async function equal(src: string, dst: string): Promise<void> {
  // Cheap first (names and sizes), then byte for byte.
  await waitFor(async () => (await treeDiff(src, dst, undefined, true)).length === 0, 120_000, 'the remote to equal the source');
  const diff = await treeDiff(src, dst);
  if (diff.length > 0) throw new Error(`not equal byte for byte: ${diff.slice(0, 3).join(', ')}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const daemon: RsyncDaemon = await startRsyncDaemon({ modules: ['ren'] });
  const work = await tempDir('tss-bench-ren-');
  const dst = daemon.modules.ren!;
  const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`];
  const bare: number[] = [];
  const ours: number[] = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      // Bare: the receiver holds the old tree; one rsync of the renamed tree behind the same link.
      const b = join(work.path, `bare${rep}`);
      await build(b);
      await clear(dst);
      await rsync(['-a', ...auth, './', `${daemon.user}@127.0.0.1::ren/`], b);
      await rename(join(b, 'photos'), join(b, '2026', 'photos'));
      let t = performance.now();
      await rsync(['-a', '--delete', `--bwlimit=${KBPS}`, ...auth, './', `${daemon.user}@127.0.0.1::ren/`], b);
      bare.push(performance.now() - t);
      await equal(b, dst);
      await rm(b, { recursive: true });

      const src = join(work.path, `src${rep}`);
      const state = join(work.path, `state${rep}`);
      await build(src);
      await mkdir(state, { recursive: true });
      await clear(dst);
      await rsync(['-a', ...auth, './', `${daemon.user}@127.0.0.1::ren/`], src);
      const xml = await writeXml(join(state, 'confxml.xml'), { src, state, daemon, module: 'ren' });
      const { readFile } = await import('node:fs/promises');
      await writeFile(xml, (await readFile(xml, 'utf8')).replace('params="-artuz"', `params="-artuz --bwlimit=${KBPS}"`));
      const cli = startCli(['-o', xml]);
      try {
        await waitFor(() => /watching 1 root/.test(cli.output()), 30_000, 'tssersync to watch');
        t = performance.now();
        await rename(join(src, 'photos'), join(src, '2026', 'photos-renamed'));
        await equal(src, dst);
        ours.push(performance.now() - t);
      } finally {
        cli.child.kill('SIGTERM');
        await cli.exited;
      }
      await rm(src, { recursive: true });
      console.log(`rep ${rep + 1}: bare ${(bare[rep]! / 1000).toFixed(2)} s, tssersync ${(ours[rep]! / 1000).toFixed(2)} s`);
    }
    const files = (await snapshot(dst, true)).size;
    console.log(`\n${MB} MB directory (${files} entries) renamed behind --bwlimit=${KBPS} (${REPS} runs, medians):`);
    console.log(`  bare rsync -a --delete of the renamed tree: ${(median(bare) / 1000).toFixed(2)} s`);
    console.log(`  tssersync, rename to remote equal:         ${(median(ours) / 1000).toFixed(2)} s (ratio ${(median(ours) / median(bare)).toFixed(2)})`);
  } finally {
    await daemon.stop();
    await work.cleanup();
  }
}

await main();
