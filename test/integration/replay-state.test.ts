/** Pending store and unclean-stop marker on a real file system, with real (dead and live) pids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyRunningError } from '../../src/replay/run-marker.js';
import { loadPending, markRunning, markStopped, pendingPath, savePending, type PendingSnapshot } from '../../src/replay/pending-store.js';
import type { EngineEvent } from '../../src/events.js';
import { AWKWARD_NAMES, tempDir } from '../support/tree.js';

const mode = async (p: string) => (await stat(p)).mode & 0o777;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const d = await tempDir('tss-state-');
  try {
    await fn(d.path);
  } finally {
    await d.cleanup();
  }
}

async function deadPid(): Promise<number> {
  const child = spawn('true');
  return new Promise((res) => child.on('exit', () => res(child.pid!)));
}

test('pending store: round trip with awkward names, 0600, atomic (no temp left), only path and action kept', () =>
  withDir(async (dir) => {
    const file = join(dir, 'state', 'pending.json');
    const snap: PendingSnapshot = {
      savedAt: '2025-01-01T00:00:00.000Z',
      lanes: [
        { remote: 'backup1', root: '/data', entries: AWKWARD_NAMES.map((path, i) => ({ path, action: i % 3 ? 'path' : 'tree' })) },
        { remote: 'b2', root: '/www', entries: [] },
      ],
    };
    await savePending(file, snap);
    assert.deepEqual(await loadPending(file), snap);
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(join(dir, 'state')), 0o700);
    await savePending(file, { savedAt: 'x', lanes: [{ remote: 'r', root: '/', entries: [{ path: 'a', action: 'path', firstSeen: 1 } as never] }] });
    assert.deepEqual(await loadPending(file), { savedAt: 'x', lanes: [{ remote: 'r', root: '/', entries: [{ path: 'a', action: 'path' }] }] });
    assert.deepEqual(await readdir(join(dir, 'state')), ['pending.json']);
    assert.equal(await loadPending(join(dir, 'nope.json')), undefined);
  }));

test('pending store: a corrupt file is reported, moved aside, never fatal; the next start sees it as unclean', () =>
  withDir(async (dir) => {
    for (const [content, why] of [
      ['{"version":1,"savedAt":"x","lanes":[{"remote":"r","root":"/","entries":[{"path":"a"}]}', /not JSON/],
      ['{"version":1,"savedAt":"x","lanes":[{"remote":"r","root":"/","entries":[{"path":"a"}]}]}', /entries\[0\]/],
      ['{"version":99,"savedAt":"x","lanes":[]}', /unknown version 99/],
    ] as const) {
      const file = pendingPath(dir);
      await writeFile(file, content);
      const mark = await markRunning(dir);
      assert.equal(mark.uncleanPrevious, true, content);
      assert.match(mark.reason ?? '', why);
      const events: EngineEvent[] = [];
      assert.equal(await loadPending(file, (e) => events.push(e)), undefined);
      assert.equal(events.length, 1);
      assert.equal(events[0]!.level, 'warn');
      assert.match(events[0]!.message, /corrupt.*moved to .*pending\.json\.corrupt.*full sync/);
      assert.equal(await readFile(`${file}.corrupt`, 'utf8'), content);
      assert.equal(await loadPending(file), undefined);
      await markStopped(dir);
    }
  }));

test('marker: a clean stop then a start is clean; state dir made 0700', () =>
  withDir(async (dir) => {
    const stateDir = join(dir, 'a', 'b');
    assert.deepEqual(await markRunning(stateDir), { uncleanPrevious: false });
    assert.equal(await mode(stateDir), 0o700);
    const marker = JSON.parse(await readFile(join(stateDir, 'running'), 'utf8'));
    assert.equal(marker.pid, process.pid);
    assert.equal(await mode(join(stateDir, 'running')), 0o600);
    await markStopped(stateDir);
    assert.deepEqual(await readdir(stateDir), []);
    assert.equal((await markRunning(stateDir)).uncleanPrevious, false);
  }));

test('marker: our own live pid is not unclean; a dead pid (exited `true`) is', () =>
  withDir(async (dir) => {
    await markRunning(dir);
    assert.equal((await markRunning(dir)).uncleanPrevious, false, 'still us');
    const pid = await deadPid();
    await writeFile(join(dir, 'running'), JSON.stringify({ pid, startedAt: '2025-01-01T00:00:00.000Z' }));
    const mark = await markRunning(dir);
    assert.equal(mark.uncleanPrevious, true);
    assert.match(mark.reason ?? '', new RegExp(`pid ${pid}, started 2025-01-01.*without a clean stop`));
    // The old bare-pid format too.
    await writeFile(join(dir, 'running'), `${await deadPid()}\n`);
    assert.equal((await markRunning(dir)).uncleanPrevious, true);
    await markStopped(dir);
  }));

test('marker: a live pid from another boot or another process start (pid reused) is unclean', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'running'), JSON.stringify({ pid: process.pid, bootId: 'not-this-boot' }));
    assert.equal((await markRunning(dir)).uncleanPrevious, true);
    await writeFile(join(dir, 'running'), JSON.stringify({ pid: process.pid, startTicks: '1' }));
    assert.equal((await markRunning(dir)).uncleanPrevious, true);
    await writeFile(join(dir, 'running'), 'garbage');
    assert.match((await markRunning(dir)).reason ?? '', /unreadable/);
    await markStopped(dir);
  }));

test('marker: a second instance on the same state dir is refused naming the live one; its marker is left alone', () =>
  withDir(async (dir) => {
    const other = spawn('sleep', ['30']);
    try {
      const theirs = JSON.stringify({ pid: other.pid });
      await writeFile(join(dir, 'running'), theirs);
      await assert.rejects(markRunning(dir), (err: unknown) => {
        assert.ok(err instanceof AlreadyRunningError);
        assert.match(err.message, new RegExp(`^another tssersync \\(pid ${other.pid}\\) is already running .*kill ${other.pid}$`));
        return true;
      });
      assert.equal(await readFile(join(dir, 'running'), 'utf8'), theirs);
      // Our stop does not remove a marker that is not ours.
      await markStopped(dir);
      assert.deepEqual(await readdir(dir), ['running']);
    } finally {
      other.kill('SIGKILL');
    }
  }));

test('marker: two starts at the same instant on one state dir: exactly one wins (exclusive create)', () =>
  withDir(async (dir) => {
    // Two processes, not two calls: the same pid would count as a reload of one instance.
    const script = `import { markRunning } from ${JSON.stringify(new URL('../../src/replay/run-marker.ts', import.meta.url).href)};
      markRunning(process.argv[1]).then(() => { console.log('won'); setTimeout(() => {}, 3000); }, (e) => { console.log('refused', e.pid); process.exit(0); });`;
    const runs = Array.from({ length: 4 }, () => {
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (b: Buffer) => (out += b.toString()));
      return { c, line: () => new Promise<string>((res) => c.stdout.once('end', () => res(out.trim())).on('data', () => out.includes('\n') && res(out.trim()))) };
    });
    try {
      const lines = await Promise.all(runs.map((r) => r.line()));
      assert.equal(lines.filter((l) => l === 'won').length, 1, lines.join(' | '));
      assert.equal(lines.filter((l) => l.startsWith('refused')).length, 3, lines.join(' | '));
    } finally {
      for (const r of runs) r.c.kill('SIGKILL');
    }
  }));

test('marker: state dir that exists stays as the operator made it', () =>
  withDir(async (dir) => {
    const stateDir = join(dir, 's');
    await mkdir(stateDir, { mode: 0o755 });
    await markRunning(stateDir);
    assert.equal(await mode(stateDir), 0o755);
    await markStopped(stateDir);
  }));

test('legacy shared state dir: each config takes the pending lanes, replay records and crash marker of its own roots', () =>
  withDir(async (dir) => {
    const { adoptLegacyState } = await import('../../src/replay/legacy-state.js');
    const { ReplayLog } = await import('../../src/replay/log.js');
    const legacy = join(dir, 'shared');
    const lane = (root: string, path: string) => ({ remote: 'h::m', root, entries: [{ path, action: 'path' as const }] });
    await savePending(join(legacy, 'pending.json'), { savedAt: '2025-01-01T00:00:00.000Z', lanes: [lane('/a', 'x'), lane('/b', 'y')] });
    const rec = (root: string, path: string) => ({ time: '2025-01-01T00:00:00.000Z', root, remote: 'h::m', path, action: 'path' as const, exitCode: 10, message: 'down', attempts: 1 });
    await new ReplayLog(join(legacy, 'replay.jsonl')).append([rec('/a', 'ra'), rec('/b', 'rb')]);
    await writeFile(join(legacy, 'running'), JSON.stringify({ pid: await deadPid() }));
    await writeFile(join(legacy, 'tssersync.pid'), '1\n');
    const take = (name: string, root: string) => {
      const stateDir = join(legacy, name);
      return adoptLegacyState({ legacyDir: legacy, stateDir, roots: [root], replayLog: join(stateDir, 'replay.jsonl') });
    };

    assert.deepEqual(await take('a-1', '/a'), { lanes: 1, records: 1, markers: 1 });
    assert.deepEqual((await loadPending(join(legacy, 'a-1', 'pending.json')))?.lanes, [lane('/a', 'x')]);
    assert.deepEqual((await new ReplayLog(join(legacy, 'a-1', 'replay.jsonl')).read()).records.map((r) => r.path), ['ra']);
    assert.equal((await markRunning(join(legacy, 'a-1'))).uncleanPrevious, true, 'the crash is news for a');
    await markStopped(join(legacy, 'a-1'));
    // What is b's stays in the shared dir, crash marker included (b's part is still there).
    assert.deepEqual((await loadPending(join(legacy, 'pending.json')))?.lanes, [lane('/b', 'y')]);
    assert.ok((await readdir(legacy)).includes('running'));

    assert.deepEqual(await take('b-2', '/b'), { lanes: 1, records: 1, markers: 1 });
    assert.deepEqual((await loadPending(join(legacy, 'b-2', 'pending.json')))?.lanes, [lane('/b', 'y')]);
    assert.equal((await markRunning(join(legacy, 'b-2'))).uncleanPrevious, true, 'and for b');
    await markStopped(join(legacy, 'b-2'));
    assert.deepEqual((await new ReplayLog(join(legacy, 'replay.jsonl')).read()).records, []);
    const left = (await readdir(legacy)).filter((n) => !n.startsWith('a-') && !n.startsWith('b-'));
    assert.deepEqual(left.sort(), ['replay.jsonl', 'tssersync.pid'], 'pending and marker gone; the old pid file stays');
    // Taken once: a later start finds nothing more.
    assert.deepEqual(await take('a-1', '/a'), { lanes: 0, records: 0, markers: 0 });
  }));

test('legacy shared state dir: an earlier tssersync still running on it refuses the start, naming its pid', () =>
  withDir(async (dir) => {
    const { adoptLegacyState } = await import('../../src/replay/legacy-state.js');
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(join(dir, 'running'), JSON.stringify({ pid: other.pid }));
      await assert.rejects(adoptLegacyState({ legacyDir: dir, stateDir: join(dir, 'a-1'), roots: ['/a'], replayLog: join(dir, 'a-1', 'replay.jsonl') }), new RegExp(`pid ${other.pid}.*kill ${other.pid}`));
    } finally {
      other.kill('SIGKILL');
    }
  }));
