/**
 * plan()'s shortcut while a channel is still settling (quietPlan in planner.ts) must answer as the
 * full plan does: the same jobs (none), and a wake-up no later than the full plan's. Seeded
 * streams of adds (paths, trees, renames) over time, jobs that take time on 1-3 workers; at every
 * step where the channel would ask, both are asked about the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSet } from '../../../src/core/change-set.js';
import { leadingEdge, plan, planInFull, settleFor } from '../../../src/core/planner.js';
import type { Action, PlanLimits, RsyncJob } from '../../../src/core/types.js';
import { Rng } from '../../model/rng.js';

const ch = { root: '/r', remoteId: 'h::m' };
const NAMES = ['a', 'a/f1', 'a/f2', 'a/s', 'a/s/f', 'b', 'b/f1', 'b/f2', 'c', 'c/d', 'c/d/e', 'f0', 'g'];

test('seeded: while a channel settles, plan() gives the full plan\'s jobs and never a later wake-up', () => {
  const r = new Rng(42);
  let shortcuts = 0;
  let steps = 0;
  for (let round = 0; round < 60; round++) {
    const limits: PlanLimits = { settleMs: 10 + Math.floor(r.next() * 40), maxDelayMs: 200 + Math.floor(r.next() * 800), maxBatch: 1 + Math.floor(r.next() * 8), treeQuietMs: 50 + Math.floor(r.next() * 100) };
    const slots = 1 + Math.floor(r.next() * 3);
    const cs = new ChangeSet();
    const running: { end: number; job: RsyncJob }[] = [];
    let next = Math.floor(r.next() * 50);
    let wake: number | undefined;
    const until = 4000;
    for (let now = 0; now <= until; now++) {
      let asked = false;
      for (const j of running.filter((x) => x.end <= now)) {
        cs.finish(j.job.paths);
        running.splice(running.indexOf(j), 1);
        asked = true;
      }
      // Bursts of adds with gaps, then quiet after 2,500 ms so that everything drains.
      while (now < 2500 && next <= now) {
        const p = NAMES[Math.floor(r.next() * NAMES.length)]!;
        const x = r.next();
        const action: Action = x < 0.2 ? 'tree' : 'path';
        const from = x > 0.9 ? NAMES[Math.floor(r.next() * NAMES.length)] : undefined;
        cs.add(p, action, now, from);
        next = now + (r.next() < 0.1 ? 100 + Math.floor(r.next() * 600) : Math.floor(r.next() * 15));
        asked = true;
      }
      if (!asked && (wake === undefined || wake > now)) continue;
      steps++;
      const free = slots - running.length;
      const quick = plan(cs, ch, now, limits, free);
      const full = planInFull(cs, ch, now, limits, free);
      assert.deepEqual(quick.jobs, full.jobs, `round ${round} at ${now} ms`);
      const settling = cs.size > 0 && now < cs.lastActivity + settleFor(cs, now, limits) && !leadingEdge(cs, now, limits) && now - cs.oldestFirstSeen()! < limits.maxDelayMs;
      if (settling) shortcuts++;
      assert.ok((quick.wakeAt ?? Infinity) <= (full.wakeAt ?? Infinity), `round ${round} at ${now} ms: wakes at ${quick.wakeAt}, the full plan at ${full.wakeAt}`);
      if (quick.wakeAt !== undefined) assert.ok(quick.wakeAt >= now || quick.jobs.length > 0 || full.wakeAt === now, `round ${round} at ${now} ms: a wake-up in the past (${quick.wakeAt})`);
      for (const job of quick.jobs) {
        cs.take(job.paths);
        running.push({ end: now + 5 + Math.floor(r.next() * 120), job });
      }
      wake = quick.wakeAt;
    }
    assert.equal(cs.size + cs.inFlightCount, 0, `round ${round}: everything was sent`);
  }
  // Both kinds of step were checked: plenty settling (the shortcut's) and plenty not.
  assert.ok(shortcuts > 500 && steps - shortcuts > 500, `${shortcuts} of ${steps} plans while settling`);
});
