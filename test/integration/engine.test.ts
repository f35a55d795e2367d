/**
 * The whole pipeline against real parts: the real watcher on temp dirs, the real rsync against a
 * real rsync daemon on 127.0.0.1 (auth, password file 0600, custom port). Every test ends with the
 * destination equal to the source, byte for byte.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, chmod, cp, lstat, mkdir, rename, rm, utimes, writeFile, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Engine } from '../../src/engine.js';
import { INOTIFY_TREE_QUIET_MS } from '../../src/core/planner.js';
import { ReplayLog } from '../../src/replay/log.js';
import type { EngineEvent } from '../../src/events.js';
import type { Config } from '../../src/config/types.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { makeConfig, daemonRemote } from '../support/config.js';
import { tempDir, waitForSameTree, AWKWARD_NAMES, waitFor } from '../support/tree.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
const events: EngineEvent[] = [];
const fast = { min: 50, max: 200 };

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['backup', 'second', 'third'] });
  work = await tempDir('tss-engine-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

/** Catch-up margin for these tests (the default 2 s only makes them wait). */
const MARGIN_MS = 200;

/** Resolves once every entry under `dir` last changed (ctime) more than `ms` ago. */
async function olderThan(dir: string, ms: number): Promise<void> {
  const newest = async (d: string): Promise<number> => {
    let t = (await lstat(d)).ctimeMs;
    for (const e of await readdir(d, { withFileTypes: true })) t = Math.max(t, e.isDirectory() ? await newest(join(d, e.name)) : (await lstat(join(d, e.name))).ctimeMs);
    return t;
  };
  const last = await newest(dir);
  await waitFor(() => Date.now() - last > ms + 20, ms + 5000, `${dir} to be older than ${ms} ms`);
}

async function withEngine(name: string, fn: (src: string, dst: string, engine: Engine) => Promise<void>, module = 'backup', over: Partial<Config> = {}): Promise<void> {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  // Tests share the daemon's modules: each starts from an empty destination.
  const dest = daemon.modules[module]!;
  for (const entry of await readdir(dest)) await rm(join(dest, entry), { recursive: true, force: true });
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, module)] }], over);
  const engine = new Engine(config, { emit: (e) => events.push(e), retryDelayMs: fast });
  await engine.start();
  try {
    await fn(src, daemon.modules[module]!, engine);
  } finally {
    await engine.stop('test');
  }
}

test('create, modify, append, truncate, delete and rename files', async () => {
  await withEngine('files', async (src, dst) => {
    await writeFile(join(src, 'a.txt'), 'one');
    await writeFile(join(src, 'b.txt'), 'bee');
    await waitForSameTree(src, dst);
    await writeFile(join(src, 'a.txt'), 'two!');
    await appendFile(join(src, 'b.txt'), ' appended');
    await waitForSameTree(src, dst);
    await writeFile(join(src, 'b.txt'), '');
    await rename(join(src, 'a.txt'), join(src, 'renamed.txt'));
    await waitForSameTree(src, dst);
    await rm(join(src, 'renamed.txt'));
    await waitForSameTree(src, dst);
    assert.deepEqual((await readdir(dst)).sort(), ['b.txt']);
  });
});

test("a root the inotify backend watches gets its shorter tree quiet; a parcel one keeps the default; a new directory lands with either", async () => {
  for (const backend of ['inotify', 'parcel'] as const) {
    await withEngine(`tree-quiet-${backend}`, async (src, dst, engine) => {
      assert.equal(engine.channels[0]?.treeQuietMs, backend === 'inotify' ? INOTIFY_TREE_QUIET_MS : undefined);
      await mkdir(join(src, 'new', 'sub'), { recursive: true });
      for (let i = 0; i < 20; i++) await writeFile(join(src, 'new', 'sub', `f${i}`), randomBytes(1000));
      await waitForSameTree(src, dst);
    }, 'backup', { watcherBackend: backend });
  }
});

test('same-size rewrite within one second reaches the backup', async () => {
  await withEngine('samesize', async (src, dst) => {
    for (const v of ['AAAA', 'BBBB', 'CCCC', 'AAAA']) {
      await writeFile(join(src, 'counter'), v);
      await waitForSameTree(src, dst);
    }
    assert.equal(await readFile(join(dst, 'counter'), 'utf8'), 'AAAA');
  });
});

