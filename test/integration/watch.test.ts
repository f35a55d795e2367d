import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../../src/errors.js';
import { Watcher } from '../../src/watch/watcher.js';
import { AWKWARD_NAMES, tempDir } from '../support/tree.js';
import { ALL_SWITCHES_ON, BACKENDS, fullMatch, watchHarness } from '../support/watch-harness.js';
import { silent } from '../../src/events.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  test(`[${backend}] watch: create, modify and delete of a file are reported with the disk state`, async () => {
    const h = await watchHarness({ backend });
    try {
      const f = join(h.root, 'f.txt');
      await writeFile(f, 'one');
      const c1 = await h.change((c) => c.path === 'f.txt', 'create of f.txt');
      assert.equal(c1.root, h.root);
      assert.equal(c1.state, 'file');
      const n = h.changes.length;
      await tick(120); // past parcel's 50 ms window, so the write is a batch of its own
      await appendFile(f, 'two');
      const c2 = await h.change((c) => h.changes.indexOf(c) >= n && c.path === 'f.txt', 'update of f.txt');
      assert.equal(c2.state, 'file');
      await rm(f);
      const c3 = await h.change((c) => c.path === 'f.txt' && c.state === 'missing', 'delete of f.txt');
      assert.equal(c3.event, 'delete');
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: start rejects with EnvironmentError for a missing root or a file`, async () => {
    const d = await tempDir();
    try {
      const missing = join(d.path, 'nope');
      const w = new Watcher({ backend, roots: [missing], excludes: [], switches: ALL_SWITCHES_ON, emit: silent, onChanges: () => {}, onGap: () => {} });
      await assert.rejects(w.start(), (e: unknown) => e instanceof EnvironmentError && e.message.includes(missing) && e.message.includes('missing'));
      await writeFile(join(d.path, 'file'), '');
      const w2 = new Watcher({ backend, roots: [join(d.path, 'file')], excludes: [], switches: ALL_SWITCHES_ON, emit: silent, onChanges: () => {}, onGap: () => {} });
      await assert.rejects(w2.start(), (e: unknown) => e instanceof EnvironmentError && /not a directory/.test(e.message));
    } finally {
      await d.cleanup();
    }
  });

  test(`[${backend}] watch: excludes drop matching paths and everything below an excluded directory`, async () => {
    const h = await watchHarness({
      backend,
      excludes: ['(.*)\\.svn', '(.*)\\.gz', '^info/*', '^static/*'].map(fullMatch),
      setup: async (root) => {
        await mkdir(join(root, 'info'));
        await mkdir(join(root, 'sub'));
      },
    });
    try {
      await writeFile(join(h.root, 'x.gz'), 'z');
      await writeFile(join(h.root, 'sub', 'y.gz'), 'z');
      await writeFile(join(h.root, 'info', 'readme'), 'r');
      await writeFile(join(h.root, 'sub', 'keep.txt'), 'k');
      await writeFile(join(h.root, '.hidden'), 'h');
      await writeFile(join(h.root, 'backup~'), 'b');
      await writeFile(join(h.root, '4913'), '');
      await tick(150);
      await writeFile(join(h.root, 'sentinel'), 's');
      await h.change((c) => c.path === 'sentinel', 'the sentinel');
      const paths = new Set(h.changes.map((c) => c.path));
      for (const p of ['sub/keep.txt', '.hidden', 'backup~', '4913']) assert.ok(paths.has(p), `${p} reported`);
      for (const p of ['x.gz', 'sub/y.gz', 'info/readme', 'info']) assert.ok(!paths.has(p), `${p} excluded`);
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: switches off suppress what they govern`, async () => {
    const h = await watchHarness({
      backend,
      switches: { ...ALL_SWITCHES_ON, delete: false, moveFrom: false, createFolder: false },
      setup: async (root) => {
        await writeFile(join(root, 'old.txt'), 'o');
      },
    });
    try {
      await rm(join(h.root, 'old.txt'));
      await mkdir(join(h.root, 'newdir'));
      await tick(150);
      await writeFile(join(h.root, 'sentinel'), 's');
      await h.change((c) => c.path === 'sentinel', 'the sentinel');
      // inotify may report the sentinel's create, modify and close_write in separate reads (all on
      // here); what matters is that nothing but the sentinel is reported.
      assert.deepEqual([...new Set(h.changes.map((c) => c.path))], ['sentinel']);
      assert.deepEqual(h.gaps, [], 'no rewatch for a directory createFolder ignores');
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: awkward names come through intact`, async () => {
    const h = await watchHarness({ backend });
    try {
      for (const name of AWKWARD_NAMES) await writeFile(join(h.root, name), name);
      for (const name of AWKWARD_NAMES) {
        const c = await h.change((x) => x.path === name, JSON.stringify(name));
        assert.equal(c.state, 'file');
      }
      await mkdir(join(h.root, 'd\nir'));
      await writeFile(join(h.root, 'd\nir', '$(x)'), '');
      await h.change((x) => x.path === 'd\nir' && x.state === 'dir', 'a directory with a newline');
    } finally {
      await h.cleanup();
    }
  });
}

test('watch: when koffi cannot load, the inotify backend falls back to parcel with a warning and still watches', async () => {
  const d = await tempDir();
  try {
    const hook = fileURLToPath(new URL('../fixtures/watch/no-koffi.mjs', import.meta.url));
    const script = fileURLToPath(new URL('../fixtures/watch/watch-once.ts', import.meta.url));
    const r = spawnSync(process.execPath, [...process.execArgv, '--import', hook, script, d.path], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; message?: string; backend?: string; seen?: boolean });
    assert.deepEqual(lines.find((l) => l.type === 'backend')?.backend, 'parcel');
    const warning = lines.find((l) => l.type === 'watch-error');
    assert.match(warning?.message ?? '', /inotify backend cannot load .*koffi.*falling back to @parcel\/watcher/);
    assert.equal(lines.find((l) => l.type === 'probe')?.seen, true, 'a write is still reported');
  } finally {
    await d.cleanup();
  }
});
