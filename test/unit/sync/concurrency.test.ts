import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptiveConcurrency, BUSY_MAX } from '../../../src/sync/concurrency.js';
import { busyBetween } from '../../../src/sync/machine-load.js';

test('one rsync per core by default, never above -n / <threads>', () => {
  assert.equal(adaptiveConcurrency(10, 2, []), 2);
  assert.equal(adaptiveConcurrency(10, 16, []), 10);
  assert.equal(adaptiveConcurrency(1, 8, []), 1);
  assert.equal(adaptiveConcurrency(10, 0, []), 1);
});

test('short jobs (start-up bound): half the cores; long jobs (network bound): up to two per core', () => {
  assert.equal(adaptiveConcurrency(10, 2, [40, 60, 50, 30]), 1);
  assert.equal(adaptiveConcurrency(10, 8, [40, 60, 50]), 4);
  assert.equal(adaptiveConcurrency(10, 2, [5000, 4000, 6000]), 4);
  assert.equal(adaptiveConcurrency(3, 2, [5000, 4000, 6000]), 3);
  assert.equal(adaptiveConcurrency(10, 2, [500, 800, 700]), 2);
});

test('follows the last jobs, not the whole history', () => {
  const slowThenFast = [5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 50, 50, 50, 50, 50, 50, 50, 50];
  assert.equal(adaptiveConcurrency(10, 2, slowThenFast), 1);
  assert.equal(adaptiveConcurrency(10, 2, [50, 50]), 2, 'too few to judge');
});

test('long jobs on a machine whose cores are busy: no more streams than cores (they share the cores with the application)', () => {
  const long = [5000, 4000, 6000];
  assert.equal(adaptiveConcurrency(10, 2, long, 0.95), 2);
  assert.equal(adaptiveConcurrency(10, 2, long, BUSY_MAX + 0.01), 2);
  assert.equal(adaptiveConcurrency(10, 2, long, BUSY_MAX), 4, 'at the line: still network bound');
  assert.equal(adaptiveConcurrency(10, 2, long, 0.3), 4);
  assert.equal(adaptiveConcurrency(10, 2, long, undefined), 4, 'not known: as before');
  assert.equal(adaptiveConcurrency(10, 2, [40, 60, 50], 0.95), 1, 'short jobs: half the cores whatever the load');
});

test('the busy share between two readings of the CPU counters', () => {
  assert.equal(busyBetween({ busy: 100, total: 1000 }, { busy: 850, total: 2000 }), 0.75);
  assert.equal(busyBetween({ busy: 100, total: 1000 }, { busy: 100, total: 1000 }), undefined, 'no time passed');
  assert.equal(busyBetween({ busy: 0, total: 0 }, { busy: 20, total: 10 }), 1, 'clamped');
});