test('directories: mkdir -p with files at once and one second later, rename, delete', async () => {
  await withEngine('dirs', async (src, dst, engine) => {
    await mkdir(join(src, 'a/b/c'), { recursive: true });
    await writeFile(join(src, 'a/b/c/f1'), 'at once');
    await waitForSameTree(src, dst);
    // Later: once the new directories' work is done, a file in them is a change of its own.
    await engine.idle();
    await writeFile(join(src, 'a/b/c/f2'), 'written later');
    await waitForSameTree(src, dst);
    await mkdir(join(src, 'd1/sub'), { recursive: true });
    await writeFile(join(src, 'd1/sub/x'), 'x');
    await waitForSameTree(src, dst);
    await rename(join(src, 'd1'), join(src, 'd2'));
    await waitForSameTree(src, dst);
    await engine.idle();
    await writeFile(join(src, 'd2/sub/f'), 'written after the rename');
    await waitForSameTree(src, dst);
    await rm(join(src, 'a'), { recursive: true });
    await waitForSameTree(src, dst);
    assert.ok(!existsSync(join(dst, 'a')));
  });
});

// chmod reaches the remote through the attrib switch (Sersync's <attrib start="true"/>): the inotify
// backend honours it (IN_ATTRIB is only asked of the kernel when it is on); @parcel/watcher folded
// attribute changes into updates whatever the switch said.
test('a tree copied in with cp -r, and attribute changes (attrib on)', async () => {
  const fixture = join(work.path, 'fixture');
  for (let d = 0; d < 10; d++) {
    await mkdir(join(fixture, `dir${d}/deeper`), { recursive: true });
    for (let f = 0; f < 20; f++) await writeFile(join(fixture, `dir${d}/deeper/f${f}`), `content ${d} ${f}`.repeat(f + 1));
  }
  await withEngine('cpr', async (src, dst) => {
    await cp(fixture, join(src, 'copied'), { recursive: true });
    await waitForSameTree(src, dst);
    await chmod(join(src, 'copied/dir3/deeper/f7'), 0o600);
    await chmod(join(src, 'copied/dir4'), 0o700);
    await waitForSameTree(src, dst);
  }, 'backup', { events: { delete: true, createFolder: true, createFile: false, closeWrite: true, moveFrom: true, moveTo: true, attrib: true, modify: false } });
});

test('names that break other tools replicate and run nothing', async () => {
  await withEngine('awkward', async (src, dst) => {
    await mkdir(join(src, 'sub dir'), { recursive: true });
    for (const n of AWKWARD_NAMES) {
      await writeFile(join(src, n), `content of ${n}`);
      await writeFile(join(src, 'sub dir', n), `nested ${n}`);
    }
    await waitForSameTree(src, dst);
    for (const n of AWKWARD_NAMES.slice(0, 8)) await rm(join(src, n));
    await waitForSameTree(src, dst);
    const everywhere = [...(await readdir(src)), ...(await readdir(dst)), ...(await readdir(process.cwd()))];
    assert.ok(!everywhere.some((n) => n.startsWith('PWNED')), 'a file name ran a command');
  }, 'second');
});

test('two remotes, one down: the other still gets everything; the failures go to the replay log', async () => {
  const dead = await startRsyncDaemon();
  await dead.kill();
  const src = join(work.path, 'tworemotes', 'src');
  const state = join(work.path, 'tworemotes', 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'third'), daemonRemote(dead, 'backup')] }], { retries: 1 });
  const engine = new Engine(config, { emit: (e) => events.push(e), retryDelayMs: { min: 10, max: 20 } });
  await engine.start();
  try {
    for (let i = 0; i < 30; i++) await writeFile(join(src, `f${i}`), `file ${i}`);
    await waitForSameTree(src, daemon.modules.third!);
    const records = await waitFor(async () => {
      const { records } = await engine.replayLog.read();
      return records.length >= 30 ? records : undefined;
    }, 20000, 'replay records for the dead remote');
    assert.ok(records.every((r) => r.remote === daemonRemote(dead, 'backup').id));
    assert.deepEqual(new Set(records.map((r) => r.path)).size, 30);
  } finally {
    await engine.stop('test');
    await dead.stop();
  }
});

