/** What the hooks are told about a landed path: only a gone entry is "missing" (issue 8.5). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { landedBatch } from '../../src/engine/landed.js';
import { tempDir } from '../support/tree.js';

test('landedBatch: gone is missing; an entry that cannot be stat\'ed (ENAMETOOLONG here, EACCES as a user) is not reported deleted', async () => {
  const t = await tempDir('tss-landed-');
  try {
    await mkdir(join(t.path, 'd'));
    await writeFile(join(t.path, 'f'), 'x');
    // A component longer than NAME_MAX: lstat fails with ENAMETOOLONG even for root.
    const long = 'x'.repeat(300);
    const b = await landedBatch(t.path, ['h::m'], ['f', 'd', 'gone', 'f/below', long]);
    assert.deepEqual(
      b.items.map((i) => [i.path.length > 20 ? 'long' : i.path, i.state]),
      [['f', 'file'], ['d', 'dir'], ['gone', 'missing'], ['f/below', 'missing'], ['long', 'file']],
    );
  } finally {
    await t.cleanup();
  }
});
