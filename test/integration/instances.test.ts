/** Several instances on one host (issue 8.4): what two configs share must not be changed by the other. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../src/engine.js';
import { ReplayLog } from '../../src/replay/log.js';
import { makeConfig, daemonRemote } from '../support/config.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test("a replay log shared by two configs: one config's replay leaves the other's records exactly as they are", async () => {
  const daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-shared-log-');
  cleanups.push(t.cleanup);
  const mine = join(t.path, 'mine');
  const theirs = join(t.path, 'theirs');
  await mkdir(mine);
  await writeFile(join(mine, 'f'), 'f');
  const shared = join(t.path, 'shared.jsonl');
  const rec = (root: string, remote: string) => ({ time: '2025-01-01T00:00:00.000Z', root, remote, path: 'f', action: 'path' as const, exitCode: 10, message: 'down', attempts: 1 });
  const other = rec(theirs, 'elsewhere::m');
  await new ReplayLog(shared).append([rec(mine, daemonRemote(daemon).id), other]);
  const before = (await readFile(shared, 'utf8')).split('\n')[1];

  const config = makeConfig(join(t.path, 'state'), [{ path: mine, remotes: [daemonRemote(daemon)] }], { failLog: { path: shared, intervalMinutes: 0 } });
  const engine = new Engine(config, { emit: () => {} });
  const result = await engine.replayNow({ operator: true });
  assert.deepEqual(result.replayed.map((r) => r.root), [mine]);
  const lines = (await readFile(shared, 'utf8')).split('\n').filter((l) => l);
  assert.deepEqual(lines, [before], "the other config's record is untouched (no 'not in the config', no extra attempt)");
  assert.equal(await readFile(join(daemon.modules['backup']!, 'f'), 'utf8'), 'f');
});