test('several roots, each to its own remote', async () => {
  const base = join(work.path, 'roots');
  const r1 = join(base, 'r1');
  const r2 = join(base, 'r2');
  const state = join(base, 'state');
  for (const d of [r1, r2, state]) await mkdir(d, { recursive: true });
  const d2 = await startRsyncDaemon({ modules: ['one', 'two'] });
  const config = makeConfig(state, [
    { path: r1, remotes: [daemonRemote(d2, 'one')] },
    { path: r2, remotes: [daemonRemote(d2, 'two')] },
  ]);
  const engine = new Engine(config, { emit: () => {}, retryDelayMs: fast });
  await engine.start();
  try {
    await writeFile(join(r1, 'in-one'), '1');
    await mkdir(join(r2, 'nested/dir'), { recursive: true });
    await writeFile(join(r2, 'nested/dir/in-two'), '2');
    await waitForSameTree(r1, d2.modules.one!);
    await waitForSameTree(r2, d2.modules.two!);
  } finally {
    await engine.stop('test');
    await d2.stop();
  }
});

test('a stop right after writes keeps the changes still in the watcher batch; the next start sends them', async () => {
  const src = join(work.path, 'stopnow', 'src');
  const state = join(work.path, 'stopnow', 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const dst = daemon.modules.backup!;
  for (const entry of await readdir(dst)) await rm(join(dst, entry), { recursive: true, force: true });
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'backup')] }]);
  const first = new Engine(config, { emit: () => {}, retryDelayMs: fast });
  await first.start();
  for (let i = 0; i < 50; i++) await writeFile(join(src, `late-${i}`), `written just before the stop ${i}`);
  await first.stop('test'); // no wait: the last events are still in @parcel/watcher's 50 ms window
  const second = new Engine(config, { emit: () => {}, retryDelayMs: fast });
  await second.start();
  try {
    await waitForSameTree(src, dst);
  } finally {
    await second.stop('test');
  }
});

test('changes made while stopped cleanly are sent at the next start without -r: by ctime, scoped, excludes honoured', async () => {
  const src = join(work.path, 'downtime', 'src');
  const state = join(work.path, 'downtime', 'state');
  const dst = daemon.modules.backup!;
  for (const entry of await readdir(dst)) await rm(join(dst, entry), { recursive: true, force: true });
  const files: Record<string, string> = { 'top.txt': 'top', 'keep/a.txt': 'a', 'keep/deep/b.txt': 'b', 'edit/c.txt': 'cccc', 'gone/sub/e.txt': 'e', 'moved/f.txt': 'f', 'skip/x.tmp': 'x' };
  for (const [p, body] of Object.entries(files)) {
    await mkdir(join(src, p, '..'), { recursive: true });
    await writeFile(join(src, p), body);
  }
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'backup')] }], {
    excludes: [{ source: '(.*)\\.tmp', regex: /^(?:(.*)\.tmp)$/ }],
  });
  const run = async (fn: () => Promise<void>, fullSync = false) => {
    const seen: EngineEvent[] = [];
    const engine = new Engine(config, { emit: (e) => seen.push(e), retryDelayMs: fast, fullSync, tuning: { catchUpMarginMs: MARGIN_MS } });
    await engine.start();
    try {
      await fn();
    } finally {
      await engine.stop('test');
    }
    return seen;
  };
  const excludedTmp = (rel: string) => rel.endsWith('.tmp');
  await run(async () => {
    await waitForSameTree(src, dst, 15000, excludedTmp);
    // Catch-up looks MARGIN_MS behind the stop time; what is not changed while down must be older.
    await olderThan(src, MARGIN_MS);
  }, true);
  // Only on the remote: a full sync of the root would delete it, a scoped catch-up does not.
  const canary = join(dst, 'canary-on-the-remote-only');
  await writeFile(canary, 'a full sync of the root deletes me');
  const notCanary = (rel: string) => excludedTmp(rel) || rel === 'canary-on-the-remote-only';

  // Down: only nested changes. A same-size rewrite given back its old mtime (as tar x or cp -p do)
  // is found by ctime, which no tool can set back.
  await writeFile(join(src, 'edit/c.txt'), 'CCCC');
  await utimes(join(src, 'edit/c.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
  await writeFile(join(src, 'keep/deep/new.txt'), 'made while stopped');
  await rm(join(src, 'gone/sub/e.txt'));
  await rename(join(src, 'moved/f.txt'), join(src, 'moved/g.txt'));
  await chmod(join(src, 'keep/a.txt'), 0o600);
  await writeFile(join(src, 'skip/x.tmp'), 'excluded, changed while stopped');
  await run(async () => {
    await waitForSameTree(src, dst, 15000, notCanary);
    await olderThan(src, MARGIN_MS);
  });
  assert.ok(existsSync(canary), 'scoped, not a full sync of the root');
  // One exclude model (issue 8): no route sends an excluded path, the -r full sync included.
  assert.equal(existsSync(join(dst, 'skip/x.tmp')), false, 'an excluded path is not sent');

  // Down again: the root itself changes (a new top-level entry, a whole directory removed).
  await writeFile(join(src, 'top2.txt'), 'new at the top');
  await rm(join(src, 'gone'), { recursive: true });
  await run(() => waitForSameTree(src, dst, 15000, excludedTmp));
  assert.equal(existsSync(join(dst, 'gone')), false);
  assert.equal(existsSync(canary), false, 'the root itself changed: a full sync');
});

