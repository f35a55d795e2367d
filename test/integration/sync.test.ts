/**
 * The rsync layer against a real rsync daemon on 127.0.0.1 (auth, password file, custom port):
 * lanes pushing real temp trees, asserted on the destination tree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, rm, appendFile, utimes, readFile, readdir, chmod } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { Lane, type LaneOptions } from '../../src/sync/lane.js';
import { probeDeleteMissingArgs } from '../../src/sync/delete.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { freePort } from '../support/net.js';
import { AWKWARD_NAMES, snapshot, tempDir, treeDiff, waitFor } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined };
let daemon: RsyncDaemon;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['backup', 'guarded'] });
  cleanups.push(() => daemon.stop());
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function remoteOf(d: RsyncDaemon, module = 'backup', over: Partial<RemoteConfig> = {}): RemoteConfig {
  return { id: `${d.host}::${module}`, host: d.host, module, mode: 'daemon', port: d.port, user: d.user, passwordFile: d.passwordFile, sshOptions: [], ...over };
}

function laneFor(remote: RemoteConfig, over: Partial<LaneOptions> = {}): { lane: Lane; events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  const lane = new Lane({ remote, rsync, concurrency: 2, retries: 2, emit: (e) => events.push(e), debug: true, retryDelayMs: { min: 20, max: 50 }, ...over });
  cleanups.push(() => lane.stop('abort'));
  return { lane, events };
}

/** A fresh source root and an emptied destination module. */
async function fresh(module = 'backup'): Promise<{ src: string; dst: string }> {
  const t = await tempDir('tss-sync-src-');
  cleanups.push(t.cleanup);
  const dst = daemon.modules[module]!;
  for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true, force: true });
  return { src: t.path, dst };
}

async function put(root: string, rel: string, body: string): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), body);
}

/** A command smuggled in a name would create PWNED_*: in the trees, or where rsync or a shell runs. */
async function noPwned(...trees: string[]): Promise<void> {
  for (const d of trees) {
    const hits = [...(await snapshot(d)).keys()].filter((k) => (k.split('/').pop() ?? '').startsWith('PWNED_'));
    assert.deepEqual(hits, [], `a name ran a command in ${d}`);
  }
  for (const d of [process.cwd(), tmpdir(), '/']) {
    assert.deepEqual((await readdir(d)).filter((n) => n.startsWith('PWNED_')), [], `a name ran a command in ${d}`);
  }
}

test('probe: the local rsync 3.5.0 daemon accepts --delete-missing-args; an unreachable one is not trusted', async () => {
  assert.equal(await probeDeleteMissingArgs(remoteOf(daemon), rsync), true);
  assert.equal(await probeDeleteMissingArgs({ ...remoteOf(daemon), port: await freePort() }, rsync), false);
});

test('path batch: create, then modify and append', async () => {
  const { src, dst } = await fresh();
  const { lane, events } = laneFor(remoteOf(daemon));
  await put(src, 'a.txt', 'one');
  await put(src, 'd/b.log', 'line1\n');
  await put(src, 'd/e/c.bin', 'x'.repeat(10000));
  let r = await lane.run({ root: src, action: 'path', paths: ['a.txt', 'd', 'd/b.log', 'd/e', 'd/e/c.bin'] });
  assert.equal(r.ok, true);
  assert.deepEqual(await treeDiff(src, dst), []);
  await writeFile(join(src, 'a.txt'), 'one, changed');
  await appendFile(join(src, 'd/b.log'), 'line2\n');
  r = await lane.run({ root: src, action: 'path', paths: ['a.txt', 'd/b.log'] });
  assert.equal(r.ok, true);
  assert.deepEqual(await treeDiff(src, dst), []);
  const start = events.find((e) => e.type === 'job-start');
  assert.ok(start?.type === 'job-start' && start.argv?.includes('--files-from=-') && start.argv.includes('--checksum'), 'forced path jobs send --files-from and --checksum');
  assert.ok(events.some((e) => e.type === 'job-done' && e.paths === 2));
});

