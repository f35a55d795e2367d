import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COARSE_MS, SentHistory } from '../../../src/sync/sent-history.js';

const BORN = 1_000_000;
const st = (mtimeMs: number, ctimeMs = mtimeMs) => ({ mtimeMs, ctimeMs });

test('a path no job touched since the second of its mtime trusts the quick check', () => {
  const h = new SentHistory(BORN);
  assert.equal(h.needsForce('/r', 'a.txt', st(BORN + 5_300), BORN + 5_400), false);
});

test('sent in the same second as its new mtime: forced (the same-size rewrite within one second)', () => {
  const h = new SentHistory(BORN);
  const tok = h.begin('/r', 'path', ['a.txt']);
  h.finish(tok, '/r', 'path', ['a.txt'], BORN + 5_100, BORN + 5_200, true);
  // rewritten at 5.7 s: the remote's copy from 5.1 s has the same whole second
  assert.equal(h.needsForce('/r', 'a.txt', st(BORN + 5_700), BORN + 5_800), true);
  // rewritten in the next second: the quick check sees a different mtime
  assert.equal(h.needsForce('/r', 'a.txt', st(BORN + 6_100), BORN + 6_200), false);
  // another root's path of the same name is another file
  assert.equal(h.needsForce('/other', 'a.txt', st(BORN + 5_700), BORN + 5_800), false);
});

test('covered by a tree sent in that second, or by a job still running: forced', () => {
  const h = new SentHistory(BORN);
  const tok = h.begin('/r', 'tree', ['d']);
  h.finish(tok, '/r', 'tree', ['d'], BORN + 5_000, BORN + 5_300, true);
  assert.equal(h.needsForce('/r', 'd/x/f', st(BORN + 5_600), BORN + 5_700), true);
  assert.equal(h.needsForce('/r', 'dd/f', st(BORN + 5_600), BORN + 5_700), false);
  const running = h.begin('/r', 'path', ['e/g']);
  assert.equal(h.needsForce('/r', 'e/g', st(BORN + 7_000), BORN + 7_100), true);
  assert.equal(h.needsForce('/r', 'e/g', st(BORN + 7_000), BORN + 7_100, running), false, 'not by itself');
  const full = h.begin('/r', 'tree', ['']);
  assert.equal(h.needsForce('/r', 'z', st(BORN + 7_000), BORN + 7_100), true);
  h.finish(full, '/r', 'tree', [''], BORN + 7_000, BORN + 7_200, true);
  h.finish(running, '/r', 'path', ['e/g'], BORN + 7_000, BORN + 7_200, true);
});

test('what we cannot know is forced: before this process started, or older than the memory', () => {
  const h = new SentHistory(BORN, 10_000);
  assert.equal(h.needsForce('/r', 'a', st(BORN - 500), BORN + 100), true, 'the previous process may have sent it in that second');
  assert.equal(h.needsForce('/r', 'a', st(BORN + 1_000), BORN + 20_000), true, 'a backlog or replay');
});

test('already there: a path job stat\'ed it after its last change (ctime, which no application can set back)', () => {
  const h = new SentHistory(BORN);
  const tok = h.begin('/r', 'path', ['a']);
  h.finish(tok, '/r', 'path', ['a'], BORN + 5_000, BORN + 5_100, true);
  assert.equal(h.alreadyThere('/r', 'a', st(BORN + 4_000, BORN + 4_900)), true);
  assert.equal(h.alreadyThere('/r', 'a', st(BORN + 4_000, BORN + 5_000 - COARSE_MS + 1)), false, 'within the coarse clock: may have changed after');
  assert.equal(h.alreadyThere('/r', 'a', st(BORN + 1_000, BORN + 5_050)), false, 'changed while the job ran (an old mtime set by the application changes nothing)');
  // a tree job does not count: it went without --ignore-times
  const t = h.begin('/r', 'tree', ['d']);
  h.finish(t, '/r', 'tree', ['d/f'], BORN + 5_000, BORN + 5_100, true);
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 4_000, BORN + 4_000)), false);
  // a failed path did not land
  const f = h.begin('/r', 'path', ['b', 'c']);
  h.finish(f, '/r', 'path', ['b'], BORN + 5_000, BORN + 5_100, true);
  assert.equal(h.alreadyThere('/r', 'c', st(BORN + 4_000, BORN + 4_000)), false);
});
