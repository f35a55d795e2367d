/**
 * Ordinary races (issue 8.6): a path renamed or deleted after the job was planned and before rsync
 * read it ends equal on the remote, without a warning. The race is made deterministic with an
 * rsync wrapper that changes the source just before it execs the real rsync (first run only).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, rename, writeFile, rm, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { Lane } from '../../src/sync/lane.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { snapshot, tempDir } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A wrapper that runs `race` (a shell snippet, test-only) once, then execs rsync. */
async function racingRsync(dir: string, race: string): Promise<string> {
  const file = join(dir, 'rsync-racer');
  const flag = join(dir, 'raced');
  await writeFile(file, `#!/bin/sh\nif [ ! -e '${flag}' ]; then : > '${flag}'; ${race}; fi\nexec rsync "$@"\n`);
  await chmod(file, 0o755);
  return file;
}

for (const forceDeleteFallback of [true, false]) {
  for (const kind of ['deleted', 'renamed away', 'parent replaced by a file'] as const) {
    test(`a path ${kind} before its rsync ran ends equal on the remote with no warning (${forceDeleteFallback ? 'filter fallback' : 'fast form'})`, async () => {
      const daemon = await startRsyncDaemon();
      cleanups.push(() => daemon.stop());
      const src = await tempDir('tss-race-src-');
      const bin = await tempDir('tss-race-bin-');
      cleanups.push(src.cleanup, bin.cleanup);
      const dst = daemon.modules['backup']!;
      await mkdir(join(src.path, 'd'));
      await writeFile(join(src.path, 'd', 'x'), 'x');
      await writeFile(join(src.path, 'keep'), 'keep');
      const race = {
        deleted: `rm -f '${src.path}/d/x'`,
        'renamed away': `mv '${src.path}/d/x' '${src.path}/elsewhere'`,
        'parent replaced by a file': `rm -rf '${src.path}/d' && echo f > '${src.path}/d'`,
      }[kind];
      const remote: RemoteConfig = { id: `${daemon.host}::backup`, host: daemon.host, module: 'backup', mode: 'daemon', port: daemon.port, user: daemon.user, passwordFile: daemon.passwordFile, sshOptions: [] };
      const plain: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined };
      const events: EngineEvent[] = [];
      const mk = (binary: string) =>
        new Lane({ remote, rsync: { ...plain, binary }, concurrency: 1, retries: 2, emit: (e) => events.push(e), debug: false, retryDelayMs: { min: 20, max: 50 }, forceDeleteFallback });
      // The remote has the file already (an earlier sync), so the race must end in its delete.
      const first = mk('rsync');
      assert.equal((await first.run({ root: src.path, action: 'path', paths: ['d', 'd/x', 'keep'] })).ok, true);
      await first.stop('drain');
      assert.ok(existsSync(join(dst, 'd', 'x')));
      events.length = 0;

      const lane = mk(await racingRsync(bin.path, race));
      const res = await lane.run({ root: src.path, action: 'path', paths: ['d/x', 'keep'] });
      await lane.stop('drain');
      assert.equal(res.ok, true, JSON.stringify(res));
      assert.ok(existsSync(join(bin.path, 'raced')), 'the race ran');
      const noisy = events.filter((e) => e.level === 'warn' || e.level === 'error');
      assert.deepEqual(noisy.map((e) => e.message), [], 'a race is not a warning');
      assert.ok(events.some((e) => e.level === 'debug' && /changed on disk while being sent/.test(e.message)) || !forceDeleteFallback);
      const remoteTree = await snapshot(dst);
      assert.equal(remoteTree.has('d/x'), false, `d/x is gone from the remote: ${[...remoteTree.keys()].join(', ')}`);
      assert.equal(remoteTree.get('keep')?.type, 'file');
      for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true, force: true });
      void rename;
    });
  }
}

for (const forceDeleteFallback of [true, false]) {
  test(`names rsync's --files-from reads as comments (# and ; first) replicate and delete (${forceDeleteFallback ? 'filter fallback' : 'fast form'})`, async () => {
    const daemon = await startRsyncDaemon();
    cleanups.push(() => daemon.stop());
    const src = await tempDir('tss-hash-src-');
    cleanups.push(src.cleanup);
    const dst = daemon.modules['backup']!;
    const names = ['#notes', ';semi', '#dir/#inner', ';d/f'];
    await mkdir(join(src.path, '#dir'));
    await mkdir(join(src.path, ';d'));
    for (const n of names) await writeFile(join(src.path, n), n);
    const remote: RemoteConfig = { id: `${daemon.host}::backup`, host: daemon.host, module: 'backup', mode: 'daemon', port: daemon.port, user: daemon.user, passwordFile: daemon.passwordFile, sshOptions: [] };
    const lane = new Lane({ remote, rsync: { commonParams: ['-artz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined }, concurrency: 1, retries: 0, emit: () => {}, debug: false, forceDeleteFallback });
    assert.equal((await lane.run({ root: src.path, action: 'path', paths: ['#dir', ';d', ...names] })).ok, true);
    // Before: rsync exit 0, "landed", and not one of them on the remote.
    for (const n of names) assert.equal(existsSync(join(dst, n)), true, `${n} on the remote`);
    for (const n of names) await rm(join(src.path, n));
    assert.equal((await lane.run({ root: src.path, action: 'path', paths: names })).ok, true);
    for (const n of names) assert.equal(existsSync(join(dst, n)), false, `${n} deleted on the remote`);
    await lane.stop('drain');
  });
}
