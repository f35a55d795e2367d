/** The replay-log counter on a real file: per root × remote, the oldest first failure, torn lines skipped, re-read only when the file changed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineEvent } from '../../src/events.js';
import { ReplayCounter, countReplayLog } from '../../src/status/replay-count.js';
import { tempDir, waitFor } from '../support/tree.js';

const rec = (root: string, remote: string, time: string, since?: string) => `${JSON.stringify({ time, root, remote, path: 'p', action: 'path', exitCode: 10, message: 'm', attempts: 4, ...(since ? { since } : {}) })}\n`;

test('counts per root × remote, the oldest first failure (since over time), hook records apart; a torn last line is skipped', async () => {
  const dir = await tempDir('tss-rc-');
  try {
    const file = join(dir.path, 'replay.jsonl');
    assert.deepEqual(await countReplayLog(file), [], 'no file: nothing owed');
    await writeFile(file, rec('/a', 'r1', '2026-01-01T00:00:10Z') + rec('/a', 'r1', '2026-01-01T00:00:20Z', '2026-01-01T00:00:05Z') + rec('/b', 'r1', '2026-01-01T00:01:00Z') + rec('/a', 'hook:http', '2026-01-01T00:02:00Z') + '{"time":"2026-01-01T00:0');
    const counts = await countReplayLog(file);
    assert.deepEqual(counts, [
      { root: '/a', remote: 'r1', records: 2, oldestMs: Date.parse('2026-01-01T00:00:05Z') },
      { root: '/b', remote: 'r1', records: 1, oldestMs: Date.parse('2026-01-01T00:01:00Z') },
      { root: '/a', remote: 'hook:http', records: 1, oldestMs: Date.parse('2026-01-01T00:02:00Z') },
    ]);

    const seen: EngineEvent[] = [];
    const counter = new ReplayCounter(file, (e) => seen.push(e));
    try {
      await waitFor(() => seen.length === 1, 5000, 'the first count');
      counter.poke(0);
      // Asserting that nothing happens needs a bound: 200 ms is 40x the re-read's own time.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen.length, 1, 'unchanged file: not read again');
      await appendFile(file, `\n${rec('/b', 'r2', '2026-01-01T00:03:00Z')}`);
      counter.poke(0);
      await waitFor(() => seen.length === 2, 5000, 'a count after the append');
      const last = seen[1] as Extract<EngineEvent, { type: 'replay-log' }>;
      assert.equal(last.channels.reduce((n, c) => n + c.records, 0), 5);
    } finally {
      counter.close();
    }
  } finally {
    await dir.cleanup();
  }
});
