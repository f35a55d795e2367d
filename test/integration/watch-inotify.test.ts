/**
 * What only the inotify backend can do, against the real kernel: exact byte names, renames
 * reported as renames with no reconcile, overflow reported and closed, symlinks and hard links
 * sent under the stock switches. The engine tests end with the destination equal to the source.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { link, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSwitches } from '../../src/config/types.js';
import { Engine } from '../../src/engine.js';
import type { EngineEvent } from '../../src/events.js';
import { nameFromBytes, pathBytes } from '../../src/core/names.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { daemonRemote, makeConfig } from '../support/config.js';
import { tempDir, waitFor, waitForSameTree } from '../support/tree.js';
import { watchHarness } from '../support/watch-harness.js';
import { watcherChildPid } from '../support/watcher-child.js';

const STOCK: EventSwitches = { delete: true, createFolder: true, createFile: false, closeWrite: true, moveFrom: true, moveTo: true, attrib: false, modify: false };

test('[inotify] non-UTF-8 names (Latin-1 0xe9, GBK, 0xff) created, renamed and deleted are reported exactly', async () => {
  const h = await watchHarness({ backend: 'inotify', switches: STOCK });
  try {
    const names = [Buffer.from('caf\xe9.txt', 'latin1'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x2e, 0x74, 0x78, 0x74]), Buffer.from([0xff])];
    const abs = (rel: Buffer[]) => pathBytes(h.root, rel.map((b) => nameFromBytes(b)).join('/'));
    for (const n of names) await writeFile(abs([n]), n);
    for (const n of names) {
      // The event word is a hint: IN_CREATE and IN_CLOSE_WRITE read in one batch come as one change.
      await h.change((x) => x.path === nameFromBytes(n) && x.state === 'file', `create of ${n.toString('hex')}`);
    }
    // A directory with a GBK name, a file in it, then the directory renamed to a 0xff name.
    const dir = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // GBK 中文
    const to = Buffer.from([0xfe, 0xff]);
    await mkdir(abs([dir]));
    // Once the directory is reported it is watched: the write below must then come as its own event
    // (a write before that is covered by the directory's scan instead, as watch-gaps tests).
    await h.change((x) => x.path === nameFromBytes(dir) && x.state === 'dir', 'the GBK directory');
    await writeFile(abs([dir, names[0]!]), 'inside');
    await h.change((x) => x.path === `${nameFromBytes(dir)}/${nameFromBytes(names[0]!)}`, 'the file inside the GBK directory');
    await rename(abs([dir]), abs([to]));
    const moved = await h.change((x) => x.path === nameFromBytes(to), 'the renamed directory');
    assert.deepEqual([moved.state, moved.from], ['dir', nameFromBytes(dir)]);
    await writeFile(abs([to, names[2]!]), 'after the rename');
    await h.change((x) => x.path === `${nameFromBytes(to)}/${nameFromBytes(names[2]!)}`, 'a write under the new name');
    await rm(abs([names[2]!]));
    const gone = await h.change((x) => x.path === nameFromBytes(names[2]!) && x.state === 'missing', 'delete of 0xff');
    assert.equal(gone.event, 'delete');
    assert.deepEqual(h.gaps, [], 'nothing needed a reconcile');
    assert.ok(h.changes.every((c) => !c.path.includes('\ufffd')), 'no lossy name anywhere');
  } finally {
    await h.cleanup();
  }
});

test('[inotify] with the stock switches a symlink and a hard link (IN_CREATE only) are still sent', async () => {
  const h = await watchHarness({ backend: 'inotify', switches: STOCK, setup: (root) => writeFile(join(root, 'target'), 't') });
  try {
    await symlink('target', join(h.root, 'sym'));
    await link(join(h.root, 'target'), join(h.root, 'hard'));
    await h.change((c) => c.path === 'sym' && c.state === 'file', 'the symlink');
    await h.change((c) => c.path === 'hard' && c.state === 'file', 'the hard link');
  } finally {
    await h.cleanup();
  }
});

test('[inotify] a SIGSTOPped child overflows the kernel queue: reported as a gap of the root', async () => {
  // Created before the stop, so it is watched: files created in it queue one event each.
  const h = await watchHarness({ backend: 'inotify', switches: STOCK, setup: (root) => mkdir(join(root, 'burst')) });
  try {
    const pid = h.watcher.childPid(h.root)!;
    process.kill(pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 20_000; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => writeFile(join(h.root, 'burst', `f${i + k}`), '')));
      // Created after the queue overflowed: its IN_CREATE is lost with the rest.
      await mkdir(join(h.root, 'late', 'inner'), { recursive: true });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const g = await h.gap((x) => x.dir === '' && /overflow/.test(x.reason), 'the overflow gap', 20_000);
    assert.match(g.reason, /max_queued_events/);
    // The tree was walked again after the overflow: the lost directory is watched now.
    await writeFile(join(h.root, 'late', 'inner', 'after'), 'a');
    await h.change((c) => c.path === 'late/inner/after', 'a write into a directory whose creation was lost', 10_000);
  } finally {
    await h.cleanup();
  }
});

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
before(async () => {
  daemon = await startRsyncDaemon({ modules: ['ino'] });
  work = await tempDir('tss-ino-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

/** The watcher child of this process (a fork running watch/child). */

