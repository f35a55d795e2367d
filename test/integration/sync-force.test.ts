/**
 * A forced send (a same-second rewrite could hide from rsync's quick check) goes with --checksum:
 * a file the remote already holds as it is stays untouched there (with --ignore-times the receiver
 * wrote a new copy of every such file and renamed it over the old one: a new inode each), while a
 * same-size rewrite with the same mtime still lands. A daemon whose rsyncd.conf refuses --checksum
 * gets --ignore-times instead, with one warning, and the rewrite still lands.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { Lane } from '../../src/sync/lane.js';
import { nameFromBytes, pathBytes } from '../../src/core/names.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir, treeDiff } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined };
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function remoteOf(d: RsyncDaemon, module: string): RemoteConfig {
  return { id: `${d.user}@127.0.0.1::${module}`, host: '127.0.0.1', module, mode: 'daemon', port: d.port, user: d.user, passwordFile: d.passwordFile, sshOptions: [] };
}

async function setup(moduleExtra: readonly string[] = []) {
  const daemon = await startRsyncDaemon({ modules: ['m'], moduleExtra });
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-force-');
  cleanups.push(t.cleanup);
  const events: EngineEvent[] = [];
  const lane = new Lane({ remote: remoteOf(daemon, 'm'), rsync, concurrency: 1, retries: 1, emit: (e) => events.push(e), debug: true, retryDelayMs: { min: 20, max: 50 } });
  return { src: t.path, dst: daemon.modules['m']!, lane, events };
}

/** A GBK name ("中文", not UTF-8) among them: forced sends carry names as bytes too. */
const RELS = ['a.bin', 'd/b.bin', 'd/e/c.bin', `d/${nameFromBytes(Buffer.from([0xd6, 0xd0, 0xce, 0xc4]))}.bin`];

async function writeAll(src: string, body: (i: number) => string, mtime: number): Promise<string[]> {
  for (const [i, rel] of RELS.entries()) {
    await mkdir(join(src, rel, '..'), { recursive: true });
    await writeFile(pathBytes(src, rel), body(i));
    await utimes(pathBytes(src, rel), mtime, mtime);
  }
  return RELS;
}

test('a forced re-send of files the remote already has leaves its copies alone; a same-size same-mtime rewrite still lands', async () => {
  const { src, dst, lane, events } = await setup();
  const t = Math.floor(Date.now() / 1000) - 5;
  const rels = await writeAll(src, (i) => `version one of ${i}`.padEnd(4000, '.'), t);
  assert.equal((await lane.run({ root: src, action: 'path', paths: rels, ignoreTimes: true })).ok, true);
  const inodes = await Promise.all(rels.map(async (r) => (await stat(pathBytes(dst, r))).ino));
  events.length = 0;
  // Forced again, unchanged: nothing is rewritten on the receiver.
  assert.equal((await lane.run({ root: src, action: 'path', paths: rels, ignoreTimes: true })).ok, true);
  assert.deepEqual(await Promise.all(rels.map(async (r) => (await stat(pathBytes(dst, r))).ino)), inodes, 'the receiver kept its copies (no new file written)');
  const argv = events.flatMap((e) => (e.type === 'job-start' && e.argv ? [e.argv] : []))[0];
  assert.ok(argv?.includes('--checksum') && !argv.includes('--ignore-times'), String(argv));
  // Same size, same mtime (whole second and nanoseconds), other bytes: only a forced send sees it.
  await writeAll(src, (i) => `version TWO of ${i}`.padEnd(4000, '.'), t);
  assert.equal((await lane.run({ root: src, action: 'path', paths: rels, ignoreTimes: true })).ok, true);
  assert.deepEqual(await treeDiff(src, dst), []);
  for (const r of rels) assert.match(await readFile(pathBytes(dst, r), 'utf8'), /^version TWO/);
  // And a forced tree (forceAll) the same way: the unchanged ones untouched, the rewrite sent.
  const before = await Promise.all(rels.map(async (r) => (await stat(pathBytes(dst, r))).ino));
  await writeFile(join(src, 'd/e/c.bin'), 'version 333 of 2'.padEnd(4000, '.'));
  await utimes(join(src, 'd/e/c.bin'), t, t);
  assert.equal((await lane.run({ root: src, action: 'tree', paths: ['d'], ignoreTimes: true })).ok, true);
  assert.deepEqual(await treeDiff(src, dst), []);
  const afterIno = await Promise.all(rels.map(async (r) => (await stat(pathBytes(dst, r))).ino));
  rels.forEach((r, i) => assert.equal(afterIno[i] === before[i], r !== 'd/e/c.bin', `${r}: rewritten only if changed`));
});

test('a daemon that refuses --checksum gets --ignore-times, says so once, and the same-size rewrite lands', async () => {
  const { src, dst, lane, events } = await setup(['refuse options = checksum']);
  const t = Math.floor(Date.now() / 1000) - 5;
  const rels = await writeAll(src, (i) => `first ${i}`.padEnd(3000, '-'), t);
  assert.equal((await lane.run({ root: src, action: 'path', paths: rels, ignoreTimes: true })).ok, true);
  await writeAll(src, (i) => `other ${i}`.padEnd(3000, '-'), t);
  const r = await lane.run({ root: src, action: 'path', paths: rels, ignoreTimes: true });
  assert.equal(r.ok, true, JSON.stringify(r.outcome));
  assert.deepEqual(await treeDiff(src, dst), []);
  const warnings = events.filter((e) => e.type === 'remote-health' && e.cause === 'checksum refused');
  assert.equal(warnings.length, 1, 'one warning, not one per job');
  const argvs = events.flatMap((e) => (e.type === 'job-start' && e.argv ? [e.argv] : []));
  assert.ok(argvs.at(-1)?.includes('--ignore-times') && !argvs.at(-1)?.includes('--checksum'), 'the last run used --ignore-times');
});

test('where the daemon refuses --checksum, a tree job keeps its forced re-send apart: --ignore-times over the whole tree would rewrite every file there', async () => {
  const { src, dst, lane } = await setup(['refuse options = checksum']);
  const t = Math.floor(Date.now() / 1000) - 5;
  const rels = await writeAll(src, (i) => `first ${i}`.padEnd(3000, '-'), t);
  // The refusal is learned on a forced send.
  assert.equal((await lane.run({ root: src, action: 'path', paths: rels, ignoreTimes: true })).ok, true);
  const inodes = async () => Promise.all(rels.filter((r) => r.startsWith('d/')).map(async (r) => (await stat(pathBytes(dst, r))).ino));
  const before = await inodes();
  // a.bin: same size, same mtime, other bytes, riding along a tree job of `d`.
  await writeFile(join(src, 'a.bin'), 'FIRST 0'.padEnd(3000, '-'));
  await utimes(join(src, 'a.bin'), t, t);
  const r = await lane.run({ root: src, action: 'tree', paths: ['d', 'a.bin'], flat: ['a.bin'] });
  assert.equal(r.ok, true, JSON.stringify(r.outcome));
  assert.deepEqual(await treeDiff(src, dst), []);
  assert.match(await readFile(join(dst, 'a.bin'), 'utf8'), /^FIRST 0/);
  assert.deepEqual(await inodes(), before, 'the tree run kept its quick check: no file under d was rewritten');
});
