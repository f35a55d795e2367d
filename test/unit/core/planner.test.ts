import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet } from '../../../src/core/change-set.js';
import { plan } from '../../../src/core/planner.js';

const limits = { settleMs: 30, maxDelayMs: 1000, maxBatch: 1000 };
const ch = { root: '/r', remoteId: 'h::m' };

test('nothing pending: no jobs, no wake-up', () => {
  assert.deepEqual(plan(new ChangeSet(), ch, 0, limits, 4), { jobs: [], wakeAt: undefined });
});

test('a single file written while idle goes at once (the leading edge)', () => {
  const cs = new ChangeSet();
  cs.add('a.txt', 'path', 100);
  const p = plan(cs, ch, 100, limits, 4);
  assert.deepEqual(p.jobs, [{ root: '/r', remoteId: 'h::m', action: 'path', paths: ['a.txt'] }]);
});

test('a file soon after other activity goes after one settle window', () => {
  const cs = new ChangeSet();
  cs.add('first', 'path', 0);
  cs.take(['first']);
  cs.finish(['first']);
  cs.add('a.txt', 'path', 100);
  const early = plan(cs, ch, 110, limits, 4);
  assert.deepEqual(early.jobs, [], 'idle for 100 ms only: no leading edge');
  assert.equal(early.wakeAt, 130);
  const p = plan(cs, ch, 130, limits, 4);
  assert.deepEqual(p.jobs, [{ root: '/r', remoteId: 'h::m', action: 'path', paths: ['a.txt'] }]);
});

test('after an idle spell only the first instant goes at once; the rest of the burst is batched', () => {
  const cs = new ChangeSet();
  cs.add('first', 'path', 5000);
  const lead = plan(cs, ch, 5000, limits, 4);
  assert.deepEqual(lead.jobs.flatMap((j) => j.paths), ['first']);
  cs.take(['first']);
  cs.add('second', 'path', 5010);
  assert.deepEqual(plan(cs, ch, 5010, limits, 4).jobs, [], 'the second waits for the window');
  assert.equal(plan(cs, ch, 5040, limits, 4).jobs.length, 1);
});

test('activity resets the window; the ceiling does not move, and flushes the whole channel', () => {
  const cs = new ChangeSet();
  for (let t = 0; t <= 990; t += 10) cs.add(`f${t}`, 'path', t);
  assert.deepEqual(plan(cs, ch, 995, limits, 4).jobs, []);
  cs.add('late', 'path', 1000);
  const p = plan(cs, ch, 1000, limits, 4);
  const sent = p.jobs.flatMap((j) => j.paths);
  assert.ok(sent.includes('f0'), 'the oldest entry reached the ceiling');
  assert.ok(sent.includes('late'), 'one large batch, not a trickle of entries as each reaches its own ceiling');
  assert.equal(p.jobs.length, 1);
});

test('a burst is split over free workers, never past maxBatch, trees first', () => {
  const cs = new ChangeSet({ maxPerDir: 100_000, maxTotal: 100_000 });
  for (let i = 0; i < 5000; i++) cs.add(`f${i}`, 'path', 0);
  cs.add('newdir', 'tree', 0);
  const p = plan(cs, ch, 400, { ...limits, maxBatch: 1000 }, 10);
  assert.equal(p.jobs[0]?.action, 'tree');
  const pathJobs = p.jobs.filter((j) => j.action === 'path');
  assert.equal(pathJobs.reduce((n, j) => n + j.paths.length, 0), 5000);
  assert.ok(pathJobs.every((j) => j.paths.length <= 1000));
  assert.ok(p.jobs.length <= 10);
});

test('new directories are spread over the free workers, however few (each may hold a whole tree)', () => {
  const cs = new ChangeSet();
  for (let i = 0; i < 95; i++) cs.add(`dir${i}`, 'tree', 0);
  const p = plan(cs, ch, 400, limits, 4);
  assert.equal(p.jobs.length, 4);
  assert.ok(p.jobs.every((j) => j.action === 'tree' && j.paths.length >= 23 && j.paths.length <= 24));
  assert.equal(new Set(p.jobs.flatMap((j) => j.paths)).size, 95);
  const one = new ChangeSet();
  one.add('only', 'tree', 0);
  assert.equal(plan(one, ch, 400, limits, 4).jobs.length, 1);
});

