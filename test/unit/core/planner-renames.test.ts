/**
 * Renames in the change set and the planner (issue 9 item 2): the old path of a pending rename is
 * held and goes in the job of the new path, which carries the rename, so the receiver still has its
 * old copy while the new path is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet } from '../../../src/core/change-set.js';
import { plan } from '../../../src/core/planner.js';

const limits = { settleMs: 30, maxDelayMs: 1000, maxBatch: 1000 };
const ch = { root: '/r', remoteId: 'h::m' };

/** Plan until nothing is pending, taking and finishing every job at once. */
function drain(cs: ChangeSet, from: number): { jobs: ReturnType<typeof plan>['jobs']; at: number[] } {
  const jobs: ReturnType<typeof plan>['jobs'] = [];
  const at: number[] = [];
  for (let now = from, i = 0; cs.size > 0 && i < 100; i++) {
    const p = plan(cs, ch, now, limits, 4);
    for (const j of p.jobs) {
      cs.take(j.paths);
      cs.finish(j.paths);
      jobs.push(j);
      at.push(now);
    }
    now = p.wakeAt ?? now + 1;
  }
  return { jobs, at };
}

test('a renamed directory: one tree job carries the rename and deletes the old path', () => {
  const cs = new ChangeSet();
  // The order resolve.ts reports them in: the new path first, then the old one as missing.
  cs.add('new', 'tree', 5000, 'old');
  cs.add('old', 'path', 5000);
  const { jobs } = drain(cs, 5000);
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  assert.deepEqual(jobs[0]!.action, 'tree');
  assert.deepEqual([...jobs[0]!.paths].sort(), ['new', 'old']);
  assert.deepEqual(jobs[0]!.renames, [{ from: 'old', to: 'new' }]);
});

test('the old path is held while its new path waits: it never goes first', () => {
  const cs = new ChangeSet();
  cs.add('busy', 'path', 0); // activity: no leading edge for what follows
  cs.take(['busy']);
  cs.finish(['busy']);
  cs.add('new', 'tree', 100, 'old');
  cs.add('old', 'path', 100);
  // Something keeps happening inside the new tree: it waits while being filled.
  cs.add('new/f', 'path', 200);
  for (let now = 100; now < 2000; now += 10) {
    const p = plan(cs, ch, now, limits, 4);
    for (const j of p.jobs) assert.ok(!j.paths.includes('old') || j.paths.includes('new'), `at ${now}: the old path went without its new one: ${JSON.stringify(j)}`);
    if (p.jobs.length > 0) {
      assert.deepEqual(p.jobs[0]!.renames, [{ from: 'old', to: 'new' }]);
      return;
    }
  }
  assert.fail('never planned');
});

test('a chain a -> b -> c keeps the path the remote has and deletes both old paths in one job', () => {
  const cs = new ChangeSet();
  cs.add('b', 'tree', 5000, 'a');
  cs.add('a', 'path', 5000);
  cs.add('c', 'tree', 5005, 'b');
  cs.add('b', 'path', 5005);
  const { jobs } = drain(cs, 5005);
  const withC = jobs.find((j) => j.paths.includes('c'));
  assert.ok(withC, JSON.stringify(jobs));
  assert.deepEqual(withC.renames, [{ from: 'a', to: 'c' }]);
  assert.deepEqual([...withC.paths].sort(), ['a', 'b', 'c']);
  assert.equal(jobs.flatMap((j) => j.paths).filter((p) => p === 'a').length, 1, 'a is deleted once');
});

test('a renamed file (an atomic save: tmp renamed over its target) is one path job', () => {
  const cs = new ChangeSet();
  cs.add('doc.txt', 'path', 5000, '.doc.txt.swp');
  cs.add('.doc.txt.swp', 'path', 5000);
  const { jobs } = drain(cs, 5000);
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  assert.equal(jobs[0]!.action, 'path');
  assert.deepEqual([...jobs[0]!.paths].sort(), ['.doc.txt.swp', 'doc.txt']);
});

test('many renames in one window are batched: one job, each rename carried', () => {
  const cs = new ChangeSet();
  cs.add('seed', 'path', 0);
  cs.take(['seed']);
  cs.finish(['seed']);
  for (let i = 0; i < 50; i++) {
    cs.add(`dst/d${i}`, 'tree', 100 + i, `src/d${i}`);
    cs.add(`src/d${i}`, 'path', 100 + i);
  }
  const { jobs } = drain(cs, 150);
  // Trees are spread over the free workers (4 here): a job per worker, never one per rename.
  assert.ok(jobs.length <= 4, `${jobs.length} jobs`);
  assert.equal(jobs.flatMap((j) => j.renames ?? []).length, 50);
  for (const j of jobs) for (const r of j.renames ?? []) assert.ok(j.paths.includes(r.from) && j.paths.includes(r.to), 'each rename with both its paths');
  assert.equal(jobs.flatMap((j) => j.paths).length, 100);
});

test('the old path of a rename whose new path is already in flight is planned on its own', () => {
  const cs = new ChangeSet();
  cs.add('new', 'tree', 5000, 'old');
  cs.take(['new']); // planned before the old path's change came
  cs.add('old', 'path', 5001);
  const { jobs } = drain(cs, 5100);
  assert.deepEqual(jobs.map((j) => j.paths), [['old']]);
  assert.equal(jobs[0]!.renames, undefined);
});

test('a rename into a pending tree (mkdir d; mv old d/new) rides with that tree, the old path too', () => {
  const cs = new ChangeSet();
  cs.add('dir', 'tree', 5000);
  cs.add('dir/new', 'tree', 5001, 'old');
  cs.add('old', 'path', 5001);
  const { jobs } = drain(cs, 5001);
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  assert.deepEqual([...jobs[0]!.paths].sort(), ['dir', 'old']);
  assert.deepEqual(jobs[0]!.renames, [{ from: 'old', to: 'dir/new' }]);
});

test('a tree that swallows a pending rename takes its rename and old path along', () => {
  const cs = new ChangeSet();
  cs.add('x', 'path', 0);
  cs.take(['x']);
  cs.finish(['x']);
  cs.add('dir/new', 'tree', 100, 'old');
  cs.add('old', 'path', 100);
  cs.add('dir', 'tree', 110);
  const { jobs } = drain(cs, 110);
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  assert.deepEqual([...jobs[0]!.paths].sort(), ['dir', 'old']);
  assert.deepEqual(jobs[0]!.renames, [{ from: 'old', to: 'dir/new' }]);
});

test('nothing is lost: every old and new path of random renames is planned', () => {
  let seed = 42;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let round = 0; round < 200; round++) {
    const cs = new ChangeSet();
    const expected = new Set<string>();
    let now = 10_000;
    for (let i = 0; i < 1 + rnd(8); i++) {
      const from = `p${rnd(6)}`;
      const to = `p${rnd(6)}`;
      if (from === to) continue;
      cs.add(to, rnd(2) ? 'tree' : 'path', now, from);
      cs.add(from, 'path', now);
      expected.add(from).add(to);
      now += rnd(3);
    }
    const { jobs } = drain(cs, now);
    const planned = new Set(jobs.flatMap((j) => j.paths));
    for (const p of expected) assert.ok(planned.has(p), `round ${round}: ${p} never planned: ${JSON.stringify(jobs)}`);
    assert.equal(cs.size, 0);
  }
});
