/**
 * Issue 9 item 2: a rename inside the root costs no data. The whole pipeline (the inotify watcher,
 * the planner, the lane's seed before the job, src/sync/rename.ts) against a real rsync daemon
 * behind a --bwlimit link: a renamed directory (or large file) whose bytes were sent again could
 * not land in the time asserted. Every test ends with the destination equal to the source.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/engine.js';
import type { Config } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { daemonRemote, makeConfig } from '../support/config.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { fullMatch } from '../support/watch-harness.js';
import { tempDir, treeDiff, waitFor, waitForSameTree } from '../support/tree.js';
import { watcherChildPid } from '../support/watcher-child.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  daemon = await startRsyncDaemon({ modules: ['ren'] });
  work = await tempDir('tss-ren-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

const MB = 1024 * 1024;

/** Files of random bytes: `sizes` in bytes, half of them in a subdirectory. */
async function fill(dir: string, sizes: readonly number[]): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  for (const [i, size] of sizes.entries()) await writeFile(join(dir, i % 2 ? 'sub' : '', `f${i}.bin`), randomBytes(size));
}

/** What the remote should hold before the engine starts: a bare push, no bandwidth limit. */
function push(src: string): void {
  const r = spawnSync('rsync', ['-a', `--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, './', `${daemon.user}@127.0.0.1::ren/`], { cwd: src });
  assert.equal(r.status, 0, r.stderr?.toString());
}

async function withEngine(name: string, kbps: number, prepare: (src: string, dst: string) => Promise<void>, fn: (src: string, dst: string, events: EngineEvent[]) => Promise<void>, over: Partial<Config> = {}): Promise<void> {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const dst = daemon.modules.ren!;
  for (const entry of await readdir(dst)) await rm(join(dst, entry), { recursive: true, force: true });
  await prepare(src, dst);
  const events: EngineEvent[] = [];
  const base = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'ren')] }], { debug: true, ...over });
  const config: Config = { ...base, rsync: { ...base.rsync, commonParams: ['-artz', `--bwlimit=${kbps}`] } };
  const engine = new Engine(config, { emit: (e) => events.push(e), retryDelayMs: { min: 50, max: 200 } });
  await engine.start();
  try {
    await fn(src, dst, events);
  } finally {
    await engine.stop('test');
  }
}

/** The engine's events, for a failure's message. */
function trace(events: readonly EngineEvent[]): string {
  return events.map((e) => `${e.type} ${e.message}${'argv' in e && e.argv ? ` ${e.argv.join(' ')}` : ''}`).join('\n');
}

/** Renames, then the time until the destination equals the source. */
async function timed(src: string, dst: string, act: () => Promise<void>, limitMs: number, events: readonly EngineEvent[]): Promise<number> {
  const t = performance.now();
  await act();
  await waitForSameTree(src, dst, limitMs * 4).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${trace(events)}`);
  });
  return performance.now() - t;
}

test('a renamed 100 MB directory behind a 5 MB/s link lands in seconds, not the 20 s its bytes take', async () => {
  await withEngine(
    'big',
    5000,
    async (src) => {
      await fill(join(src, 'photos'), Array.from({ length: 20 }, () => 5 * MB));
      push(src);
      // Into a directory the remote does not have yet (made before the watch: see operations.md on
      // `mkdir d && mv x d/`, where the new directory's own tree job can race the rename).
      await mkdir(join(src, '2026'));
    },
    async (src, dst, events) => {
      const took = await timed(src, dst, () => rename(join(src, 'photos'), join(src, '2026', 'photos-renamed')), 5000, events);
      assert.ok(took < 5000, `took ${took.toFixed(0)} ms: the 100 MB were sent again\n${trace(events)}`);
      assert.equal(existsSync(join(dst, 'photos')), false, 'the old path is deleted on the remote');
    },
  );
});

test('mkdir d && mv x d/: moved in before the new directory had its watch, still not sent again', async () => {
  await withEngine(
    'mkdir-mv',
    5000,
    async (src) => {
      await fill(join(src, 'x'), Array.from({ length: 8 }, () => 5 * MB));
      push(src);
    },
    async (src, dst, events) => {
      const took = await timed(
        src,
        dst,
        async () => {
          // The watcher reads IN_CREATE d only after the move, as under load: no IN_MOVED_TO
          // was raised (d had no watch), and d's scan finds x already watched.
          const pid = watcherChildPid();
          process.kill(pid, 'SIGSTOP');
          try {
            await mkdir(join(src, 'd'));
            await rename(join(src, 'x'), join(src, 'd', 'x'));
          } finally {
            process.kill(pid, 'SIGCONT');
          }
        },
        8000,
        events,
      );
      // 40 MB at 5 MB/s: 8 s if sent again.
      assert.ok(took < 4000, `took ${took.toFixed(0)} ms: the 40 MB were sent again\n${trace(events)}`);
    },
  );
});

