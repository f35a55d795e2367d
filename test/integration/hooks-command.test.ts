import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import type { CommandPluginConfig } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { PartialDeliveryError } from '../../src/hooks/failure.js';
import { createHook } from '../../src/hooks/index.js';
import type { LandedBatch } from '../../src/hooks/types.js';
import { AWKWARD_NAMES, tempDir, waitFor } from '../support/tree.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/hooks/argv-recorder.mjs', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Line { phase: 'start' | 'end'; pid: number; start: number; end?: number; argv: string[] }

async function setup() {
  const dir = await tempDir('tss-cmd-');
  cleanups.push(dir.cleanup);
  const out = join(dir.path, 'argv.jsonl');
  await writeFile(out, '');
  const read = async (): Promise<Line[]> => (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const plugin = (o: { exit?: number; sleepMs?: number } & Partial<CommandPluginConfig> = {}): CommandPluginConfig => ({
    kind: 'command',
    prefix: [process.execPath, FIXTURE, out, String(o.exit ?? 0), String(o.sleepMs ?? 0)],
    suffix: ['--after', 'two words'],
    ignoreError: false,
    include: [],
    concurrency: 4,
    timeoutMs: 10_000,
    ...o,
  });
  const batch = (names: readonly string[]): LandedBatch => ({
    root: dir.path,
    remotes: ['r'],
    time: Date.now(),
    items: names.map((n) => ({ path: n, absolute: join(dir.path, n), state: 'file' as const })),
  });
  return { dir: dir.path, read, plugin, batch };
}

async function pwned(dirs: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const d of dirs) for (const n of await readdir(d)) if (n.startsWith('PWNED')) found.push(join(d, n));
  return found;
}

test('command: each awkward path arrives as ONE argv word between prefix and suffix, and runs nothing', async () => {
  const s = await setup();
  const hook = createHook(s.plugin(), { emit: () => {} });
  await hook.deliver(s.batch(AWKWARD_NAMES));
  const ends = (await s.read()).filter((l) => l.phase === 'end');
  assert.equal(ends.length, AWKWARD_NAMES.length);
  for (const l of ends) assert.equal(l.argv.length, 3, JSON.stringify(l.argv));
  assert.deepEqual(ends.map((l) => l.argv[0]).sort(), AWKWARD_NAMES.map((n) => join(s.dir, n)).sort());
  assert.ok(ends.every((l) => l.argv[1] === '--after' && l.argv[2] === 'two words'));
  assert.deepEqual(await pwned([s.dir, process.cwd()]), []);
});

test('command: ignoreError="false" makes a non-zero exit a failure of exactly those paths', async () => {
  const s = await setup();
  const hook = createHook(s.plugin({ exit: 3 }), { emit: () => {} });
  const err = await hook.deliver(s.batch(['a', 'b'])).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof PartialDeliveryError);
  assert.deepEqual(err.failed.map((i) => i.path).sort(), ['a', 'b']);
  assert.match(err.message, /exit code 3/);
});

test('command: ignoreError="true" reports a non-zero exit and carries on', async () => {
  const s = await setup();
  const events: EngineEvent[] = [];
  const hook = createHook(s.plugin({ exit: 3, ignoreError: true }), { emit: (e) => events.push(e) });
  await hook.deliver(s.batch(['a']));
  assert.ok(events.some((e) => e.type === 'hook' && e.level === 'warn' && /exit code 3 \(ignored/.test(e.message)));
  // A program that cannot start is a setup problem: a failure even with ignoreError.
  const missing = createHook({ ...s.plugin({ ignoreError: true }), prefix: ['/nonexistent/tssersync-cmd'] }, { emit: () => {} });
  await assert.rejects(missing.deliver(s.batch(['a'])), /cannot run \/nonexistent\/tssersync-cmd: ENOENT/);
});

test('command: a command past its timeout is killed and fails', async () => {
  const s = await setup();
  // Long enough for node to start the fixture on a loaded machine, far below its 30 s sleep.
  const hook = createHook(s.plugin({ sleepMs: 30_000, timeoutMs: 2000 }), { emit: () => {} });
  const t0 = Date.now();
  await assert.rejects(hook.deliver(s.batch(['slow'])), /timed out after 2000 ms/);
  assert.ok(Date.now() - t0 < 10_000, 'did not wait for the command');
  const [start] = await s.read();
  assert.ok(start);
  await waitFor(() => {
    try {
      process.kill(start.pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 5000, 'the timed-out command to be gone');
});

test('command: the include filter (full match on the absolute path) picks the paths', async () => {
  const s = await setup();
  const include = [{ source: '(.*)\\.php', regex: /^(?:(.*)\.php)$/ }];
  const hook = createHook(s.plugin({ include }), { emit: () => {} });
  await hook.deliver(s.batch(['a.php', 'b.html', 'c.php.bak', 'sub/d.php']));
  const ran = (await s.read()).filter((l) => l.phase === 'end').map((l) => l.argv[0]);
  assert.deepEqual(ran.sort(), [join(s.dir, 'a.php'), join(s.dir, 'sub/d.php')]);
});

test('command: at most `concurrency` commands run at once', async () => {
  const s = await setup();
  const hook = createHook(s.plugin({ concurrency: 2, sleepMs: 300 }), { emit: () => {} });
  await hook.deliver(s.batch(['1', '2', '3', '4', '5', '6']));
  const runs = (await s.read()).filter((l) => l.phase === 'end');
  assert.equal(runs.length, 6);
  // The most running at one instant: a sweep over the logged intervals (each inside its process's
  // lifetime), an end before a start at the same millisecond. Counting the runs that overlap one
  // run overcounts: a run whose end was logged late overlaps two others that ran one after the other.
  const edges = runs.flatMap((r) => [{ at: r.start, d: 1 }, { at: r.end!, d: -1 }]).sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  assert.equal(most, 2, `up to ${most} ran at once`);
});
