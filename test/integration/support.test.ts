import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, treeDiff } from '../support/tree.js';

test('test support: rsync daemon with auth accepts a push', async () => {
  const d = await startRsyncDaemon();
  const src = await tempDir();
  try {
    await writeFile(join(src.path, 'a.txt'), 'hello');
    const r = spawnSync('rsync', ['-a', `--port=${d.port}`, `--password-file=${d.passwordFile}`, './', `${d.user}@127.0.0.1::backup/`], { cwd: src.path });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(await treeDiff(src.path, d.modules.backup!), []);
  } finally {
    await d.stop();
    await src.cleanup();
  }
});