test('several directories moved together (mv a/* b/) go as one seed, awkward names included', async () => {
  const names = ['one', 'two words', '-dash', '#hash', 'café'];
  await withEngine(
    'group',
    2000,
    async (src) => {
      for (const n of names) await fill(join(src, 'a', n), [2 * MB, 1 * MB]);
      push(src);
      await mkdir(join(src, 'b'));
    },
    async (src, dst, events) => {
      const took = await timed(
        src,
        dst,
        async () => {
          for (const n of names) await rename(join(src, 'a', n), join(src, 'b', n));
        },
        6000,
        events,
      );
      // 12 MB at 2 MB/s: 6 s if sent again.
      assert.ok(took < 4000, `took ${took.toFixed(0)} ms: the bytes were sent again\n${trace(events)}`);
      const seeded = events.filter((e) => e.type === 'info' && /seeded from the remote's old copy/.test(e.message));
      assert.ok(seeded.length >= names.length, events.map((e) => e.message).join('\n'));
    },
  );
});

test('a large file renamed in its directory uses the old copy as its basis', async () => {
  await withEngine(
    'file',
    2000,
    async (src) => {
      await writeFile(join(src, 'dump.sql'), randomBytes(12 * MB));
      push(src);
    },
    async (src, dst, events) => {
      const took = await timed(src, dst, () => rename(join(src, 'dump.sql'), join(src, 'dump-2026-12-01.sql')), 6000, events);
      assert.ok(took < 4000, `took ${took.toFixed(0)} ms: the 12 MB were sent again`);
    },
  );
});

test('an atomic save (a temp file renamed over its target) costs no extra rsync: no seed, the delete rides with the save', async () => {
  await withEngine(
    'atomic',
    100_000,
    async (src) => {
      await writeFile(join(src, 'config.json'), '{"v":0}');
      push(src);
    },
    async (src, dst, events) => {
      for (let v = 1; v <= 5; v++) {
        // After a quiet spell, as an editor saves: the leading edge applies to each save.
        await new Promise((r) => setTimeout(r, 1100));
        const before = events.filter((e) => e.type === 'job-start').length;
        await writeFile(join(src, `.config.json.tmp${v}`), `{"v":${v}}`);
        await rename(join(src, `.config.json.tmp${v}`), join(src, 'config.json'));
        await waitForSameTree(src, dst);
        const starts = events.filter((e) => e.type === 'job-start').length - before;
        // One rsync for the save, the temp file's delete with it. A second one only when the
        // temp file's close_write reached the engine alone, before the rename: the leading edge
        // sends it at once (a single change after quiet is not held back), and the save follows.
        assert.ok(starts <= 2, `save ${v}: ${starts} rsyncs\n${trace(events)}`);
      }
      assert.ok(!events.some((e) => /seeded|seeding/.test(e.message)), 'no seed for a small file');
    },
  );
});

test('a renamed directory whose old copy the remote lacks, or holds changed, still ends equal', async () => {
  await withEngine(
    'missing',
    100_000,
    async (src, dst) => {
      await fill(join(src, 'never-sent'), [1000, 2000]);
      await fill(join(src, 'changed'), [3000, 4000]);
      push(src);
      await rm(join(dst, 'never-sent'), { recursive: true });
      await writeFile(join(dst, 'changed', 'f0.bin'), 'the remote had something else');
      await writeFile(join(dst, 'changed', 'extra'), 'only on the remote');
    },
    async (src, dst) => {
      await rename(join(src, 'never-sent'), join(src, 'now-sent'));
      await rename(join(src, 'changed'), join(src, 'renamed'));
      await waitForSameTree(src, dst);
      assert.deepEqual((await readdir(dst)).sort(), ['now-sent', 'renamed']);
    },
  );
});

test('a renamed directory keeps the excludes: excluded entries inside it never reach the remote', async () => {
  // One exclude as an rsync glob, one only a local walk can apply (a character class).
  const excludes = [fullMatch('(.*)\\.tmp'), fullMatch('(.*)\\.bak[0-9]')];
  await withEngine(
    'excl',
    100_000,
    async (src) => {
      await fill(join(src, 'd'), [1000, 1000]);
      await writeFile(join(src, 'd', 'x.tmp'), 'excluded');
      await writeFile(join(src, 'd', 'sub', 'y.bak1'), 'excluded');
      push(src);
      // What the remote would hold had it replicated only the kept entries.
      await rm(join(daemon.modules.ren!, 'd', 'x.tmp'));
      await rm(join(daemon.modules.ren!, 'd', 'sub', 'y.bak1'));
    },
    async (src, dst) => {
      await rename(join(src, 'd'), join(src, 'e'));
      const excluded = (rel: string): boolean => /\.tmp$|\.bak[0-9]$/.test(rel);
      await waitFor(async () => (await treeDiff(src, dst, excluded)).length === 0, 15000, 'the remote to equal the source minus the excludes');
      assert.equal(existsSync(join(dst, 'e', 'x.tmp')), false);
      assert.equal(existsSync(join(dst, 'e', 'sub', 'y.bak1')), false);
      assert.equal(existsSync(join(dst, 'd')), false);
    },
    { excludes },
  );
});
