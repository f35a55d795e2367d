/**
 * The planner under a simulated burst: events arrive over time, jobs take time; the planner is
 * asked as the channel would ask it (on every change and whenever it said to wake up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet } from '../../../src/core/change-set.js';
import { INOTIFY_TREE_QUIET_MS, plan, TREE_QUIET_MS } from '../../../src/core/planner.js';
import type { Action, PlanLimits, RsyncJob } from '../../../src/core/types.js';

const limits = { settleMs: 30, maxDelayMs: 1000, maxBatch: 5000 };
const ch = { root: '/r', remoteId: 'h::m' };

interface Sim {
  jobs: { at: number; job: RsyncJob }[];
}

/**
 * Replays `events` (time-ordered) against a change set, planning every millisecond step where
 * something happened or a wake-up fell, with `slots` workers and jobs lasting `jobMs(job)`.
 */
function simulate(events: readonly { at: number; path: string; action: Action }[], slots: number, jobMs: (j: RsyncJob) => number, until: number, lim: PlanLimits = limits): Sim {
  const cs = new ChangeSet();
  const sim: Sim = { jobs: [] };
  const running: { end: number; job: RsyncJob }[] = [];
  let i = 0;
  let wake: number | undefined;
  for (let now = 0; now <= until; now++) {
    let asked = false;
    for (const r of running.filter((r) => r.end <= now)) {
      cs.finish(r.job.paths);
      running.splice(running.indexOf(r), 1);
      asked = true;
    }
    while (i < events.length && events[i]!.at <= now) {
      const e = events[i++]!;
      cs.add(e.path, e.action, now);
      asked = true;
    }
    if (!asked && (wake === undefined || wake > now)) continue;
    const p = plan(cs, ch, now, lim, slots - running.length);
    for (const job of p.jobs) {
      cs.take(job.paths);
      running.push({ end: now + jobMs(job), job });
      sim.jobs.push({ at: now, job });
    }
    wake = p.wakeAt;
  }
  assert.equal(cs.size + cs.inFlightCount, 0, 'everything was sent');
  return sim;
}

/** 10 new directories, each created then filled with 100 files over 40 ms, one after the other, after a quiet spell. */
function burst(start: number): { at: number; path: string; action: Action }[] {
  const ev: { at: number; path: string; action: Action }[] = [];
  for (let d = 0; d < 10; d++) {
    const t = start + d * 45;
    ev.push({ at: t, path: `dir${d}`, action: 'tree' });
    for (let f = 0; f < 100; f++) ev.push({ at: t + 5 + Math.floor(f * 0.4), path: `dir${d}/f${f}`, action: 'path' });
  }
  return ev;
}

test('a burst of creates over time becomes a few batches', () => {
  const sim = simulate(burst(5000), 2, (j) => 50 + j.paths.length, 20_000);
  // The leading edge (dir0 at once), then the rest once the burst is quiet: not one rsync per event or per directory.
  assert.ok(sim.jobs.length <= 4, `${sim.jobs.length} jobs: ${sim.jobs.map((j) => `${j.at}:${j.job.action}×${j.job.paths.length}`).join(' ')}`);
  assert.equal(sim.jobs[0]?.at, 5000, 'the first change after quiet goes at once');
});

test('no directory tree is planned while it is still receiving events, and none twice', () => {
  const events = burst(5000);
  const sim = simulate(events, 2, (j) => 50 + j.paths.length, 20_000);
  const lastEventIn = (dir: string) => Math.max(...events.filter((e) => e.path === dir || e.path.startsWith(`${dir}/`)).map((e) => e.at));
  const treeSends = sim.jobs.filter((j) => j.job.action === 'tree').flatMap((j) => j.job.paths.map((p) => ({ p, at: j.at })));
  for (const { p, at } of treeSends) {
    if (p === 'dir0') continue; // the leading edge: sent at once, its files follow as paths
    assert.ok(at > lastEventIn(p), `${p} planned at ${at} while it received events until ${lastEventIn(p)}`);
  }
  const names = treeSends.map((t) => t.p);
  assert.equal(new Set(names).size, names.length, 'no tree planned twice');
  // No file sent both inside a tree and on its own (except in the leading-edge directory).
  const alone = new Set(sim.jobs.filter((j) => j.job.action === 'path').flatMap((j) => j.job.paths));
  for (const p of alone) assert.ok(p.startsWith('dir0/'), `${p} sent on its own although its tree was still pending`);
});

