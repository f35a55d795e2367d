/**
 * The replay path end to end against a real rsync daemon on loopback: records written while the
 * remote is down stay in the log with the cause; once it answers, a replay lands them (awkward
 * names, a new directory tree, a delete) and the log empties. A second replay is harmless.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import { Lane } from '../../src/sync/lane.js';
import { ReplayLog } from '../../src/replay/log.js';
import { formatReplayReport, replayRecords, type ReplayGroup } from '../../src/replay/replayer.js';
import type { ReplayRecord } from '../../src/replay/types.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { AWKWARD_NAMES, tempDir, treeDiff } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: 10, binary: 'rsync', maxDelete: undefined };

test('replay against a real rsync daemon: down = left with cause, up = landed and log emptied, twice = harmless', async () => {
  const d = await startRsyncDaemon({ modules: ['backup'] });
  const src = await tempDir('tss-replay-src-');
  const state = await tempDir('tss-replay-state-');
  const remote: RemoteConfig = { id: `${d.host}::backup`, host: d.host, module: 'backup', mode: 'daemon', port: d.port, user: d.user, passwordFile: d.passwordFile, sshOptions: [] };
  const lane = new Lane({ remote, rsync, concurrency: 2, retries: 0, emit: () => {}, debug: false, retryDelayMs: { min: 10, max: 20 } });
  try {
    const dst = d.modules.backup!;
    for (const n of AWKWARD_NAMES) await writeFile(join(src.path, n), `content of ${n}\n`);
    await mkdir(join(src.path, 'new dir', 'sub'), { recursive: true });
    await writeFile(join(src.path, 'new dir', 'sub', 'deep.txt'), 'deep\n');
    await writeFile(join(dst, 'gone.txt'), 'deleted locally, must go on the remote\n');

    const t = '2025-01-01T00:00:00.000Z';
    const base = { time: t, root: src.path, remote: remote.id, exitCode: 10, message: 'first failure', attempts: 3 } as const;
    const records: ReplayRecord[] = [
      ...AWKWARD_NAMES.map((path) => ({ ...base, path, action: 'path' as const })),
      { ...base, path: 'new dir', action: 'tree' },
      { ...base, path: 'new dir/sub/deep.txt', action: 'path' },
      { ...base, path: 'gone.txt', action: 'path' },
    ];
    const log = new ReplayLog(join(state.path, 'replay.jsonl'));
    await log.append(records);
    await log.append(records.slice(0, 3)); // the same failures logged twice

    const groups: ReplayGroup[] = [];
    const run = async (g: ReplayGroup) => {
      groups.push(g);
      const res = await lane.run({ root: g.root, action: g.action, paths: g.paths });
      if (res.ok) return { failed: [], exitCode: 0, message: 'ok' };
      return { failed: res.failedPaths, exitCode: res.outcome.exitCode, message: `exit ${res.outcome.exitCode}: ${res.outcome.meaning}` };
    };
    const replayOnce = async () => {
      const { records: rs, mark } = await log.read();
      const result = await replayRecords(rs, run, () => new Date());
      await log.rewrite(result.left, mark);
      return result;
    };

    await d.kill();
    const down = await replayOnce();
    assert.equal(down.replayed.length, 0);
    assert.equal(down.left.length, records.length, 'duplicates collapsed, nothing dropped');
    assert.ok(down.left.every((r) => r.attempts === 4 && r.exitCode !== 0 && r.message !== 'first failure'));
    assert.deepEqual(groups.map((g) => [g.action, g.paths.length]), [['tree', 1], ['path', AWKWARD_NAMES.length + 1]]);
    assert.equal((await log.read()).records.length, records.length);
    assert.match(formatReplayReport(down), new RegExp(`remote ${d.host}::backup: ${records.length} path\\(s\\)`));

    await d.restart();
    const up = await replayOnce();
    assert.equal(up.left.length, 0, formatReplayReport(up));
    assert.equal(up.replayed.length, records.length);
    assert.deepEqual(await treeDiff(src.path, dst), []);
    assert.deepEqual((await log.read()).records, []);

    // The same records again: a no-op on the destination.
    const again = await replayRecords(records, run, () => new Date());
    assert.equal(again.left.length, 0);
    assert.deepEqual(await treeDiff(src.path, dst), []);
    // No name was ever interpreted by a shell.
    for (const dir of [src.path, dst, process.cwd()]) assert.ok(!(await readdir(dir)).some((n) => n.startsWith('PWNED')), dir);
  } finally {
    await lane.stop('abort');
    await d.stop();
    await src.cleanup();
    await state.cleanup();
  }
});
