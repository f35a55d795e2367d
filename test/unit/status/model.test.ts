import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../../../src/events.js';
import { StatusModel } from '../../../src/status/model.js';
import { problems, isCurrent } from '../../../src/status/health.js';
import { AlertDetector, alertName } from '../../../src/status/alerts.js';

const R = '/srv/www';
const A = '127.0.0.1::a';
const B = '127.0.0.1::b';
const T0 = 1_700_000_000_000;

function queue(pending: number, inFlight: number, oldestMs: number | null, remote = A, state: 'running' | 'halted' = 'running'): EngineEvent {
  return { type: 'queue', level: 'debug', message: '', root: R, remote, pending, inFlight, oldestMs, state };
}

test('the status model, health and alerts import nothing but the event types and each other, and never read the clock', () => {
  const dir = join(import.meta.dirname, '../../../src/status');
  for (const f of ['model.ts', 'health.ts', 'alerts.ts']) {
    const src = readFileSync(join(dir, f), 'utf8');
    const imports = [...src.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
    for (const i of imports) assert.ok(i === '../events.js' || /^\.\/(model|health|alerts)\.js$/.test(i), `${f} imports ${i}`);
    assert.ok(!/Date\.now|new Date\(|performance\.now|setTimeout|setInterval|process\./.test(src), `${f} reads the clock or process`);
  }
  assert.ok(readdirSync(dir).includes('model.ts'));
});

test('idle: every declared channel is live with lag 0', () => {
  const m = new StatusModel([{ root: R, remote: A }, { root: R, remote: B }]);
  m.apply({ type: 'started', level: 'info', message: '', roots: 1, remotes: 2 }, T0);
  m.apply({ type: 'watch', level: 'info', message: `watching ${R}`, root: R }, T0);
  const s = m.snapshot(T0 + 5000);
  assert.deepEqual(s.channels.map((c) => [c.remote, c.state, c.lagSeconds]), [[A, 'live', 0], [B, 'live', 0]]);
  assert.equal(s.roots[0]!.watcher.state, 'live');
  assert.ok(isCurrent(s));
});

test('lag is the age of the oldest change not yet landed, and 0 once it has', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  m.apply(queue(3, 1, T0), T0 + 100);
  let c = m.snapshot(T0 + 2500).channels[0]!;
  assert.equal(c.state, 'catching-up');
  assert.equal(c.pending, 3);
  assert.equal(c.inFlight, 1);
  assert.equal(c.lagSeconds, 2.5);
  m.apply({ type: 'job-done', level: 'info', message: '', remote: A, root: R, paths: 4, durationMs: 10 }, T0 + 3000);
  m.apply({ type: 'transfer', level: 'debug', message: '', remote: A, root: R, bytesSent: 1234 }, T0 + 3000);
  m.apply(queue(0, 0, null), T0 + 3000);
  c = m.snapshot(T0 + 9000).channels[0]!;
  assert.deepEqual([c.state, c.lagSeconds, c.jobsOk, c.bytesSent, c.lastLandedAt], ['live', 0, 1, 1234, T0 + 3000]);
});

test('a failing remote: state failing with its cause and since when; lag grows from the replay records; back = live', () => {
  const m = new StatusModel([{ root: R, remote: A }, { root: R, remote: B }]);
  for (let i = 1; i <= 4; i++) {
    m.apply({ type: 'job-failed', level: 'warn', message: '', remote: A, root: R, paths: 2, exitCode: 10, attempt: i, willRetry: i < 4 }, T0 + i);
  }
  // The engine's follow-up for the same job (its paths went to the replay log) is not a second failure.
  m.apply({ type: 'job-failed', level: 'error', message: '', remote: A, root: R, paths: 2, exitCode: 10, attempt: 4, willRetry: false, logged: true }, T0 + 5);
  m.apply({ type: 'remote-health', level: 'error', message: 'x', remote: A, healthy: false, cause: 'exit 10 (error in socket I/O)' }, T0 + 10);
  m.apply({ type: 'remote-health', level: 'error', message: 'x', remote: A, healthy: false, cause: 'exit 10 (error in socket I/O)' }, T0 + 20);
  m.apply({ type: 'replay-log', level: 'debug', message: '', channels: [{ root: R, remote: A, records: 2, oldestMs: T0 }, { root: R, remote: 'hook:http', records: 1, oldestMs: T0 }] }, T0 + 30);
  let s = m.snapshot(T0 + 90_000);
  const a = s.channels.find((c) => c.remote === A)!;
  assert.deepEqual([a.state, a.reason, a.since, a.jobsFailed, a.replayRecords, a.lagSeconds], ['failing', 'exit 10 (error in socket I/O)', T0 + 10, 1, 2, 90]);
  assert.equal(s.channels.find((c) => c.remote === B)!.state, 'live', 'one remote never stalls another');
  assert.deepEqual(s.hookReplayRecords, { 'hook:http': 1 });
  assert.deepEqual(problems(s).map((p) => [p.kind, p.subject]), [['remote-failing', A], ['lag-high', A], ['replay-left', A]]);
  assert.equal(s.remotes.find((r) => r.remote === A)!.up, false);

  m.apply({ type: 'remote-health', level: 'info', message: '', remote: A, healthy: true }, T0 + 91_000);
  m.apply({ type: 'replay-log', level: 'debug', message: '', channels: [] }, T0 + 92_000);
  s = m.snapshot(T0 + 93_000);
  assert.equal(s.channels.find((c) => c.remote === A)!.state, 'live');
  assert.equal(s.channels.find((c) => c.remote === A)!.lagSeconds, 0);
  assert.ok(isCurrent(s));
});

test('a receiver without --delete-missing-args is a warning, not an outage', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  m.apply({ type: 'remote-health', level: 'warn', message: '', remote: A, healthy: true, cause: 'delete-missing-args unsupported' }, T0);
  assert.equal(m.snapshot(T0).remotes[0]!.up, true);
});

