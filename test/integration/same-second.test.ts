/**
 * A same-size rewrite within the same second as the version the remote has, folded into a pending
 * tree job (here a full sync), must land: the quick check compares nanoseconds (argv.ts,
 * NANOSECOND_QUICK_CHECK). Before, 5 of 5 rounds kept the old bytes on the remote for good: no
 * later reconcile would see a difference in size or seconds either.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/engine.js';
import { makeConfig, daemonRemote } from '../support/config.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('a same-size rewrite in the same second, absorbed by a pending full sync, reaches the remote', async () => {
  const daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-same-second-');
  cleanups.push(t.cleanup);
  const src = join(t.path, 'src');
  await mkdir(join(src, 'd'), { recursive: true });
  const engine = new Engine(makeConfig(join(t.path, 'state'), [{ path: src, remotes: [daemonRemote(daemon)] }]), { emit: () => {}, retryDelayMs: { min: 20, max: 50 } });
  await engine.start();
  cleanups.push(() => engine.stop());
  const dst = join(daemon.modules['backup']!, 'd', 'f');
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) {
    // Start early in a second, so the rewrite shares the first version's second.
    while (Date.now() % 1000 > 100) await new Promise((r) => setTimeout(r, 5));
    await writeFile(join(src, 'd', 'f'), `v${i}a`);
    await waitFor(async () => (await readFile(dst, 'utf8').catch(() => '')) === `v${i}a`, 5000, `v${i}a on the remote`);
    engine.fullSync();
    const fh = await open(join(src, 'd', 'f'), 'r+');
    await fh.write(`v${i}b`, 0);
    await fh.close();
    // The rewrite's event folds into the pending full sync. Idle once that ran, and again once the
    // watcher surely delivered the event (its second is over), so nothing is still on its way.
    const second = Math.floor(Date.now() / 1000);
    await engine.idle();
    while (Math.floor(Date.now() / 1000) <= second) await new Promise((r) => setTimeout(r, 20));
    await engine.idle();
    seen.push(await readFile(dst, 'utf8'));
  }
  assert.deepEqual(seen, ['v0b', 'v1b', 'v2b', 'v3b', 'v4b']);
});
