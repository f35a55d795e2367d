import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Change } from '../../../src/core/types.js';
import type { EngineEvent } from '../../../src/events.js';
import type { Channel } from '../../../src/engine/channel.js';
import { Intake } from '../../../src/engine/intake.js';
import { Schedule, tuningWith } from '../../../src/engine/schedule.js';

/** A channel stand-in that records what it was given. */
function fakeChannel(root: string) {
  const added: [string, Action][] = [];
  let resumed = 0;
  const ch = { root, state: 'running', add: (p: string, a: Action) => void added.push([p, a]), resume: () => void resumed++ };
  return { ch: ch as unknown as Channel, added, resumed: () => resumed };
}

const change = (root: string, path: string): Change => ({ root, path, event: 'modify', state: 'file' }) as unknown as Change;

test('changes fan out to every channel of their root, and only while intake is open', () => {
  const a1 = fakeChannel('/a');
  const a2 = fakeChannel('/a');
  const b = fakeChannel('/b');
  const s = new Schedule(tuningWith({}));
  const intake = new Intake([a1.ch, a2.ch, b.ch], () => {}, s);
  intake.onChanges([change('/a', 'x')]);
  assert.equal(a1.added.length, 0, 'closed before start');
  intake.open();
  intake.onChanges([change('/a', 'x'), change('/b', 'y')]);
  assert.deepEqual(a1.added.map((x) => x[0]), ['x']);
  assert.deepEqual(a2.added.map((x) => x[0]), ['x']);
  assert.deepEqual(b.added.map((x) => x[0]), ['y']);
  intake.draining();
  intake.onChanges([change('/b', 'z')]);
  assert.deepEqual(b.added.map((x) => x[0]), ['y', 'z'], 'a stop still takes the last changes');
  intake.close();
  intake.onChanges([change('/b', 'w')]);
  assert.equal(b.added.length, 2);
  s.stop();
});

test('a gap is a tree reconcile of the directory; a root back resumes its channels', () => {
  const a = fakeChannel('/a');
  const events: EngineEvent[] = [];
  const s = new Schedule(tuningWith({}));
  const intake = new Intake([a.ch], (e) => events.push(e), s);
  intake.onGap('/a', 'sub', 'overflow');
  assert.deepEqual(a.added, [['sub', 'tree']]);
  intake.onRootState('/a', false);
  assert.equal(a.resumed(), 0);
  intake.onRootState('/a', true);
  assert.equal(a.resumed(), 1);
  assert.deepEqual(events.map((e) => e.type === 'safety' && [e.level, e.check]), [false, ['error', 'rootMissing'], ['info', 'rootMissing']]);
  s.stop();
});

test('a burst gets a reconcile of its scope once it is over (tuned burst timers)', async () => {
  const a = fakeChannel('/a');
  const s = new Schedule(tuningWith({ burst: { threshold: 5, windowMs: 1000, quietMs: 20, ceilingMs: 60_000 } }));
  const intake = new Intake([a.ch], () => {}, s);
  intake.open();
  intake.onChanges(['d/1', 'd/2', 'd/3', 'd/e/4', 'd/5', 'd/6'].map((p) => change('/a', p)));
  const deadline = Date.now() + 2000;
  while (!a.added.some(([p, act]) => p === 'd' && act === 'tree')) {
    if (Date.now() > deadline) throw new Error(`no burst reconcile: ${JSON.stringify(a.added)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  s.stop();
});
