/**
 * The full sync's progress count (src/progress.ts SourceCounter) on trees the test builds: entries
 * as rsync counts them (the root's "." included), the bytes summed while the tree holds at most
 * SIZED_FILES files and unknown (bytesCounted false) past that, non-UTF-8 names found.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { EngineEvent } from '../../src/events.js';
import { SIZED_FILES, SourceCounter } from '../../src/progress.js';
import { tempDir, waitFor } from '../support/tree.js';

type Count = Extract<EngineEvent, { type: 'source-count' }>;

async function countOf(root: string): Promise<Count> {
  const seen: Count[] = [];
  const counter = new SourceCounter((e) => void (e.type === 'source-count' && seen.push(e)));
  counter.count(root);
  counter.count(root); // a second call while one runs (or just ran) starts no second walk
  const done = await waitFor(() => seen.find((e) => e.complete), 30_000, 'the count');
  assert.equal(seen.filter((e) => e.complete).length, 1);
  counter.close();
  return done;
}

test('progress count: entries and bytes of a small tree, names as bytes', async () => {
  const d = await tempDir('tss-count-');
  try {
    let bytes = 0;
    let entries = 1;
    for (let i = 0; i < 30; i++) {
      const dir = Buffer.concat([Buffer.from(`${d.path}/d${i}-`), Buffer.from([0xff, 0xfe, i + 1])]);
      mkdirSync(dir);
      entries++;
      for (let j = 0; j < 7; j++) {
        writeFileSync(Buffer.concat([dir, Buffer.from(`/f${j}-\xe9`, 'latin1')]), 'x'.repeat(i + j));
        bytes += i + j;
        entries++;
      }
    }
    const c = await countOf(d.path);
    assert.equal(c.files, entries);
    assert.equal(c.bytes, bytes);
    assert.notEqual(c.bytesCounted, false);
  } finally {
    await d.cleanup();
  }
});

test('progress count: past SIZED_FILES files the entries are still exact and the bytes unknown', async () => {
  const d = await tempDir('tss-count-');
  try {
    const per = 500;
    const dirs = Math.ceil((SIZED_FILES + 10) / per);
    for (let i = 0; i < dirs; i++) {
      mkdirSync(`${d.path}/${i}`);
      for (let j = 0; j < per; j++) writeFileSync(`${d.path}/${i}/${j}`, 'ab');
    }
    const c = await countOf(d.path);
    assert.equal(c.files, 1 + dirs + dirs * per);
    assert.equal(c.bytesCounted, false);
  } finally {
    await d.cleanup();
  }
});

test('progress count: a landed full sync of a large root gives the next one its total (remembered in the state dir), no walk', async () => {
  const d = await tempDir('tss-count-');
  try {
    const tree = `${d.path}/tree`;
    mkdirSync(tree);
    const file = `${d.path}/source-totals.json`;
    const first: Count[] = [];
    const a = new SourceCounter((e) => void (e.type === 'source-count' && first.push(e)), file);
    const remote = 'h::m';
    const big = SIZED_FILES + 5000;
    a.see({ type: 'full-sync', level: 'info', message: '', root: tree, remote, phase: 'start' });
    await waitFor(() => first.find((e) => e.complete), 10_000, 'the first count');
    assert.notEqual(first.at(-1)!.estimated, true);
    // rsync checked `big` entries (the tree itself is empty here: the figure must come from rsync).
    a.see({ type: 'progress', level: 'debug', message: '', root: tree, remote, files: big, bytes: 0 });
    a.see({ type: 'full-sync', level: 'info', message: '', root: tree, remote, phase: 'done' });
    await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).includes(String(big)), 10_000, 'the total saved');
    a.close();

    const next: Count[] = [];
    const b = new SourceCounter((e) => void (e.type === 'source-count' && next.push(e)), file);
    b.see({ type: 'full-sync', level: 'info', message: '', root: tree, remote, phase: 'start' });
    const got = await waitFor(() => next.find((e) => e.complete), 10_000, 'the remembered total');
    assert.equal(got.files, big);
    assert.equal(got.estimated, true);
    assert.equal(got.bytesCounted, false);
    b.close();

    // A small root is counted again, remembered or not (exact, with bytes).
    writeFileSync(file, JSON.stringify({ [tree]: { entries: 12, at: Date.now() } }));
    const small: Count[] = [];
    const c = new SourceCounter((e) => void (e.type === 'source-count' && small.push(e)), file);
    c.count(tree);
    const counted = await waitFor(() => small.find((e) => e.complete), 10_000, 'the small count');
    assert.equal(counted.files, 1);
    assert.notEqual(counted.estimated, true);
    c.close();
  } finally {
    await d.cleanup();
  }
});