test('halted: by a channel safety check with its reason, cleared when the channel runs again; root missing halts every channel', () => {
  const m = new StatusModel([{ root: R, remote: A }, { root: R, remote: B }]);
  m.apply({ type: 'safety', level: 'error', message: 'root emptied', root: R, check: 'rootEmpty' }, T0);
  m.apply(queue(5, 0, T0, A, 'halted'), T0);
  let s = m.snapshot(T0 + 1000);
  assert.equal(s.channels[0]!.state, 'halted');
  assert.match(s.channels[0]!.reason!, /rootEmpty: root emptied/);
  assert.equal(s.roots[0]!.halted, true);
  m.apply(queue(0, 0, null, A, 'running'), T0 + 2000);
  m.apply(queue(0, 0, null, B, 'running'), T0 + 2000);
  s = m.snapshot(T0 + 2000);
  assert.deepEqual(s.channels.map((c) => c.state), ['live', 'live']);

  m.apply({ type: 'safety', level: 'error', message: 'gone', root: R, check: 'rootMissing' }, T0 + 3000);
  s = m.snapshot(T0 + 4000);
  assert.deepEqual(s.channels.map((c) => c.state), ['halted', 'halted']);
  assert.equal(s.roots[0]!.watcher.state, 'absent');
  m.apply({ type: 'safety', level: 'info', message: 'back', root: R, check: 'rootMissing' }, T0 + 5000);
  m.apply({ type: 'watch', level: 'info', message: `watch root ${R} is back: watching it again`, root: R }, T0 + 5000);
  s = m.snapshot(T0 + 5000);
  assert.deepEqual(s.channels.map((c) => c.state), ['live', 'live']);
  assert.equal(s.roots[0]!.watcher.state, 'live');
});

