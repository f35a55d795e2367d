/**
 * Issue 9 item 2, the sync side: a directory renamed inside the root costs no data (src/sync/rename.ts),
 * against a real rsync daemon behind a --bwlimit link. Not wired into the engine yet.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RsyncSettings } from '../../src/config/types.js';
import { renameArgv, runRename } from '../../src/sync/rename.js';
import { daemonRemote } from '../support/config.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  daemon = await startRsyncDaemon({ modules: ['ren'] });
  work = await tempDir('tss-ren-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

/** 1 MB/s: the 8 MB directory would take at least 8 s to send. */
const SLOW: RsyncSettings = { commonParams: ['-a', '--bwlimit=1000'], timeoutSeconds: 30, binary: 'rsync', maxDelete: undefined };

test('rename: a renamed 8 MB directory behind a 1 MB/s link lands as hard links of the old copy, not sent again', async () => {
  const src = join(work.path, 'a');
  const dst = daemon.modules.ren!;
  await mkdir(join(src, 'd1', 'sub'), { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(src, 'd1', i % 2 ? 'sub' : '', `f${i}`), randomBytes(1024 * 1024));
  const push = spawnSync('rsync', ['-a', `--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`, './', `${daemon.user}@127.0.0.1::ren/`], { cwd: src });
  assert.equal(push.status, 0, push.stderr?.toString());
  // Renamed into a directory the remote does not have yet.
  await mkdir(join(src, 'into-new'));
  await rename(join(src, 'd1'), join(src, 'into-new', 'd2'));
  const r = renameArgv({ remote: daemonRemote(daemon, 'ren'), rsync: SLOW, from: 'd1', to: 'into-new/d2' });
  assert.ok('argv' in r, JSON.stringify(r));
  assert.ok(r.argv.includes('--link-dest=../../d1'), r.argv.join(' '));
  const t = performance.now();
  const out = await runRename(src, r.argv);
  const took = performance.now() - t;
  assert.equal(out.code, 0, out.stderr);
  assert.ok(took < 4000, `took ${took.toFixed(0)} ms: the bytes were sent again`);
  for (let i = 0; i < 8; i++) {
    const rel = join(i % 2 ? 'sub' : '', `f${i}`);
    assert.deepEqual(await readFile(join(dst, 'into-new', 'd2', rel)), await readFile(join(src, 'into-new', 'd2', rel)));
    assert.equal((await stat(join(dst, 'into-new', 'd2', rel))).ino, (await stat(join(dst, 'd1', rel))).ino, `${rel} is a hard link of the old copy`);
  }
});

test('rename: the old copy missing on the remote, or changed, is a normal send that ends equal', async () => {
  const src = join(work.path, 'b');
  const dst = daemon.modules.ren!;
  await mkdir(join(src, 'old'), { recursive: true });
  await writeFile(join(src, 'old', 'kept'), 'kept');
  await writeFile(join(src, 'old', 'changed'), 'new content');
  await mkdir(join(dst, 'old'), { recursive: true });
  await writeFile(join(dst, 'old', 'changed'), 'the remote had something else');
  await rename(join(src, 'old'), join(src, 'new'));
  const fast: RsyncSettings = { ...SLOW, commonParams: ['-a'] };
  const r = renameArgv({ remote: daemonRemote(daemon, 'ren'), rsync: fast, from: 'old', to: 'new' });
  assert.ok('argv' in r);
  const out = await runRename(src, r.argv);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await readFile(join(dst, 'new', 'kept'), 'utf8'), 'kept', 'missing remotely: sent');
  assert.equal(await readFile(join(dst, 'new', 'changed'), 'utf8'), 'new content', 'changed remotely: sent, not linked');
  await rm(join(dst, 'old'), { recursive: true });
});

test('rename: not applicable to non-UTF-8 names or with a user --link-dest (the caller sends a normal tree)', () => {
  const remote = daemonRemote(daemon, 'ren');
  assert.ok('notApplicable' in renameArgv({ remote, rsync: SLOW, from: 'caf\udce9', to: 'x' }));
  assert.ok('notApplicable' in renameArgv({ remote, rsync: { ...SLOW, commonParams: ['-a', '--link-dest=/snap'] }, from: 'a', to: 'b' }));
  assert.ok('notApplicable' in renameArgv({ remote, rsync: SLOW, from: 'a', to: '../b' }));
  const ok = renameArgv({ remote, rsync: SLOW, from: 'a/b', to: '-x' });
  assert.ok('argv' in ok && ok.argv.at(-2) === './-x/', 'a leading dash cannot read as an option');
});
