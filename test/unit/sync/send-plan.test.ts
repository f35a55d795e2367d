import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planSend } from '../../../src/sync/send-plan.js';
import { SentHistory } from '../../../src/sync/sent-history.js';
import { tempDir } from '../../support/tree.js';

const t = await tempDir('tss-sendplan-');
after(() => t.cleanup());

test('a new file goes without --ignore-times; sent in the same second as its mtime, forced', async () => {
  await writeFile(join(t.path, 'a'), 'x');
  const m = (await lstat(join(t.path, 'a'))).mtimeMs;
  const h = new SentHistory(m - 5000);
  const now = m + 10;
  assert.deepEqual(await planSend({ root: t.path, action: 'path', paths: ['a', 'gone'] }, h, now), { send: ['a', 'gone'], force: false, alsoForced: [], at: now });
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
  assert.deepEqual((await planSend(req, h, m + 10)).alsoForced, []);
  const tok = h.begin(t.path, 'path', ['c']);
  h.finish(tok, t.path, 'path', ['c'], m - 30, m, true);
  assert.deepEqual((await planSend(req, h, m + 10)).alsoForced, ['c']);
});
