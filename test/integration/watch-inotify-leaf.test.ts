/**
 * The scan's leaf test (src/watch/inotify/leaf.ts) on real directories: a directory is called a
 * leaf only when it has no subdirectory and its file system keeps the link count convention.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { mkdir, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LeafTest } from '../../src/watch/inotify/leaf.js';
import { tempDir } from '../support/tree.js';

const CONVENTIONAL = new Set([0xef53, 0x58465342, 0x01021994]);

test('leaf: only a directory without subdirectories, on ext4/XFS/tmpfs; never a directory with one', async () => {
  const t = await tempDir('tss-leaf-');
  try {
    const conventional = CONVENTIONAL.has(Number(statfsSync(t.path).type));
    const leaf = new LeafTest();
    const files = join(t.path, 'files');
    await mkdir(files);
    for (let i = 0; i < 5; i++) await writeFile(join(files, `f${i}`), 'x');
    await symlink('/', join(files, 'link-to-a-dir'));
    assert.equal(leaf.isLeaf(Buffer.from(files)), conventional, 'files and a symlink only');
    const nested = join(t.path, 'nested');
    await mkdir(join(nested, 'sub'), { recursive: true });
    assert.equal(leaf.isLeaf(Buffer.from(nested)), false, 'has a subdirectory');
    await rmdir(join(nested, 'sub'));
    assert.equal(leaf.isLeaf(Buffer.from(nested)), conventional, 'its subdirectory removed');
    assert.equal(leaf.isLeaf(Buffer.from(join(t.path, 'missing'))), false);
    assert.equal(leaf.isLeaf(Buffer.from(join(files, 'f0'))), false, 'not a directory');
    // A name that is not UTF-8: bytes in, bytes out.
    const raw = Buffer.concat([Buffer.from(`${t.path}/`), Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
    await mkdir(raw);
    assert.equal(leaf.isLeaf(raw), conventional);
  } finally {
    await t.cleanup();
  }
});
