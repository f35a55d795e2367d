/**
 * Names are bytes, end to end, against a real rsync daemon: GBK, Latin-1 and 0xff names created,
 * renamed and deleted, inside new directories too, by path jobs, tree jobs, the delete fallback and
 * -r (a full sync); through the replay log while the daemon is down and through the pending file
 * across a restart; exit 23 names exactly the refused non-UTF-8 path. Asserted on the
 * destination's names and bytes (snapshotBytes), never on log lines.
 *
 * These routes do not depend on the watcher (with @parcel/watcher such names arrive lossy; the
 * watcher side is tested with the inotify backend).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import { displayName, nameFromBytes, pathBytes } from '../../src/core/names.js';
import { CommandHook } from '../../src/hooks/command.js';
import { ReplayLog } from '../../src/replay/log.js';
import { loadPending, savePending } from '../../src/replay/pending-store.js';
import { replayRecords, type ReplayGroup } from '../../src/replay/replayer.js';
import { Lane, type LaneOptions } from '../../src/sync/lane.js';
import { changedSince } from '../../src/engine/catch-up.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { snapshotBytes, tempDir, treeDiffBytes } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: 20, binary: 'rsync', maxDelete: undefined };
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const b = (...parts: Array<string | number[]>): string => nameFromBytes(Buffer.concat(parts.map((p) => Buffer.from(p as never))));
/** 中文.txt in GBK, café.txt in Latin-1, a lone 0xff, a GBK directory 目录 with a Latin-1 one below. */
const GBK = b([0xd6, 0xd0, 0xce, 0xc4], '.txt');
const LATIN = b('caf', [0xe9], '.txt');
const FF = b([0xff]);
const GBK_DIR = b([0xc4, 0xbf, 0xc2, 0xbc]);
const LATIN_DIR = b([0xe9], 't', [0xe9]);

async function put(root: string, rel: string, body: string): Promise<void> {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) await mkdir(pathBytes(root, parts.slice(0, i).join('/')), { recursive: true });
  await writeFile(pathBytes(root, rel), body);
}

function remoteOf(d: RsyncDaemon, module = 'backup'): RemoteConfig {
  return { id: `${d.host}::${module}`, host: d.host, module, mode: 'daemon', port: d.port, user: d.user, passwordFile: d.passwordFile, sshOptions: [] };
}

function laneFor(d: RsyncDaemon, over: Partial<LaneOptions> = {}): Lane {
  const lane = new Lane({ remote: remoteOf(d), rsync, concurrency: 2, retries: 1, emit: () => {}, debug: false, retryDelayMs: { min: 10, max: 20 }, ...over });
  cleanups.push(() => lane.stop('abort'));
  return lane;
}

async function setup(): Promise<{ d: RsyncDaemon; src: string; dst: string }> {
  const d = await startRsyncDaemon();
  cleanups.push(() => d.stop());
  const t = await tempDir('tss-names-src-');
  cleanups.push(t.cleanup);
  return { d, src: t.path, dst: d.modules.backup! };
}

async function same(src: string, dst: string, what: string): Promise<void> {
  assert.deepEqual(await treeDiffBytes(src, dst), [], what);
}

for (const form of ['fast', 'fallback'] as const) {
  test(`path and tree jobs (${form} delete form): GBK, Latin-1 and 0xff names created, renamed, deleted, in new directories too`, async () => {
    const { d, src, dst } = await setup();
    const lane = laneFor(d, form === 'fallback' ? { forceDeleteFallback: true } : {});
    const run = async (action: 'path' | 'tree', paths: string[]) => {
      const r = await lane.run({ root: src, action, paths });
      assert.ok(r.ok, `${action} ${paths.map(displayName).join(', ')}: ${r.outcome.meaning} ${r.outcome.stderrTail}`);
    };

    await put(src, GBK, 'gbk\n');
    await put(src, LATIN, 'latin-1\n');
    await put(src, FF, 'ff\n');
    await put(src, `${GBK_DIR}/${LATIN_DIR}/${FF}`, 'deep\n');
    await put(src, `${GBK_DIR}/${GBK}`, 'in dir\n');
    await run('path', [GBK, LATIN, FF]);
    await run('tree', [GBK_DIR]);
    await same(src, dst, 'created');
    assert.ok((await snapshotBytes(dst)).has(`${GBK_DIR}/${LATIN_DIR}/${FF}`), 'the exact bytes, not U+FFFD');

    // Renames: a file to another byte name, a directory inside a non-UTF-8 directory.
    const renamed = b('new-', [0xb0, 0xa1]);
    await rename(pathBytes(src, LATIN), pathBytes(src, renamed));
    await rename(pathBytes(src, `${GBK_DIR}/${LATIN_DIR}`), pathBytes(src, `${GBK_DIR}/${FF}`));
    await run('path', [LATIN, renamed]);
    await run('tree', [`${GBK_DIR}/${LATIN_DIR}`, `${GBK_DIR}/${FF}`]);
    await same(src, dst, 'renamed');

    // Deletes: a file inside a non-UTF-8 directory, then a whole non-UTF-8 tree.
    await rm(pathBytes(src, `${GBK_DIR}/${GBK}`));
    await run('path', [`${GBK_DIR}/${GBK}`]);
    await same(src, dst, 'file deleted');
    await rm(pathBytes(src, GBK_DIR), { recursive: true });
    await run('path', [GBK_DIR]);
    await same(src, dst, 'tree deleted');
    assert.deepEqual((await readdir(dst, { encoding: 'buffer' })).map((n) => nameFromBytes(n)).sort(), [GBK, FF, renamed].sort());
  });
}

