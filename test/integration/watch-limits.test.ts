import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkInotifyLimits, countDirectories, watchesNeeded } from '../../src/watch/limits.js';
import { tempDir } from '../support/tree.js';

const procValue = async (name: string) => Number((await readFile(`/proc/sys/fs/inotify/${name}`, 'utf8')).trim());

test('limits: countDirectories counts the root and every directory, not files or symlinks, up to the cap', async () => {
  const d = await tempDir();
  try {
    for (const p of ['a/b/c', 'a/d', 'e', 'new\nline/$(x)']) await mkdir(join(d.path, p), { recursive: true });
    await writeFile(join(d.path, 'a', 'file'), '');
    await symlink(join(d.path, 'a'), join(d.path, 'link-to-a'));
    assert.equal(await countDirectories(d.path, 1000), 8); // root, a, a/b, a/b/c, a/d, e, new\nline, $(x)
    assert.equal(await countDirectories(d.path, 3), 3);
  } finally {
    await d.cleanup();
  }
});

test('limits: the real kernel limits are read; a small tree is fine', async () => {
  const r = await checkInotifyLimits(10);
  assert.equal(r.watches, await procValue('max_user_watches'));
  assert.equal(r.instances, await procValue('max_user_instances'));
  assert.equal(r.ok, r.watches >= watchesNeeded(10) && r.instances >= 10, r.message);
});

test('limits: a tree beyond the watch limit gets a message saying what to raise and to what', async () => {
  const watches = await procValue('max_user_watches');
  const r = await checkInotifyLimits(watches * 2);
  assert.equal(r.ok, false);
  const m = /sysctl -w fs\.inotify\.max_user_watches=(\d+)/.exec(r.message ?? '');
  assert.ok(m, r.message);
  assert.ok(Number(m[1]) >= watchesNeeded(watches * 2), 'the suggestion covers the tree');
  assert.match(r.message ?? '', /\/etc\/sysctl\.d\/\S+\.conf/);
  assert.match(r.message ?? '', new RegExp(`max_user_watches is ${watches}`));
  assert.doesNotMatch(r.message ?? '', /\n/, 'one line');
  assert.equal(await procValue('max_user_watches'), watches, 'never writes system settings');
});

test('limits: too many roots for the instance limit is reported', async () => {
  const instances = await procValue('max_user_instances');
  const r = await checkInotifyLimits(1, instances);
  assert.equal(r.ok, false);
  assert.match(r.message ?? '', /sysctl -w fs\.inotify\.max_user_instances=\d+/);
});
