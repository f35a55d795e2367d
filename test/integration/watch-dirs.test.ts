import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveBatch } from '../../src/watch/resolve.js';
import { tempDir } from '../support/tree.js';
import { ALL_SWITCHES_ON, BACKENDS, watchHarness } from '../support/watch-harness.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  test(`[${backend}] watch: mkdir -p a/b/c reports a; a write into a/b/c one second later is reported`, async () => {
    const h = await watchHarness({ backend });
    try {
      await mkdir(join(h.root, 'a', 'b', 'c'), { recursive: true });
      await writeFile(join(h.root, 'a', 'b', 'c', 'f'), 'f');
      const a = await h.change((c) => c.path === 'a', 'create of a');
      assert.equal(a.state, 'dir');
      // parcel cannot see inside a new directory until the root is re-crawled; inotify watched it first.
      if (backend === 'parcel') await h.gap((g) => g.dir === 'a' && g.reason === 'new directory', 'onGap for a');
      await tick(1000);
      await writeFile(join(h.root, 'a', 'b', 'c', 'later'), 'l');
      const later = await h.change((c) => c.path === 'a/b/c/later', 'the later write in a/b/c');
      assert.equal(later.state, 'file');
      if (backend === 'inotify') assert.deepEqual(h.gaps, [], 'no re-crawl, no reconcile');
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: after mv d1 d2, a write to d2/sub/f is reported as d2/sub/f`, async () => {
    const h = await watchHarness({ backend, setup: async (root) => { await mkdir(join(root, 'd1', 'sub'), { recursive: true }); } });
    try {
      await rename(join(h.root, 'd1'), join(h.root, 'd2'));
      const gone = await h.change((c) => c.path === 'd1', 'd1 gone');
      assert.equal(gone.state, 'missing');
      if (backend === 'parcel') await h.gap((g) => g.dir === 'd2', 'onGap for d2');
      else {
        const d2 = await h.change((c) => c.path === 'd2', 'd2 reported');
        assert.deepEqual([d2.state, d2.from], ['dir', 'd1'], 'reported as a rename');
      }
      await writeFile(join(h.root, 'd2', 'sub', 'f'), 'f');
      const f = await h.change((c) => c.path === 'd2/sub/f', 'the write under d2');
      assert.equal(f.state, 'file');
      assert.ok(!h.changes.some((c) => c.path.startsWith('d1/')), 'nothing reported under the old name');
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: rm -rf of a tree yields its top directory as missing, nothing below it as present`, async () => {
    const h = await watchHarness({
      backend,
      setup: async (root) => {
        for (const d of ['t/x/y', 't/z']) {
          await mkdir(join(root, d), { recursive: true });
          for (let i = 0; i < 20; i++) await writeFile(join(root, d, `f${i}`), String(i));
        }
      },
    });
    try {
      await rm(join(h.root, 't'), { recursive: true });
      const t = await h.change((c) => c.path === 't', 'the top directory');
      assert.equal(t.state, 'missing');
      await tick(150);
      await writeFile(join(h.root, 'sentinel'), '');
      await h.change((c) => c.path === 'sentinel', 'the sentinel');
      // A batch that arrived while rm was still running may name a subdirectory as its own top;
      // what never happens is a vanished path reported as anything but missing.
      for (const c of h.changes.filter((x) => x.path === 't' || x.path.startsWith('t/'))) {
        assert.equal(c.state, 'missing', c.path);
      }
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: rewatch() replaces the child without a gap`, async () => {
    const h = await watchHarness({ backend });
    try {
      const before = h.watcher.childPid(h.root);
      let stop = false;
      let n = 0;
      const writer = (async () => {
        while (!stop) {
          await writeFile(join(h.root, `w${n++}`), '');
          await tick(5);
        }
      })();
      await h.watcher.rewatch(h.root);
      await tick(100);
      stop = true;
      await writer;
      assert.notEqual(h.watcher.childPid(h.root), before);
      for (let i = 0; i < n; i++) await h.change((c) => c.path === `w${i}`, `w${i}`, 5000);
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: a steady stream of new directories is ${backend === 'parcel' ? 're-watched by the ceiling, not only when it stops' : 'watched as it comes, with no re-watch'}`, async () => {
    const h = await watchHarness({ backend, tuning: { rewatchDebounceMs: 300, rewatchMaxDelayMs: 800 } });
    try {
      let firstGapWhileBusy: number | undefined;
      const until = Date.now() + 3000;
      for (let i = 0; Date.now() < until; i++) {
        await mkdir(join(h.root, `d${i}`, 'inner'), { recursive: true });
        if (firstGapWhileBusy === undefined && h.gaps.some((g) => g.reason === 'new directory')) firstGapWhileBusy = i;
        await tick(100);
      }
      if (backend === 'parcel') assert.ok(firstGapWhileBusy !== undefined, 'a rewatch happened while directories kept coming');
      else assert.deepEqual(h.gaps, [], 'inotify: no re-watch and no reconcile');
      await writeFile(join(h.root, 'd0', 'inner', 'f'), '');
      await h.change((c) => c.path === 'd0/inner/f', 'a write inside an early new directory');
    } finally {
      await h.cleanup();
    }
  });
}

test('resolveBatch: a delete whose top directory event was lost still yields the top', async () => {
  const d = await tempDir();
  try {
    await mkdir(join(d.path, 'keep'));
    const rules = { excludes: [], switches: ALL_SWITCHES_ON };
    const r = await resolveBatch(d.path, [
      { path: join(d.path, 'top', 'mid', 'leaf', 'f1'), type: 'delete' },
      { path: join(d.path, 'top', 'mid', 'f2'), type: 'delete' },
      { path: join(d.path, 'keep', 'gone'), type: 'update' },
      { path: '/elsewhere/x', type: 'create' },
      { path: d.path, type: 'update' },
    ], rules);
    assert.deepEqual(r.changes.map((c) => [c.path, c.event, c.state]).sort(), [
      ['keep/gone', 'update', 'missing'],
      ['top', 'delete', 'missing'],
    ]);
    assert.equal(r.touchedRoot, true);
    assert.equal(r.rootDeleted, false, 'an update of the root is not its deletion');
    assert.deepEqual(r.newDirs, []);
  } finally {
    await d.cleanup();
  }
});

test('resolveBatch: a lossy name from parcel (U+FFFD) is never dropped: its parent directory is a gap', async () => {
  const d = await tempDir();
  try {
    await mkdir(join(d.path, 'sub'));
    const rules = { excludes: [], switches: ALL_SWITCHES_ON };
    const r = await resolveBatch(d.path, [
      { path: join(d.path, 'sub', 'caf\ufffd.txt'), type: 'create' },
      { path: join(d.path, '\ufffd'), type: 'delete' },
      { path: join(d.path, 'sub'), type: 'update' },
    ], rules);
    assert.deepEqual(r.gaps.sort(), ['', 'sub']);
    assert.deepEqual(r.changes.map((c) => c.path), ['sub'], 'no change names a lossy path');
    // The inotify backend's names are exact by construction: a surrogate-escaped byte is a name like any other.
    const exact = await resolveBatch(d.path, [{ path: join(d.path, 'caf\udce9'), type: 'delete', kernel: 'delete' }], rules);
    assert.deepEqual([exact.gaps, exact.changes.map((c) => [c.path, c.state])], [[], [['caf\udce9', 'missing']]]);
  } finally {
    await d.cleanup();
  }
});

test("resolveBatch: a path the inotify backend last saw go away is missing without asking the disk; parcel's deletes and later re-creations are asked", async () => {
  const d = await tempDir();
  try {
    // On disk now: `again` and `moved` were re-created after the events below took them away
    // (their own create events would come in the next batch), `back` in this one.
    for (const f of ['again', 'moved', 'elsewhere', 'back', 'hint']) await writeFile(join(d.path, f), 'x');
    const rules = { excludes: [], switches: ALL_SWITCHES_ON };
    const r = await resolveBatch(d.path, [
      { path: join(d.path, 'again'), type: 'delete', kernel: 'delete', isDir: false },
      { path: join(d.path, 'elsewhere'), type: 'create', kernel: 'rename', isDir: false, from: join(d.path, 'moved') },
      { path: join(d.path, 'back'), type: 'delete', kernel: 'delete', isDir: false },
      { path: join(d.path, 'back'), type: 'create', kernel: 'create', isDir: false },
      { path: join(d.path, 'back'), type: 'update', kernel: 'close_write', isDir: false },
    ], rules);
    assert.deepEqual(r.changes.map((c) => [c.path, c.event, c.state]).sort(), [
      ['again', 'delete', 'missing'],
      ['back', 'create', 'file'],
      ['elsewhere', 'create', 'file'],
      ['moved', 'delete', 'missing'],
    ]);
    // parcel coalesces: its delete is a hint, the disk decides.
    const p = await resolveBatch(d.path, [{ path: join(d.path, 'hint'), type: 'delete' }], rules);
    assert.deepEqual(p.changes.map((c) => [c.path, c.state]), [['hint', 'file']]);
  } finally {
    await d.cleanup();
  }
});
