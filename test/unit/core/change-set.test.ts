import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet, MERGE } from '../../../src/core/change-set.js';
import { actionFor } from '../../../src/core/classify.js';
import type { Action } from '../../../src/core/types.js';
import { Rng } from '../../model/rng.js';

const small = { maxPerDir: 8, maxTotal: 32 };
const view = (cs: ChangeSet) => cs.entries().map((e) => `${e.action}:${e.path}`).sort();

test('merge table: every cell', () => {
  const cells: [Action, Action, Action][] = [
    ['path', 'path', 'path'],
    ['path', 'tree', 'tree'],
    ['tree', 'path', 'tree'],
    ['tree', 'tree', 'tree'],
  ];
  for (const [a, b, want] of cells) {
    assert.equal(MERGE[a][b], want);
    const cs = new ChangeSet(small);
    cs.add('x', a, 1);
    cs.add('x', b, 2);
    assert.deepEqual(view(cs), [`${want}:x`], `${a} × ${b}`);
  }
});

test('one entry per path; firstSeen kept, lastSeen moves', () => {
  const cs = new ChangeSet(small);
  cs.add('a.txt', 'path', 10);
  cs.add('a.txt', 'path', 20);
  const [e] = cs.entries();
  assert.equal(cs.size, 1);
  assert.equal(e?.firstSeen, 10);
  assert.equal(e?.lastSeen, 20);
  assert.equal(cs.lastActivity, 20);
});

test('a tree swallows pending descendants and absorbs later ones', () => {
  const cs = new ChangeSet(small);
  cs.add('d/x', 'path', 1);
  cs.add('d/e/y', 'path', 2);
  cs.add('dx', 'path', 3); // a sibling with a common prefix is not a descendant
  cs.add('d', 'tree', 4);
  assert.deepEqual(view(cs), ['path:dx', 'tree:d']);
  assert.equal(cs.entries().find((e) => e.path === 'd')?.firstSeen, 1);
  cs.add('d/e/z', 'path', 5);
  assert.deepEqual(view(cs), ['path:dx', 'tree:d']);
  assert.equal(cs.entries().find((e) => e.path === 'd')?.lastSeen, 5);
});

test('a root tree swallows everything', () => {
  const cs = new ChangeSet(small);
  cs.add('a', 'path', 1);
  cs.add('b/c', 'tree', 1);
  cs.add('', 'tree', 2);
  assert.deepEqual(view(cs), ['tree:']);
});

test('a path that changes while in flight stays pending and runs again', () => {
  const cs = new ChangeSet(small);
  cs.add('f', 'path', 1);
  cs.take(['f']);
  assert.equal(cs.size, 0);
  assert.ok(cs.overlapsInFlight('f', 'path'));
  cs.add('f', 'path', 2);
  assert.equal(cs.size, 1);
  cs.finish(['f']);
  assert.ok(!cs.overlapsInFlight('f', 'path'));
  assert.deepEqual(view(cs), ['path:f']);
});

test('overlap with in-flight work: ancestors trees, descendants of a tree', () => {
  const cs = new ChangeSet(small);
  cs.add('d', 'tree', 1);
  cs.add('other/f', 'path', 1);
  cs.take(['d', 'other/f']);
  assert.ok(cs.overlapsInFlight('d/x/y', 'path'));
  assert.ok(!cs.overlapsInFlight('dd', 'path'));
  assert.ok(cs.overlapsInFlight('other', 'tree'));
  assert.ok(!cs.overlapsInFlight('other', 'path'));
  assert.ok(cs.overlapsInFlight('', 'tree'));
});

test('overlap with in-flight work, seeded: the same answers as a pass over everything in flight, through takes, re-takes and finishes', () => {
  const r = new Rng(11);
  const names = ['', 'a', 'a/b', 'a/b/c', 'a/bc', 'ab', 'x', 'x/y', 'x/y/z', 'q'];
  const pick = () => names[Math.floor(r.next() * names.length)]!;
  const isBelow = (anc: string, p: string) => anc !== p && (anc === '' || p.startsWith(`${anc}/`));
  for (let round = 0; round < 50; round++) {
    const cs = new ChangeSet(small);
    const flying = new Map<string, Action>();
    for (let step = 0; step < 40; step++) {
      const x = r.next();
      const p = pick();
      if (x < 0.4) cs.add(p, r.next() < 0.5 ? 'tree' : 'path', step);
      else if (x < 0.7) {
        const taken = cs.entries().filter(() => r.next() < 0.5);
        cs.take(taken.map((e) => e.path));
        for (const e of taken) flying.set(e.path, e.action);
      } else {
        cs.finish([p]);
        flying.delete(p);
      }
      for (const q of names) {
        for (const action of ['path', 'tree'] as const) {
          const want = flying.has(q) || [...flying].some(([f, a]) => a === 'tree' && isBelow(f, q)) || (action === 'tree' && [...flying.keys()].some((f) => isBelow(q, f)));
          assert.equal(cs.overlapsInFlight(q, action), want, `round ${round} step ${step}: ${action} ${JSON.stringify(q)} in flight ${JSON.stringify([...flying])}`);
        }
      }
    }
  }
});

