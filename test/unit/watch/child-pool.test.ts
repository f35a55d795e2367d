import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHILD_POOL_DEFAULT, CHILD_POOL_MIN, childPoolSize } from '../../../src/watch/child-handle.js';

test('the watcher child thread pool: the default when unset or unreadable, raised to the minimum, larger kept', () => {
  for (const v of [undefined, '', ' ', 'abc', '0', '-3', '2.5']) assert.equal(childPoolSize(v), CHILD_POOL_DEFAULT, String(v));
  assert.equal(childPoolSize('1'), CHILD_POOL_MIN);
  assert.equal(childPoolSize('2'), CHILD_POOL_MIN);
  assert.equal(childPoolSize(String(CHILD_POOL_MIN)), CHILD_POOL_MIN);
  assert.equal(childPoolSize('64'), 64);
});
