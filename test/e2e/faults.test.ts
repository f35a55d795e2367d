/**
 * Issue 3's fault scenarios, end to end: the built CLI as a subprocess, a real rsync daemon, real
 * signals. Each test ends with the destination equal to the source, byte for byte, and the replay
 * log empty or holding exactly what must still fail. What the daemon says is read as typed events
 * from its JSON log (--log-file), never from its terminal lines; its timers are shortened through
 * TSSERSYNC_TUNING (src/engine/schedule.ts) instead of waiting out production intervals.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile, cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import type { EngineEvent } from '../../src/events.js';
import type { EngineTuning } from '../../src/engine.js';
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
  return { src, state, conf, opts, log: join(state, 'fail.jsonl'), events: join(state, 'events.jsonl'), dst: (extra.daemon ?? daemon).modules[extra.module ?? name]! };
}

/** Start the CLI with its events in `events` (JSON lines) and, optionally, shorter timers. */
function start(args: string[], events: string, tuning: Partial<EngineTuning> = {}) {
  const r = startCli([...args, '--log-file', events], { TSSERSYNC_TUNING: JSON.stringify(tuning) });
  running.push(r);
  return r;
}

type Logged = EngineEvent & { timestamp: string };

/** The events the daemon logged so far (a line still being written is left for the next read). */
async function logged(file: string): Promise<Logged[]> {
  if (!existsSync(file)) return [];
  const out: Logged[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    try {
      if (line.trim() !== '') out.push(JSON.parse(line) as Logged);
    } catch {
      // the last line, half written
    }
  }
  return out;
}

/** Waits until an event matching `pred` is logged; returns it. */
function event(file: string, pred: (e: Logged) => boolean, what: string, timeoutMs = 20000): Promise<Logged> {
  return waitFor(async () => (await logged(file)).find(pred), timeoutMs, what);
}

/** Events logged at or after `t` (Date.now() of this process: same clock). */
const since = (t: number) => (e: Logged) => Date.parse(e.timestamp) >= t;

async function stop(r: ReturnType<typeof startCli>, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  r.child.kill(signal);
  return r.exited;
}

