/**
 * One exclude model on every route, against a real rsync daemon and the real engine: a path the
 * real-time <filter> excludes is never sent to the remote — live events, new / moved-in / renamed
 * directory trees, bursts, -r, the periodic full sync (<crontab> and reconcile), catch-up after a
 * stop, the pending file, replay / --retry-log — and an excluded entry that exists in the source
 * is never deleted from the remote by --delete. Asserted on the destination tree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lane } from '../../src/sync/lane.js';
import type { Config, Pattern } from '../../src/config/types.js';
import { Engine } from '../../src/engine.js';
import type { EngineEvent } from '../../src/events.js';
import { savePending, pendingPath } from '../../src/replay/pending-store.js';
import { ReplayLog } from '../../src/replay/log.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { makeConfig, daemonRemote } from '../support/config.js';
import { snapshot, tempDir, waitFor, waitForSameTree } from '../support/tree.js';

/** As parseConfig compiles a <filter> exclude (`s`: `.` matches a newline too). */
const pattern = (source: string): Pattern => ({ source, regex: new RegExp(`^(?:${source})$`, 's') });
/** Sersync's stock excludes (rsync globs), and one that no rsync glob could express (a lookahead: walked). */
const EXCLUDES = ['(.*)\\.svn', '(.*)\\.gz', '^info/*', '^(?!keep).*\\.log'].map(pattern);
/** The test's own reading of those excludes (independent of src/watch/filter.ts). */
function excluded(rel: string): boolean {
  const parts = rel.split('/');
  if (parts[0] === 'info') return true;
  if (parts.length === 1 && /\.log$/.test(rel) && !rel.startsWith('keep')) return true;
  if (parts.length > 1 && /\.log$/.test(rel)) return true; // nested: "/a/b.log" never starts with "keep"
  return parts.some((p) => p.endsWith('.svn') || p.endsWith('.gz'));
}

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
const fast = { min: 50, max: 200 };

before(async () => {
  daemon = await startRsyncDaemon();
  work = await tempDir('tss-excludes-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

interface Ctx {
  src: string;
  dst: string;
  state: string;
  events: EngineEvent[];
  start: (opts?: { fullSync?: boolean }) => Promise<Engine>;
}

async function withRoot(name: string, fn: (c: Ctx) => Promise<void>, over: Partial<Config> = {}): Promise<void> {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const dst = daemon.modules.backup!;
  for (const e of await readdir(dst)) await rm(join(dst, e), { recursive: true, force: true });
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon)] }], { excludes: EXCLUDES, crontab: { enabled: false, intervalMinutes: 600, excludes: ['*.php'] }, ...over });
  const events: EngineEvent[] = [];
  const running: Engine[] = [];
  const start = async (opts: { fullSync?: boolean } = {}) => {
    const e = new Engine(config, { emit: (ev) => events.push(ev), retryDelayMs: fast, ...opts });
    await e.start();
    running.push(e);
    return e;
  };
  try {
    await fn({ src, dst, state, events, start });
  } finally {
    for (const e of running) await e.stop('test');
  }
}

async function put(root: string, rel: string, body = rel): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), body);
}

/** The destination equals the source minus the excludes, and holds no excluded entry it did not already have. */
async function equalMinusExcludes(c: Ctx, remoteOwn: readonly string[] = [], timeoutMs = 15000): Promise<void> {
  await waitForSameTree(c.src, c.dst, timeoutMs, (rel) => excluded(rel) || remoteOwn.some((o) => rel === o || rel.startsWith(`${o}/`)));
  const sent = [...(await snapshot(c.dst)).keys()].filter((k) => excluded(k) && !remoteOwn.some((o) => k === o || k.startsWith(`${o}/`)));
  assert.deepEqual(sent, [], 'excluded entries reached the remote');
}

