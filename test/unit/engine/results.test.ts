import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { EngineEvent } from '../../../src/events.js';
import type { Channel } from '../../../src/engine/channel.js';
import { RemoteHealth } from '../../../src/engine/health.js';
import type { Landing } from '../../../src/engine/landed.js';
import { JobResults } from '../../../src/engine/results.js';
import { ReplayLog } from '../../../src/replay/log.js';
import type { RsyncOutcome } from '../../../src/sync/types.js';
import { tempDir } from '../../support/tree.js';

const work = await tempDir('tss-results-');
after(() => work.cleanup());

const outcome = (exitCode: number | null, meaning: string, stderrTail = ''): RsyncOutcome => ({ exitCode, signal: null, class: 'fatal', meaning, stderrTail, durationMs: 1, failedPaths: [], spawnError: undefined });
const ch = { root: '/r', remoteId: 'h::m' } as unknown as Channel;
const job = { root: '/r', remoteId: 'h::m', action: 'path' as const, paths: ['a', 'b', 'c'] };

function setup(name: string, stopping = false) {
  const events: EngineEvent[] = [];
  const landed: [string, string, readonly string[]][] = [];
  let replays = 0;
  const log = new ReplayLog(join(work.path, `${name}.jsonl`));
  const health = new RemoteHealth((e) => events.push(e), () => replays++);
  const landing = { landed: (root: string, remote: string, paths: readonly string[]) => void landed.push([root, remote, paths]) } as unknown as Landing;
  const results = new JobResults({ log, emit: (e) => events.push(e), retries: 2, health, landing, stopping: () => stopping });
  return { events, landed, log, health, results, replays: () => replays };
}

test('failed paths go to the replay log with the one outcome text; the remote is failing; what landed goes on', async () => {
  const t = setup('failed');
  await t.results.onResult(ch, job, ['a'], ['b', 'c'], outcome(10, 'error in socket I/O', 'rsync: failed to connect: Connection refused (111)\n'));
  const { records } = await t.log.read();
  assert.deepEqual(records.map((r) => [r.path, r.remote, r.exitCode, r.attempts]), [['b', 'h::m', 10, 3], ['c', 'h::m', 10, 3]]);
  assert.equal(records[0]!.message, 'rsync failed with exit code 10 (error in socket I/O): rsync: failed to connect: Connection refused (111)');
  assert.equal(t.health.isFailing('h::m'), true);
  assert.deepEqual(t.landed, [['/r', 'h::m', ['a']]]);
  await t.results.onResult(ch, job, ['a', 'b', 'c'], [], outcome(0, 'success'));
  assert.equal(t.health.isFailing('h::m'), false);
  assert.equal(t.replays(), 1, 'back: its failed paths are replayed now');
});

test('exit 25 (maxDelete) is held for the operator: a safety event, the remote is not failing', async () => {
  const t = setup('held');
  await t.results.onResult(ch, job, [], ['a', 'b', 'c'], outcome(25, '--max-delete limit stopped deletions'));
  assert.equal(t.health.isFailing('h::m'), false);
  assert.deepEqual(t.events.filter((e) => e.type === 'safety').map((e) => e.type === 'safety' && e.check), ['maxDelete']);
  assert.equal((await t.log.read()).records.length, 3);
});

test('while stopping, failures stay pending (thrown), nothing is logged', async () => {
  const t = setup('stopping', true);
  await assert.rejects(t.results.onResult(ch, job, [], ['a'], outcome(10, 'x')));
  assert.equal((await t.log.read()).records.length, 0);
});

test('a hook given up: one hook:<name> record per path', async () => {
  const t = setup('hook');
  await t.results.hookGaveUp('http', { root: '/r', remotes: ['h::m'], time: 0, items: [{ path: 'a', absolute: '/r/a', state: 'file' }] }, 'replied 500');
  assert.deepEqual((await t.log.read()).records.map((r) => [r.remote, r.path, r.message, r.attempts]), [['hook:http', 'a', 'replied 500', 3]]);
});