test('same-size rewrite within one second reaches the destination', async () => {
  const { src, dst } = await fresh();
  const { lane } = laneFor(remoteOf(daemon));
  const t = Math.floor(Date.now() / 1000) - 10;
  await put(src, 'counter', 'AAAA');
  await utimes(join(src, 'counter'), t + 0.1, t + 0.1);
  assert.equal((await lane.run({ root: src, action: 'path', paths: ['counter'] })).ok, true);
  assert.equal(await readFile(join(dst, 'counter'), 'utf8'), 'AAAA');
  await writeFile(join(src, 'counter'), 'BBBB');
  await utimes(join(src, 'counter'), t + 0.6, t + 0.6);
  assert.equal((await lane.run({ root: src, action: 'path', paths: ['counter'] })).ok, true);
  assert.equal(await readFile(join(dst, 'counter'), 'utf8'), 'BBBB', 'rsync quick check (size + whole seconds) must not hide the rewrite');
});

for (const forceDeleteFallback of [false, true]) {
  const form = forceDeleteFallback ? 'filter fallback' : '--delete-missing-args';
  test(`delete of a file and of a non-empty directory (${form})`, async () => {
    const { src, dst } = await fresh();
    const { lane, events } = laneFor(remoteOf(daemon), { forceDeleteFallback });
    for (const f of ['keep.txt', 'gone.txt', 'dir/gone-dir/x/y.txt', 'dir/gone-dir/z.txt', 'dir/keep/k.txt', 'deep/er/f', 'deep/keep']) await put(src, f, f);
    assert.equal((await lane.run({ root: src, action: 'tree', paths: ['keep.txt', 'gone.txt', 'dir', 'deep'] })).ok, true);
    assert.deepEqual(await treeDiff(src, dst), []);
    await rm(join(src, 'gone.txt'));
    await rm(join(src, 'dir/gone-dir'), { recursive: true });
    await rm(join(src, 'deep/er'), { recursive: true });
    events.length = 0;
    // deep/er/f: its parent is missing too; keep.txt is present and rides along.
    const r = await lane.run({ root: src, action: 'path', paths: ['gone.txt', 'dir/gone-dir', 'deep/er/f', 'keep.txt'] });
    assert.equal(r.ok, true, JSON.stringify(r.outcome));
    const snap = await snapshot(dst);
    for (const gone of ['gone.txt', 'dir/gone-dir', 'deep/er/f']) assert.equal(snap.has(gone), false, `${gone} deleted`);
    for (const kept of ['keep.txt', 'dir/keep/k.txt', 'deep/keep']) assert.equal(snap.has(kept), true, `${kept} kept`);
    const argvs = events.flatMap((e) => (e.type === 'job-start' && e.argv ? [e.argv] : []));
    assert.equal(argvs.some((a) => a.includes('--delete-missing-args')), !forceDeleteFallback);
    // Both forms remove the highest missing ancestor (deep/er): the tree is exactly the source.
    assert.deepEqual(await treeDiff(src, dst), []);
  });
}

test('tree sync of a new nested directory', async () => {
  const { src, dst } = await fresh();
  const { lane } = laneFor(remoteOf(daemon));
  for (const f of ['n/a/b/c/one', 'n/a/two', 'n/three', 'n/a/b/empty/.keep']) await put(src, f, f);
  await mkdir(join(src, 'n/a/b/reallyempty'));
  assert.equal((await lane.run({ root: src, action: 'tree', paths: ['n'] })).ok, true);
  assert.deepEqual(await treeDiff(src, dst), []);
});

