import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirMap } from '../../../../src/watch/inotify/dir-map.js';

function tree(): DirMap {
  // 1 = root; a(2)/b(3)/c(4); a/d(5); e(6)
  const m = new DirMap();
  m.setRoot(1);
  assert.ok(m.add(2, 1, 'a'));
  assert.ok(m.add(3, 2, 'b'));
  assert.ok(m.add(4, 3, 'c'));
  assert.ok(m.add(5, 2, 'd'));
  assert.ok(m.add(6, 1, 'e'));
  return m;
}

test('dir map: paths are rebuilt from parents', () => {
  const m = tree();
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((wd) => m.pathOf(wd)), ['', 'a', 'a/b', 'a/b/c', 'a/d', 'e']);
  assert.equal(m.entryPath(4, 'file'), 'a/b/c/file');
  assert.equal(m.entryPath(1, 'top'), 'top');
  assert.equal(m.child(2, 'b'), 3);
  assert.equal(m.child(2, 'nope'), undefined);
  assert.equal(m.pathOf(99), undefined);
  assert.equal(m.add(7, 99, 'x'), false, 'unknown parent');
});

test('dir map: renaming nested directories moves every path below them, twice over', () => {
  const m = tree();
  assert.ok(m.move(2, 1, 'A'));
  assert.deepEqual([2, 3, 4, 5].map((wd) => m.pathOf(wd)), ['A', 'A/b', 'A/b/c', 'A/d']);
  assert.ok(m.move(3, 6, 'B'), 'a/b moves into e');
  assert.deepEqual([3, 4].map((wd) => m.pathOf(wd)), ['e/B', 'e/B/c']);
  assert.equal(m.child(2, 'b'), undefined, 'gone from its old parent');
  assert.ok(m.move(6, 5, 'E'), 'e moves under A/d');
  assert.deepEqual([6, 3, 4].map((wd) => m.pathOf(wd)), ['A/d/E', 'A/d/E/B', 'A/d/E/B/c']);
  assert.equal(m.move(2, 4, 'loop'), false, 'never below itself');
  assert.equal(m.move(1, 2, 'root'), false, 'the root does not move');
  assert.equal(m.size, 6);
});

test('dir map: the kernel handing back a known wd is a move; a displaced name is forgotten', () => {
  const m = tree();
  assert.ok(m.add(4, 1, 'c2'), 'a/b/c seen again at c2');
  assert.equal(m.pathOf(4), 'c2');
  assert.equal(m.child(3, 'c'), undefined);
  // rename(2) over an empty directory: the target's record goes.
  assert.ok(m.move(5, 1, 'e'));
  assert.equal(m.pathOf(5), 'e');
  assert.equal(m.pathOf(6), undefined);
  assert.equal(m.has(6), false);
});

test('dir map: remove forgets the whole subtree and returns its wds', () => {
  const m = tree();
  assert.deepEqual(m.remove(2).sort(), [2, 3, 4, 5]);
  assert.equal(m.size, 2);
  assert.equal(m.child(1, 'a'), undefined);
  assert.deepEqual(m.remove(2), []);
  assert.equal(m.pathOf(6), 'e');
});

test('dir map: names are the canonical byte strings, never split or decoded', () => {
  const m = new DirMap();
  m.setRoot(1);
  m.add(2, 1, 'caf\udce9');
  m.add(3, 2, '\udcff\n$(x)');
  assert.equal(m.pathOf(3), 'caf\udce9/\udcff\n$(x)');
  assert.equal(m.child(1, 'caf\udce9'), 2);
});
