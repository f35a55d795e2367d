/**
 * Paths riding in a tree job (RsyncJob.flat, planner.ts): a flush's trees and paths in one rsync
 * run, against a real rsync daemon, asserted on the destination's bytes and names.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Pattern, RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import { nameFromBytes, pathBytes } from '../../src/core/names.js';
import { Lane } from '../../src/sync/lane.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { AWKWARD_NAMES, snapshotBytes, tempDir, treeDiffBytes, waitFor } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: 20, binary: 'rsync', maxDelete: undefined };
const b = (...parts: Array<string | number[]>): string => nameFromBytes(Buffer.concat(parts.map((p) => Buffer.from(p as never))));
/** café.txt in Latin-1 and 中文.txt in GBK: names that are bytes, not UTF-8. */
const BYTE_NAMES = [b('caf', [0xe9], '.txt'), b([0xd6, 0xd0, 0xce, 0xc4], '.txt')];
const NAMES = [...AWKWARD_NAMES, ...BYTE_NAMES];

let daemon: RsyncDaemon;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function remote(): RemoteConfig {
  return { id: `${daemon.host}::backup`, host: daemon.host, module: 'backup', mode: 'daemon', port: daemon.port, user: daemon.user, passwordFile: daemon.passwordFile, sshOptions: [] };
}

function lane(excludes?: readonly Pattern[]): Lane {
  const l = new Lane({ remote: remote(), rsync: { ...rsync, ...(excludes ? { excludes } : {}) }, concurrency: 1, retries: 1, emit: () => {}, debug: false, retryDelayMs: { min: 20, max: 50 } });
  cleanups.push(() => l.stop('abort'));
  return l;
}

async function fresh(): Promise<{ src: string; dst: string }> {
  const t = await tempDir('tss-riding-');
  cleanups.push(t.cleanup);
  const dst = daemon.modules.backup!;
  for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true, force: true });
  return { src: t.path, dst };
}

async function put(root: string, rel: string, body: string): Promise<void> {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) await mkdir(pathBytes(root, parts.slice(0, i).join('/')), { recursive: true });
  await writeFile(pathBytes(root, rel), body);
}

/** rsync runs the daemon has logged so far (one `rsync to backup/` line each). */
async function runs(): Promise<number> {
  return (await readFile(daemon.logFile, 'utf8')).split('rsync to backup/').length - 1;
}

test('riding paths land exactly: awkward and byte names, rewrites, a same-second rewrite, a delete, a directory entry; new and rewritten files in the tree run', async () => {
  const { src, dst } = await fresh();
  const l = lane();
  const t = Math.floor(Date.now() / 1000) - 10;
  for (const n of NAMES) await put(src, `old/${n}`, `v1 ${n}`);
  await put(src, 'counter', 'AAAA');
  await utimes(join(src, 'counter'), t + 0.1, t + 0.1);
  await put(src, 'gone.txt', 'bye');
  await put(src, 'dirent/inside', 'in');
  // `never-there`: the lane probes the delete form on its first missing path; here, not below.
  assert.equal((await l.run({ root: src, action: 'tree', paths: ['old', 'counter', 'gone.txt', 'dirent', 'never-there'] })).ok, true);
  assert.deepEqual(await treeDiffBytes(src, dst), []);

  // Rewrites stamped in a second no transfer touched (a quick check cannot miss them): they ride
  // in the tree run. `counter`: same size, same second as the copy the remote has: forced.
  const later = Date.now() / 1000 + 5;
  for (const n of NAMES) {
    await writeFile(pathBytes(src, `old/${n}`), `version two of ${n}`);
    await utimes(pathBytes(src, `old/${n}`), later, later);
  }
  await writeFile(join(src, 'counter'), 'BBBB');
  await utimes(join(src, 'counter'), t + 0.6, t + 0.6);
  await rm(join(src, 'gone.txt'));
  for (const n of NAMES) await put(src, `newtree/${n}`, `new ${n}`);
  await chmod(join(src, 'dirent'), 0o750);
  await put(dst, 'dirent/remote-only', 'a path entry is not recursed into');
  const flat = [...NAMES.map((n) => `old/${n}`), 'counter', 'gone.txt', 'dirent'];
  const before = await runs();
  const r = await l.run({ root: src, action: 'tree', paths: ['newtree', ...flat], flat });
  assert.equal(r.ok, true, JSON.stringify(r.outcome));
  assert.deepEqual(await treeDiffBytes(src, dst, (rel) => rel === 'dirent/remote-only'), []);
  assert.equal(await readFile(join(dst, 'counter'), 'utf8'), 'BBBB', 'the same-second rewrite is not hidden by the quick check');
  for (const n of NAMES) assert.deepEqual(await readFile(pathBytes(dst, `old/${n}`)), await readFile(pathBytes(src, `old/${n}`)));
  assert.equal((await lstat(join(dst, 'dirent'))).mode & 0o777, 0o750, "the directory entry's own attributes");
  assert.equal(await readFile(join(dst, 'dirent/remote-only'), 'utf8'), 'a path entry is not recursed into');
  // The tree and the riding paths in one run; the forced ones (counter, the directory) in one more.
  assert.equal((await runs()) - before, 2);
});