test('small batches are not split', () => {
  const cs = new ChangeSet();
  for (let i = 0; i < 50; i++) cs.add(`f${i}`, 'path', 0);
  const p = plan(cs, ch, 100, limits, 10);
  assert.equal(p.jobs.length, 1);
  assert.equal(p.jobs[0]?.paths.length, 50);
});

test('no free slot: no job, asked again', () => {
  const cs = new ChangeSet();
  cs.add('a', 'path', 0);
  const p = plan(cs, ch, 100, limits, 0);
  assert.deepEqual(p.jobs, []);
});

test('more ready than slots: wake at once for the rest', () => {
  const cs = new ChangeSet({ maxPerDir: 100_000, maxTotal: 100_000 });
  for (let i = 0; i < 1500; i++) cs.add(`p${i}`, 'path', 0);
  const p = plan(cs, ch, 400, limits, 1);
  assert.equal(p.jobs.length, 1);
  assert.equal(p.jobs[0]?.paths.length, limits.maxBatch);
  assert.equal(p.wakeAt, 400);
});

test('the paths of a flush ride in its tree job: one rsync run, the paths marked flat', () => {
  const cs = new ChangeSet();
  cs.add('t1', 'tree', 0);
  cs.add('t1/x', 'path', 1);
  cs.add('p1', 'path', 0);
  cs.add('d/p2', 'path', 0);
  for (const slots of [1, 2]) {
    const p = plan(cs, ch, 400, limits, slots);
    assert.equal(p.jobs.length, 1, `${slots} slot(s)`);
    assert.deepEqual(p.jobs[0]?.action, 'tree');
    assert.deepEqual([...p.jobs[0]!.paths].sort(), ['d/p2', 'p1', 't1']);
    assert.deepEqual([...(p.jobs[0]!.flat ?? [])].sort(), ['d/p2', 'p1']);
    assert.deepEqual(p.jobs[0]!.also, ['t1/x'], 'what the tree swallowed is still carried');
    assert.equal(p.wakeAt, undefined);
  }
});

test('the root as a path does not ride in a tree job (a tree of the root is a full sync)', () => {
  const root = new ChangeSet();
  root.add('t', 'tree', 0);
  root.add('', 'path', 0);
  const p = plan(root, ch, 400, limits, 2);
  assert.equal(p.jobs.length, 2);
  assert.ok(p.jobs.every((j) => j.flat === undefined));
});

test('many paths with many free slots still go in parallel batches beside the trees', () => {
  const cs = new ChangeSet({ maxPerDir: 100_000, maxTotal: 100_000 });
  cs.add('t', 'tree', 0);
  for (let i = 0; i < 800; i++) cs.add(`p${i}`, 'path', 0);
  const p = plan(cs, ch, 400, limits, 4);
  assert.ok(p.jobs.every((j) => j.flat === undefined));
  assert.equal(p.jobs.filter((j) => j.action === 'path').length, 3);
});

test('paths overlapping in-flight work wait', () => {
  const cs = new ChangeSet();
  cs.add('d', 'tree', 0);
  cs.take(['d']);
  cs.add('d/x', 'path', 10);
  cs.add('e', 'path', 10);
  const p = plan(cs, ch, 100, limits, 4);
  assert.deepEqual(p.jobs.flatMap((j) => j.paths), ['e']);
});

test('a riding path is a path again when its job fails (replay log, pending set), the trees stay trees', async () => {
  const { entryAction } = await import('../../../src/core/planner.js');
  const action = entryAction({ root: '/r', remoteId: 'h::m', action: 'tree', paths: ['t', 'p'], flat: ['p'] });
  assert.deepEqual([action('t'), action('p')], ['tree', 'path']);
  assert.equal(entryAction({ root: '/r', remoteId: 'h::m', action: 'path', paths: ['p'] })('p'), 'path');
});