const TREE = ['keep.txt', 'a.gz', 'info/x', 'keep.log', 'other.log', 'd/ok', 'd/b.gz', 'd/.svn/entries', 'd/e/c.gz', 'd/e/fine', 'd/e/x.log'];

test('live events, new, moved-in and renamed directory trees: excluded entries never sent', async () => {
  await withRoot('live', async (c) => {
    await c.start();
    await put(c.src, 'keep.txt');
    await put(c.src, 'a.gz');
    await put(c.src, 'other.log');
    await equalMinusExcludes(c);
    // A new directory with its files at once: sent as a tree; the walk keeps the excluded ones out.
    for (const f of ['n/ok', 'n/b.gz', 'n/.svn/entries', 'n/m/c.gz', 'n/m/fine']) await put(c.src, f);
    await equalMinusExcludes(c);
    // Moved in from outside the root, with excluded content.
    const outside = join(work.path, 'live', 'outside');
    for (const f of ['ok', 'x.gz', 'sub.svn/f', 'deep/y.gz', 'deep/z']) await put(outside, f);
    await rename(outside, join(c.src, 'moved'));
    await equalMinusExcludes(c);
    // Renamed within the tree.
    await rename(join(c.src, 'n'), join(c.src, 'n2'));
    await equalMinusExcludes(c);
    assert.ok((await snapshot(c.dst)).has('n2/m/fine'));
  });
});

test('-r and the periodic full sync (<crontab>, reconcile): excluded not sent; an excluded entry present in the source is never deleted remotely', async () => {
  await withRoot('full', async (c) => {
    for (const f of TREE) await put(c.src, f, `source ${f}`);
    await put(c.src, 'page.php', 'crontab glob');
    // The remote already holds copies of two excluded entries that exist in the source: --delete must keep them as they are.
    await put(c.dst, 'a.gz', 'remote copy');
    await put(c.dst, 'd/.svn/entries', 'remote copy');
    const engine = await c.start({ fullSync: true });
    await equalMinusExcludes(c, ['a.gz', 'd/.svn', 'page.php']);
    await engine.idle();
    assert.equal(await readFile(join(c.dst, 'a.gz'), 'utf8'), 'remote copy', 'kept, not replaced, not deleted');
    assert.equal(await readFile(join(c.dst, 'd/.svn/entries'), 'utf8'), 'remote copy');
    assert.equal((await snapshot(c.dst)).has('page.php'), false, '<crontabfilter> globs apply to full syncs');
    // The periodic full sync (crontab and reconcile timers call the same) after more changes.
    await put(c.src, 'd/e/later.gz');
    await put(c.src, 'd/e/later.txt');
    engine.fullSync();
    await equalMinusExcludes(c, ['a.gz', 'd/.svn', 'page.php']);
    await engine.idle();
    assert.equal(await readFile(join(c.dst, 'a.gz'), 'utf8'), 'remote copy');
  });
});

test('burst reconcile: a burst with excluded names reconciles its directory without sending them', async () => {
  await withRoot('burst', async (c) => {
    await mkdir(join(c.src, 'b'));
    await c.start();
    // 200 changes in 2 s make a burst; the watcher counts only what its filter lets through.
    for (let i = 0; i < 480; i++) await writeFile(join(c.src, 'b', i % 2 ? `f${i}.gz` : `f${i}.txt`), String(i));
    await waitFor(() => c.events.some((e) => e.type === 'watch' && /burst .* is over: reconciling/.test(e.message)), 20000, 'the trailing burst reconcile');
    await equalMinusExcludes(c, [], 20000);
    // Bursts are reconciled only for parcel: inotify reports its own losses (an overflow is a gap).
  }, { watcherBackend: 'parcel' });
});

test('catch-up after a stop: changes made while stopped are sent without the excluded ones', async () => {
  await withRoot('catchup', async (c) => {
    const first = await c.start();
    await put(c.src, 'd/ok');
    await equalMinusExcludes(c);
    await first.stop('test');
    await new Promise((r) => setTimeout(r, 50));
    for (const f of ['d/new.gz', 'd/new.txt', 'd/.svn/entries', 'top.gz', 'top.txt']) await put(c.src, f);
    await c.start();
    await equalMinusExcludes(c);
  });
});