test("a burst's trees go once they have been quiet for the tree quiet of the root's backend, not sooner and not much later", () => {
  const events = burst(5000);
  const end = Math.max(...events.map((e) => e.at));
  for (const quiet of [TREE_QUIET_MS, INOTIFY_TREE_QUIET_MS]) {
    const sim = simulate(events, 2, (j) => 50 + j.paths.length, 20_000, { ...limits, treeQuietMs: quiet });
    const trees = sim.jobs.filter((j) => j.job.action === 'tree' && !j.job.paths.includes('dir0'));
    assert.ok(trees.length > 0, 'the trees went as trees');
    const last = Math.max(...trees.map((j) => j.at));
    // The last directory is quiet from `end`: its tree goes after `quiet` of that, within a settle window more.
    assert.ok(last >= end + quiet && last <= end + quiet + limits.settleMs * 2, `quiet ${quiet}: the last tree went at ${last}, the burst ended at ${end}`);
    const names = trees.flatMap((j) => j.job.paths.filter((p) => !p.includes('/')));
    assert.equal(new Set(names).size, names.length, `quiet ${quiet}: no tree planned twice`);
  }
});

test('a sustained burst goes out in batches of about one ceiling each, not a trickle', () => {
  // 4 s of steady writes, one new file every 2 ms, in a directory that exists.
  const ev = Array.from({ length: 2000 }, (_, k) => ({ at: 5000 + 2 * k, path: `d/f${k}`, action: 'path' as const }));
  const sim = simulate(ev, 2, (j) => 30 + j.paths.length / 10, 20_000);
  const instants = new Set(sim.jobs.map((j) => j.at));
  assert.ok(instants.size <= 6, `${instants.size} batches: ${[...instants].join(' ')}`);
  const sent = sim.jobs.reduce((n, j) => n + j.job.paths.length, 0);
  assert.equal(sent, 2000, 'each file once');
});

test('a tree still being filled goes at its ceiling at the latest', () => {
  const ev = [{ at: 5000, path: 'big', action: 'tree' as const }, ...Array.from({ length: 3000 }, (_, k) => ({ at: 5010 + k, path: `big/f${k}`, action: 'path' as const }))];
  const cs = new ChangeSet();
  cs.add('x', 'path', 0);
  cs.take(['x']);
  cs.finish(['x']);
  const sim = simulate(ev, 2, () => 100, 20_000);
  const first = sim.jobs.find((j) => j.job.paths.includes('big'));
  assert.ok(first && first.at <= 5000 + limits.maxDelayMs, `the tree went at ${first?.at}`);
});

test('a single change after a quiet spell is planned at once, file or directory', () => {
  for (const action of ['path', 'tree'] as const) {
    const sim = simulate([{ at: 3000, path: 'one', action }], 2, () => 20, 5000);
    assert.deepEqual(sim.jobs.map((j) => j.at), [3000], action);
  }
});

test('paths swallowed by a tree are carried with its job (their same-second guard)', () => {
  const cs = new ChangeSet();
  cs.add('d/a', 'path', 0);
  cs.add('d', 'tree', 1);
  cs.add('d/b', 'path', 2);
  cs.add('d/sub', 'tree', 3);
  const p = plan(cs, ch, 2000, limits, 2);
  assert.equal(p.jobs.length, 1);
  assert.deepEqual([...(p.jobs[0]?.also ?? [])].sort(), ['d/a', 'd/b']);
  cs.take(p.jobs[0]!.paths);
  const saved = cs.unconfirmed().map((e) => `${e.action}:${e.path}`).sort();
  assert.deepEqual(saved, ['path:d/a', 'path:d/b', 'tree:d'], 'saved on stop as paths again');
});