async function withEngine(name: string, fn: (src: string, dst: string, events: EngineEvent[]) => Promise<void>): Promise<void> {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  await writeFile(join(src, '.keep'), name);
  const dst = daemon.modules.ino!;
  for (const e of await readdir(dst)) await rm(join(dst, e), { recursive: true, force: true });
  const events: EngineEvent[] = [];
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'ino')] }], { retries: 2 });
  const engine = new Engine(config, { emit: (e) => events.push(e), retryDelayMs: { min: 50, max: 200 }, fullSync: true });
  await engine.start();
  try {
    await waitForSameTree(src, dst, 20_000);
    await fn(src, dst, events);
    const { records } = await engine.replayLog.read();
    assert.deepEqual(records, [], 'the replay log is empty');
  } finally {
    await engine.stop('test');
  }
}

const rootReconciles = (events: readonly EngineEvent[], src: string, from: number): EngineEvent[] =>
  events.slice(from).filter((e) => e.type === 'watch' && e.message.startsWith(`reconciling ${src} (`));

test('[inotify] a directory renamed twice and written into ends equal, with no reconcile of the root', async () => {
  await withEngine('rename2', async (src, dst, events) => {
    await mkdir(join(src, 'a/sub/deep'), { recursive: true });
    for (let i = 0; i < 50; i++) await writeFile(join(src, 'a/sub/deep', `f${i}`), `file ${i}`);
    await waitForSameTree(src, dst, 15_000);
    const mark = events.length;
    await rename(join(src, 'a'), join(src, 'b'));
    await rename(join(src, 'b/sub'), join(src, 'b/moved'));
    await rename(join(src, 'b'), join(src, 'c'));
    await writeFile(join(src, 'c/moved/deep/new'), 'written after two renames');
    await writeFile(join(src, 'c/moved/deep/f0'), 'rewritten');
    await waitForSameTree(src, dst, 15_000);
    assert.deepEqual(rootReconciles(events, src, mark), [], 'the root was never reconciled');
  });
});

test('[inotify] an overflow forced by SIGSTOPping the child during 30,000 creates ends equal', async () => {
  await withEngine('overflow', async (src, dst, events) => {
    // Directories watched before the stop: each create in them queues events (16,384 fit).
    for (let d = 0; d < 30; d++) await mkdir(join(src, `d${d}`));
    await waitForSameTree(src, dst, 15_000);
    const pid = watcherChildPid();
    const mark = events.length;
    process.kill(pid, 'SIGSTOP');
    try {
      for (let d = 0; d < 30; d++) {
        await Promise.all(Array.from({ length: 1000 }, (_, i) => writeFile(join(src, `d${d}`, `f${i}`), `${d}/${i}`)));
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => rootReconciles(events, src, mark).some((e) => /overflow/.test(e.message)), 30_000, 'a reconcile of the root for the overflow');
    await waitForSameTree(src, dst, 120_000);
  });
});