test('watcher: a warning while it starts (a fallback backend) leaves it degraded once it watches; the backend is shown', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  m.apply({ type: 'watch-error', level: 'warn', message: '', root: R, error: 'the inotify backend cannot load (x): falling back to @parcel/watcher' }, T0);
  m.apply({ type: 'watch', level: 'info', message: `watching ${R}`, root: R, backend: 'parcel' }, T0 + 1);
  const w = m.snapshot(T0 + 2).roots[0]!.watcher;
  assert.deepEqual([w.state, w.backend], ['degraded', 'parcel']);
  assert.deepEqual(problems(m.snapshot(T0 + 2)).map((p) => p.kind), ['watcher-degraded']);
});

test('watcher: restarts counted, the last gap and how it was closed, inotify watches against the limit', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  m.apply({ type: 'watch', level: 'info', message: `watching ${R}`, root: R }, T0);
  m.apply({ type: 'watch-error', level: 'warn', message: '', root: R, error: 'child exited' }, T0 + 1);
  assert.equal(m.snapshot(T0 + 1).roots[0]!.watcher.state, 'degraded');
  m.apply({ type: 'watch', level: 'info', message: `watcher for ${R} restarted`, root: R, detail: 'child exited' }, T0 + 2);
  m.apply({ type: 'watch', level: 'info', message: `reconciling ${R}/a (new directory)`, root: R, detail: 'new directory' }, T0 + 3);
  m.apply({ type: 'inotify', level: 'debug', message: '', directories: { [R]: 950 }, maxUserWatches: 1000, maxUserInstances: 128 }, T0 + 4);
  const s = m.snapshot(T0 + 5);
  assert.equal(s.roots[0]!.watcher.restarts, 1);
  assert.equal(s.roots[0]!.watcher.state, 'live');
  assert.deepEqual(s.roots[0]!.watcher.lastGap, { reason: 'new directory', at: T0 + 3, closedBy: 'reconcile' });
  assert.deepEqual(s.inotify, { watches: 950, limit: 1000, instancesLimit: 128 });
  assert.deepEqual(problems(s).map((p) => p.kind), ['watcher-degraded'], 'watches near the limit');
});

test('a count past the sized limit gives entries and no bytes total', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  m.apply({ type: 'full-sync', level: 'info', message: '', root: R, remote: A, phase: 'start' }, T0);
  m.apply({ type: 'source-count', level: 'debug', message: '', root: R, files: 2_000_000, bytes: 123, complete: true, bytesCounted: false }, T0 + 1000);
  m.apply({ type: 'progress', level: 'debug', message: '', root: R, remote: A, files: 1_000_000, bytes: 0 }, T0 + 2000);
  const c = m.snapshot(T0 + 2000).channels[0]!;
  assert.equal(c.progress?.filesTotal, 2_000_000);
  assert.equal(c.progress?.bytesTotal, null, 'unknown, not the partial sum');
  assert.equal(c.progress?.etaSeconds, 2);
});

test('a full sync shows its progress, rate and ETA, and ends with the job', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  m.apply({ type: 'full-sync', level: 'info', message: '', root: R, remote: A, phase: 'start' }, T0);
  m.apply({ type: 'source-count', level: 'debug', message: '', root: R, files: 40, bytes: 9000, complete: false }, T0 + 1000);
  m.apply({ type: 'progress', level: 'debug', message: '', root: R, remote: A, files: 20, bytes: 2000 }, T0 + 2000);
  let c = m.snapshot(T0 + 2000).channels[0]!;
  assert.equal(c.state, 'full-sync');
  assert.deepEqual(c.progress, { files: 20, filesTotal: 40, bytes: 2000, bytesTotal: 9000, counting: true, bytesPerSecond: 1000, etaSeconds: null }, 'no ETA while counting');
  m.apply({ type: 'source-count', level: 'debug', message: '', root: R, files: 100, bytes: 10_000, complete: true }, T0 + 3000);
  m.apply({ type: 'progress', level: 'debug', message: '', root: R, remote: A, files: 50, bytes: 5000 }, T0 + 5000);
  c = m.snapshot(T0 + 5000).channels[0]!;
  assert.deepEqual(c.progress, { files: 50, filesTotal: 100, bytes: 5000, bytesTotal: 10_000, counting: false, bytesPerSecond: 1000, etaSeconds: 5 });
  m.apply({ type: 'progress', level: 'debug', message: '', root: R, remote: A, files: 103, bytes: 10_000 }, T0 + 6000);
  assert.equal(m.snapshot(T0 + 6000).channels[0]!.progress!.filesTotal, 103, 'never past 100 %');
  m.apply({ type: 'full-sync', level: 'info', message: '', root: R, remote: A, phase: 'done' }, T0 + 9000);
  c = m.snapshot(T0 + 9000).channels[0]!;
  assert.equal(c.state, 'live');
  assert.equal(c.progress, null);
});

