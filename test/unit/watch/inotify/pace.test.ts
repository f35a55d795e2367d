import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../../../src/watch/inotify/pace.js';

test('pace: after a quiet spell the first reads go at once (one file: create, then close_write)', () => {
  const b = new TokenBucket(0, { capacity: 4, refillMs: 10 });
  assert.deepEqual([b.take(1000), b.take(1000.5), b.take(1001)], [0, 0, 0]);
});

test('pace: in a burst one read per refill period; a quiet spell refills the bucket', () => {
  const b = new TokenBucket(0, { capacity: 2, refillMs: 10 });
  assert.deepEqual([b.take(0), b.take(0)], [0, 0]);
  // Empty: each read waits for its token; the caller reads when told and asks again on return.
  let now = 0;
  const at: number[] = [];
  for (let i = 0; i < 10; i++) {
    now += b.take(now) + 1; // the read takes 1 ms
    at.push(now);
  }
  // Ten reads over ~100 ms, never two within one period.
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 10 - 1e-9, `reads at ${at.join(', ')}`);
  assert.ok(now <= 112, `ten paced reads took until ${now}`);
  assert.deepEqual([b.take(now + 1000), b.take(now + 1000), b.take(now + 1000) > 0], [0, 0, true]);
});
