import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FOLD_BUDGET, planSend } from '../../../src/sync/send-plan.js';
import { SentHistory } from '../../../src/sync/sent-history.js';
import { tempDir } from '../../support/tree.js';

const t = await tempDir('tss-sendplan-');
after(() => t.cleanup());

/** No fold: the forced re-send in a run of its own (the decision before FoldBudget, and for large trees). */
const SEPARATE = { bytes: 0, entries: 0 };

test('a new file goes without --ignore-times; sent in the same second as its mtime, forced', async () => {
  await writeFile(join(t.path, 'a'), 'x');
  const m = (await lstat(join(t.path, 'a'))).mtimeMs;
  const h = new SentHistory(m - 5000);
  const now = m + 10;
  assert.deepEqual(await planSend({ root: t.path, action: 'path', paths: ['a', 'gone'] }, h, now), { send: ['a', 'gone'], force: false, alsoForced: [], after: [], at: now });
  const tok = h.begin(t.path, 'path', ['a']);
  h.finish(tok, t.path, 'path', ['a'], m - 30, m, true);
  assert.equal((await planSend({ root: t.path, action: 'path', paths: ['a'] }, h, now)).force, true);
});

test('a path a path job landed after its last change is left out', async () => {
  await writeFile(join(t.path, 'b'), 'y');
  const st = await lstat(join(t.path, 'b'));
  const h = new SentHistory(st.mtimeMs - 5000);
  const tok = h.begin(t.path, 'path', ['b']);
  h.finish(tok, t.path, 'path', ['b'], st.ctimeMs + 100, st.ctimeMs + 150, true);
  const plan = await planSend({ root: t.path, action: 'path', paths: ['b'] }, h, st.ctimeMs + 200);
  assert.deepEqual(plan.send, []);
});

test('tree jobs: only the carried paths that could hide a same-second rewrite are re-sent', async () => {
  await writeFile(join(t.path, 'c'), 'z');
  const m = (await lstat(join(t.path, 'c'))).mtimeMs;
  const h = new SentHistory(m - 5000);
  const req = { root: t.path, action: 'tree' as const, paths: [''], also: ['c', 'missing'] };
  assert.deepEqual((await planSend(req, h, m + 10, SEPARATE)).alsoForced, []);
  const tok = h.begin(t.path, 'path', ['c']);
  h.finish(tok, t.path, 'path', ['c'], m - 30, m, true);
  assert.deepEqual((await planSend(req, h, m + 10, SEPARATE)).alsoForced, ['c']);
  // A small tree: one run, forced as a whole, instead.
  assert.deepEqual(await planSend(req, h, m + 10), { send: [''], force: true, alsoForced: [], after: [], at: m + 10 });
});

test('riding paths of a tree job: each decided as a path job would; directories and forced ones only in the forced run', async () => {
  const { mkdir } = await import('node:fs/promises');
  await writeFile(join(t.path, 'r-new'), '1');
  await writeFile(join(t.path, 'r-hot'), '2');
  await writeFile(join(t.path, 'r-there'), '3');
  await mkdir(join(t.path, 'r-dir'), { recursive: true });
  const hot = await lstat(join(t.path, 'r-hot'));
  const there = await lstat(join(t.path, 'r-there'));
  const h = new SentHistory(hot.mtimeMs - 5000);
  // r-hot: a job covered it in its mtime's second (a same-size rewrite could hide); r-there: landed after its last change.
  h.finish(h.begin(t.path, 'path', ['r-hot']), t.path, 'path', ['r-hot'], hot.mtimeMs - 30, hot.mtimeMs, true);
  h.finish(h.begin(t.path, 'path', ['r-there']), t.path, 'path', ['r-there'], there.ctimeMs + 100, there.ctimeMs + 150, true);
  const flat = ['r-new', 'r-hot', 'r-there', 'r-dir', 'r-gone'];
  const req = { root: t.path, action: 'tree' as const, paths: ['tree', ...flat], flat };
  const p = await planSend(req, h, there.ctimeMs + 200);
  assert.deepEqual(p.send, ['tree', 'r-new', 'r-gone'], 'the tree, a new file and a delete ride in the tree run');
  assert.deepEqual([...p.after].sort(), ['r-dir', 'r-hot']);
  assert.deepEqual([...p.alsoForced].sort(), ['r-dir', 'r-hot']);
  assert.equal(p.force, false, 'the tree run is not forced for them');
});

