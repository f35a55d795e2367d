/**
 * src/walk.ts against trees the test builds itself (so it knows the answer): every entry counted
 * once, every directory found and nothing else descended into (symlinks to directories are not),
 * names as exact bytes (every byte value but '/' and NUL), the file-name cap, and both listers
 * (getdents64 through koffi, readdirSync) giving the same answers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { countDirectories } from '../../src/watch/limits.js';
import { listers, walkTree, type ListDir } from '../../src/walk.js';
import { tempDir } from '../support/tree.js';
import { Rng } from '../model/rng.js';

const SLASH = Buffer.from('/');

function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** A name of 1–12 random bytes from 1..255 without '/', never "." or "..". */
function randomName(r: () => number, used: Set<string>): Buffer {
  for (;;) {
    const n = 1 + Math.floor(r() * 12);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      let v = 1 + Math.floor(r() * 255);
      if (v === 0x2f) v = 0x2e;
      b[i] = v;
    }
    const key = b.toString('hex');
    if (b.equals(Buffer.from('.')) || b.equals(Buffer.from('..')) || used.has(key)) continue;
    used.add(key);
    return b;
  }
}

interface Model {
  entries: number;
  dirs: Set<string>; // hex of absolute byte paths, the root excluded
  files: Set<string>; // hex of absolute byte paths of regular files
}

/** Build a random tree below `root`; return what a walk must report. */
function build(root: Buffer, seed: number): Model {
  const r = rng(seed);
  const m: Model = { entries: 0, dirs: new Set(), files: new Set() };
  const grow = (dir: Buffer, depth: number) => {
    const used = new Set<string>();
    const n = Math.floor(r() * 9);
    for (let i = 0; i < n; i++) {
      const p = Buffer.concat([dir, SLASH, randomName(r, used)]);
      const kind = r();
      m.entries++;
      if (kind < 0.3 && depth < 4) {
        mkdirSync(p);
        m.dirs.add(p.toString('hex'));
        grow(p, depth + 1);
      } else if (kind < 0.8) {
        writeFileSync(p, 'x');
        m.files.add(p.toString('hex'));
      } else if (kind < 0.9) {
        symlinkSync(root, p); // a symlink to a directory: counted, never followed
      } else if (kind < 0.95) {
        mkfifoAt(root, p);
      } else {
        symlinkSync(Buffer.from('nowhere'), p);
      }
    }
  };
  grow(root, 0);
  return m;
}

/** A FIFO at a byte path: mkfifo(1) at an ASCII name in the (ASCII) root, then renamed into place (argv cannot carry every byte). */
function mkfifoAt(root: Buffer, p: Buffer): void {
  const tmp = `${root.toString('utf8')}/.fifo-tmp`;
  execFileSync('mkfifo', ['--', tmp]);
  renameSync(tmp, p);
}

async function walk(root: Buffer, list: ListDir, fileNames = Infinity): Promise<Model & { named: number }> {
  const out = { entries: 0, dirs: new Set<string>(), files: new Set<string>(), named: 0 };
  await walkTree(
    root,
    (dir, e) => {
      out.entries += e.count;
      for (const d of e.dirs) {
        assert.ok(!out.dirs.has(d.toString('hex')), 'a directory listed twice');
        out.dirs.add(d.toString('hex'));
      }
      for (const f of e.files) out.files.add(Buffer.concat([dir, SLASH, f]).toString('hex'));
      out.named += e.files.length;
    },
    { list, fileNames, yieldEvery: 7 },
  );
  return out;
}

const available = Object.entries(listers)
  .map(([name, make]) => [name, make()] as const)
  .filter((x): x is readonly [string, ListDir] => x[1] !== undefined);

test('walk: getdents64 loads on Linux', () => {
  assert.ok(available.some(([n]) => n === 'getdents'), 'the getdents lister must load where koffi does');
});

for (const [name, list] of available) {
  test(`walk (${name}): random trees with names of every byte value, 20 seeds`, async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const d = await tempDir('tss-walk-');
      try {
        const root = Buffer.from(d.path);
        const m = build(root, seed);
        const got = await walk(root, list);
        assert.equal(got.entries, m.entries, `seed ${seed}: entries`);
        assert.deepEqual([...got.dirs].sort(), [...m.dirs].sort(), `seed ${seed}: directories`);
        assert.deepEqual([...got.files].sort(), [...m.files].sort(), `seed ${seed}: files`);
        // The cap: exactly min(cap, files) names, all of them real files.
        const cap = Math.floor(m.files.size / 2);
        const capped = await walk(root, list, cap);
        assert.equal(capped.named, cap, `seed ${seed}: capped names`);
        for (const f of capped.files) assert.ok(m.files.has(f));
        assert.equal(capped.entries, m.entries, `seed ${seed}: the cap does not change the count`);
      } finally {
        await d.cleanup();
      }
    }
  });
}

test('walk: a directory of 5,000 entries (several getdents64 reads) and an unreadable one', async () => {
  const d = await tempDir('tss-walk-');
  try {
    const big = `${d.path}/big`;
    mkdirSync(big);
    for (let i = 0; i < 5000; i++) writeFileSync(`${big}/a-rather-long-file-name-to-fill-the-buffer-${i}.dat`, '');
    mkdirSync(`${d.path}/gone`);
    for (const [, list] of available) {
      const got = await walk(Buffer.from(d.path), list);
      assert.equal(got.entries, 5002);
      assert.equal(got.files.size, 5000);
    }
    // getdents64 hands a huge directory over in chunks (the walk yields between them), with the
    // file-name cap holding across the chunks.
    const gd = listers.getdents()!;
    const chunks = [...gd(Buffer.from(big), 4000)];
    assert.ok(chunks.length > 1, `one chunk for 5,000 long names: ${chunks.length}`);
    assert.equal(chunks.reduce((n, c) => n + c.count, 0), 5000);
    assert.equal(chunks.reduce((n, c) => n + c.files.length, 0), 4000);
    assert.equal(chunks.reduce((n, c) => n + c.regular, 0), 5000);
    // A directory that vanished between its parent's listing and its own: no entries, no throw.
    for (const [, list] of available) assert.deepEqual([...list(Buffer.from(`${d.path}/no-such`), 0)], []);
  } finally {
    await d.cleanup();
  }
});

test('limits: countDirectories counts through walk.ts, the root included, up to the cap', async () => {
  const d = await tempDir('tss-walk-');
  try {
    const m = build(Buffer.from(d.path), 7);
    assert.equal(await countDirectories(d.path, 1e9), m.dirs.size + 1);
    assert.equal(await countDirectories(d.path, 1), 1);
  } finally {
    await d.cleanup();
  }
});
