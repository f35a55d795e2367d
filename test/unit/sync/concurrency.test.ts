import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptiveConcurrency } from '../../../src/sync/concurrency.js';

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
