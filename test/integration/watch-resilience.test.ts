import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../support/tree.js';
import { BACKENDS, watchHarness } from '../support/watch-harness.js';

for (const backend of BACKENDS) {
  test(`[${backend}] watch: a SIGKILLed watcher child is restarted and the whole root is reconciled`, async () => {
    const h = await watchHarness({ backend });
    try {
      const pid = h.watcher.childPid(h.root);
      assert.ok(pid);
      process.kill(pid, 'SIGKILL');
      const gap = await h.gap((g) => g.dir === '', 'onGap for the whole root');
      assert.match(gap.reason, /SIGKILL/);
      assert.ok(h.events.some((e) => e.type === 'watch-error' && e.root === h.root), 'watch-error emitted');
      const now = h.watcher.childPid(h.root);
      assert.ok(now && now !== pid, 'a new child runs');
      await writeFile(join(h.root, 'after-restart'), '');
      await h.change((c) => c.path === 'after-restart', 'a write after the restart');
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: deleting the root reports it absent; recreating it reports it back and reconciles`, async () => {
    const h = await watchHarness({ backend, setup: (root) => writeFile(join(root, 'x'), '') });
    try {
      await rm(h.root, { recursive: true });
      await waitFor(() => h.rootStates.includes(false), 5000, 'onRootState(false)');
      assert.deepEqual(h.rootStates, [false]);
      await mkdir(h.root);
      await waitFor(() => h.rootStates.includes(true), 5000, 'onRootState(true)');
      assert.deepEqual(h.rootStates, [false, true]);
      await h.gap((g) => g.dir === '' && g.reason === 'root came back', 'onGap(root came back)');
      await writeFile(join(h.root, 'fresh'), '');
      await h.change((c) => c.path === 'fresh', 'a write into the recreated root');
    } finally {
      await h.cleanup();
    }
  });

  test(`[${backend}] watch: a root replaced between two polls is noticed and watched again`, async () => {
    const h = await watchHarness({ backend, tuning: { rootPollMs: 300 } });
    try {
      // rm + mkdir back to back: the root's inode changes, it is never seen missing by a poll.
      await rm(h.root, { recursive: true });
      await mkdir(h.root);
      await waitFor(() => h.rootStates.length >= 2, 5000, 'onRootState false then true');
      assert.deepEqual(h.rootStates, [false, true]);
      await writeFile(join(h.root, 'in-new-root'), '');
      await h.change((c) => c.path === 'in-new-root', 'a write into the replaced root');
    } finally {
      await h.cleanup();
    }
  });

  /** The reason the watcher lives in its own process: upstream issue #253. */
  test(`[${backend}] watch: 3000 short processes spawned by the parent do not break watching`, async (t) => {
    const h = await watchHarness({ backend });
    try {
      const started = Date.now();
      let spawned = 0;
      const one = () =>
        new Promise<void>((resolve, reject) => {
          const p = spawn('/bin/true', [], { stdio: 'ignore' });
          p.on('error', reject);
          p.on('exit', () => resolve());
        });
      let i = 0;
      const writer = async () => {
        while (spawned < 3000) {
          await writeFile(join(h.root, `during-${i++}`), '');
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const spawner = async () => {
        while (spawned < 3000) {
          await Promise.all(Array.from({ length: 16 }, one));
          spawned += 16;
        }
      };
      await Promise.all([spawner(), writer()]);
      const elapsed = Date.now() - started;
      await writeFile(join(h.root, 'after-spawns'), '');
      await h.change((c) => c.path === 'after-spawns', 'a write after 3000 spawns');
      for (let k = 0; k < i; k++) await h.change((c) => c.path === `during-${k}`, `during-${k}`, 5000);
      assert.deepEqual(h.events.filter((e) => e.type === 'watch-error'), [], 'no watcher error');
      t.diagnostic(`3000 spawns took ${elapsed} ms`);
    } finally {
      await h.cleanup();
    }
  });
}
