/**
 * A full sync in parts (src/sync/full-parts.ts) against a real rsync daemon. For seeded random
 * trees (names as bytes: GBK, Latin-1, invalid UTF-8, newlines, wildcards, leading dashes),
 * random remote states (stale, extra and type-flipped entries at every level: the root, above the
 * units, inside them) and the real-time excludes plus a crontab glob: the remote after a full sync
 * in 2–4 parts is byte for byte the remote after one run, and both are what the test computes
 * itself — the source minus the excludes, with the remote's copies of excluded entries untouched.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pattern, RsyncSettings } from '../../src/config/types.js';
import { nameFromBytes, pathBytes, displayName } from '../../src/core/names.js';
import type { EngineEvent } from '../../src/events.js';
import { buildRsyncArgv } from '../../src/sync/argv.js';
import { findUnits, partRules } from '../../src/sync/full-parts.js';
import { Lane } from '../../src/sync/lane.js';
import { runRsync } from '../../src/sync/runner.js';
import { Rng } from '../model/rng.js';
import { daemonRemote } from '../support/config.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { snapshotBytes, tempDir, type Entry } from '../support/tree.js';

const pattern = (source: string): Pattern => ({ source, regex: new RegExp(`^(?:${source})$`, 's') });
/** A glob-shaped exclude (rsync gets `*.gz`), a directory one, and a walked regex (a lookahead). */
const EXCLUDES = ['(.*)\\.gz', '(.*)\\.svn', '^(?!keep).*\\.log'].map(pattern);
const CRONTAB = ['*.tmp'];
/** The test's own reading of those excludes and the crontab glob, on a root-relative path. */
function excluded(rel: string): boolean {
  const parts = rel.split('/');
  if (parts.some((p) => p.endsWith('.svn') || p.endsWith('.gz') || p.endsWith('.tmp'))) return true;
  // Sersync's test string of a nested path starts with `/`: never with "keep".
  return /\.log$/.test(rel) && (parts.length > 1 || !rel.startsWith('keep'));
}

const RAW_NAMES: readonly Buffer[] = [
  Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), // GBK
  Buffer.from([0x63, 0x61, 0x66, 0xe9]), // Latin-1
  Buffer.from([0x66, 0xff, 0x6f]), // invalid UTF-8
  ...['plain', 'with space', 'new\nline', 'star*q?[br]', '-dash', '--delete', 'ünï', 'back\\slash', 'keep'].map((s) => Buffer.from(s)),
];
const SUFFIXES = ['', '', '', '.gz', '.log', '.tmp', '.svn'];

let daemon: RsyncDaemon;
before(async () => {
  daemon = await startRsyncDaemon({ modules: ['split', 'single', 'part'] });
});
after(async () => {
  await daemon.stop();
});

const rsyncFor = (): RsyncSettings => ({ commonParams: ['-artz'], timeoutSeconds: 30, binary: 'rsync', maxDelete: undefined, excludes: EXCLUDES });

/** Empties a module; names as bytes (a string readdir would name a GBK entry wrongly, and rm would miss it). */
async function clear(dir: string): Promise<void> {
  for (const e of await readdir(dir, { encoding: 'buffer' })) await rm(pathBytes(dir, nameFromBytes(e)), { recursive: true, force: true });
  assert.deepEqual(await readdir(dir), []);
}

type Op = { kind: 'dir'; rel: string } | { kind: 'file'; rel: string; body: string; old?: boolean } | { kind: 'link'; rel: string; target: string };

/** A random tree as a list of operations (parents first), so the same one can be made twice. */
function randomTree(rng: Rng, tag: string, depth: number, maxDirs: number): Op[] {
  const ops: Op[] = [];
  const name = (i: number): string => nameFromBytes(Buffer.concat([rng.pick(RAW_NAMES), Buffer.from(`-${tag}${i}${rng.pick(SUFFIXES)}`)]));
  const fill = (dir: string, level: number): void => {
    const at = (n: string) => (dir ? `${dir}/${n}` : n);
    for (let i = rng.int(0, 3); i > 0; i--) ops.push({ kind: 'file', rel: at(name(i)), body: `${tag}:${rng.int(0, 1e9)}`.repeat(rng.int(1, 50)) });
    if (rng.chance(0.2)) ops.push({ kind: 'link', rel: at(name(9)), target: rng.pick(['../x', 'nowhere', 'a b']) });
    if (level >= depth) return;
    // Two directories no exclude matches: there is always something to cut.
    if (level === 0) for (const n of ['unit-a', 'unit-b']) {
      ops.push({ kind: 'dir', rel: nameFromBytes(Buffer.concat([rng.pick(RAW_NAMES), Buffer.from(`-${n}`)])) });
      fill(ops.at(-1)!.rel, level + 1);
    }
    for (let i = rng.int(level === 0 ? 3 : 0, level === 0 ? maxDirs : 3); i > 0; i--) {
      const d = at(name(10 + i));
      ops.push({ kind: 'dir', rel: d });
      fill(d, level + 1);
    }
  };
  fill('', 0);
  return ops;
}

