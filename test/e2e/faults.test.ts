/**
 * Issue 3's fault scenarios, end to end: the built CLI as a subprocess, a real rsync daemon, real
 * signals. Each test ends with the destination equal to the source, byte for byte, and the replay
 * log empty or holding exactly what must still fail.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile, cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { runCli, startCli, writeXml, type XmlOptions } from '../support/cli.js';
import { tempDir, waitFor, waitForSameTree, snapshot, treeDiff, AWKWARD_NAMES } from '../support/tree.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
const running: Array<ReturnType<typeof startCli>> = [];

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['killed', 'pw', 'term', 'sigkill', 'gone', 'mount', 'hup', 'hup2', 'maxdel'] });
  work = await tempDir('tss-faults-');
});
after(async () => {
  for (const r of running) r.child.kill('SIGKILL');
  await daemon.stop();
  await work.cleanup();
});

const FAST = '\n    <retry count="1"/>';

async function setup(name: string, extra: Partial<XmlOptions> = {}) {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const opts: XmlOptions = { src, state, daemon, module: name, tssersync: FAST, ...extra };
  const conf = await writeXml(join(work.path, name, 'confxml.xml'), opts);
  return { src, state, conf, opts, log: join(state, 'fail.jsonl'), dst: (extra.daemon ?? daemon).modules[extra.module ?? name]! };
}

function start(args: string[]) {
  const r = startCli(args);
  running.push(r);
  return r;
}

async function stop(r: ReturnType<typeof startCli>, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  r.child.kill(signal);
  return r.exited;
}

interface LoggedRecord {
  path: string;
  remote: string;
  exitCode: number | null;
  message: string;
}

async function replayRecords(log: string): Promise<LoggedRecord[]> {
  if (!existsSync(log)) return [];
  const text = await readFile(log, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LoggedRecord);
}

/** Wait until the first file of a run is on the remote: the watcher is up and the remote answers. */
async function live(src: string, dst: string): Promise<void> {
  let n = 0;
  // Written again until it lands: a write before the watcher is up is (rightly) not seen.
  await waitFor(async () => {
    if (existsSync(join(dst, '.probe'))) return true;
    if (n++ % 10 === 0) await writeFile(join(src, '.probe'), 'probe');
    return false;
  }, 20000, 'the first file to replicate');
}

async function burst(src: string, n: number, from = 0, dirs = 20): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const d = join(src, `burst${i % dirs}`);
    if (i < dirs) await mkdir(d, { recursive: true });
    await writeFile(join(d, `f${i}`), `file ${i} `.repeat(1 + (i % 50)));
  }
}

