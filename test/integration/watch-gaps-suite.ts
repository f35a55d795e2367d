/**
 * Every gap of reference/watcher-facts.md, and a seeded storm, through the whole pipeline: the
 * real watcher, the real tools (tar, cp, rm, parallel writer processes) and a real rsync daemon.
 * Each test ends with the destination equal to the source, byte for byte, and the replay log empty.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdir, readdir, rename, rm, rmdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/engine.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { makeConfig, daemonRemote } from '../support/config.js';
import { tempDir, waitForSameTree, AWKWARD_NAMES } from '../support/tree.js';
import type { BackendName } from '../../src/watch/protocol.js';
import { Rng } from '../model/rng.js';

/**
 * The suite, for one backend and one part: `tools` (mkdir -p, mv, tar, cp, rm -rf) or `load` (8
 * writers, the storm). Four files run it (watch-gaps{,-load,-parcel,-parcel-load}.test.ts): a test
 * file has 300 s, and on a loaded machine one part alone takes up to 150 s.
 */
export function gapsSuite(backend: BackendName, part: 'tools' | 'load'): void {
  const tools = part === 'tools';
  const load = part === 'load';
  let daemon: RsyncDaemon;
  let work: { path: string; cleanup: () => Promise<void> };
  const timings: string[] = [];

  before(async () => {
    daemon = await startRsyncDaemon({ modules: ['gaps'] });
    work = await tempDir('tss-gaps-');
  });
  after(async () => {
    console.log(`# convergence: ${timings.join('; ')}`);
    await daemon.stop();
    await work.cleanup();
  });

  /** Run a real tool with an argv array; reject on a non-zero exit. */
  function run(cmd: string, args: readonly string[], cwd?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
    });
  }

  async function withEngine(name: string, fn: (src: string, dst: string, engine: Engine) => Promise<void>, prepare?: (src: string) => Promise<void>): Promise<void> {
    name = `${name}-${backend}`;
    const src = join(work.path, name, 'src');
    const state = join(work.path, name, 'state');
    await mkdir(src, { recursive: true });
    await mkdir(state, { recursive: true });
    // Never an empty root: an empty root halts deletes (the unmount guard), which is not under test here.
    await writeFile(join(src, '.keep'), name);
    const dst = daemon.modules.gaps!;
    for (const e of await readdir(dst)) await rm(join(dst, e), { recursive: true, force: true });
    await prepare?.(src);
    const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'gaps')] }], { retries: 2, debug: Boolean(process.env.TSS_TRACE), watcherBackend: backend });
    const trace: string[] = [];
    const t0 = performance.now();
    const emit = process.env.TSS_TRACE ? (e: import('../../src/events.js').EngineEvent) => void trace.push(`${(performance.now() - t0).toFixed(0)} ${e.type} ${e.message}${'argv' in e && e.argv ? ` argv=${JSON.stringify(e.argv.slice(-12))}` : ''}`) : () => {};
    const engine = new Engine(config, { emit, retryDelayMs: { min: 50, max: 200 }, fullSync: true });
    await engine.start();
    try {
      if (prepare) await waitForSameTree(src, dst, 60000);
      await fn(src, dst, engine);
      const { records } = await engine.replayLog.read();
      assert.deepEqual(records, [], 'the replay log is empty');
    } finally {
      await engine.stop('test');
      if (process.env.TSS_TRACE) await writeFile(join(process.env.TSS_TRACE, `${name}.trace`), trace.join('\n'));
    }
  }

  async function converge(what: string, src: string, dst: string, timeoutMs: number): Promise<void> {
    const t = performance.now();
    await waitForSameTree(src, dst, timeoutMs);
    timings.push(`${what} ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  if (tools) test(`[${backend}] mkdir -p with writes at once and one second later; mv d1 d2 then a write to d2/sub/f`, async () => {
    await withEngine('dirs', async (src, dst) => {
      await mkdir(join(src, 'a/b/c'), { recursive: true });
      await writeFile(join(src, 'a/b/c/now'), 'at once');
      await new Promise((r) => setTimeout(r, 1000));
      await writeFile(join(src, 'a/b/c/later'), 'one second later');
      await converge('mkdir -p', src, dst, 15000);
      await mkdir(join(src, 'd1/sub'), { recursive: true });
      await writeFile(join(src, 'd1/sub/x'), 'x');
      await converge('d1', src, dst, 15000);
      await rename(join(src, 'd1'), join(src, 'd2'));
      await new Promise((r) => setTimeout(r, 300));
      await writeFile(join(src, 'd2/sub/f'), 'after the rename');
      await converge('mv d1 d2', src, dst, 15000);
    });
  });

  if (tools) test(`[${backend}] a tree unpacked with tar x and one copied with cp -r`, async () => {
    const fixture = join(work.path, 'fixture');
    for (let d = 0; d < 50; d++) {
      await mkdir(join(fixture, `dir${d}/inner`), { recursive: true });
      for (let f = 0; f < 20; f++) await writeFile(join(fixture, `dir${d}/inner/f${f}`), `tar ${d} ${f} `.repeat(f + 1));
    }
    const tarball = join(work.path, 'fixture.tar');
    await run('tar', ['-cf', tarball, '-C', work.path, 'fixture']);
    await withEngine('tarcp', async (src, dst) => {
      await mkdir(join(src, 'unpacked'));
      await run('tar', ['-xf', tarball, '-C', join(src, 'unpacked')]);
      await converge('tar x (1000 files)', src, dst, 30000);
      await run('cp', ['-r', fixture, join(src, 'copied')]);
      await converge('cp -r (1000 files)', src, dst, 30000);
    });
  });

  if (tools) test(`[${backend}] rm -rf of a tree of 20,000 entries`, async () => {
    await withEngine(
      'rmrf',
      async (src, dst) => {
        await run('rm', ['-rf', join(src, 'big')]);
        await converge('rm -rf 20,000', src, dst, 60000);
      },
      async (src) => {
        // 100 directories × 199 files = 20,000 entries.
        for (let d = 0; d < 100; d++) {
          const dir = join(src, 'big', `d${d}`);
          await mkdir(dir, { recursive: true });
          await Promise.all(Array.from({ length: 199 }, (_, f) => writeFile(join(dir, `f${f}`), `${d}/${f}`)));
        }
      },
    );
  });

  const WRITER = `
  const { mkdirSync, writeFileSync } = require('node:fs');
  const [dir, count, id] = process.argv.slice(1);
  for (let i = 0; i < Number(count); i++) {
    const sub = dir + '/w' + id + '/d' + (i % 25) + '/e' + (i % 7);
    if (i < 175) mkdirSync(sub, { recursive: true });
    writeFileSync(sub + '/f' + i, 'writer ' + id + ' file ' + i);
  }`;

  if (load) test(`[${backend}] 8 parallel writers creating 50,000 files`, async () => {
    await withEngine('writers', async (src, dst) => {
      await Promise.all(Array.from({ length: 8 }, (_, id) => run(process.execPath, ['-e', WRITER, src, String(50000 / 8), String(id)])));
      // Generous: on a loaded 2-core machine the byte-for-byte check of 2×50,000 files alone takes ~20 s.
      await converge('8 writers 50,000 files', src, dst, 200000);
    });
  });

  /** mulberry32 (test/model/rng.ts): a tiny seeded PRNG, so a failing storm can be replayed exactly. */
  function prng(seed: number): () => number {
    const r = new Rng(seed);
    return () => r.next();
  }

  if (load) test(`[${backend}] a seeded storm of 4,000 mixed operations`, async () => {
    const SEED = 20261124;
    await withEngine('storm', async (src, dst) => {
      const rnd = prng(SEED);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const names = ['a', 'b', 'c', 'data.bin', 'notes.txt', ...AWKWARD_NAMES];
      const dirs = new Set<string>(['']);
      const files = new Set<string>();
      let ops = 0;
      while (ops < 4000) {
        const r = rnd();
        const dir = pick([...dirs]);
        try {
          if (r < 0.3) {
            const f = join(dir, `${pick(names)}${Math.floor(rnd() * 20)}`);
            if (dirs.has(f)) continue;
            await writeFile(join(src, f), `created ${ops} `.repeat(1 + Math.floor(rnd() * 40)));
            files.add(f);
          } else if (r < 0.42 && files.size > 0) {
            await appendFile(join(src, pick([...files])), ` appended ${ops}`);
          } else if (r < 0.5 && files.size > 0) {
            await truncate(join(src, pick([...files])), Math.floor(rnd() * 10));
          } else if (r < 0.6 && files.size > 0) {
            const f = pick([...files]);
            await rm(join(src, f));
            files.delete(f);
          } else if (r < 0.68 && files.size > 0) {
            const f = pick([...files]);
            const to = join(pick([...dirs]), `renamed-${ops}`);
            await rename(join(src, f), join(src, to));
            files.delete(f);
            files.add(to);
          } else if (r < 0.76 && files.size > 0) {
            // Atomic save-over: write a temp file, rename it over the target.
            const f = pick([...files]);
            await writeFile(join(src, `${f}.tmp~`), `saved over at ${ops}`);
            await rename(join(src, `${f}.tmp~`), join(src, f));
          } else if (r < 0.86 && dirs.size < 60) {
            const d = join(dir, `dir${ops}`);
            await mkdir(join(src, d));
            dirs.add(d);
          } else if (r < 0.93 && dirs.size > 1) {
            // Rename a directory (with whatever is inside) to a new name under the root.
            const d = pick([...dirs].filter((x) => x !== ''));
            const to = `moved${ops}`;
            await rename(join(src, d), join(src, to));
            for (const x of [...dirs]) if (x === d || x.startsWith(`${d}/`)) (dirs.delete(x), dirs.add(to + x.slice(d.length)));
            for (const x of [...files]) if (x.startsWith(`${d}/`)) (files.delete(x), files.add(to + x.slice(d.length)));
          } else if (dirs.size > 1) {
            // rmdir when empty, else rm -rf.
            const d = pick([...dirs].filter((x) => x !== ''));
            const inside = [...files].some((x) => x.startsWith(`${d}/`)) || [...dirs].some((x) => x.startsWith(`${d}/`));
            if (inside) await rm(join(src, d), { recursive: true });
            else await rmdir(join(src, d));
            for (const x of [...dirs]) if (x === d || x.startsWith(`${d}/`)) dirs.delete(x);
            for (const x of [...files]) if (x.startsWith(`${d}/`)) files.delete(x);
          } else continue;
          ops++;
          if (ops % 500 === 0) await new Promise((res) => setTimeout(res, 20));
        } catch (err) {
          throw new Error(`storm seed ${SEED}, op ${ops}: ${(err as Error).message}`);
        }
      }
      await converge(`storm of ${ops} ops (seed ${SEED})`, src, dst, 60000);
    });
  });
}