test('the pending file and the replay log (--retry-log): excluded records are settled without being sent', async () => {
  await withRoot('replay', async (c) => {
    for (const f of TREE) await put(c.src, f);
    await put(c.src, 'untouched.txt'); // no route asks for it: proves no full sync or catch-up sent it
    const remote = daemonRemote(daemon).id;
    // Work saved by an earlier run (another config, say, without these excludes). Saved "later"
    // than the files, so the catch-up scan finds nothing of its own.
    await savePending(pendingPath(c.state), {
      savedAt: new Date(Date.now() + 60_000).toISOString(),
      lanes: [{ remote, root: c.src, entries: [{ path: 'a.gz', action: 'path' }, { path: 'keep.txt', action: 'path' }, { path: 'd', action: 'tree' }] }],
    });
    const log = new ReplayLog(join(c.state, 'replay.jsonl'));
    const base = { time: new Date().toISOString(), root: c.src, remote, exitCode: 10, message: 'earlier failure', attempts: 3 } as const;
    await log.append([
      { ...base, path: 'other.log', action: 'path' },
      { ...base, path: 'keep.log', action: 'path' },
      { ...base, path: 'info', action: 'tree' },
      { ...base, path: 'd/e', action: 'tree' },
    ]);
    const engine = await c.start();
    const r = await engine.replayNow({ operator: true });
    assert.equal(r.left.length, 0);
    await engine.idle();
    // Everything but the root-level entries nobody asked for: keep.txt, keep.log and d.
    const got = [...(await snapshot(c.dst)).keys()].sort();
    assert.deepEqual(got, ['d', 'd/e', 'd/e/fine', 'd/ok', 'keep.log', 'keep.txt'].sort());
    assert.deepEqual((await log.read()).records, []);
  });
});

const RACER = fileURLToPath(new URL('../fixtures/sync/rsync-racer.mjs', import.meta.url));

for (const kind of ['tree', 'full'] as const) {
  test(`an excluded entry created while a ${kind} sync runs (after the walk) is taken off the remote again; earlier excluded copies stay`, async () => {
    const t = await tempDir('tss-excl-race-');
    const dst = daemon.modules.backup!;
    for (const e of await readdir(dst)) await rm(join(dst, e), { recursive: true, force: true });
    const src = join(t.path, 'src');
    await put(src, 'd/ok');
    await put(src, 'd/a.gz', 'source copy');
    await put(dst, 'd/a.gz', 'remote copy');
    const bin = join(t.path, 'rsync.mjs');
    await copyFile(RACER, bin);
    // late.gz and sub.svn: globs, rsync leaves them out itself; late.log: a walked regex, retracted.
    await writeFile(join(t.path, 'rsync.touch'), 'd/late.gz\nd/sub.svn/x\nd/late.log\nd/fine-late\n');
    const remote = daemonRemote(daemon);
    const lane = new Lane({ remote, rsync: { commonParams: ['-artz'], timeoutSeconds: 20, binary: bin, maxDelete: undefined, excludes: EXCLUDES }, concurrency: 1, retries: 0, emit: () => {}, debug: false });
    try {
      const r = await lane.run(kind === 'full' ? { root: src, action: 'tree', paths: [''], full: true } : { root: src, action: 'tree', paths: ['d'] });
      assert.ok(r.ok, r.outcome.stderrTail);
      assert.deepEqual([...(await snapshot(dst)).keys()].sort(), ['d', 'd/a.gz', 'd/fine-late', 'd/ok']);
      assert.equal(await readFile(join(dst, 'd/a.gz'), 'utf8'), 'remote copy');
    } finally {
      await lane.stop('abort');
      await t.cleanup();
    }
  });
}
