import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayRecords, formatReplayReport, type ReplayGroup } from '../../../src/replay/replayer.js';
import { groupRecords } from '../../../src/replay/group.js';
import { parseRecordLine, recordLine } from '../../../src/replay/record.js';
import type { ReplayRecord } from '../../../src/replay/types.js';
import { AWKWARD_NAMES } from '../../support/tree.js';

const T0 = '2025-01-01T00:00:00.000Z';
const NOW = new Date('2025-01-02T00:00:00.000Z');
const rec = (remote: string, path: string, action: 'path' | 'tree' = 'path', extra: Partial<ReplayRecord> = {}): ReplayRecord => ({
  time: T0, root: '/data', remote, path, action, exitCode: 10, message: 'rsync to x failed with exit code 10', attempts: 3, ...extra,
});

/** A fake runner: records the groups it is given, fails the paths `fails` says. */
function fakeRun(fails: (g: ReplayGroup) => readonly string[] = () => []) {
  const calls: ReplayGroup[] = [];
  const run = async (g: ReplayGroup) => {
    calls.push(g);
    const failed = fails(g);
    return { failed, exitCode: failed.length ? 12 : 0, message: failed.length ? `still down: ${g.remote}` : 'ok' };
  };
  return { calls, run };
}

test('groups by (remote, root, action), dedupes, sorts', () => {
  const records = [rec('b', 'z'), rec('a', 'y'), rec('a', 'x'), rec('a', 'x'), rec('a', 'd', 'tree'), rec('a', 'x', 'path', { root: '/other' })];
  const { groups } = groupRecords(records);
  assert.deepEqual(groups, [
    { remote: 'a', root: '/data', action: 'tree', paths: ['d'] },
    { remote: 'a', root: '/data', action: 'path', paths: ['x', 'y'] },
    { remote: 'a', root: '/other', action: 'path', paths: ['x'] },
    { remote: 'b', root: '/data', action: 'path', paths: ['z'] },
  ]);
});

test('a path under a tree of the same remote and root is carried by the tree; "" carries everything', () => {
  const records = [rec('a', 'd/e/f'), rec('a', 'd', 'tree'), rec('a', 'd/e', 'tree'), rec('a', 'dx'), rec('b', 'd/e/f')];
  const { groups, carrier } = groupRecords(records);
  assert.deepEqual(groups.map((g) => [g.remote, g.action, g.paths]), [['a', 'tree', ['d']], ['a', 'path', ['dx']], ['b', 'path', ['d/e/f']]]);
  assert.deepEqual(carrier.map((c) => c.path), ['d', 'd', 'd', 'dx', 'd/e/f']);
  const whole = groupRecords([rec('a', 'p/q'), rec('a', '', 'tree'), rec('a', 'r', 'tree')]).groups;
  assert.deepEqual(whole, [{ remote: 'a', root: '/data', action: 'tree', paths: [''] }]);
});

test('all landed: everything replayed, nothing left, one run per group', async () => {
  const { calls, run } = fakeRun();
  const records = [rec('a', 'x'), rec('a', 'y'), rec('b', 'x')];
  const r = await replayRecords(records, run, () => NOW);
  assert.equal(calls.length, 2);
  assert.equal(r.replayed.length, 3);
  assert.deepEqual(r.left, []);
});

test('left-over accounting: attempts + 1, new cause and time, first-failure time kept', async () => {
  const { run } = fakeRun((g) => (g.remote === 'b' ? g.paths : g.paths.filter((p) => p === 'y')));
  const records = [rec('a', 'x'), rec('a', 'y'), rec('b', 'x', 'path', { attempts: 7, since: '2024-12-31T00:00:00.000Z' })];
  const r = await replayRecords(records, run, () => NOW);
  assert.deepEqual(r.replayed.map((x) => [x.remote, x.path]), [['a', 'x']]);
  assert.deepEqual(
    r.left.map((x) => [x.remote, x.path, x.attempts, x.exitCode, x.message, x.time, x.since]),
    [
      ['a', 'y', 4, 12, 'still down: a', NOW.toISOString(), T0],
      ['b', 'x', 8, 12, 'still down: b', NOW.toISOString(), '2024-12-31T00:00:00.000Z'],
    ],
  );
});

test('the same record twice is harmless: one path sent, one record left', async () => {
  const { calls, run } = fakeRun((g) => g.paths);
  const twice = [rec('a', 'x', 'path', { attempts: 2 }), rec('a', 'x', 'path', { attempts: 5, time: '2024-06-01T00:00:00.000Z' })];
  const r = await replayRecords(twice, run, () => NOW);
  assert.deepEqual(calls.map((c) => c.paths), [['x']]);
  assert.equal(r.left.length, 1);
  assert.equal(r.left[0]!.attempts, 6);
  assert.equal(r.left[0]!.since, '2024-06-01T00:00:00.000Z');
  const ok = await replayRecords(twice, fakeRun().run, () => NOW);
  assert.equal(ok.replayed.length, 1);
  assert.deepEqual(ok.left, []);
});

