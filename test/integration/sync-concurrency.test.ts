/**
 * The lane's adaptive concurrency against a real daemon: jobs made long by --bwlimit (as a slow
 * link makes them) get more rsyncs at once only when the machine's cores have time to spare; on a
 * machine whose cores are busy (the application writing) the lane stays at one per core. The
 * machine's CPU counters are given to the lane (LaneOptions.cpuTimes), so the test says how busy
 * the machine "was"; the jobs, the rsyncs and the daemon are real.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RsyncSettings } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { BUSY_MAX } from '../../src/sync/concurrency.js';
import { Lane } from '../../src/sync/lane.js';
import type { CpuTimes } from '../../src/sync/machine-load.js';
import { daemonRemote } from '../support/config.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir } from '../support/tree.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['busy', 'idle'] });
  work = await tempDir('tss-concurrency-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

/** Counters of a 2-core machine that is `share` busy: each reading is 10 s (of all cores) later. */
function machine(share: number): () => CpuTimes {
  let total = 0;
  return () => {
    total += 10_000;
    return { busy: total * share, total };
  };
}

/** Three path jobs of one 560 KB file each at --bwlimit=200 (KB/s): about 2.8 s each, long by concurrency.ts's LONG_MS. */
async function longJobs(module: string, share: number): Promise<number> {
  const src = join(work.path, module);
  await mkdir(src, { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(src, `f${i}`), randomBytes(560 * 1024));
  const rsync: RsyncSettings = { commonParams: ['-artz', '--bwlimit=200'], timeoutSeconds: 60, binary: 'rsync', maxDelete: undefined };
  const events: EngineEvent[] = [];
  const lane = new Lane({ remote: daemonRemote(daemon, module), rsync, concurrency: 10, cores: 2, cpuTimes: machine(share), retries: 0, emit: (e) => events.push(e), debug: false });
  try {
    assert.equal(lane.concurrency, 2, 'one per core to begin with');
    const results = await Promise.all([0, 1, 2].map((i) => lane.run({ root: src, action: 'path', paths: [`f${i}`] })));
    for (const r of results) assert.ok(r.ok, `a job failed: ${JSON.stringify(r.outcome)}`);
    const took = events.filter((e) => e.type === 'job-done').map((e) => (e as { durationMs: number }).durationMs);
    assert.ok(took.length === 3 && took.every((ms) => ms > 2000), `the jobs were long: ${took.join(', ')} ms`);
    return lane.concurrency;
  } finally {
    await lane.stop('drain');
  }
}

test('long jobs get two rsyncs per core on an idle machine, one per core on a busy one', async () => {
  const [idle, busy] = await Promise.all([longJobs('idle', 0.2), longJobs('busy', Math.min(1, BUSY_MAX + 0.2))]);
  assert.equal(idle, 4, 'idle machine, long jobs: network bound, more streams');
  assert.equal(busy, 2, 'busy machine, long jobs: the cores are the limit, no more streams than cores');
});