test('tree --delete with --files-from deletes extras only inside the listed directories', async () => {
  const { src, dst } = await fresh();
  const { lane } = laneFor(remoteOf(daemon));
  for (const f of ['d1/sub/f', 'd1/g', 'd2/h', 'top']) await put(src, f, f);
  assert.equal((await lane.run({ root: src, action: 'tree', paths: ['d1', 'd2', 'top'] })).ok, true);
  for (const f of ['d1/extra', 'd1/sub/extra', 'd1/xdir/x', 'd2/extra', 'extratop', 'd1sibling/x']) await put(dst, f, 'extra');
  assert.equal((await lane.run({ root: src, action: 'tree', paths: ['d1'] })).ok, true);
  const snap = await snapshot(dst);
  for (const gone of ['d1/extra', 'd1/sub/extra', 'd1/xdir']) assert.equal(snap.has(gone), false, `${gone} inside d1 deleted`);
  for (const kept of ['d2/extra', 'extratop', 'd1sibling/x', 'd1/sub/f', 'd1/g', 'd2/h', 'top']) assert.equal(snap.has(kept), true, `${kept} outside d1 kept`);
  // A nested tree path: --delete stays inside d1/sub, not its implied parent d1.
  await put(dst, 'd1/extra2', 'e');
  await put(dst, 'd1/sub/extra3', 'e');
  assert.equal((await lane.run({ root: src, action: 'tree', paths: ['d1/sub'] })).ok, true);
  const snap2 = await snapshot(dst);
  assert.equal(snap2.has('d1/sub/extra3'), false);
  assert.equal(snap2.has('d1/extra2'), true);
});

test('full sync: whole root with --delete and the crontab excludes', async () => {
  const { src, dst } = await fresh();
  const { lane, events } = laneFor(remoteOf(daemon));
  for (const f of ['a.txt', 'b.php', 'info/x', 'sub/c.txt']) await put(src, f, f);
  await put(dst, 'stale/old', 'old');
  const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true, excludes: ['*.php', 'info/*'] });
  assert.equal(r.ok, true);
  assert.deepEqual(await treeDiff(src, dst, (rel) => rel === 'b.php' || rel.startsWith('info/')), []);
  const snap = await snapshot(dst);
  assert.equal(snap.has('b.php'), false);
  assert.equal(snap.has('info/x'), false);
  assert.equal(snap.has('stale'), false);
  const start = events.find((e) => e.type === 'job-start');
  assert.ok(start?.type === 'job-start' && !start.argv?.includes('--files-from=-'));
});

for (const forceDeleteFallback of [false, true]) {
  test(`every awkward name replicates, then deletes, and runs nothing (${forceDeleteFallback ? 'filter fallback' : 'fast form'})`, async () => {
    const { src, dst } = await fresh();
    const { lane } = laneFor(remoteOf(daemon), { forceDeleteFallback });
    const paths: string[] = [];
    for (const n of AWKWARD_NAMES) {
      await put(src, n, `file ${n}`);
      await put(src, `dirs/${n}/inner`, `inner ${n}`);
      paths.push(n, `dirs/${n}`, `dirs/${n}/inner`);
    }
    let r = await lane.run({ root: src, action: 'path', paths: ['dirs', ...paths] });
    assert.equal(r.ok, true, JSON.stringify(r.outcome));
    assert.deepEqual(await treeDiff(src, dst), []);
    await noPwned(src, dst);
    // A decoy a broken filter escape would match (star*q?[br].txt as a glob) must survive.
    await put(src, 'starXqbr.txt', 'decoy');
    assert.equal((await lane.run({ root: src, action: 'path', paths: ['starXqbr.txt'] })).ok, true);
    for (const n of AWKWARD_NAMES) {
      await rm(join(src, n));
      await rm(join(src, 'dirs', n), { recursive: true });
    }
    r = await lane.run({ root: src, action: 'path', paths: AWKWARD_NAMES.flatMap((n) => [n, `dirs/${n}`]) });
    assert.equal(r.ok, true, JSON.stringify(r.outcome));
    assert.deepEqual(await treeDiff(src, dst), []);
    assert.deepEqual([...(await snapshot(dst)).keys()].sort(), ['dirs', 'starXqbr.txt']);
    await noPwned(src, dst);
  });
}