interface LoggedRecord {
  path: string;
  remote: string;
  exitCode: number | null;
  message: string;
  attempts: number;
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

test('the rsync daemon is killed mid-burst and restarted after its retries failed: everything lands, the replay log empties', async () => {
  const { src, conf, dst, log, events } = await setup('killed');
  // The failing remote's replay log is retried every second instead of every 15 s.
  const run = start(['-o', conf], events, { unhealthyRetryMs: 1000 });
  try {
    await live(src, dst);
    await burst(src, 400);
    await daemon.kill();
    await burst(src, 1600, 400);
    await waitFor(async () => (await replayRecords(log)).length > 0, 30000, 'failures in the replay log while the daemon is down');
    // The outage lasts until the retries of the failing remote have failed twice (attempts: 1 + <retry count="1">, +1 per replay).
    await waitFor(async () => (await replayRecords(log)).some((r) => r.attempts >= 4), 60000, 'two failed replays while the daemon is down');
    await daemon.restart();
    await waitForSameTree(src, dst, 60000);
    await waitFor(async () => (await replayRecords(log)).length === 0, 30000, 'the replay log to empty');
    // One report of the failing remote, not one per file or per job, naming the cause.
    const reports = (await logged(events)).filter((e) => e.type === 'remote-health' && !e.healthy);
    assert.equal(reports.length, 1, JSON.stringify(reports));
    assert.match(reports[0]!.type === 'remote-health' ? (reports[0]!.cause ?? '') : '', /connection refused/i);
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
});

test('a wrong password, then the right one via --retry-log', async () => {
  const wrong = join(work.path, 'wrong.pas');
  await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
  const { src, conf, dst, log, events } = await setup('pw', { daemon: { ...daemon, passwordFile: wrong } });
  const run = start(['--debug', '-o', conf], events);
  const names = ['plain.txt', ...AWKWARD_NAMES.slice(0, 6)];
  try {
    await event(events, (e) => e.type === 'started', 'the watcher to be up');
    for (const n of names) await writeFile(join(src, n), `content of ${n}`);
    await waitFor(async () => (await replayRecords(log)).length >= names.length, 30000, 'auth failures in the replay log');
    assert.deepEqual(await readdir(dst), [], 'nothing can land with a wrong password');
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
  const seen = await logged(events);
  assert.ok(seen.some((e) => e.type === 'remote-health' && !e.healthy && /auth failed/i.test(e.cause ?? '')), 'the cause is named');
  assert.ok(seen.some((e) => e.type === 'job-start' && e.argv?.some((w) => w.startsWith('--password-file='))), 'debug shows the argv');
  assert.ok(!run.output().includes('not-the-password'), 'no secret on the terminal, even with --debug');
  assert.ok(!(await readFile(events, 'utf8')).includes('not-the-password'), 'no secret in the log file, even with --debug');
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
  const { src, conf, dst, state, events } = await setup('term', { tssersync: `${FAST}\n    <threads num="1"/>` });
  await throttle(conf);
  const run = start(['-o', conf], events);
  await live(src, dst);
  await burst(src, 3000);
  assert.equal(await stop(run), 0, run.output());
  assert.ok((await treeDiff(src, dst)).length > 0, 'the stop came mid-burst');
  assert.ok(existsSync(join(state, 'pending.json')), 'pending changes saved on SIGTERM');

  const restarted = Date.now();
  const again = start(['-o', conf], events);
  try {
    await waitForSameTree(src, dst, 90000);
    const resumed = (await logged(events)).filter(since(restarted)).find((e) => e.type === 'recovery' && e.kind === 'pending');
    assert.ok(resumed?.type === 'recovery' && (resumed.changes ?? 0) > 0, 'the saved pending changes were resumed');
  } finally {
    assert.equal(await stop(again), 0, again.output());
  }
});

test('SIGKILL mid-burst: the next start notices the unclean stop and catches up on its own', async () => {
  const { src, conf, dst, log, events } = await setup('sigkill');
  await throttle(conf);
  const run = start(['-o', conf], events);
  await live(src, dst);
  await burst(src, 3000);
  await stop(run, 'SIGKILL');
  assert.ok((await treeDiff(src, dst)).length > 0, 'the kill came mid-burst');
  // Changes made while nothing watches are caught up too.
  await writeFile(join(src, 'while-down.txt'), 'written while tssersync was dead');
  await rm(join(src, 'burst3'), { recursive: true });
  const again = start(['-o', conf], events);
  try {
    await waitForSameTree(src, dst, 90000);
    assert.ok((await logged(events)).some((e) => e.type === 'recovery' && e.kind === 'unclean' && e.full === true), 'the unclean stop was noticed: a full sync');
    assert.deepEqual(await replayRecords(log), []);
  } finally {
    assert.equal(await stop(again), 0, again.output());
  }
});

test('the watch root removed: nothing is deleted on the remote; replication resumes when it is back', async () => {
  const { src, conf, dst, events } = await setup('gone');
  const run = start(['--debug', '-o', conf], events, { haltProbeMs: 200 });
  try {
    await live(src, dst);
    await burst(src, 200, 0, 5);
    await waitForSameTree(src, dst, 30000);
    const before = await snapshot(dst);
    const saved = join(work.path, 'gone-saved');
    await cp(src, saved, { recursive: true });
    const removed = Date.now();
    await rm(src, { recursive: true });
    await event(events, (e) => since(removed)(e) && e.type === 'safety' && e.check === 'rootMissing' && e.level === 'error', 'the missing root to halt replication');
    assert.deepEqual(await snapshot(dst), before, 'the remote must not change while the root is gone');
    const restored = Date.now();
    await cp(saved, src, { recursive: true });
    await event(events, (e) => since(restored)(e) && e.type === 'safety' && e.check === 'rootMissing' && e.level === 'info', 'the root to be watched again');
    await writeFile(join(src, 'after-return.txt'), 'the root is back');
    await waitForSameTree(src, dst, 30000);
    const whileGone = (await logged(events)).filter((e) => e.type === 'job-start' && Date.parse(e.timestamp) >= removed && Date.parse(e.timestamp) < restored);
    assert.deepEqual(whileGone, [], 'no rsync ran while the root was gone');
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
});

test('the watch root unmounted: nothing is deleted on the remote; remounted, replication resumes', async (t) => {
  const store = join(work.path, 'mount-store');
  await mkdir(store, { recursive: true });
  const { src, conf, dst, events } = await setup('mount');
  const mount = (...args: string[]) => spawnSync('mount', args, { encoding: 'utf8' });
  const m = mount('--bind', store, src);
  if (m.status !== 0) {
    t.skip(`bind mounts are not allowed here: ${m.stderr.trim()}`);
    return;
  }
  const run = start(['--debug', '-o', conf], events, { haltProbeMs: 200 });
  try {
    await live(src, dst);
    await burst(src, 200, 0, 5);
    await waitForSameTree(src, dst, 30000);
    const before = await snapshot(dst);
    // umount says "target is busy" while an rsync runs with its cwd in the root: as for an operator, try again.
    const unmounted = Date.now();
    await waitFor(() => spawnSync('umount', [src]).status === 0, 15000, `umount ${src}`);
    // The watcher sees a different directory, watches it again, and the reconcile that follows halts on the empty root.
    const back = await event(events, (e) => since(unmounted)(e) && e.type === 'safety' && e.check === 'rootMissing' && e.level === 'info', 'the unmounted root to be watched again');
    await event(events, (e) => since(Date.parse(back.timestamp))(e) && e.type === 'safety' && e.check === 'rootEmpty', 'the empty root to halt deletes');
    assert.deepEqual(await snapshot(dst), before, 'an unmounted (empty) root must not empty the remote');
    const remounted = Date.now();
    const whileUnmounted = (await logged(events)).filter((e) => e.type === 'job-start' && Date.parse(e.timestamp) >= unmounted);
    assert.deepEqual(whileUnmounted, [], 'no rsync ran while the root was unmounted');
    assert.equal(mount('--bind', store, src).status, 0);
    await event(events, (e) => since(remounted)(e) && e.type === 'safety' && e.check === 'rootMissing' && e.level === 'info', 'the remounted root to be watched again');
    await writeFile(join(src, 'after-remount.txt'), 'mounted again');
    await waitForSameTree(src, dst, 30000);
  } finally {
    assert.equal(await stop(run), 0, run.output());
    spawnSync('umount', [src]);
  }
});

test('SIGHUP with a broken config keeps the running one; a good one is applied', async () => {
  const { src, conf, dst, opts, events } = await setup('hup');
  const run = start(['-o', conf], events);
  try {
    await live(src, dst);
    const good = await readFile(conf, 'utf8');
    await writeFile(conf, good.replace('<sersync>', '<sersync><localpath watch="/nope">'));
    const hup = Date.now();
    run.child.kill('SIGHUP');
    await event(events, (e) => since(hup)(e) && e.type === 'info' && e.level === 'error', 'the rejection to be logged', 10000);
    await writeFile(join(src, 'after-bad-hup.txt'), 'still replicating');
    await waitForSameTree(src, dst, 20000);

    await writeXml(conf, { ...opts, module: 'hup2' });
    const goodHup = Date.now();
    run.child.kill('SIGHUP');
    // The new config runs once its engine has started (its watcher is up).
    await event(events, (e) => since(goodHup)(e) && e.type === 'started', 'the reloaded engine to start', 10000);
    await writeFile(join(src, 'after-good-hup.txt'), 'to the new remote');
    await waitFor(() => existsSync(join(daemon.modules.hup2!, 'after-good-hup.txt')), 20000, 'the new remote to receive the file');
    assert.ok(!existsSync(join(dst, 'after-good-hup.txt')), 'the old remote is no longer used');
  } finally {
    assert.equal(await stop(run), 0, run.output());
  }
});

test('maxDelete: a job over the limit is reported and held in the replay log, not retried in a loop', async () => {
  const { src, conf, dst, log, events } = await setup('maxdel', { tssersync: `${FAST}\n    <maxDelete num="3"/>` });
  // The replay timer every 0.5 s (timeToExecute 1 min of 500 ms), so automatic replays come often.
  await writeFile(conf, (await readFile(conf, 'utf8')).replace('timeToExecute="60"', 'timeToExecute="1"'));
  const run = start(['--debug', '-o', conf], events, { minuteMs: 500, unhealthyRetryMs: 500 });
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
    // An automatic replay that leaves the held records out says so (debug): once one has, every
    // job of the rm -rf has ended in the replay log.
    const leftOut = async () => (await logged(events)).filter((e) => e.type === 'replay' && (e.held ?? 0) > 0).length;
    const replays = (n: number, what: string) => waitFor(async () => (await leftOut()) >= n, 20000, what);
    // Three replays (1.5 s) give every job of the rm -rf time to end.
    await replays(3, 'automatic replays to leave the held records out');
    // Each job stops after 3 deletions (the events of one rm -rf can make a few jobs).
    const left = (await readdir(join(dst, 'd'))).length;
    assert.ok(left >= 25, `the guard held deletions back: ${left} of 40 left`);
    const reports = async () => (await logged(events)).filter((e) => e.type === 'safety' && e.check === 'maxDelete').length;
    const first = await reports();
    assert.ok(first >= 1, run.output());
    // Five more automatic replays: none may send the held deletes behind the operator's back.
    await replays((await leftOut()) + 5, 'five more automatic replays');
    assert.equal(await reports(), first, `not retried behind the operator's back:\n${run.output()}`);
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
  const { src, conf, dst, log, events } = await setup('partial', { daemon: refusing });
  const run = start(['--debug', '-o', conf], events);
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
    // Every job has ended: the channel's last queue report (debug, throttled, one when it settles) says nothing pending or in flight.
    await waitFor(async () => {
      const last = (await logged(events)).filter((e) => e.type === 'queue').at(-1);
      return last?.type === 'queue' && last.pending === 0 && last.inFlight === 0;
    }, 20000, 'the channel to settle');
    const paths = new Set((await replayRecords(log)).map((r) => r.path));
    assert.ok([...paths].every((p) => p === 'blocked' || p.startsWith('blocked/')), `only refused paths are logged: ${[...paths].join(', ')}`);
    assert.ok(records.every((r) => r.exitCode === 23), JSON.stringify(records));
    assert.ok(!existsSync(join(dst, 'blocked', 'a')), 'the daemon refused it');
  } finally {
    assert.equal(await stop(run), 0, run.output());
    await refusing.stop();
  }
});