test('past the cap a tree forgets what it carries and is forced whole', () => {
  const cs = new ChangeSet({ maxPerDir: 100, maxTotal: 10 });
  cs.add('d', 'tree', 0);
  for (let i = 0; i < 12; i++) cs.add(`d/f${i}`, 'path', 1);
  const p = plan(cs, ch, 2000, limits, 2);
  assert.equal(p.jobs[0]?.forceAll, true);
  assert.equal(p.jobs[0]?.also, undefined);
});

test('a storm of small writes with short gaps: the window widens once it has lasted a ceiling', () => {
  // One write every 40 ms for 4 s: the 30 ms window would send nearly every write alone.
  const ev = Array.from({ length: 100 }, (_, k) => ({ at: 5000 + 40 * k, path: `s/f${k % 37}`, action: 'path' as const }));
  const sim = simulate(ev, 2, () => 20, 20_000);
  assert.ok(sim.jobs.length <= 12, `${sim.jobs.length} jobs`);
  assert.equal(sim.jobs[0]?.at, 5000, 'the leading edge is kept');
});

/**
 * A storm like the benchmark's (2,000 ops, one every ~1.1 ms, on a tree of 20 directories): mostly
 * file events, a new directory every ~17 ops (a tree, then its 5 files), a directory removed every
 * ~25 (a tree: the watcher reports a removed directory as one). Seeded, so a failure replays.
 */
function storm(start: number, ops = 2000): { at: number; path: string; action: Action }[] {
  let s = 42;
  const r = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ev: { at: number; path: string; action: Action }[] = [];
  for (let k = 0; k < ops; k++) {
    const at = start + Math.floor(k * 1.1);
    const x = r();
    if (x < 0.06) {
      ev.push({ at, path: `nd${k}`, action: 'tree' });
      for (let i = 0; i < 5; i++) ev.push({ at, path: `nd${k}/n${i}`, action: 'path' });
    } else if (x < 0.1) ev.push({ at, path: `nd${Math.floor(r() * k)}`, action: 'tree' }); // rm -r of a directory
    else ev.push({ at, path: `t${Math.floor(r() * 20)}/f${Math.floor(r() * 50)}`, action: 'path' });
  }
  return ev;
}

test('a storm of mixed operations: a few rsync runs, not one per directory as each falls quiet', () => {
  // One slot, as the lane runs while jobs are short (concurrency.ts); jobs of 20 ms plus their paths.
  const sim = simulate(storm(5000), 1, (j) => 20 + j.paths.length / 10, 20_000);
  const desc = sim.jobs.map((j) => `${j.at}:${j.job.action}×${j.job.paths.length}`).join(' ');
  // About one rsync run per ceiling: the leading edge, then one per flush (trees and paths together).
  assert.ok(sim.jobs.length <= 6, `${sim.jobs.length} jobs: ${desc}`);
  assert.equal(sim.jobs[0]?.at, 5000, 'the leading edge is kept');
});

test('in a storm no entry waits much past its ceiling for a free slot', () => {
  const ev = storm(5000);
  const sim = simulate(ev, 1, (j) => 20 + j.paths.length / 10, 20_000);
  // Replayed in time order: an event waits from its time until a job takes its path or a tree above it.
  const waiting = new Map<string, number>();
  let i = 0;
  for (const { at, job } of sim.jobs) {
    for (; i < ev.length && ev[i]!.at <= at; i++) if (!waiting.has(ev[i]!.path)) waiting.set(ev[i]!.path, ev[i]!.at);
    for (const [p, t] of waiting) {
      const covered = job.paths.some((j) => j === p || (job.action === 'tree' && p.startsWith(`${j}/`)));
      if (!covered) continue;
      assert.ok(at - t <= limits.maxDelayMs + 100, `${p}: first seen ${t}, planned ${at}`);
      waiting.delete(p);
    }
  }
});