test("a riding rename target that needs forcing stays in the tree run too (its seed runs there), and is forced after", async () => {
  await writeFile(join(t.path, 'moved'), 'old bytes');
  const st = await lstat(join(t.path, 'moved'));
  // Born after the file's mtime: its history is unknown, so it is forced (a rename keeps an old mtime).
  const h = new SentHistory(st.mtimeMs + 5000);
  const req = { root: t.path, action: 'tree' as const, paths: ['tree', 'moved', 'was'], flat: ['moved'], renames: [{ from: 'was', to: 'moved' }] };
  const p = await planSend(req, h, st.mtimeMs + 6000, SEPARATE);
  assert.deepEqual(p.send, ['tree', 'moved', 'was']);
  assert.deepEqual(p.after, []);
  assert.deepEqual(p.alsoForced, ['moved']);
  const folded = await planSend(req, h, st.mtimeMs + 6000);
  assert.deepEqual([folded.send, folded.force, folded.alsoForced, folded.after], [['tree', 'moved', 'was'], true, [], []]);
});

test('the forced re-send folds into the tree run while the trees and riding files are small: one run, forced whole; not past the budget, nor with a riding directory', async () => {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(t.path, 'fold/tree/sub'), { recursive: true });
  await writeFile(join(t.path, 'fold/tree/a'), 'x'.repeat(1000));
  await writeFile(join(t.path, 'fold/tree/sub/b'), 'y'.repeat(1000));
  await writeFile(join(t.path, 'fold/hot'), 'z'.repeat(100));
  await writeFile(join(t.path, 'fold/there'), 'w');
  await mkdir(join(t.path, 'fold/dir'));
  const hot = await lstat(join(t.path, 'fold/hot'));
  const there = await lstat(join(t.path, 'fold/there'));
  const h = new SentHistory(hot.mtimeMs - 5000);
  h.finish(h.begin(t.path, 'path', ['fold/hot']), t.path, 'path', ['fold/hot'], hot.mtimeMs - 30, hot.mtimeMs, true);
  h.finish(h.begin(t.path, 'path', ['fold/there']), t.path, 'path', ['fold/there'], there.ctimeMs + 100, there.ctimeMs + 150, true);
  const flat = ['fold/hot', 'fold/there', 'fold/new-gone'];
  const req = { root: t.path, action: 'tree' as const, paths: ['fold/tree', 'fold/tree-gone', ...flat], flat };
  const at = there.ctimeMs + 200;
  // 2,100 bytes in 5 entries (the tree, sub, a, b; the missing tree counts one).
  assert.deepEqual(await planSend(req, h, at, { bytes: 2100, entries: 5 }), { send: ['fold/tree', 'fold/tree-gone', 'fold/hot', 'fold/new-gone'], force: true, alsoForced: [], after: [], at });
  const apart = { send: ['fold/tree', 'fold/tree-gone', 'fold/new-gone'], force: false, alsoForced: ['fold/hot'], after: ['fold/hot'], at };
  assert.deepEqual(await planSend(req, h, at, { bytes: 2099, entries: 5 }), apart, 'one byte over');
  assert.deepEqual(await planSend(req, h, at, { bytes: 2100, entries: 4 }), apart, 'one entry over');
  const withDir = { ...req, paths: [...req.paths, 'fold/dir'], flat: [...flat, 'fold/dir'] };
  const p = await planSend(withDir, h, at, FOLD_BUDGET);
  assert.deepEqual([p.force, [...p.after].sort()], [false, ['fold/dir', 'fold/hot']], 'a riding directory keeps its run of its own (not recursed into)');
  // A tree that is a symlink is sent as the link (rsync -a does not follow it): it weighs as itself.
  const { symlink } = await import('node:fs/promises');
  await mkdir(join(t.path, 'fold/big'));
  await writeFile(join(t.path, 'fold/big/huge'), 'h'.repeat(50_000));
  await symlink('big', join(t.path, 'fold/link'));
  const viaLink = { ...req, paths: ['fold/link', ...flat] };
  assert.equal((await planSend(viaLink, h, at, { bytes: 1000, entries: 5 })).force, true, 'the link, not the 50 KB behind it');
  // Nothing to force: the tree run keeps its quick check.
  const cool = { ...req, paths: ['fold/tree', 'fold/new-gone'], flat: ['fold/new-gone'] };
  assert.deepEqual(await planSend(cool, h, at), { send: ['fold/tree', 'fold/new-gone'], force: false, alsoForced: [], after: [], at });
});