test('wrong password: exit 5, retried, then every path handed back with a clear message', async () => {
  const { src, dst } = await fresh();
  const badPw = join(daemon.dir, 'wrong.pas');
  await writeFile(badPw, 'not-the-password\n', { mode: 0o600 });
  await chmod(badPw, 0o600);
  const { lane, events } = laneFor(remoteOf(daemon, 'backup', { passwordFile: badPw }), { retries: 1 });
  await put(src, 'a', 'a');
  await put(src, 'b', 'b');
  const r = await lane.run({ root: src, action: 'path', paths: ['a', 'b'] });
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.deepEqual(r.failedPaths, ['a', 'b']);
  assert.equal(r.outcome.exitCode, 5);
  assert.equal(r.outcome.class, 'retry');
  const failed = events.filter((e) => e.type === 'job-failed');
  assert.deepEqual(failed.map((e) => e.type === 'job-failed' && [e.attempt, e.willRetry]), [[1, true], [2, false]]);
  assert.match(failed[0]!.message, /^rsync to 127\.0\.0\.1::backup failed with exit code 5 \(error starting client-server protocol\): @ERROR: auth failed on module backup/);
  assert.deepEqual(await readdir(dst), []);
});

test('daemon down: exit 10 retried, and the job lands once the daemon is back within the retry window', async () => {
  const d = await startRsyncDaemon();
  cleanups.push(() => d.stop());
  const src = (await fresh()).src;
  await put(src, 'f', 'payload');
  await d.kill();
  let restarted: Promise<void> | undefined;
  const events: EngineEvent[] = [];
  const lane = new Lane({
    remote: remoteOf(d), rsync, concurrency: 1, retries: 6, debug: false, retryDelayMs: { min: 100, max: 300 },
    emit: (e) => {
      events.push(e);
      if (e.type === 'job-failed' && !restarted) restarted = d.restart();
    },
  });
  cleanups.push(() => lane.stop('abort'));
  const r = await lane.run({ root: src, action: 'path', paths: ['f'] });
  assert.equal(r.ok, true, JSON.stringify(r.outcome));
  const first = events.find((e) => e.type === 'job-failed');
  assert.ok(first?.type === 'job-failed');
  assert.equal(first.exitCode, 10);
  assert.equal(first.willRetry, true);
  assert.match(first.message, /exit code 10 \(error in socket I\/O\).*Connection refused/);
  assert.equal(await readFile(join(d.modules.backup!, 'f'), 'utf8'), 'payload');
});

test('exit 23: only the paths the daemon refused are retried and handed back', async () => {
  const d = await startRsyncDaemon({ moduleExtra: ['exclude = /blocked/ *.deny'] });
  cleanups.push(() => d.stop());
  const src = (await fresh()).src;
  const paths = ['ok1', 'blocked/x', 'sub/ok2', 'sub/new\nline.deny', 'sub/q"uote.deny'];
  for (const p of paths) await put(src, p, p);
  const { lane, events } = laneFor(remoteOf(d), { retries: 1 });
  const r = await lane.run({ root: src, action: 'path', paths });
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.equal(r.outcome.exitCode, 23);
  assert.deepEqual([...r.failedPaths].sort(), ['blocked/x', 'sub/new\nline.deny', 'sub/q"uote.deny']);
  const dst = d.modules.backup!;
  assert.equal(await readFile(join(dst, 'ok1'), 'utf8'), 'ok1');
  assert.equal(await readFile(join(dst, 'sub/ok2'), 'utf8'), 'sub/ok2');
  const starts = events.filter((e) => e.type === 'job-start').map((e) => e.type === 'job-start' && e.paths);
  assert.deepEqual(starts, [5, 3], 'the retry sends only the 3 refused paths');
});

test("stop('abort') kills a hanging rsync and hands back running and queued jobs' paths", async () => {
  // A "daemon" that accepts and never speaks: rsync waits for its greeting forever.
  const sockets = new Set<Socket>();
  const server = createServer((s) => (sockets.add(s), s.on('error', () => {})));
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const src = (await fresh()).src;
  await put(src, 'a', 'a');
  const { lane } = laneFor(remoteOf(daemon, 'backup', { port }), { concurrency: 1 });
  const running = lane.run({ root: src, action: 'path', paths: ['a'] });
  const queued = lane.run({ root: src, action: 'path', paths: ['b', 'c'] });
  await waitFor(() => sockets.size > 0, 5000, 'rsync to connect');
  assert.equal(lane.pending, 2);
  const t0 = Date.now();
  await lane.stop('abort');
  const [r1, r2] = await Promise.all([running, queued]);
  assert.ok(Date.now() - t0 < 4000, 'abort is prompt');
  assert.ok(!r1.ok && !r2.ok);
  assert.deepEqual(r1.failedPaths, ['a']);
  assert.deepEqual(r2.failedPaths, ['b', 'c']);
  // rsync traps SIGTERM and exits 20 ("received SIGUSR1 or SIGINT"); either way it was stopped.
  assert.ok(r1.outcome.exitCode === 20 || r1.outcome.signal === 'SIGTERM', JSON.stringify(r1.outcome));
  const late = await lane.run({ root: src, action: 'path', paths: ['d'] });
  assert.ok(!late.ok && late.failedPaths[0] === 'd', 'a stopped lane hands paths straight back');
});