async function apply(root: string, ops: readonly Op[]): Promise<void> {
  for (const op of ops) {
    const p = pathBytes(root, op.rel);
    if (op.kind === 'dir') await mkdir(p, { recursive: true });
    else if (op.kind === 'link') await symlink(op.target, p).catch(() => {});
    else {
      await writeFile(p, op.body);
      // A stale remote copy is older than any source file: the quick check never calls it equal.
      if (op.old) await utimes(p, 1_000_000_000, 1_000_000_000);
    }
  }
}

/** The remote before the sync: part of the source, stale and flipped copies, remote-only entries. */
function remoteState(rng: Rng, src: readonly Op[]): Op[] {
  const ops: Op[] = [];
  const dirs = new Set(src.filter((o) => o.kind === 'dir').map((o) => o.rel));
  for (const op of src) {
    const parent = op.rel.includes('/') ? op.rel.slice(0, op.rel.lastIndexOf('/')) : '';
    if (parent !== '' && !dirs.has(parent)) {
      if (op.kind === 'dir') dirs.delete(op.rel);
      continue;
    }
    if (op.kind === 'dir') {
      if (rng.chance(0.1)) {
        // A file where the source has a directory: the directory's whole subtree must replace it.
        ops.push({ kind: 'file', rel: op.rel, body: 'flipped', old: true });
        dirs.delete(op.rel);
      } else if (rng.chance(0.85)) ops.push(op);
      else dirs.delete(op.rel);
    } else if (op.kind === 'file') {
      const r = rng.next();
      if (r < 0.3) ops.push({ ...op, old: true });
      else if (r < 0.6) ops.push({ kind: 'file', rel: op.rel, body: `stale ${rng.int(0, 1e9)}`, old: true });
      else if (r < 0.7 && !excluded(op.rel)) {
        // A directory where the source has a file.
        ops.push({ kind: 'dir', rel: op.rel }, { kind: 'file', rel: `${op.rel}/inside`, body: 'x', old: true });
      }
    }
  }
  // Remote-only entries, never excluded (a walked exclude sees only the source), at every level.
  const here = ['', ...dirs];
  for (let i = rng.int(2, 12); i > 0; i--) {
    const d = rng.pick(here);
    const n = `${d ? `${d}/` : ''}remote-only-${i}`;
    if (rng.chance(0.3)) ops.push({ kind: 'dir', rel: n }, { kind: 'file', rel: `${n}/f`, body: 'r', old: true });
    else ops.push({ kind: 'file', rel: n, body: 'r', old: true });
  }
  return ops;
}

/** What the remote must hold: the source minus the excludes; the remote's own copies of excluded entries as they were. */
function expected(src: Map<string, Entry>, remoteBefore: Map<string, Entry>): Map<string, Entry> {
  const kept = (rel: string) => !rel.split('/').some((_, i, all) => excluded(all.slice(0, i + 1).join('/')));
  const out = new Map<string, Entry>();
  for (const [k, v] of src) if (kept(k)) out.set(k, v);
  for (const [k, v] of remoteBefore) {
    if (kept(k)) continue;
    const parent = k.includes('/') ? k.slice(0, k.lastIndexOf('/')) : '';
    // Under a directory the sync keeps: protected from --delete, left as it was.
    if (parent === '' || out.get(parent)?.type === 'dir') out.set(k, v);
  }
  return out;
}

