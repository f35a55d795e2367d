import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent } from '../../../src/events.js';
import { ReplayController } from '../../../src/engine/replay-controller.js';
import { wire } from '../../../src/engine/wiring.js';
import type { Hook, LandedBatch } from '../../../src/hooks/types.js';
import { ReplayLog } from '../../../src/replay/log.js';
import { hookTarget, parseTarget } from '../../../src/replay/target.js';
import type { ReplayRecord } from '../../../src/replay/types.js';
import type { PluginConfig } from '../../../src/config/types.js';
import { makeConfig } from '../../support/config.js';
import { tempDir } from '../../support/tree.js';

const work = await tempDir('tss-replayctl-');
after(() => work.cleanup());

test('the hook: record form is written and read in one place', () => {
  assert.equal(hookTarget('http'), 'hook:http');
  assert.deepEqual(parseTarget('hook:http'), { kind: 'hook', hook: 'http' });
  assert.deepEqual(parseTarget('10.0.0.2::www'), { kind: 'remote', remote: '10.0.0.2::www' });
  assert.deepEqual(parseTarget(hookTarget('a:b')), { kind: 'hook', hook: 'a:b' });
});

const rec = (root: string, remote: string, path: string, exitCode: number | null = null): ReplayRecord => ({ time: '2026-01-01T00:00:00.000Z', root, remote, path, action: 'path', exitCode, message: 'm', attempts: 1 });

test('-m mode replays its hook records, leaves rsync records and held ones as they are, and says what it left out', async () => {
  const root = join(work.path, 'site');
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'a'), 'a');
  const log = new ReplayLog(join(work.path, 'm.jsonl'));
  await log.append([rec(root, 'hook:command', 'a'), rec(root, 'h::m', 'b', 10), rec(root, 'hook:nope', 'c'), rec(root, 'hook:command', 'd', 25)]);
  const command: PluginConfig = { kind: 'command', prefix: ['/bin/true'], suffix: [], ignoreError: true, include: [], concurrency: 1, timeoutMs: 1000, watch: root } as PluginConfig;
  const config = makeConfig(work.path, [], { definedPlugins: [command] });
  const w = wire(config, { pluginOnly: 'command', emit: () => {}, onResult: async () => {}, onHalt: () => {} });
  const delivered: LandedBatch[] = [];
  const hook: Hook = { name: 'command', deliver: async (b) => void delivered.push(b), close: async () => {} };
  const events: EngineEvent[] = [];
  const landedBack: unknown[] = [];
  const ctl = new ReplayController({ config, log, emit: (e) => events.push(e), hooks: [hook], wiring: w, onReplayed: (...a) => void landedBack.push(a) });
  try {
    const r = await ctl.replayNow();
    assert.deepEqual(r.replayed.map((x) => x.path), ['a']);
    assert.deepEqual(delivered.map((b) => [b.root, b.items.map((i) => [i.path, i.state])]), [[root, [['a', 'file']]]]);
    // hook:nope is not defined anywhere: it stays, with that cause.
    assert.deepEqual(r.left.map((x) => [x.path, x.message]), [['c', 'hook nope is not defined in the config']]);
    const { records } = await log.read();
    assert.deepEqual(records.map((x) => x.path).sort(), ['b', 'c', 'd']);
    assert.equal(records.find((x) => x.path === 'b')!.message, 'm', 'an rsync record keeps its cause in -m mode');
    assert.ok(events.some((e) => e.type === 'replay' && e.held === 1), 'the held record is said to be left out');
    assert.deepEqual(landedBack, [], 'hook replays do not count as landings');
  } finally {
    for (const ch of w.channels) ch.stop();
    await ctl.close();
  }
});

test('replays join: a second request while one runs gets the same result', async () => {
  const log = new ReplayLog(join(work.path, 'join.jsonl'));
  const config = makeConfig(work.path, []);
  const w = wire(config, { emit: () => {}, onResult: async () => {}, onHalt: () => {} });
  const ctl = new ReplayController({ config, log, emit: () => {}, hooks: [], wiring: w, onReplayed: () => {} });
  const [a, b] = [ctl.replayNow(), ctl.replayNow()];
  assert.equal(a, b);
  assert.deepEqual(await a, { replayed: [], left: [], corrupt: 0 });
});