test('concurrency: a lane runs up to N rsyncs at once and reports pending', async () => {
  const { src, dst } = await fresh();
  const { lane } = laneFor(remoteOf(daemon), { concurrency: 3, adaptive: false });
  assert.equal(lane.concurrency, 3);
  const jobs = Array.from({ length: 8 }, (_, i) => `f${i}`);
  for (const f of jobs) await put(src, f, f);
  const results = jobs.map((f) => lane.run({ root: src, action: 'path', paths: [f] }));
  assert.equal(lane.pending, 8);
  await lane.onIdle();
  assert.equal(lane.pending, 0);
  assert.ok((await Promise.all(results)).every((r) => r.ok));
  assert.deepEqual(await treeDiff(src, dst), []);
});

/**
 * A receiver with rsync issue #910: an rsync wrapper (a tiny fixture program) that fails any run
 * using --delete-missing-args the way the broken receivers do, and runs the real rsync otherwise.
 * `probeOk`: the probe (run from the temp dir) passes, real jobs fail: the mid-job switch.
 */
async function brokenReceiverRsync(probeOk: boolean): Promise<string> {
  const t = await tempDir('tss-rsync910-');
  cleanups.push(t.cleanup);
  const bin = join(t.path, 'rsync');
  await writeFile(
    bin,
    `#!${process.execPath}
const { spawnSync } = require('node:child_process');
const args = process.argv.slice(2);
if (args.includes('--delete-missing-args') && !(${probeOk} && process.cwd() === ${JSON.stringify(tmpdir())})) {
  process.stderr.write('rsync: [receiver] invalid file mode 00 for "x": protocol incompatibility\\nrsync error: protocol incompatibility (code 2) at flist.c(1000) [receiver=3.4.1]\\n');
  process.exit(2);
}
const r = spawnSync('rsync', args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
`,
    { mode: 0o755 },
  );
  return bin;
}

for (const probeOk of [false, true]) {
  test(`a receiver rejecting --delete-missing-args (#910) gets the filter delete (${probeOk ? 'found mid-job' : 'found by the probe'})`, async () => {
    const { src, dst } = await fresh();
    const events: EngineEvent[] = [];
    const lane = new Lane({ remote: remoteOf(daemon), rsync: { ...rsync, binary: await brokenReceiverRsync(probeOk) }, concurrency: 1, retries: 0, emit: (e) => events.push(e), debug: true });
    cleanups.push(() => lane.stop('abort'));
    for (const f of ['keep', 'gone/deep/f', 'gone2']) await put(src, f, f);
    assert.equal((await lane.run({ root: src, action: 'tree', paths: ['keep', 'gone', 'gone2'] })).ok, true);
    await rm(join(src, 'gone'), { recursive: true });
    await rm(join(src, 'gone2'));
    const r = await lane.run({ root: src, action: 'path', paths: ['gone', 'gone2', 'keep'] });
    assert.equal(r.ok, true, JSON.stringify(r.outcome));
    assert.deepEqual(await treeDiff(src, dst), []);
    if (!probeOk) assert.ok(events.some((e) => e.type === 'remote-health' && /rejects --delete-missing-args/.test(e.message)));
    // Later deletes go straight to the filter form.
    events.length = 0;
    await put(src, 'again', 'x');
    assert.equal((await lane.run({ root: src, action: 'path', paths: ['again'] })).ok, true);
    await rm(join(src, 'again'));
    assert.equal((await lane.run({ root: src, action: 'path', paths: ['again'] })).ok, true);
    assert.deepEqual(await treeDiff(src, dst), []);
    const argvs = events.flatMap((e) => (e.type === 'job-start' && e.argv ? [e.argv] : []));
    assert.ok(argvs.length > 0 && argvs.every((a) => !a.includes('--delete-missing-args')));
  });
}