test('unconfirmed lists pending and in-flight entries', () => {
  const cs = new ChangeSet(small);
  cs.add('a', 'path', 1);
  cs.add('b', 'tree', 1);
  cs.take(['b']);
  assert.deepEqual(cs.unconfirmed().map((e) => `${e.action}:${e.path}`).sort(), ['path:a', 'tree:b']);
});

test('per-directory cap folds into a tree of the directory', () => {
  const cs = new ChangeSet(small);
  for (let i = 0; i < 9; i++) cs.add(`big/f${i}`, 'path', i);
  assert.deepEqual(view(cs), ['tree:big']);
  assert.equal(cs.entries()[0]?.firstSeen, 0);
});

test('total cap folds the busiest directory, finally the root', () => {
  const cs = new ChangeSet(small);
  let n = 0;
  for (let d = 0; d < 10; d++) for (let i = 0; i < 5; i++) cs.add(`d${d}/f${i}`, 'path', n++);
  assert.ok(cs.size <= 32, `size ${cs.size}`);
  assert.ok(cs.entries().some((e) => e.action === 'tree'));
  const flat = new ChangeSet({ maxPerDir: 1000, maxTotal: 4 });
  for (let i = 0; i < 6; i++) flat.add(`f${i}`, 'path', i);
  assert.deepEqual(view(flat), ['tree:']);
});

test('classify: the disk state decides', () => {
  const c = (state: 'file' | 'dir' | 'missing', event: 'create' | 'update' | 'delete') =>
    actionFor({ root: '/r', path: 'p', state, event });
  assert.equal(c('dir', 'create'), 'tree');
  assert.equal(c('dir', 'update'), 'tree');
  assert.equal(c('dir', 'delete'), 'tree');
  assert.equal(c('file', 'create'), 'path');
  assert.equal(c('file', 'delete'), 'path');
  assert.equal(c('missing', 'delete'), 'path');
  assert.equal(c('missing', 'update'), 'path');
});

test('firstSeen and oldestFirstSeen (status lag): a tree keeps its oldest descendant, taken entries are not pending', () => {
  const cs = new ChangeSet();
  assert.equal(cs.oldestFirstSeen(), undefined);
  cs.add('a/x', 'path', 5);
  cs.add('b', 'path', 7);
  cs.add('a', 'tree', 9);
  assert.equal(cs.firstSeen('a'), 5, 'the tree swallowed a/x and kept its time');
  assert.equal(cs.firstSeen('a/x'), undefined);
  assert.equal(cs.oldestFirstSeen(), 5);
  cs.take(['a']);
  assert.equal(cs.oldestFirstSeen(), 7);
});

test('seeded: no pending entry is ever left below a pending tree (a new tree swallows what is pending below it), through adds, folds, takes and finishes', () => {
  const r = new Rng(23);
  const names = ['', 'a', 'a/b', 'a/b/c', 'a/b/d', 'a/bc', 'ab', 'x', 'x/y', 'x/y/z', 'x/y2', 'q'];
  const pick = () => names[Math.floor(r.next() * names.length)]!;
  const isBelow = (anc: string, p: string) => anc !== p && (anc === '' || p.startsWith(`${anc}/`));
  for (let round = 0; round < 200; round++) {
    const cs = new ChangeSet({ maxPerDir: 3, maxTotal: 6 });
    for (let step = 0; step < 40; step++) {
      const x = r.next();
      const p = pick();
      if (x < 0.6) cs.add(p, r.next() < 0.3 ? 'tree' : 'path', step);
      else if (x < 0.8) cs.take(cs.entries().filter(() => r.next() < 0.5).map((e) => e.path));
      else cs.finish([p]);
      const pending = cs.entries();
      for (const t of pending.filter((e) => e.action === 'tree')) {
        const below = pending.filter((e) => isBelow(t.path, e.path)).map((e) => e.path);
        assert.deepEqual(below, [], `round ${round} step ${step}: tree ${JSON.stringify(t.path)} has pending entries below it`);
      }
    }
  }
});
