import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BURST } from '../../../src/engine/burst.js';
import { DEFAULT_TUNING, Schedule, tuningFromEnv, tuningWith } from '../../../src/engine/schedule.js';

test('tuning: defaults, partial overrides, burst options merged field by field', () => {
  assert.deepEqual(tuningWith(undefined), DEFAULT_TUNING);
  assert.equal(DEFAULT_TUNING.unhealthyRetryMs, 15_000);
  assert.equal(DEFAULT_TUNING.haltProbeMs, 2000);
  const t = tuningWith({ unhealthyRetryMs: 100, burst: { quietMs: 5 } as never });
  assert.equal(t.unhealthyRetryMs, 100);
  assert.equal(t.haltProbeMs, DEFAULT_TUNING.haltProbeMs);
  assert.deepEqual(t.burst, { ...DEFAULT_BURST, quietMs: 5 });
});

test('TSSERSYNC_TUNING counts only in test runs (TSSERSYNC_TEST=1)', () => {
  const raw = JSON.stringify({ unhealthyRetryMs: 50 });
  assert.deepEqual(tuningFromEnv({ TSSERSYNC_TUNING: raw }), {});
  assert.deepEqual(tuningFromEnv({ TSSERSYNC_TEST: '1', TSSERSYNC_TUNING: raw }), { unhealthyRetryMs: 50 });
  assert.deepEqual(tuningFromEnv({ TSSERSYNC_TEST: '1' }), {});
  assert.throws(() => tuningFromEnv({ TSSERSYNC_TEST: '1', TSSERSYNC_TUNING: '[1]' }), /expected a JSON object/);
});

test('every(): repeats; 0 minutes is off; minutes scale by minuteMs; stop() clears all', async () => {
  const s = new Schedule(tuningWith({ minuteMs: 2 }));
  let fast = 0;
  let off = 0;
  s.every(1, () => fast++);
  s.everyMinutes(0, () => off++);
  s.everyMinutes(1, () => undefined);
  await until(() => fast >= 3);
  s.stop();
  const after = fast;
  s.every(1, () => fast++); // refused once stopped
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(fast, after);
  assert.equal(off, 0);
});

test('after(): a later call with the same key replaces the earlier one', async () => {
  const s = new Schedule(DEFAULT_TUNING);
  const fired: string[] = [];
  s.after('k', 1000, () => fired.push('first'));
  s.after('k', 1, () => fired.push('second'));
  s.after('other', 1, () => fired.push('other'));
  await until(() => fired.length >= 2);
  assert.deepEqual(fired.sort(), ['other', 'second']);
  s.stop();
});

test('until(): resolves when the condition holds, or at the bound', async () => {
  const s = new Schedule(DEFAULT_TUNING);
  let ok = false;
  setTimeout(() => (ok = true), 5);
  await s.until(() => ok, 5000);
  assert.equal(ok, true);
  const t0 = Date.now();
  await s.until(() => false, 30);
  assert.ok(Date.now() - t0 >= 30);
});

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}