/** The test daemon runs without chroot, so it munges symlinks (rsyncd.conf `munge symlinks`). */
const unmunged = (e: Entry | undefined): Entry | undefined => (e?.type === 'link' ? { ...e, target: e.target.replace(/^\/rsyncd-munged\//, '') } : e);

function diff(want: Map<string, Entry>, got: Map<string, Entry>): string[] {
  const out: string[] = [];
  for (const [k, v] of want) if (JSON.stringify(unmunged(got.get(k))) !== JSON.stringify(unmunged(v))) out.push(`${got.has(k) ? 'differs' : 'missing'}: ${displayName(k)}`);
  for (const k of got.keys()) if (!want.has(k)) out.push(`extra: ${displayName(k)}`);
  return out;
}

for (let seed = 1; seed <= 8; seed++) {
  test(`seed ${seed}: a full sync in parts leaves the remote as one run does, the source minus the excludes`, async () => {
    const rng = new Rng(seed);
    const t = await tempDir('tss-parts-');
    const src = join(t.path, 'src');
    await mkdir(src);
    const parts = rng.int(2, 4);
    const srcOps = randomTree(rng, 's', rng.int(2, 3), rng.int(3, 12));
    await apply(src, srcOps);
    const remoteOps = remoteState(rng, srcOps);
    const events: EngineEvent[] = [];
    const lanes: Lane[] = [];
    try {
      const results = new Map<string, Map<string, Entry>>();
      for (const [module, split] of [['split', { parts, minEntries: 0 }], ['single', { parts: 1, minEntries: 0 }]] as const) {
        const dst = daemon.modules[module]!;
        await clear(dst);
        await apply(dst, remoteOps);
        const before = await snapshotBytes(dst);
        const lane = new Lane({ remote: daemonRemote(daemon, module), rsync: { ...rsyncFor(), fullSync: split }, concurrency: 4, cores: 4, adaptive: false, retries: 0, emit: (e) => events.push(e), debug: false });
        lanes.push(lane);
        const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true, excludes: CRONTAB });
        assert.ok(r.ok, r.outcome.stderrTail);
        const got = await snapshotBytes(dst);
        assert.deepEqual(diff(expected(await snapshotBytes(src), before), got), [], `${module} (${parts} parts): the remote is not the source minus the excludes`);
        results.set(module, got);
      }
      // The test proves something only if the root really was cut.
      assert.ok(events.some((e) => e.type === 'info' && new RegExp(`: ${parts > 1 ? '\\d+' : ''} rsync runs at once`).test(e.message)), 'the full sync ran in parts');
      assert.deepEqual(diff(results.get('single')!, results.get('split')!), [], 'split and single differ');
    } finally {
      for (const l of lanes) await l.stop('abort');
      await t.cleanup();
    }
  });
}

test('files on the remote where the source has the directories above the parts\' units: the parts that race to replace them still land, 30 times in a row', async () => {
  // Several parts enter each `topN` (a directory above their units), so each one's generator finds
  // the remote's file `topN` and replaces it with a directory; one that stat'ed the file just
  // before another part replaced it fails to unlink a directory ("could not make way for new
  // directory", exit 23). Seen once in a seeded run (seed 1, CI of 0b94494).
  const t = await tempDir('tss-part-race-');
  const src = join(t.path, 'src');
  const dst = daemon.modules.part!;
  const tops = Array.from({ length: 10 }, (_, i) => `top${i}`);
  const srcOps: Op[] = [];
  for (const top of tops) {
    srcOps.push({ kind: 'dir', rel: top });
    for (let i = 0; i < 4; i++) srcOps.push({ kind: 'dir', rel: `${top}/u${i}` }, { kind: 'file', rel: `${top}/u${i}/f`, body: `file ${i}` });
  }
  await apply(src, srcOps);
  const events: EngineEvent[] = [];
  const lane = new Lane({ remote: daemonRemote(daemon, 'part'), rsync: { ...rsyncFor(), excludes: [], fullSync: { parts: 4, minEntries: 0 } }, concurrency: 4, cores: 4, adaptive: false, retries: 0, emit: (e) => events.push(e), debug: false });
  try {
    for (let round = 0; round < 30; round++) {
      await clear(dst);
      await apply(dst, tops.map((rel): Op => ({ kind: 'file', rel, body: 'a file where the source has a directory', old: true })));
      const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true });
      assert.ok(r.ok, `round ${round}: ${r.outcome.stderrTail}`);
      assert.deepEqual(diff(await snapshotBytes(src), await snapshotBytes(dst)), [], `round ${round}`);
    }
    assert.ok(events.some((e) => e.type === 'info' && /: 4 rsync runs at once/.test(e.message)), 'the full sync ran in 4 parts');
  } finally {
    await lane.stop('abort');
    await t.cleanup();
  }
});

