import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Confirmations } from '../../../src/engine/confirmations.js';
import { Landing, landedBatch } from '../../../src/engine/landed.js';
import type { Hook, LandedBatch } from '../../../src/hooks/types.js';
import { tempDir } from '../../support/tree.js';

const work = await tempDir('tss-landed-');
after(() => work.cleanup());

test('landedBatch: each path is lstat-ed when handed over: file, directory or missing', async () => {
  await mkdir(join(work.path, 'd'));
  await writeFile(join(work.path, 'f'), 'x');
  const b = await landedBatch(work.path, ['a', 'b'], ['f', 'd', 'gone', '']);
  assert.deepEqual(b.remotes, ['a', 'b']);
  assert.deepEqual(
    b.items.map((i) => [i.path, i.state, i.absolute]),
    [['f', 'file', join(work.path, 'f')], ['d', 'dir', join(work.path, 'd')], ['gone', 'missing', join(work.path, 'gone')], ['', 'dir', work.path]],
  );
});

test('Landing: hooks get a path once every remote of the root confirmed it', async () => {
  const got: LandedBatch[] = [];
  const hook: Hook = { name: 'h', deliver: async (b) => void got.push(b), close: async () => {} };
  const wiring = { channels: [{ root: work.path, remoteId: 'a' }, { root: work.path, remoteId: 'b' }] as never, confirmations: new Map([[work.path, new Confirmations(['a', 'b'], 'all')]]) };
  const landing = new Landing({ hooks: [hook], emit: () => {}, onGiveUp: async () => {}, wiring });
  try {
    landing.landed(work.path, 'a', ['f']);
    await landing.drain();
    assert.equal(got.length, 0, 'only one of two remotes has it');
    landing.landed(work.path, 'b', ['f']);
    await until(() => got.length === 1);
    await landing.drain();
    assert.deepEqual(got[0]!.items.map((i) => i.path), ['f']);
    assert.deepEqual(got[0]!.remotes, ['a', 'b']);
  } finally {
    await landing.close();
  }
});

test('Landing without hooks does nothing (no runner, no confirmations kept)', async () => {
  const landing = new Landing({ hooks: [], emit: () => {}, onGiveUp: async () => {}, wiring: { channels: [], confirmations: new Map() } });
  landing.landed('/x', 'a', ['p']);
  await landing.drain();
  await landing.close();
});

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}