test('records carried by a tree follow the tree: left when it fails, with their own path and action', async () => {
  const { run } = fakeRun((g) => (g.action === 'tree' ? g.paths : []));
  const r = await replayRecords([rec('a', 'd/f'), rec('a', 'd', 'tree'), rec('a', 'other')], run, () => NOW);
  assert.deepEqual(r.left.map((x) => [x.path, x.action]), [['d/f', 'path'], ['d', 'tree']]);
  assert.deepEqual(r.replayed.map((x) => x.path), ['other']);
});

test('a runner that throws fails its whole group with the error as the cause; other remotes go on', async () => {
  const run = async (g: ReplayGroup) => {
    if (g.remote === 'a') throw new Error('lane stopped');
    return { failed: [], exitCode: 0, message: 'ok' };
  };
  const r = await replayRecords([rec('a', 'x'), rec('b', 'x')], run, () => NOW);
  assert.deepEqual(r.left.map((x) => [x.remote, x.message, x.exitCode]), [['a', 'lane stopped', null]]);
  assert.deepEqual(r.replayed.map((x) => x.remote), ['b']);
});

test('one slow remote does not hold the others back', async () => {
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const run = async (g: ReplayGroup) => {
    if (g.remote === 'slow') await gate;
    order.push(g.remote);
    if (g.remote === 'fast') release();
    return { failed: [], exitCode: 0, message: 'ok' };
  };
  await replayRecords([rec('slow', 'x'), rec('fast', 'x')], run, () => NOW);
  assert.deepEqual(order, ['fast', 'slow']);
});

test('failed paths outside the group are ignored', async () => {
  const r = await replayRecords([rec('a', 'x')], async () => ({ failed: ['not-ours'], exitCode: 23, message: 'partial' }), () => NOW);
  assert.equal(r.left.length, 0);
});

test('record lines: awkward names round-trip, one line each; bad shapes are named', () => {
  for (const name of AWKWARD_NAMES) {
    const line = recordLine(rec('a', name));
    assert.equal(line.indexOf('\n'), line.length - 1, `one line for ${JSON.stringify(name)}`);
    const p = parseRecordLine(line.slice(0, -1));
    assert.ok(p.ok);
    assert.equal(p.record.path, name);
  }
  const cases: [string, RegExp][] = [
    ['nope', /not JSON/],
    ['[1]', /not a JSON object/],
    [JSON.stringify({ ...rec('a', 'x'), action: 'rm -rf' }), /action/],
    [JSON.stringify({ ...rec('a', 'x'), attempts: -1 }), /attempts/],
    [JSON.stringify({ ...rec('a', 'x'), exitCode: '10' }), /exitCode/],
    [JSON.stringify({ ...rec('a', 'x'), path: 5 }), /path/],
    [JSON.stringify({ ...rec('a', 'x'), remote: '' }), /remote/],
  ];
  for (const [line, re] of cases) {
    const p = parseRecordLine(line);
    assert.equal(p.ok, false, line);
    if (!p.ok) assert.match(p.error, re);
  }
});

test('report: counts, one line per remote with its cause, the first few paths, awkward names quoted', () => {
  const left = [
    ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((p) => rec('backup1', p, 'path', { message: 'rsync to backup1::www failed with exit code 10 (error in socket I/O)' })),
    rec('backup1', 'new\nline.txt', 'path', { time: '2025-01-01T00:00:01.000Z', message: 'rsync to backup1::www failed with exit code 5\nauth failed' }),
    rec('hook:cdn', 'x.html', 'path', { message: 'HTTP 503' }),
  ];
  const text = formatReplayReport({ replayed: [rec('b2', 'ok')], left });
  const lines = text.split('\n');
  assert.equal(lines[0], 'replayed 1 record(s), 9 still failing');
  assert.match(lines[1]!, /^remote backup1: 8 path\(s\) under \/data still failing since 2025-01-01T00:00:00.000Z: .*exit code 5 \| auth failed \(and 1 other cause\(s\)\)$/);
  assert.equal(lines[2], '    "new\\nline.txt"');
  assert.equal(lines[7], '    … and 3 more');
  assert.match(lines[8]!, /^hook cdn: 1 path\(s\).*HTTP 503$/);
  assert.equal(lines[9], '    x.html');
  assert.equal(lines.length, 10);
  assert.equal(formatReplayReport({ replayed: [], left: [] }), 'replay log is empty: nothing to replay');
  assert.equal(formatReplayReport({ replayed: [rec('a', 'x')], left: [] }), 'replayed 1 record(s), nothing left to replay');
});