test('a part sends only its units, deletes only inside them, and deletes a unit gone from the source since the cut', async () => {
  const t = await tempDir('tss-part-');
  const src = join(t.path, 'src');
  const dst = daemon.modules.part!;
  await clear(dst);
  const gbk = nameFromBytes(Buffer.from([0xc4, 0xe3, 0xba, 0xc3]));
  await apply(src, [
    { kind: 'dir', rel: 'a' },
    { kind: 'dir', rel: `a/${gbk}` },
    { kind: 'file', rel: `a/${gbk}/new`, body: 'n' },
    { kind: 'file', rel: 'a/file-of-a', body: 'part 0 sends this' },
    { kind: 'dir', rel: 'b' },
    { kind: 'file', rel: 'b/f', body: 'part 0 sends this' },
    { kind: 'file', rel: 'top', body: 'part 0 sends this' },
  ]);
  await apply(dst, [
    { kind: 'dir', rel: 'a' },
    { kind: 'dir', rel: `a/${gbk}` },
    { kind: 'file', rel: `a/${gbk}/stale`, body: 'goes', old: true },
    { kind: 'dir', rel: 'a/gone' },
    { kind: 'file', rel: 'a/gone/x', body: 'goes with its unit', old: true },
    { kind: 'file', rel: 'a/remote-only', body: 'not this part: stays', old: true },
    { kind: 'dir', rel: 'c' },
    { kind: 'file', rel: 'c/remote-only', body: 'stays', old: true },
    { kind: 'file', rel: 'top-remote-only', body: 'stays', old: true },
  ]);
  try {
    const run = async (units: string[]) => {
      const file = join(t.path, 'part');
      await writeFile(file, partRules(units), { mode: 0o600 });
      const argv = buildRsyncArgv({ remote: daemonRemote(daemon, 'part'), rsync: rsyncFor(), action: 'tree', full: true, deleteMissing: false, ignoreTimes: false, partRulesFile: file });
      return runRsync(argv, { cwd: src });
    };
    const o = await run([`a/${gbk}`, 'a/gone']);
    assert.equal(o.class, 'done', o.stderrTail);
    const names = [...(await snapshotBytes(dst)).keys()].sort();
    assert.deepEqual(names, ['a', `a/${gbk}`, `a/${gbk}/new`, 'a/remote-only', 'c', 'c/remote-only', 'top-remote-only'].sort());
  } finally {
    await t.cleanup();
  }
});

test('the cut: subdirectories from the top down, excluded ones never, leaves kept as units, the listings bounded', async () => {
  const t = await tempDir('tss-units-');
  const root = t.path;
  try {
    await apply(root, [
      { kind: 'dir', rel: 'only' },
      { kind: 'dir', rel: 'only/x' },
      { kind: 'dir', rel: 'only/x/deep' },
      { kind: 'dir', rel: 'only/y' },
      { kind: 'dir', rel: 'only/skip.svn' },
      { kind: 'dir', rel: 'only/leaf' },
      { kind: 'file', rel: 'only/leaf/f', body: 'x' },
      { kind: 'file', rel: 'f', body: 'x' },
    ]);
    // One top-level directory: the cut goes down until there are enough units (or nothing below).
    const units = (await findUnits(root, EXCLUDES, 2)).map((u) => u.path).sort();
    assert.deepEqual(units, ['only/leaf', 'only/x/deep', 'only/y']);
    const many = join(root, 'many');
    await mkdir(many);
    for (let i = 0; i < 40; i++) await mkdir(join(many, `d${i}`));
    await writeFile(pathBytes(many, nameFromBytes(Buffer.from([0x66, 0xff]))), 'a file is never a unit');
    const top = (await findUnits(many, [], 2)).map((u) => u.path);
    assert.equal(top.length, 40, 'enough units at the top: no deeper listing');
    assert.ok(top.every((u) => !u.includes('/')));
  } finally {
    await t.cleanup();
  }
});

test('a daemon module with `max connections = 1`: the parts it turns away run after the others, and the full sync lands whole', async () => {
  const t = await tempDir('tss-maxconn-');
  const narrow = await startRsyncDaemon({ modules: ['one'], moduleExtra: ['max connections = 1', `lock file = ${join(t.path, 'rsyncd.lock')}`] });
  const src = join(t.path, 'src');
  const ops: Op[] = [];
  for (let d = 0; d < 6; d++) {
    ops.push({ kind: 'dir', rel: `d${d}` });
    for (let f = 0; f < 20; f++) ops.push({ kind: 'file', rel: `d${d}/f${f}`, body: `${d}/${f}`.repeat(100) });
  }
  await mkdir(src);
  await apply(src, ops);
  const events: EngineEvent[] = [];
  const lane = new Lane({ remote: daemonRemote(narrow, 'one'), rsync: { ...rsyncFor(), fullSync: { parts: 3, minEntries: 0 } }, concurrency: 4, cores: 4, adaptive: false, retries: 0, emit: (e) => events.push(e), debug: false });
  try {
    const r = await lane.run({ root: src, action: 'tree', paths: [''], full: true });
    assert.ok(r.ok, r.outcome.stderrTail);
    assert.ok(events.some((e) => e.type === 'info' && /: 3 rsync runs at once/.test(e.message)), 'the full sync ran in parts');
    assert.deepEqual(diff(await snapshotBytes(src), await snapshotBytes(narrow.modules.one!)), []);
  } finally {
    await lane.stop('abort');
    await narrow.stop();
    await t.cleanup();
  }
});
