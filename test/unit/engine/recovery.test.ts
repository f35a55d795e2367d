import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action } from '../../../src/core/types.js';
import type { EngineEvent } from '../../../src/events.js';
import type { Channel } from '../../../src/engine/channel.js';
import { recover, stopSnapshot, type RecoveryDeps } from '../../../src/engine/recovery.js';
import { savePending } from '../../../src/replay/pending-store.js';
import { makeConfig } from '../../support/config.js';
import { tempDir } from '../../support/tree.js';

const work = await tempDir('tss-recovery-');
after(() => work.cleanup());

function fakeChannel(root: string, remoteId: string, unconfirmed: { path: string; action: Action }[] = []) {
  const added: [string, Action][] = [];
  const ch = { root, remoteId, add: (p: string, a: Action) => void added.push([p, a]), changes: { unconfirmed: () => unconfirmed } };
  return { ch: ch as unknown as Channel, added };
}

function deps(dir: string, channels: Channel[], events: EngineEvent[], catchUp = true): RecoveryDeps {
  return {
    config: makeConfig(dir, []),
    emit: (e) => events.push(e),
    wiring: { channels, syncs: catchUp },
    intake: { enqueue: (root, path, action) => channels.filter((c) => c.root === root).forEach((c) => c.add(path, action)) },
    running: () => true,
    catchUpMarginMs: 0,
    pendingFile: join(dir, 'pending.json'),
  };
}

test('stopSnapshot: what every channel has not confirmed, with the stop time', () => {
  const a = fakeChannel('/r', 'a', [{ path: 'x', action: 'path' }]);
  const b = fakeChannel('/r', 'b');
  const snap = stopSnapshot([a.ch, b.ch], new Date('2026-01-01T00:00:00Z'));
  assert.deepEqual(snap, { savedAt: '2026-01-01T00:00:00.000Z', lanes: [{ remote: 'a', root: '/r', entries: [{ path: 'x', action: 'path' }] }, { remote: 'b', root: '/r', entries: [] }] });
});

test('-r or an unclean stop: a full sync of every root, announced once for the unclean stop', async () => {
  const dir = join(work.path, 'unclean');
  await mkdir(dir);
  const a = fakeChannel('/r1', 'a');
  const b = fakeChannel('/r2', 'a');
  const events: EngineEvent[] = [];
  await recover(deps(dir, [a.ch, b.ch], events), { fullSync: false, uncleanPrevious: true });
  assert.deepEqual([a.added, b.added], [[['', 'tree']], [['', 'tree']]]);
  assert.deepEqual(events.map((e) => e.type === 'recovery' && e.kind), ['unclean']);
  events.length = 0;
  await recover(deps(dir, [a.ch], events), { fullSync: true, uncleanPrevious: true });
  assert.deepEqual(events, [], '-r asked for it: nothing to explain');
});

test('a clean stop: saved work first; a channel the snapshot does not know gets a full sync; a gone remote\'s work goes to the root\'s channels', async () => {
  const dir = join(work.path, 'clean');
  const root = join(dir, 'root');
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'old.txt'), 'x');
  await savePending(join(dir, 'pending.json'), {
    savedAt: new Date(Date.now() + 60_000).toISOString(), // nothing on disk is newer: the catch-up finds nothing
    lanes: [
      { remote: 'a', root, entries: [{ path: 'p', action: 'path' }] },
      { remote: 'left-the-config', root, entries: [{ path: 'q', action: 'tree' }] },
    ],
  });
  const a = fakeChannel(root, 'a');
  const fresh = fakeChannel(root, 'new');
  const events: EngineEvent[] = [];
  await recover(deps(dir, [a.ch, fresh.ch], events), { fullSync: false, uncleanPrevious: false });
  await until(() => events.some((e) => e.type === 'recovery' && e.kind === 'catch-up'));
  assert.deepEqual(a.added, [['p', 'path'], ['q', 'tree']]);
  assert.deepEqual(fresh.added, [['q', 'tree'], ['', 'tree']]);
  const kinds = events.map((e) => (e.type === 'recovery' ? [e.kind, e.changes ?? null, e.full ?? null] : e.type));
  assert.deepEqual(kinds, [['pending', 3, null], ['new-channel', null, true], ['catch-up', 0, false]]);
});

test('plugin-only mode (no syncs): saved work is restored, no catch-up scan', async () => {
  const dir = join(work.path, 'plugin');
  await mkdir(dir);
  await savePending(join(dir, 'pending.json'), { savedAt: new Date().toISOString(), lanes: [{ remote: 'plugin:command', root: '/r', entries: [{ path: 'p', action: 'path' }] }] });
  const a = fakeChannel('/r', 'plugin:command');
  const events: EngineEvent[] = [];
  await recover(deps(dir, [a.ch], events, false), { fullSync: false, uncleanPrevious: false });
  assert.deepEqual(a.added, [['p', 'path']]);
  assert.deepEqual(events.map((e) => e.type === 'recovery' && e.kind), ['pending']);
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}
