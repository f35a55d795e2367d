/**
 * What a lane remembers having sent (src/sync/sent-history.ts), against a real rsync daemon that
 * logs every file it receives: a directory sent whole is not sent again, forced, when the events
 * of its files come in afterwards, while a same-size rewrite in the same second still is.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import { Lane } from '../../src/sync/lane.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: 20, binary: 'rsync', maxDelete: undefined };
let daemon: RsyncDaemon;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  daemon = await startRsyncDaemon({ moduleExtra: ['transfer logging = yes'] });
  cleanups.push(() => daemon.stop());
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const remote = (): RemoteConfig => ({ id: `${daemon.host}::backup`, host: daemon.host, module: 'backup', mode: 'daemon', port: daemon.port, user: daemon.user, passwordFile: daemon.passwordFile, sshOptions: [] });

/** Files the daemon has logged receiving so far, by name (a re-send counts again). */
async function received(): Promise<string[]> {
  const log = await readFile(daemon.logFile, 'utf8');
  return [...log.matchAll(/\] recv \S+ \[[^\]]+\] backup \(\S+\) (\S+)/g)].map((m) => m[1]!);
}

test('a directory sent whole is not re-sent for its files\' late events; a same-second same-size rewrite after it still is', async () => {
  const t = await tempDir('tss-history-');
  cleanups.push(t.cleanup);
  const dst = daemon.modules.backup!;
  for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true, force: true });
  const src = t.path;
  const lane = new Lane({ remote: remote(), rsync, concurrency: 1, retries: 1, emit: () => {}, debug: false, retryDelayMs: { min: 20, max: 50 } });
  cleanups.push(() => lane.stop('abort'));
  // What a lane cannot know (a send by an earlier process) lies before it started: write in a
  // second after that, as a burst long after the start does.
  await new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
  await mkdir(join(src, 'd'));
  const files = Array.from({ length: 20 }, (_, i) => `d/f${i}.txt`);
  for (const f of files) await writeFile(join(src, f), `body of ${f}`);
  // Past the coarse ctime clock: the files are complete before the tree job begins.
  await new Promise((r) => setTimeout(r, 60));
  const first = await lane.run({ root: src, action: 'tree', paths: ['d'] });
  assert.equal(first.ok, true);
  const afterFirst = (await received()).length;
  assert.equal(afterFirst, files.length, 'each file sent once by the tree');

  // f0 rewritten now, same size, mtime put back to the second the tree read it in: only a forced
  // send can find it. The others only have their (late) events.
  const f0 = join(src, files[0]!);
  const before0 = await stat(f0);
  await writeFile(f0, `BODY OF ${files[0]}`);
  await utimes(f0, before0.atime, before0.mtime);
  const second = await lane.run({ root: src, action: 'tree', paths: ['d'], also: files });
  assert.equal(second.ok, true);
  const again = (await received()).slice(afterFirst);
  // (f0 may go twice: the tree's nanosecond quick check sees the mtime utimes could not restore
  // exactly, and the forced run after it.)
  assert.deepEqual(again.filter((f) => f !== files[0]), [], 'only the rewritten file is sent again');
  assert.ok(again.includes(files[0]!));
  assert.equal(await readFile(join(dst, files[0]!), 'utf8'), `BODY OF ${files[0]}`, 'the same-second rewrite landed');
  for (const f of files.slice(1)) assert.equal(await readFile(join(dst, f), 'utf8'), `body of ${f}`);
});
