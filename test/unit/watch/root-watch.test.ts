import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchChild } from '../../../src/watch/child-handle.js';
import { RootWatch } from '../../../src/watch/root-watch.js';
import type { RootState } from '../../../src/watch/root-state.js';

const DIR: RootState = { kind: 'dir', dev: 1, ino: 2, birth: 3 };
const child = (name: string) => ({ name }) as unknown as WatchChild;

test('root watch: start, replace, and the old child handed back to retire', () => {
  const rw = new RootWatch('/r', DIR);
  const a = child('a');
  const b = child('b');
  assert.equal(rw.phase.kind, 'new');
  rw.begin(a);
  assert.deepEqual([rw.phase.kind, rw.child, rw.present], ['starting', a, true]);
  rw.started(100);
  assert.deepEqual([rw.phase.kind, rw.liveSince], ['live', 100]);
  rw.replaceBegin(b);
  assert.deepEqual([rw.phase.kind, rw.child, rw.pending, rw.present], ['replacing', a, b, true]);
  assert.equal(rw.replaceDone(200), a);
  assert.deepEqual([rw.phase.kind, rw.child, rw.pending, rw.liveSince], ['live', b, undefined, 200]);
});

test('root watch: a failed replacement keeps the old child; a lost root halts, and comes back live', () => {
  const rw = new RootWatch('/r', DIR);
  const [a, b, c] = [child('a'), child('b'), child('c')];
  rw.begin(a);
  rw.started(1);
  rw.replaceBegin(b);
  rw.replaceFailed();
  assert.deepEqual([rw.phase.kind, rw.child, rw.liveSince], ['live', a, 1]);
  rw.rootLost();
  assert.deepEqual([rw.phase.kind, rw.present, rw.child], ['absent', false, a]);
  rw.replaceBegin(c);
  assert.equal(rw.present, false, 'not present while the new child starts');
  rw.replaceDone(5);
  assert.deepEqual([rw.phase.kind, rw.child], ['absent', c]);
  const back: RootState = { kind: 'dir', dev: 1, ino: 9, birth: 4 };
  rw.rootBack(6, back);
  assert.deepEqual([rw.phase.kind, rw.present, rw.identity], ['live', true, back]);
});

test('root watch: the root lost during a replacement ends absent; impossible transitions throw; stop is final', () => {
  const rw = new RootWatch('/r', DIR);
  const [a, b] = [child('a'), child('b')];
  assert.throws(() => rw.started(1), /started is not a transition from new/);
  rw.begin(a);
  rw.started(1);
  rw.replaceBegin(b);
  assert.throws(() => rw.replaceBegin(b), /replaceBegin is not a transition from replacing/);
  rw.rootLost();
  assert.equal(rw.present, false);
  rw.replaceDone(2);
  assert.deepEqual([rw.phase.kind, rw.child], ['absent', b]);
  assert.throws(() => new RootWatch('/r', DIR).rootBack(1, DIR), /rootBack/);
  assert.deepEqual(rw.stop(), [b]);
  assert.deepEqual([rw.phase.kind, rw.child, rw.present], ['stopped', undefined, false]);
  rw.replaceFailed();
  assert.equal(rw.phase.kind, 'stopped');
});
