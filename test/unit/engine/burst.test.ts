import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstDetector, commonAncestor } from '../../../src/engine/burst.js';

const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}/f${i}`);

const opts = { threshold: 10, windowMs: 1000, quietMs: 500, ceilingMs: 5000 };

test('a burst is noticed once past the threshold, with the smallest directory holding it; no reconcile at its start', () => {
  const b = new BurstDetector(opts);
  assert.equal(b.record('/r', many('up/x', 6), 0), undefined);
  assert.deepEqual(b.record('/r', many('up/y', 6), 100), { kind: 'started', scope: 'up' });
  assert.equal(b.record('/r', many('up/z', 100), 200), undefined, 'once per burst');
  assert.equal(b.record('/other', many('a', 9), 200), undefined, 'roots are counted apart');
});

test('a burst that never goes quiet is reconciled every ceiling while it lasts', () => {
  const b = new BurstDetector(opts);
  const due: number[] = [];
  for (let t = 0; t <= 12_000; t += 100) {
    const s = b.record('/r', many('d', 50), t);
    if (s?.kind === 'ongoing') due.push(t);
    assert.equal(b.settled('/r', t + 50), undefined, 'never quiet');
  }
  assert.deepEqual(due, [5000, 10_000]);
});

test('the trailing reconcile comes once the root has been quiet, and only after a burst', () => {
  const b = new BurstDetector(opts);
  b.record('/r', many('a', 3), 0);
  assert.equal(b.settled('/r', 5000), undefined, 'no burst, nothing owed');
  b.record('/r', many('a/b', 20), 6000);
  b.record('/r', ['top.txt'], 6300);
  assert.equal(b.settled('/r', 6500), undefined, 'not quiet long enough');
  assert.equal(b.settled('/r', 6800), '', 'a change at the top widens the scope to the root');
  assert.equal(b.settled('/r', 9000), undefined, 'owed once');
});

test('slow trickles never add up to a burst', () => {
  const b = new BurstDetector(opts);
  for (let t = 0; t < 20_000; t += 1100) assert.equal(b.record('/r', many('d', 9), t), undefined);
});

test('common ancestor of relative paths', () => {
  assert.equal(commonAncestor('a/b', 'a/b/c'), 'a/b');
  assert.equal(commonAncestor('a/b', 'a/x'), 'a');
  assert.equal(commonAncestor('a/b', 'ab/c'), '');
  assert.equal(commonAncestor('', 'x'), '');
  assert.equal(commonAncestor('a/b', 'a'), 'a');
});