test('the probe asked at start (Lane.prepare) waits for a slot like any job: -n 1 never runs two rsyncs at once', async () => {
  const { src, dst } = await fresh();
  const t = await tempDir('tss-probe-slot-');
  cleanups.push(t.cleanup);
  const log = join(t.path, 'runs.log');
  const bin = join(t.path, 'rsync');
  // Logs each run's start and end, and whether another run was still going when it started.
  await writeFile(
    bin,
    `#!${process.execPath}
const { spawnSync } = require('node:child_process');
const { appendFileSync, existsSync, writeFileSync, rmSync } = require('node:fs');
const lock = ${JSON.stringify(join(t.path, 'running'))};
const kind = process.argv.includes('--delete-missing-args') && process.cwd() === ${JSON.stringify(tmpdir())} ? 'probe' : 'job';
appendFileSync(${JSON.stringify(log)}, kind + (existsSync(lock) ? ' overlapping' : '') + '\\n');
writeFileSync(lock, '');
const r = spawnSync('rsync', process.argv.slice(2), { stdio: 'inherit' });
if (kind === 'job') spawnSync('sleep', ['0.3']);
rmSync(lock, { force: true });
process.exit(r.status ?? 1);
`,
    { mode: 0o755 },
  );
  const lane = new Lane({ remote: remoteOf(daemon), rsync: { ...rsync, binary: bin }, concurrency: 1, retries: 0, emit: () => {}, debug: false, adaptive: false });
  cleanups.push(() => lane.stop('abort'));
  await put(src, 'a', 'a');
  const job = lane.run({ root: src, action: 'path', paths: ['a'] });
  lane.prepare();
  lane.prepare(); // asked twice: still one probe
  const first = await job;
  assert.equal(first.ok, true, JSON.stringify(first.outcome));
  await lane.onIdle();
  assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), ['job', 'probe']);
  // The answer is kept: a delete now needs no probe of its own.
  await rm(join(src, 'a'));
  await put(src, 'b', 'b');
  assert.equal((await lane.run({ root: src, action: 'path', paths: ['a', 'b'] })).ok, true);
  assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), ['job', 'probe', 'job']);
  assert.deepEqual(await treeDiff(src, dst), []);
});

test('rsync missing or the root gone: an outcome, never an exception, and the paths come back', async () => {
  const { src } = await fresh();
  const { lane } = laneFor(remoteOf(daemon), { rsync: { ...rsync, binary: '/nonexistent/rsync' }, retries: 0 });
  const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true });
  assert.ok(!r.ok);
  assert.match(r.outcome.spawnError ?? '', /ENOENT/);
  assert.deepEqual(r.failedPaths, ['']);
  const { lane: lane2 } = laneFor(remoteOf(daemon), { retries: 0 });
  const r2 = await lane2.run({ root: join(src, 'no-such-root'), action: 'tree', paths: [''], full: true });
  assert.ok(!r2.ok);
  assert.notEqual(r2.outcome.spawnError, undefined);
});

test("stop('drain') lets queued jobs land and refuses new ones", async () => {
  const { src, dst } = await fresh();
  const { lane } = laneFor(remoteOf(daemon), { concurrency: 1 });
  for (const f of ['a', 'b', 'c']) await put(src, f, f);
  const jobs = ['a', 'b', 'c'].map((f) => lane.run({ root: src, action: 'path', paths: [f] }));
  const drained = lane.stop('drain');
  const refused = await lane.run({ root: src, action: 'path', paths: ['late'] });
  assert.ok(!refused.ok && refused.failedPaths[0] === 'late');
  await drained;
  assert.equal(lane.state, 'stopped');
  assert.ok((await Promise.all(jobs)).every((r) => r.ok));
  assert.deepEqual(await treeDiff(src, dst), []);
});
