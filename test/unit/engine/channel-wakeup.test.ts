/**
 * Issue 8.3, the wake-up rule: whenever a worker slot of a lane frees (after a live job of any
 * channel, a replay, a full sync), every channel waiting for that lane plans again. A channel
 * that found the lane full used to sleep until its own next event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Channel, type LanePort } from '../../../src/engine/channel.js';
import type { JobResult, SyncRequest } from '../../../src/sync/types.js';

/** A lane whose jobs end when the test says so; it tells subscribers when a slot frees, as Lane does. */
class HeldLane implements LanePort {
  readonly runs: SyncRequest[] = [];
  /** Times a channel looked at the lane's load: it planned. */
  reads = 0;
  readonly #ends: Array<() => void> = [];
  readonly #listeners = new Set<() => void>();
  #running = 0;

  constructor(readonly concurrency: number) {}

  get pending(): number {
    this.reads++;
    return this.#running;
  }

  run(req: SyncRequest): Promise<JobResult> {
    this.runs.push(req);
    this.#running++;
    return new Promise((resolve) => {
      this.#ends.push(() => {
        this.#running--;
        resolve({ ok: true, outcome: { exitCode: 0, signal: null, class: 'done', meaning: 'success', stderrTail: '', durationMs: 0, failedPaths: [], spawnError: undefined } });
        for (const l of this.#listeners) l();
      });
    });
  }

  /** The oldest running job ends. */
  endOne(): void {
    this.#ends.shift()?.();
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  onSlotFree(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function channel(root: string, lane: LanePort): Channel {
  return new Channel({
    root,
    remoteId: 'r',
    lane,
    limits: { settleMs: 5, maxDelayMs: 50, maxBatch: 5000 },
    fullSyncExcludes: [],
    probeRoot: async () => ({ exists: true, isDir: true, empty: false }),
    now: () => Date.now(),
    onResult: async () => {},
    onHalt: () => {},
  });
}

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** `ch` planned with `lane` full (it read the lane's load after `before` reads). */
async function foundFull(lane: HeldLane, before: number): Promise<void> {
  await until(() => lane.reads > before, 'the channel to plan');
  await new Promise((r) => setImmediate(r));
}

test('a slot freed by a replay wakes the channel that found the lane full', async () => {
  const lane = new HeldLane(1);
  const ch = channel('/root', lane);
  try {
    void lane.run({ root: '/root', action: 'path', paths: ['replayed'] }); // the replay holds the only worker
    const reads = lane.reads;
    ch.add('live', 'path');
    await foundFull(lane, reads);
    assert.equal(lane.runs.length, 1, 'the lane was full: nothing dispatched');
    lane.endOne();
    await until(() => lane.runs.length === 2, 'the waiting change to be dispatched once the worker is free');
    assert.deepEqual(lane.runs[1]!.paths, ['live']);
  } finally {
    ch.stop();
  }
});

test("a slot freed by another channel's job wakes every channel waiting for the lane", async () => {
  const lane = new HeldLane(1);
  const first = channel('/a', lane);
  const waiting = [channel('/b', lane), channel('/c', lane), channel('/d', lane)];
  try {
    first.add('x', 'path');
    await until(() => lane.runs.length === 1, 'the first job');
    for (const ch of waiting) {
      const reads = lane.reads;
      ch.add('y', 'path');
      await foundFull(lane, reads);
    }
    assert.equal(lane.runs.length, 1);
    // Each end frees the one worker; some waiting channel takes it, the others wait for the next.
    for (let n = 2; n <= 4; n++) {
      lane.endOne();
      await until(() => lane.runs.length === n, `job ${n}`);
    }
    assert.deepEqual(lane.runs.map((r) => r.root).sort(), ['/a', '/b', '/c', '/d']);
  } finally {
    first.stop();
    for (const ch of waiting) ch.stop();
  }
});

test('a channel listens to its lane while it runs, and not after stop()', () => {
  const lane = new HeldLane(1);
  const ch = channel('/root', lane);
  assert.equal(lane.listeners, 1);
  ch.stop();
  assert.equal(lane.listeners, 0);
});
