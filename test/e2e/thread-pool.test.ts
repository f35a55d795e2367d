/**
 * An operator's UV_THREADPOOL_SIZE must not stall the watcher. The inotify backend holds one
 * thread-pool thread in a blocking read of its descriptor; with a pool of one (UV_THREADPOOL_SIZE=1
 * in the service's environment) its listings of new directories queued behind that read forever, so
 * tssersync never said it was watching and nothing replicated. The child now gets a pool large
 * enough for its read and its scans, whatever the environment says.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli, sersyncXml } from '../support/cli.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

for (const size of ['1', '2']) {
  test(`UV_THREADPOOL_SIZE=${size}: the watcher starts, and a new directory's files replicate`, async () => {
    const daemon = await startRsyncDaemon();
    cleanups.push(() => daemon.stop());
    const t = await tempDir('tss-pool-');
    cleanups.push(t.cleanup);
    const src = join(t.path, 'src');
    const state = join(t.path, 'state');
    await mkdir(join(src, 'a', 'b'), { recursive: true });
    await mkdir(state);
    const conf = join(t.path, 'confxml.xml');
    await writeFile(conf, sersyncXml({ src, state, daemon }));
    const run = startCli(['-o', conf], { UV_THREADPOOL_SIZE: size });
    cleanups.push(async () => void run.child.kill('SIGKILL'));
    await waitFor(() => /watching \d+ root/.test(run.output()) || undefined, 20000, `the watcher (output: ${run.output()})`);
    await mkdir(join(src, 'a', 'b', 'new', 'deeper'), { recursive: true });
    await writeFile(join(src, 'a', 'b', 'new', 'deeper', 'f'), 'inside a new directory');
    await writeFile(join(src, 'top'), 'at the root');
    const dst = daemon.modules['backup']!;
    await waitFor(async () => (await readFile(join(dst, 'a', 'b', 'new', 'deeper', 'f'), 'utf8').catch(() => '')) === 'inside a new directory' || undefined, 20000, 'the new directory');
    await waitFor(async () => (await readFile(join(dst, 'top'), 'utf8').catch(() => '')) === 'at the root' || undefined, 20000, 'the file at the root');
    // And the directory made after the first one is watched too: a file in it later still goes.
    await writeFile(join(src, 'a', 'b', 'new', 'deeper', 'g'), 'later');
    await waitFor(async () => (await readFile(join(dst, 'a', 'b', 'new', 'deeper', 'g'), 'utf8').catch(() => '')) === 'later' || undefined, 20000, 'a later file in the new directory');
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });
}