test('a remote added to the config between runs gets a full sync at the next start, without -r', async () => {
  const src = join(work.path, 'newremote', 'src');
  const state = join(work.path, 'newremote', 'state');
  await mkdir(join(src, 'old/deep'), { recursive: true });
  for (const m of ['backup', 'second']) for (const entry of await readdir(daemon.modules[m]!)) await rm(join(daemon.modules[m]!, entry), { recursive: true, force: true });
  await writeFile(join(src, 'old/deep/long-ago.txt'), 'written before the remote existed');
  await writeFile(join(src, 'top.txt'), 'top');
  const one = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'backup')] }]);
  const tuning = { catchUpMarginMs: MARGIN_MS };
  const first = new Engine(one, { emit: () => {}, retryDelayMs: fast, fullSync: true, tuning });
  await first.start();
  try {
    await waitForSameTree(src, daemon.modules.backup!);
    // Older than the catch-up margin, so only the new-remote rule can send these files.
    await olderThan(src, MARGIN_MS);
  } finally {
    await first.stop('test');
  }
  const two = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'backup'), daemonRemote(daemon, 'second')] }]);
  const second = new Engine(two, { emit: () => {}, retryDelayMs: fast, tuning });
  await second.start();
  try {
    await waitForSameTree(src, daemon.modules.second!);
    await waitForSameTree(src, daemon.modules.backup!);
  } finally {
    await second.stop('test');
  }
});

test('a plugin-only run (-m) on the same state dir keeps its own pending file and marker: the daemon\'s are untouched', async () => {
  const src = join(work.path, 'mstate', 'src');
  const state = join(work.path, 'mstate', 'state');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'a.txt'), 'a');
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'third')] }], {
    plugins: [{ kind: 'command', prefix: ['/bin/true'], suffix: [], ignoreError: true, include: [], concurrency: 1, timeoutMs: 5000 }],
  });
  const daemonRun = new Engine(config, { emit: () => {}, retryDelayMs: fast, fullSync: true });
  await daemonRun.start();
  try {
    await waitForSameTree(src, daemon.modules.third!);
  } finally {
    await daemonRun.stop('test');
  }
  const saved = await readFile(join(state, 'pending.json'), 'utf8');
  const pluginEvents: EngineEvent[] = [];
  const pluginRun = new Engine(config, { emit: (e) => pluginEvents.push(e), retryDelayMs: fast, pluginOnly: 'command' });
  await pluginRun.start();
  try {
    assert.equal(existsSync(join(state, 'running')), false, 'the daemon\'s marker is not the plugin run\'s');
    assert.equal(existsSync(join(state, 'running.m-command')), true);
    await writeFile(join(src, 'b.txt'), 'b');
    // The -m run really ran: its plugin got the change.
    await waitFor(() => pluginEvents.some((e) => e.type === 'hook' && e.ok && e.hook === 'command'), 10000, 'the command plugin to run');
  } finally {
    await pluginRun.stop('test');
  }
  assert.equal(await readFile(join(state, 'pending.json'), 'utf8'), saved, 'the daemon\'s pending changes and stop time survive a -m run');
  assert.equal(existsSync(join(state, 'pending.m-command.json')), true);
});