test('alerts fire once per change of state, not per failed job, and say when they happened', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  const d = new AlertDetector();
  const names: string[] = [];
  const step = (e: EngineEvent, t: number) => {
    m.apply(e, t);
    for (const a of d.check(m.snapshot(t), t)) {
      m.apply(a, t);
      names.push(`${alertName(a)} ${a.subject} @${a.at - T0}`);
    }
  };
  for (let i = 0; i < 50; i++) {
    step({ type: 'job-failed', level: 'error', message: '', remote: A, root: R, paths: 1, exitCode: 10, attempt: 4, willRetry: false }, T0 + i);
    step({ type: 'remote-health', level: 'error', message: '', remote: A, healthy: false, cause: 'exit 10' }, T0 + i);
  }
  assert.equal(m.snapshot(T0 + 60).alerts.length, 1, 'the active alert shows in status');
  step({ type: 'remote-health', level: 'info', message: '', remote: A, healthy: true }, T0 + 100);
  step({ type: 'job-done', level: 'info', message: '', remote: A, root: R, paths: 1, durationMs: 1 }, T0 + 101);
  assert.deepEqual(names, [`remote-failing ${A} @0`, `remote-back ${A} @100`]);
  assert.equal(m.snapshot(T0 + 200).alerts.length, 0);
});

test('replay records older than the threshold raise replay-old; lag past its threshold raises lag-high', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  const d = new AlertDetector({ lagSeconds: 60, replayAgeSeconds: 600, watchesShare: 0.9 });
  m.apply({ type: 'replay-log', level: 'debug', message: '', channels: [{ root: R, remote: A, records: 1, oldestMs: T0 }] }, T0);
  assert.deepEqual(d.check(m.snapshot(T0 + 30_000), T0 + 30_000).map((a) => a.alert), []);
  assert.deepEqual(d.check(m.snapshot(T0 + 61_000), T0 + 61_000).map((a) => a.alert), ['lag-high']);
  assert.deepEqual(d.check(m.snapshot(T0 + 601_000), T0 + 601_000).map((a) => a.alert), ['replay-old']);
  m.apply({ type: 'replay-log', level: 'debug', message: '', channels: [] }, T0 + 602_000);
  assert.deepEqual(d.check(m.snapshot(T0 + 602_000), T0 + 602_000).map((a) => alertName(a)).sort(), ['lag-normal', 'replay-cleared']);
});

test('a reloaded config keeps the alerts already raised (no second remote-failing) and declares new channels', () => {
  const m = new StatusModel([{ root: R, remote: A }]);
  const d = new AlertDetector();
  m.apply({ type: 'remote-health', level: 'error', message: '', remote: A, healthy: false, cause: 'exit 10' }, T0);
  assert.deepEqual(d.check(m.snapshot(T0), T0).map((a) => alertName(a)), ['remote-failing']);
  const after = new AlertDetector(undefined, d.active());
  m.declare([{ root: R, remote: A }, { root: R, remote: B }]);
  assert.deepEqual(after.check(m.snapshot(T0 + 1), T0 + 1), []);
  assert.deepEqual(m.snapshot(T0 + 1).channels.map((c) => c.remote), [A, B]);
  m.apply({ type: 'remote-health', level: 'info', message: '', remote: A, healthy: true }, T0 + 2);
  assert.deepEqual(after.check(m.snapshot(T0 + 2), T0 + 2).map((a) => alertName(a)), ['remote-back']);
});