test('-r (full sync): byte names sent, a remote-only byte name deleted, nothing re-encoded', async () => {
  const { d, src, dst } = await setup();
  const lane = laneFor(d);
  await put(src, `${GBK_DIR}/${LATIN}`, 'x\n');
  await put(src, FF, 'y\n');
  await put(dst, b('stale', [0xfe]), 'remote only\n');
  const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true });
  assert.ok(r.ok, r.outcome.stderrTail);
  await same(src, dst, 'full sync');
});

test('exit 23: the refused non-UTF-8 path is the one reported failed, byte for byte', async () => {
  const d = await startRsyncDaemon({ moduleExtra: ['exclude = *.deny'] });
  cleanups.push(() => d.stop());
  const t = await tempDir('tss-names-src-');
  cleanups.push(t.cleanup);
  const lane = laneFor(d, { retries: 0 });
  const refused = b('x', [0xe9], '.deny');
  const ok = b('x', [0xe9]);
  // The UTF-8 spelling of the same word must not be taken for the refused one, nor U+FFFD.
  await put(t.path, refused, 'no\n');
  await put(t.path, ok, 'yes\n');
  await put(t.path, 'xé', 'utf-8\n');
  const r = await lane.run({ root: t.path, action: 'path', paths: [refused, ok, 'xé'] });
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.failedPaths, [refused]);
});

test('daemon down: byte names go through the replay log (JSON, \\udcXX) and land when it is back', async () => {
  const { d, src, dst } = await setup();
  const state = await tempDir('tss-names-state-');
  cleanups.push(state.cleanup);
  const lane = laneFor(d, { retries: 0 });
  await put(src, GBK, 'a\n');
  await put(src, `${LATIN_DIR}/${FF}`, 'b\n');
  await put(dst, LATIN, 'deleted locally\n');

  await d.kill();
  const log = new ReplayLog(join(state.path, 'replay.jsonl'));
  const failedNow = async (action: 'path' | 'tree', paths: string[]) => {
    const r = await lane.run({ root: src, action, paths });
    assert.equal(r.ok, false);
    const t = new Date().toISOString();
    await log.append((r.ok ? [] : r.failedPaths).map((path) => ({ time: t, root: src, remote: remoteOf(d).id, path, action, exitCode: r.outcome.exitCode, message: r.outcome.meaning, attempts: 1 })));
  };
  await failedNow('path', [GBK, LATIN]);
  await failedNow('tree', [LATIN_DIR]);
  const text = await readFile(log.path, 'utf8');
  assert.match(text, /"path":"caf\\udce9\.txt"/, 'the canonical string, lone surrogates escaped by JSON');
  assert.ok(!text.includes('\ufffd'));

  await d.restart();
  const { records, mark } = await log.read();
  assert.deepEqual(records.map((r) => r.path).sort(), [GBK, LATIN, LATIN_DIR].sort());
  const run = async (g: ReplayGroup) => {
    const res = await lane.run({ root: g.root, action: g.action, paths: g.paths });
    return res.ok ? { failed: [], exitCode: 0, message: 'ok' } : { failed: res.failedPaths, exitCode: res.outcome.exitCode, message: res.outcome.meaning };
  };
  const result = await replayRecords(records, run, () => new Date());
  await log.rewrite(result.left, mark);
  assert.equal(result.left.length, 0);
  await same(src, dst, 'replayed');
  assert.deepEqual((await log.read()).records, []);
});

