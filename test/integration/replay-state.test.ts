/** Pending store and unclean-stop marker on a real file system, with real (dead and live) pids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
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

test('marker: another live instance is reported, not unclean, and its marker survives our stop only if it is its own', () =>
  withDir(async (dir) => {
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(join(dir, 'running'), JSON.stringify({ pid: other.pid }));
      const mark = await markRunning(dir);
      assert.deepEqual(mark, { uncleanPrevious: false, otherInstance: other.pid });
      // We took the marker over; when the other stops, it must not remove ours (simulated:
      // its marker written back, our markStopped leaves it alone).
      await writeFile(join(dir, 'running'), JSON.stringify({ pid: other.pid }));
      await markStopped(dir);
      assert.deepEqual(await readdir(dir), ['running']);
    } finally {
      other.kill('SIGKILL');
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