test('-n 1: a change made while a replay holds the only worker lands as soon as the worker is free (issue 8.3)', async () => {
  const src = join(work.path, 'wakeup', 'src');
  const state = join(work.path, 'wakeup', 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const dst = daemon.modules.second!;
  for (const entry of await readdir(dst)) await rm(join(dst, entry), { recursive: true, force: true });
  // 3 MB of noise at 1000 KB/s: the replay holds the worker for about 3 s.
  await writeFile(join(src, 'big.bin'), randomBytes(3 * 1024 * 1024));
  const remote = daemonRemote(daemon, 'second');
  const config = makeConfig(state, [{ path: src, remotes: [remote] }], {
    threads: 1,
    rsync: { commonParams: ['-artz', '--bwlimit=1000'], timeoutSeconds: 20, binary: 'rsync', maxDelete: undefined },
  });
  await new ReplayLog(config.failLog.path).append([
    { time: new Date().toISOString(), root: src, remote: remote.id, path: 'big.bin', action: 'path', exitCode: 10, message: 'seeded', attempts: 1 },
  ]);
  const seen: { at: number; e: EngineEvent }[] = [];
  const engine = new Engine(config, { emit: (e) => seen.push({ at: performance.now(), e }), retryDelayMs: fast });
  await engine.start(); // replays the log at once: big.bin takes the worker
  try {
    await waitFor(() => seen.some(({ e }) => e.type === 'job-start'), 10000, 'the replay to take the worker');
    await writeFile(join(src, 'live.txt'), 'made while the replay runs');
    const replayDone = await waitFor(() => seen.find(({ e }) => e.type === 'job-done'), 20000, 'the replay to end');
    await waitFor(() => existsSync(join(dst, 'live.txt')), 5000, 'live.txt once the worker is free');
    const landedAfter = performance.now() - replayDone.at;
    assert.ok(landedAfter < 3000, `live.txt landed ${landedAfter.toFixed(0)} ms after the worker was free`);
    assert.equal(await readFile(join(dst, 'live.txt'), 'utf8'), 'made while the replay runs');
    assert.ok(existsSync(join(dst, 'big.bin')));
    assert.deepEqual((await engine.replayLog.read()).records, []);
  } finally {
    await engine.stop('test');
  }
});

/**
 * The --delete-missing-args probe runs when the engine starts, not at the first delete: asked there
 * it was one more connection in the middle of a burst, and the first delete waited for it. An rsync
 * wrapper logs every run (the probe is the one run from the temp dir with --delete-missing-args).
 */
test('each remote is probed for --delete-missing-args at start, once: the first delete waits for no probe', async () => {
  const bin = join(work.path, 'probe-log-rsync');
  const log = join(work.path, 'probe-log.txt');
  await writeFile(
    bin,
    `#!${process.execPath}
const { spawnSync } = require('node:child_process');
const { appendFileSync } = require('node:fs');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, (args.includes('--delete-missing-args') && process.cwd() === ${JSON.stringify(tmpdir())} ? 'probe' : 'run') + '\\n');
process.exit(spawnSync('rsync', args, { stdio: 'inherit' }).status ?? 1);
`,
    { mode: 0o755 },
  );
  const probes = async (): Promise<number> => (existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((l) => l === 'probe').length : 0);
  const base = makeConfig(work.path, []).rsync;
  await withEngine(
    'probe-at-start',
    async (src, dst) => {
      // Nothing has changed yet: the probe is already there.
      await waitFor(async () => (await probes()) === 1, 10_000, 'the probe at start');
      // Two files: a root left empty halts deletes (core/safety.ts).
      await writeFile(join(src, 'keep'), 'k');
      await writeFile(join(src, 'f'), 'x');
      await waitForSameTree(src, dst);
      await rm(join(src, 'f'));
      await waitForSameTree(src, dst);
      assert.equal(await probes(), 1);
    },
    'backup',
    { rsync: { ...base, binary: bin } },
  );
});