test('restart: byte names survive the pending file, and an old plain-UTF-8 file still loads', async () => {
  const { d, src, dst } = await setup();
  const state = await tempDir('tss-names-state-');
  cleanups.push(state.cleanup);
  const file = join(state.path, 'pending.json');
  await put(src, `${GBK_DIR}/${LATIN}`, 'p\n');
  await put(src, FF, 'q\n');
  await savePending(file, { savedAt: '2026-01-01T00:00:00.000Z', lanes: [{ remote: remoteOf(d).id, root: src, entries: [{ path: GBK_DIR, action: 'tree' }, { path: FF, action: 'path' }] }] });
  const loaded = await loadPending(file);
  assert.deepEqual(loaded?.lanes[0]?.entries, [{ path: GBK_DIR, action: 'tree' }, { path: FF, action: 'path' }]);
  const lane = laneFor(d);
  for (const e of loaded!.lanes[0]!.entries) assert.ok((await lane.run({ root: src, action: e.action, paths: [e.path] })).ok);
  await same(src, dst, 'from the pending file');

  // A file written before names were bytes: plain UTF-8 strings are the same canonical form.
  await writeFile(file, JSON.stringify({ version: 1, savedAt: 'x', lanes: [{ remote: 'r', root: '/', entries: [{ path: 'ünï/日本.txt', action: 'path' }] }] }));
  assert.equal((await loadPending(file))?.lanes[0]?.entries[0]?.path, 'ünï/日本.txt');
});

test('catch-up after a stop finds byte names changed while stopped, by their exact bytes', async () => {
  const t = await tempDir('tss-names-src-');
  cleanups.push(t.cleanup);
  await put(t.path, `old/${LATIN}`, 'before\n');
  await put(t.path, `${GBK_DIR}/keep`, 'before\n');
  await new Promise((r) => setTimeout(r, 30));
  const since = Date.now(); // the stop
  await new Promise((r) => setTimeout(r, 30));
  await writeFile(pathBytes(t.path, `old/${LATIN}`), 'rewritten while stopped\n');
  await put(t.path, `${GBK_DIR}/${FF}`, 'created while stopped\n');
  const { entries } = await changedSince(t.path, since, []);
  assert.deepEqual(
    [...entries].sort((x, y) => (x.path < y.path ? -1 : 1)),
    [{ path: `old/${LATIN}`, action: 'path' }, { path: GBK_DIR, action: 'tree' }].sort((x, y) => (x.path < y.path ? -1 : 1)),
  );
});

test('command plugin: a non-UTF-8 path reaches the program as its exact bytes (through xargs), the configured argv kept', async () => {
  const t = await tempDir('tss-names-cmd-');
  cleanups.push(t.cleanup);
  const out = join(t.path, 'copied');
  await mkdir(out);
  await put(t.path, `src/${GBK}`, 'copied by cp\n');
  await put(t.path, `src/${LATIN}`, 'copied too\n');
  const hook = new CommandHook('command', { kind: 'command', prefix: ['cp', '--'], suffix: [`${out}/`], ignoreError: false, include: [], concurrency: 2, timeoutMs: 10_000 }, { emit: () => {} });
  const root = join(t.path, 'src');
  await hook.deliver({ root, remotes: ['r'], time: Date.now(), items: [GBK, LATIN].map((n) => ({ path: n, absolute: `${root}/${n}`, state: 'file' as const })) });
  await hook.close();
  assert.deepEqual([...(await snapshotBytes(out)).keys()].sort(), [GBK, LATIN].sort());
  // A failing command through xargs is a failure, with xargs' code explained.
  await assert.rejects(
    hook.deliver({ root, remotes: ['r'], time: Date.now(), items: [{ path: FF, absolute: `${root}/${FF}`, state: 'file' }] }),
    /exit code 123 \(from xargs: the command exited with a code from 1 to 125\)/,
  );
});

test('a lossy name (U+FFFD) is never reported landed unsent: its nearest exact directory goes as a tree', async () => {
  const { d, src, dst } = await setup();
  const lane = laneFor(d);
  await put(src, `d/${LATIN}`, 'the real bytes\n');
  await put(src, `top${FF}`, 'root level\n');
  // What @parcel/watcher reports for these names: their bytes decoded lossily.
  const r = await lane.run({ root: src, action: 'path', paths: ['d/caf\ufffd.txt'] });
  assert.ok(r.ok, r.outcome.stderrTail);
  assert.ok((await snapshotBytes(dst)).has(`d/${LATIN}`), 'the file rsync was asked about by its lossy name is on the remote');
  const top = await lane.run({ root: src, action: 'path', paths: ['top\ufffd'] });
  assert.ok(top.ok, top.outcome.stderrTail);
  await same(src, dst, 'a root-level lossy name: a full sync');
});

