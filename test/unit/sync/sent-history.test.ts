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

test('a tree that landed whole vouches for the files under it unchanged since before it began (the burst\'s first directory is not sent twice)', () => {
  const h = new SentHistory(BORN, 10_000);
  const t = h.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h.finish(t, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 19_500, BORN + 19_500)), true, 'written before the tree began');
  assert.equal(h.alreadyThere('/r', 'd/x/y/f', st(BORN + 19_500, BORN + 19_600)), true, 'deeper down too');
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 19_500, BORN + 20_000 - COARSE_MS + 1)), false, 'changed as it began');
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 20_100, BORN + 20_100)), false, 'changed while it ran');
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 5_000, BORN + 19_500)), false, 'an mtime older than what is remembered (set back by the application): its second may hide an older send');
  assert.equal(h.alreadyThere('/r', 'dd/f', st(BORN + 19_500, BORN + 19_500)), false, 'not under it');
});

test('a tree vouches only for mtime seconds after every job we remember on, above or inside it', () => {
  const h = new SentHistory(BORN, 10_000);
  // a path job sent d/f's earlier version at 19.2-19.4 s, in the same second as its last rewrite
  const p = h.begin('/r', 'path', ['d/f']);
  h.finish(p, '/r', 'path', ['d/f'], BORN + 19_200, BORN + 19_400, true);
  const t = h.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h.finish(t, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 19_700, BORN + 19_700)), false, 'rewritten in the second of the earlier send: the tree\'s quick check may have been misled');
  assert.equal(h.alreadyThere('/r', 'd/g', st(BORN + 19_700, BORN + 19_700)), false, 'the whole tree is judged by it');
  // a tree above, earlier
  const h2 = new SentHistory(BORN, 10_000);
  const up = h2.begin('/r', 'tree', ['']);
  h2.finish(up, '/r', 'tree', [''], BORN + 18_000, BORN + 18_500, true);
  const t2 = h2.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h2.finish(t2, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h2.alreadyThere('/r', 'd/f', st(BORN + 18_400, BORN + 18_400)), false);
  assert.equal(h2.alreadyThere('/r', 'd/f', st(BORN + 19_100, BORN + 19_100)), true, 'after the root\'s send ended');
});

test('a tree vouches for nothing when a job on or inside it was running as it began, when a path failed, or for its riding paths', () => {
  const h = new SentHistory(BORN, 10_000);
  const running = h.begin('/r', 'path', ['d/f']);
  const t = h.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h.finish(running, '/r', 'path', ['d/f'], BORN + 19_000, BORN + 20_100, true);
  h.finish(t, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h.alreadyThere('/r', 'd/g', st(BORN + 19_500, BORN + 19_500)), false, 'running as it began');
  const h2 = new SentHistory(BORN, 10_000);
  const t2 = h2.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h2.finish(t2, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, false);
  assert.equal(h2.alreadyThere('/r', 'd/g', st(BORN + 19_500, BORN + 19_500)), false, 'a path of it failed');
  // a riding directory goes flat (no recursion): the files under it were not sent by this job
  const h3 = new SentHistory(BORN, 10_000);
  const t3 = h3.begin('/r', 'tree', ['d'], ['e'], BORN + 20_000);
  h3.finish(t3, '/r', 'tree', ['d', 'e'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h3.alreadyThere('/r', 'e/f', st(BORN + 19_500, BORN + 19_500)), false, 'under a riding path');
  assert.equal(h3.alreadyThere('/r', 'd/f', st(BORN + 19_500, BORN + 19_500)), true, 'under its own tree');
  // before this process started: unknown
  const h4 = new SentHistory(BORN + 19_000, 10_000);
  const t4 = h4.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h4.finish(t4, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h4.alreadyThere('/r', 'd/f', st(BORN + 18_500, BORN + 18_500)), false, 'its second began before we did');
});

test('past VOUCH_SCAN_MAX remembered sends a tree vouches for nothing (no pass over a huge history per tree job)', () => {
  const h = new SentHistory(BORN, 10_000, 2);
  for (const p of ['x/1', 'x/2', 'x/3']) {
    const tok = h.begin('/r', 'path', [p]);
    h.finish(tok, '/r', 'path', [p], BORN + 15_000, BORN + 15_100, true);
  }
  const t = h.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  h.finish(t, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(h.alreadyThere('/r', 'd/f', st(BORN + 19_500, BORN + 19_500)), false);
  const small = new SentHistory(BORN, 10_000, 10);
  const t2 = small.begin('/r', 'tree', ['d'], [], BORN + 20_000);
  small.finish(t2, '/r', 'tree', ['d'], BORN + 20_000, BORN + 20_300, true, true);
  assert.equal(small.alreadyThere('/r', 'd/f', st(BORN + 19_500, BORN + 19_500)), true, 'below the cap it does');
});