test('the rsync daemon is killed mid-burst and restarted 20 s later: everything lands, the replay log empties', async () => {
  const { src, conf, dst, log } = await setup('killed');
  const run = start(['-o', conf]);
  try {
    await live(src, dst);
    await burst(src, 400);
    await daemon.kill();
    await burst(src, 1600, 400);
    await waitFor(async () => (await replayRecords(log)).length > 0, 30000, 'failures in the replay log while the daemon is down');
    await new Promise((r) => setTimeout(r, 20000 - 2000));
    await daemon.restart();
    await waitForSameTree(src, dst, 60000);
    await waitFor(async () => (await replayRecords(log)).length === 0, 30000, 'the replay log to empty');
    // One report of the failing remote, not one per file or per job.
    const reports = run.output().match(/remote \S+ is failing/g) ?? [];
    assert.equal(reports.length, 1, run.output());
    assert.match(run.output(), /connection refused|Connection refused/i);
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
});

test('a wrong password, then the right one via --retry-log', async () => {
  const wrong = join(work.path, 'wrong.pas');
  await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
  const { src, conf, dst, log } = await setup('pw', { daemon: { ...daemon, passwordFile: wrong } });
  const run = start(['--debug', '-o', conf]);
  const names = ['plain.txt', ...AWKWARD_NAMES.slice(0, 6)];
  try {
    await new Promise((r) => setTimeout(r, 1500));
    for (const n of names) await writeFile(join(src, n), `content of ${n}`);
    await waitFor(async () => (await replayRecords(log)).length >= names.length, 30000, 'auth failures in the replay log');
    assert.deepEqual(await readdir(dst), [], 'nothing can land with a wrong password');
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
  assert.match(run.output(), /auth/i, 'the cause is named');
  assert.match(run.output(), /--password-file=/, 'debug shows the argv');
  assert.ok(!run.output().includes('not-the-password'), 'no secret in the log, even with --debug');
  const records = await replayRecords(log);
  assert.deepEqual(new Set(records.map((r) => r.path)), new Set(names));

  await writeFile(wrong, `${daemon.password}\n`, { mode: 0o600 });
  const replay = await runCli(['--retry-log', '-o', conf]);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  assert.match(replay.stdout, /replayed \d+ record/);
  await waitForSameTree(src, dst, 1000);
  assert.deepEqual(await replayRecords(log), []);
});

/** Slow the remote down (rsync's own --bwlimit) so that a stop lands in the middle of the burst. */
async function throttle(conf: string): Promise<void> {
  await writeFile(conf, (await readFile(conf, 'utf8')).replace('params="-artuz"', 'params="-artuz --bwlimit=64"'));
}

test('SIGTERM mid-burst saves the pending changes; the next start sends them', async () => {
  const { src, conf, dst, state } = await setup('term', { tssersync: `${FAST}\n    <threads num="1"/>` });
  await throttle(conf);
  const run = start(['-o', conf]);
  await live(src, dst);
  await burst(src, 3000);
  assert.equal(await stop(run), 0, run.output());
  assert.ok((await treeDiff(src, dst)).length > 0, 'the stop came mid-burst');
  assert.ok(existsSync(join(state, 'pending.json')), 'pending changes saved on SIGTERM');

  const again = start(['-o', conf]);
  try {
    await waitForSameTree(src, dst, 90000);
    assert.match(again.output(), /resuming \d+ pending change/);
  } finally {
    assert.equal(await stop(again), 0, again.output());
  }
});

test('SIGKILL mid-burst: the next start notices the unclean stop and catches up on its own', async () => {
  const { src, conf, dst, log } = await setup('sigkill');
  await throttle(conf);
  const run = start(['-o', conf]);
  await live(src, dst);
  await burst(src, 3000);
  await stop(run, 'SIGKILL');
  assert.ok((await treeDiff(src, dst)).length > 0, 'the kill came mid-burst');
  // Changes made while nothing watches are caught up too.
  await writeFile(join(src, 'while-down.txt'), 'written while tssersync was dead');
  await rm(join(src, 'burst3'), { recursive: true });
  const again = start(['-o', conf]);
  try {
    await waitForSameTree(src, dst, 90000);
    assert.match(again.output(), /did not stop cleanly/);
    assert.deepEqual(await replayRecords(log), []);
  } finally {
    assert.equal(await stop(again), 0, again.output());
  }
});

test('the watch root removed: nothing is deleted on the remote; replication resumes when it is back', async () => {
  const { src, conf, dst } = await setup('gone');
  const run = start(['-o', conf]);
  try {
    await live(src, dst);
    await burst(src, 200, 0, 5);
    await waitForSameTree(src, dst, 30000);
    const before = await snapshot(dst);
    const saved = join(work.path, 'gone-saved');
    await cp(src, saved, { recursive: true });
    await rm(src, { recursive: true });
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(await snapshot(dst), before, 'the remote must not change while the root is gone');
    assert.match(run.output(), /disappeared/);
    await cp(saved, src, { recursive: true });
    await new Promise((r) => setTimeout(r, 500));
    await writeFile(join(src, 'after-return.txt'), 'the root is back');
    await waitForSameTree(src, dst, 30000);
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
});

test('the watch root unmounted: nothing is deleted on the remote; remounted, replication resumes', async (t) => {
  const store = join(work.path, 'mount-store');
  await mkdir(store, { recursive: true });
  const { src, conf, dst } = await setup('mount');
  const mount = (...args: string[]) => spawnSync('mount', args, { encoding: 'utf8' });
  const m = mount('--bind', store, src);
  if (m.status !== 0) {
    t.skip(`bind mounts are not allowed here: ${m.stderr.trim()}`);
    return;
  }
  const run = start(['-o', conf]);
  try {
    await live(src, dst);
    await burst(src, 200, 0, 5);
    await waitForSameTree(src, dst, 30000);
    const before = await snapshot(dst);
    // umount says "target is busy" while an rsync runs with its cwd in the root: as for an operator, try again.
    await waitFor(() => spawnSync('umount', [src]).status === 0, 15000, `umount ${src}`);
    await new Promise((r) => setTimeout(r, 4000));
    assert.deepEqual(await snapshot(dst), before, 'an unmounted (empty) root must not empty the remote');
    assert.equal(mount('--bind', store, src).status, 0);
    await new Promise((r) => setTimeout(r, 2500));
    await writeFile(join(src, 'after-remount.txt'), 'mounted again');
    await waitForSameTree(src, dst, 30000);
  } finally {
    assert.equal(await stop(run), 0, run.output());
    spawnSync('umount', [src]);
  }
});

test('SIGHUP with a broken config keeps the running one; a good one is applied', async () => {
  const { src, conf, dst, opts } = await setup('hup');
  const run = start(['-o', conf]);
  try {
    await live(src, dst);
    const good = await readFile(conf, 'utf8');
    await writeFile(conf, good.replace('<sersync>', '<sersync><localpath watch="/nope">'));
    run.child.kill('SIGHUP');
    await waitFor(() => /rejected/.test(run.output()), 10000, 'the rejection to be logged');
    await writeFile(join(src, 'after-bad-hup.txt'), 'still replicating');
    await waitForSameTree(src, dst, 20000);

    await writeXml(conf, { ...opts, module: 'hup2' });
    run.child.kill('SIGHUP');
    await waitFor(() => /reloading/.test(run.output()), 10000, 'the reload');
    await new Promise((r) => setTimeout(r, 1500));
    await writeFile(join(src, 'after-good-hup.txt'), 'to the new remote');
    await waitFor(() => existsSync(join(daemon.modules.hup2!, 'after-good-hup.txt')), 20000, 'the new remote to receive the file');
    assert.ok(!existsSync(join(dst, 'after-good-hup.txt')), 'the old remote is no longer used');
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
});

test('maxDelete: a job over the limit is reported and held in the replay log, not retried in a loop', async () => {
  const { src, conf, dst, log } = await setup('maxdel', { tssersync: `${FAST}\n    <maxDelete num="3"/>` });
  const run = start(['-o', conf]);
  try {
    await live(src, dst);
    await mkdir(join(src, 'd'));
    for (let i = 0; i < 40; i++) await writeFile(join(src, 'd', `f${i}`), `${i}`);
    await waitForSameTree(src, dst, 20000);
    await rm(join(src, 'd'), { recursive: true });
    const held = await waitFor(async () => {
      const r = await replayRecords(log);
      return r.length > 0 ? r : undefined;
    }, 20000, 'the held deletes in the replay log');
    assert.ok(held.every((r) => r.exitCode === 25), JSON.stringify(held));
    await new Promise((r) => setTimeout(r, 1000));
    // Each job stops after 3 deletions (the events of one rm -rf can make a few jobs).
    const left = (await readdir(join(dst, 'd'))).length;
    assert.ok(left >= 25, `the guard held deletions back: ${left} of 40 left`);
    const reports = () => run.output().match(/maxDelete stopped deletions/g)?.length ?? 0;
    const first = reports();
    assert.ok(first >= 1, run.output());
    await new Promise((r) => setTimeout(r, 17000)); // past the 15 s retry of failing remotes
    assert.equal(reports(), first, `not retried behind the operator's back:\n${run.output()}`);
    assert.equal((await readdir(join(dst, 'd'))).length, left, `still held:\n${run.output()}`);
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
  // The operator raises the limit and replays.
  await writeFile(conf, (await readFile(conf, 'utf8')).replace('<maxDelete num="3"/>', '<maxDelete num="100"/>'));
  const replay = await runCli(['--retry-log', '-o', conf]);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  await waitForSameTree(src, dst, 1000);
  assert.deepEqual(await replayRecords(log), []);
});

test('a receiver that refuses one directory (exit 23): only those paths go to the replay log', async () => {
  const refusing = await startRsyncDaemon({ modules: ['partial'], moduleExtra: ['exclude = /blocked/'] });
  const { src, conf, dst, log } = await setup('partial', { daemon: refusing });
  const run = start(['-o', conf]);
  try {
    await live(src, dst);
    await mkdir(join(src, 'blocked'));
    await mkdir(join(src, 'open'));
    for (const n of ['a', 'b', 'c']) {
      await writeFile(join(src, 'blocked', n), `blocked ${n}`);
      await writeFile(join(src, 'open', n), `open ${n}`);
    }
    await writeFile(join(src, 'top.txt'), 'top');
    await waitForSameTree(src, dst, 20000, (rel) => rel === 'blocked' || rel.startsWith('blocked/'));
    const records = await waitFor(async () => {
      const r = await replayRecords(log);
      return r.length > 0 && !(await treeDiff(src, dst, (rel) => rel.startsWith('blocked'))).length ? r : undefined;
    }, 20000, 'the refused paths in the replay log');
    await new Promise((r) => setTimeout(r, 1500));
    const paths = new Set((await replayRecords(log)).map((r) => r.path));
    assert.ok([...paths].every((p) => p === 'blocked' || p.startsWith('blocked/')), `only refused paths are logged: ${[...paths].join(', ')}`);
    assert.ok(records.every((r) => r.exitCode === 23), JSON.stringify(records));
    assert.ok(!existsSync(join(dst, 'blocked', 'a')), 'the daemon refused it');
  } finally {
    assert.equal(await stop(run), 0, run.output());
    await refusing.stop();
  }
});