test('through the engine and its watcher (inotify): byte names replicate live, renamed and deleted, and the command hook gets the exact bytes', async () => {
  const { d, src, dst } = await setup();
  const t = await tempDir('tss-names-engine-');
  cleanups.push(t.cleanup);
  const copied = join(t.path, 'copied');
  await mkdir(copied);
  const { Engine } = await import('../../src/engine.js');
  const { makeConfig, daemonRemote } = await import('../support/config.js');
  const { waitFor } = await import('../support/tree.js');
  const config = makeConfig(join(t.path, 'state'), [{ path: src, remotes: [daemonRemote(d)] }], {
    // cp every landed file into `copied`: it finds the file only by its exact bytes.
    plugins: [{ kind: 'command', prefix: ['cp', '--'], suffix: [`${copied}/`], ignoreError: true, include: [pattern('(.*)\\.txt')], concurrency: 2, timeoutMs: 10_000 }],
  });
  await mkdir(join(t.path, 'state'));
  const engine = new Engine(config, { emit: () => {}, retryDelayMs: { min: 50, max: 200 } });
  await engine.start();
  try {
    const until = (what: string) => waitFor(async () => (await treeDiffBytes(src, dst)).length === 0, 15000, what);
    await put(src, GBK, 'gbk\n');
    await put(src, LATIN, 'latin\n');
    await put(src, `${GBK_DIR}/${LATIN_DIR}/${FF}`, 'deep\n');
    await until('created');
    await waitFor(async () => (await snapshotBytes(copied)).size === 2, 15000, 'the hook copied both .txt files');
    assert.deepEqual([...(await snapshotBytes(copied)).keys()].sort(), [GBK, LATIN].sort());
    await rename(pathBytes(src, LATIN), pathBytes(src, b('r', [0xe9], '.bin')));
    await rename(pathBytes(src, GBK_DIR), pathBytes(src, b('moved', [0xff])));
    await until('renamed');
    await rm(pathBytes(src, GBK));
    await rm(pathBytes(src, b('moved', [0xff])), { recursive: true });
    await until('deleted');
  } finally {
    await engine.stop('test');
  }
});

function pattern(source: string): { source: string; regex: RegExp } {
  return { source, regex: new RegExp(`^(?:${source})$`, 's') };
}

test('a landed batch says what a byte name is now (file, dir, missing): hooks get the right kind', async () => {
  const t = await tempDir('tss-names-landed-');
  cleanups.push(t.cleanup);
  await put(t.path, `${GBK_DIR}/${LATIN}`, 'x');
  const { landedBatch } = await import('../../src/engine/landed.js');
  const batch = await landedBatch(t.path, ['r'], [GBK_DIR, `${GBK_DIR}/${LATIN}`, FF]);
  assert.deepEqual(batch.items.map((i) => i.state), ['dir', 'file', 'missing']);
});

test('through the engine: byte names made while the daemon is down go to the replay log, survive a restart, and land when it is back', async () => {
  const { d, src, dst } = await setup();
  const t = await tempDir('tss-names-engine-');
  cleanups.push(t.cleanup);
  const state = join(t.path, 'state');
  await mkdir(state);
  const { Engine } = await import('../../src/engine.js');
  const { makeConfig, daemonRemote } = await import('../support/config.js');
  const { waitFor } = await import('../support/tree.js');
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(d)] }], { retries: 1 });
  const log = new ReplayLog(config.failLog.path);
  await d.kill();
  const first = new Engine(config, { emit: () => {}, retryDelayMs: { min: 20, max: 50 } });
  await first.start();
  try {
    await put(src, GBK, 'while down\n');
    await put(src, `${LATIN_DIR}/${FF}`, 'new dir while down\n');
    await waitFor(async () => {
      const paths = (await log.read()).records.map((r) => r.path);
      return paths.includes(GBK) && (paths.includes(LATIN_DIR) || paths.includes(`${LATIN_DIR}/${FF}`));
    }, 20000, 'the failed byte names in the replay log');
  } finally {
    await first.stop('test');
  }
  assert.ok(!(await readFile(log.path, 'utf8')).includes('\ufffd'));
  await d.restart();
  const second = new Engine(config, { emit: () => {}, retryDelayMs: { min: 20, max: 50 } });
  await second.start();
  try {
    await waitFor(async () => (await treeDiffBytes(src, dst)).length === 0, 20000, 'replayed after the restart');
    await second.idle();
    await waitFor(async () => (await log.read()).records.length === 0, 10000, 'an empty replay log');
  } finally {
    await second.stop('test');
  }
});