test('riding paths only: no forced run when none needs it, one run for trees and paths', async () => {
  const { src, dst } = await fresh();
  const l = lane();
  const later = Date.now() / 1000 + 5;
  for (const n of ['a', 'b', 'tree/c']) {
    await put(src, n, n);
    await utimes(join(src, n), later, later);
  }
  const before = await runs();
  assert.equal((await l.run({ root: src, action: 'tree', paths: ['tree', 'a', 'b'], flat: ['a', 'b'] })).ok, true);
  assert.equal((await runs()) - before, 1);
  assert.deepEqual(await treeDiffBytes(src, dst), []);
});

test('a forced riding file with small trees: one run, forced whole (no run of its own); a same-size rewrite with the same mtime still lands, the rest stays untouched', async () => {
  const { src, dst } = await fresh();
  const l = lane();
  const t = Math.floor(Date.now() / 1000) - 10;
  await put(src, 'counter', 'AAAA');
  await put(src, 'tree/kept', 'the remote has this one');
  await put(src, 'tree/gone', 'deleted below');
  for (const n of ['counter', 'tree/kept', 'tree/gone']) await utimes(join(src, n), t + 0.1, t + 0.1);
  assert.equal((await l.run({ root: src, action: 'tree', paths: ['tree', 'counter'], flat: ['counter'] })).ok, true);
  const kept = (await lstat(join(dst, 'tree/kept'))).ino;
  // Same size, same mtime to the nanosecond, other bytes: only a forced send sees it. Its mtime
  // lies before the lane began: the history cannot tell, so it must be forced.
  await writeFile(join(src, 'counter'), 'BBBB');
  await utimes(join(src, 'counter'), t + 0.1, t + 0.1);
  await rm(join(src, 'tree/gone'));
  for (const n of NAMES) await put(src, `tree/${n}`, `new ${n}`);
  const before = await runs();
  const r = await l.run({ root: src, action: 'tree', paths: ['tree', 'counter'], flat: ['counter'] });
  assert.equal(r.ok, true, JSON.stringify(r.outcome));
  assert.equal(await readFile(join(dst, 'counter'), 'utf8'), 'BBBB', 'the same-second same-size rewrite is not hidden by the quick check');
  assert.deepEqual(await treeDiffBytes(src, dst), []);
  assert.equal((await lstat(join(dst, 'tree/kept'))).ino, kept, 'an unchanged file is left alone (--checksum, not --ignore-times)');
  assert.equal((await runs()) - before, 1, 'one rsync run');
});

test('excludes hold on the riding route: excluded riding paths and excluded entries in the trees are neither sent nor deleted', async () => {
  const pattern = (source: string): Pattern => ({ source, regex: new RegExp(`^(?:${source})$`, 's') });
  // A glob rsync applies itself, and a lookahead no glob expresses (walked).
  const { src, dst } = await fresh();
  const l = lane([pattern('(.*)\\.gz'), pattern('^(?!keep).*\\.log')]);
  for (const n of ['x.gz', 'top.log', 'keep.log', 'ok.txt', 'tree/a.gz', 'tree/b.log', 'tree/fine', 'tree/sub/deep.log']) await put(src, n, n);
  await put(dst, 'x.gz', 'remote copy of an excluded file');
  const flat = ['x.gz', 'top.log', 'keep.log', 'ok.txt'];
  assert.equal((await l.run({ root: src, action: 'tree', paths: ['tree', ...flat], flat })).ok, true);
  assert.deepEqual([...(await snapshotBytes(dst)).keys()].sort(), ['keep.log', 'ok.txt', 'tree', 'tree/fine', 'tree/sub', 'x.gz']);
  assert.equal(await readFile(join(dst, 'x.gz'), 'utf8'), 'remote copy of an excluded file');
});

/**
 * Bytes the daemon has received so far, over all runs (its `sent N bytes  received M bytes` lines),
 * once every run it logged has logged that line (it writes it after the client may have exited).
 */
async function received(): Promise<number> {
  const log = await waitFor(async () => {
    const text = await readFile(daemon.logFile, 'utf8');
    return text.split('rsync to backup/').length === text.split(' received ').length ? text : undefined;
  });
  let n = 0;
  for (const m of log.matchAll(/received (\d+) bytes/g)) n += Number(m[1]);
  return n;
}

test('a riding renamed file that must be forced (a rename keeps its old mtime) is still seeded from the remote copy: no bytes sent again', async () => {
  const { src, dst } = await fresh();
  const l = lane();
  await writeFile(join(src, 'big.bin'), randomBytes(2 * 1024 * 1024));
  const old = Date.now() / 1000 - 3600;
  await utimes(join(src, 'big.bin'), old, old);
  assert.equal((await l.run({ root: src, action: 'path', paths: ['big.bin', 'never-there'] })).ok, true);
  await rename(join(src, 'big.bin'), join(src, 'moved.bin'));
  await put(src, 'nt/f', 'new tree');
  const before = await received();
  const r = await l.run({ root: src, action: 'tree', paths: ['nt', 'moved.bin', 'big.bin'], flat: ['moved.bin'], renames: [{ from: 'big.bin', to: 'moved.bin' }] });
  assert.equal(r.ok, true, JSON.stringify(r.outcome));
  assert.deepEqual(await treeDiffBytes(src, dst), []);
  const sent = (await received()) - before;
  assert.ok(sent < 256 * 1024, `${sent} bytes sent for a 2 MB rename`);
});
