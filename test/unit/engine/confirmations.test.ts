import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Confirmations } from '../../../src/engine/confirmations.js';

test('all: a path is ready once every remote confirmed it', () => {
  const c = new Confirmations(['a', 'b'], 'all');
  assert.deepEqual(c.confirm('a', ['x', 'y']), []);
  assert.deepEqual(c.confirm('b', ['y']), ['y']);
  assert.deepEqual(c.confirm('a', ['x']), []);
  assert.deepEqual(c.confirm('b', ['x']), ['x']);
});

test('any, or a single remote: ready at once', () => {
  assert.deepEqual(new Confirmations(['a', 'b'], 'any').confirm('b', ['x']), ['x']);
  assert.deepEqual(new Confirmations(['a'], 'all').confirm('a', ['x']), ['x']);
});

test('bounded: the oldest waiting path is released past the cap', () => {
  const c = new Confirmations(['a', 'b'], 'all', 2);
  c.confirm('a', ['p1', 'p2']);
  assert.deepEqual(c.confirm('a', ['p3']), ['p1']);
});
