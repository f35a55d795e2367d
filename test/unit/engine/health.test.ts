import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../../src/events.js';
import { RemoteHealth } from '../../../src/engine/health.js';

test('a failing remote is reported once each way; a live job that lands replays, a replay does not', () => {
  const events: EngineEvent[] = [];
  let replays = 0;
  const h = new RemoteHealth((e) => events.push(e), () => replays++);
  h.retry();
  assert.equal(replays, 0, 'nothing failing: the retry tick does nothing');
  h.failed('a', 'exit code 10');
  h.failed('a', 'exit code 10 again');
  assert.equal(h.isFailing('a'), true);
  assert.deepEqual(events.map((e) => e.type === 'remote-health' && [e.remote, e.healthy, e.cause]), [['a', false, 'exit code 10']]);
  h.retry();
  assert.equal(replays, 1, 'failing: the retry tick replays');
  h.answered('a', false); // a replay landed
  assert.equal(replays, 1);
  assert.equal(h.anyFailing, false);
  h.failed('a', 'down again');
  h.answered('a', true); // a live job landed
  assert.equal(replays, 2);
  h.answered('a', true); // healthy already: nothing to say
  assert.equal(events.filter((e) => e.type === 'remote-health').length, 4);
});
