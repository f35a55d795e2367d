/** The replay log on a real file system: durability format, modes, corruption, rewrite races. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readdir, readFile, stat, writeFile, appendFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReplayLog } from '../../src/replay/log.js';
import { replayRecords } from '../../src/replay/replayer.js';
import type { ReplayRecord } from '../../src/replay/types.js';
import { StateFileError } from '../../src/errors.js';
import { AWKWARD_NAMES, tempDir, waitFor } from '../support/tree.js';

const rec = (path: string, remote = 'backup1', extra: Partial<ReplayRecord> = {}): ReplayRecord => ({
  time: '2025-01-01T00:00:00.000Z', root: '/data', remote, path, action: 'path', exitCode: 10, message: 'rsync to backup1::www failed with exit code 10', attempts: 3, ...extra,
});
const mode = async (p: string) => (await stat(p)).mode & 0o777;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const d = await tempDir('tss-replay-');
  try {
    await fn(d.path);
  } finally {
    await d.cleanup();
  }
}

test('append/read round trip with awkward names; new file 0600; parent dirs made; missing = empty', () =>
  withDir(async (dir) => {
    const log = new ReplayLog(join(dir, 'state', 'sub', 'replay.jsonl'));
    assert.deepEqual(await log.read(), { records: [], corrupt: [], mark: (await log.read()).mark });
    assert.equal((await log.read()).records.length, 0);
    const records = AWKWARD_NAMES.map((n, i) => rec(n, i % 2 ? 'b2' : 'backup1'));
    await log.append(records.slice(0, 5));
    await log.append(records.slice(5));
    const back = await log.read();
    assert.deepEqual(back.corrupt, []);
    assert.deepEqual(back.records, records);
    const text = await readFile(log.path, 'utf8');
    assert.equal(text.split('\n').length, records.length + 1, 'one line per record, newline in a name included');
    assert.equal(await mode(log.path), 0o600);
    assert.equal(await mode(join(dir, 'state')), 0o700);
  }));

test('an existing 0644 log is made 0600 on the next append', () =>
  withDir(async (dir) => {
    const file = join(dir, 'replay.jsonl');
    await writeFile(file, '');
    await chmod(file, 0o644);
    await new ReplayLog(file).append([rec('a')]);
    assert.equal(await mode(file), 0o600);
  }));

test('a corrupt middle line and a truncated last line are reported and skipped; the next append is intact', () =>
  withDir(async (dir) => {
    const log = new ReplayLog(join(dir, 'replay.jsonl'));
    await log.append([rec('one')]);
    await appendFile(log.path, 'garbage {\n\n' + JSON.stringify({ ...rec('x'), action: 'delete' }) + '\n');
    await log.append([rec('two')]);
    await appendFile(log.path, '{"time":"2025-01-01T00:00:00.000Z","root":"/da'); // torn write
    let r = await log.read();
    assert.deepEqual(r.records.map((x) => x.path), ['one', 'two']);
    assert.deepEqual(r.corrupt.map((c) => c.line), [2, 4, 6]);
    assert.match(r.corrupt[0]!.error, /not JSON/);
    assert.match(r.corrupt[1]!.error, /action/);
    assert.match(r.corrupt[2]!.error, /^truncated last line/);
    await log.append([rec('three')]);
    r = await log.read();
    assert.deepEqual(r.records.map((x) => x.path), ['one', 'two', 'three'], 'the torn line did not swallow the new record');
    // A rewrite drops them from the log but keeps them for the operator.
    const res = await log.rewrite(r.records.slice(1), r.records.length + r.corrupt.length);
    assert.equal(res.movedCorrupt, 3);
    assert.deepEqual((await log.read()).records.map((x) => x.path), ['two', 'three']);
    assert.deepEqual((await log.read()).corrupt, []);
    const aside = await readFile(`${log.path}.corrupt`, 'utf8');
    assert.equal(aside.split('\n').filter(Boolean).length, 3);
    assert.equal(await mode(`${log.path}.corrupt`), 0o600);
  }));

test('rewrite is atomic: a concurrent reader only ever sees the old or the new file, never a mix; no temp left', () =>
  withDir(async (dir) => {
    const log = new ReplayLog(join(dir, 'replay.jsonl'));
    const a = Array.from({ length: 400 }, (_, i) => rec(`a-${i}-${'x'.repeat(100)}`));
    const b = Array.from({ length: 300 }, (_, i) => rec(`b-${i}`));
    await log.append(a);
    const textA = await readFile(log.path, 'utf8');
    const seen = new Set<string>();
    let stop = false;
    const reader = (async () => {
      while (!stop) seen.add(await readFile(log.path, 'utf8'));
    })();
    let textB = '';
    for (let i = 0; i < 30; i++) {
      await log.read();
      await log.rewrite(i % 2 ? a : b);
      if (i === 0) textB = await readFile(log.path, 'utf8');
    }
    stop = true;
    await reader;
    assert.ok(seen.size >= 1);
    for (const s of seen) assert.ok(s === textA || s === textB, `a reader saw a torn file of ${s.length} bytes`);
    assert.equal(await mode(log.path), 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ['replay.jsonl']);
  }));

test('appends made while a replay runs are not lost by its rewrite', () =>
  withDir(async (dir) => {
    const log = new ReplayLog(join(dir, 'replay.jsonl'));
    await log.append([rec('landed'), rec('still-down', 'dead')]);
    const { records, corrupt } = await log.read();
    const result = await replayRecords(
      records,
      async (g) => {
        // The daemon keeps failing meanwhile: these lines arrive after the read.
        await log.append([rec(`during-${g.remote}-1`), rec(`during-${g.remote}-2`)]);
        return g.remote === 'dead' ? { failed: g.paths, exitCode: 10, message: 'down' } : { failed: [], exitCode: 0, message: 'ok' };
      },
      () => new Date('2025-01-02T00:00:00.000Z'),
    );
    const res = await log.rewrite(result.left, records.length + corrupt.length);
    assert.equal(res.carried, 4);
    assert.equal(res.conflict, false);
    const after = (await log.read()).records;
    assert.deepEqual(after.map((r) => r.path).sort(), ['during-backup1-1', 'during-backup1-2', 'during-dead-1', 'during-dead-2', 'still-down']);
    assert.equal(after.find((r) => r.path === 'still-down')!.attempts, 4);
  }));

test('two replayers on one log (daemon and --retry-log): the later rewrite merges, nothing lost', () =>
  withDir(async (dir) => {
    const file = join(dir, 'replay.jsonl');
    const daemon = new ReplayLog(file);
    const cli = new ReplayLog(file);
    await daemon.append([rec('p'), rec('q'), rec('r')]);
    const d = await daemon.read();
    const c = await cli.read();
    await cli.rewrite([rec('q', 'backup1', { attempts: 4 })], c.mark); // cli: p and r landed
    await daemon.append([rec('new')]);
    const res = await daemon.rewrite([rec('r', 'backup1', { attempts: 4 }), rec('p', 'backup1', { attempts: 4 })], d.mark);
    assert.equal(res.conflict, true);
    const paths = (await daemon.read()).records.map((r) => r.path).sort();
    assert.deepEqual(paths, ['new', 'p', 'q', 'r'], 'only duplicates of already-replayed work are possible, never a loss');
  }));

test('replaying the same record twice is harmless end to end: one line left, attempts counted once per replay', () =>
  withDir(async (dir) => {
    const log = new ReplayLog(join(dir, 'replay.jsonl'));
    await log.append([rec('dup')]);
    await log.append([rec('dup')]);
    for (let round = 1; round <= 2; round++) {
      const { records, mark } = await log.read();
      const r = await replayRecords(records, async (g) => ({ failed: g.paths, exitCode: 10, message: 'down' }), () => new Date());
      await log.rewrite(r.left, mark);
      const now = (await log.read()).records;
      assert.equal(now.length, 1);
      assert.equal(now[0]!.attempts, 3 + round);
    }
  }));

test('a leftover lock from a dead process is broken; a live holder makes the writer wait, then time out with a typed error', () =>
  withDir(async (dir) => {
    const file = join(dir, 'replay.jsonl');
    const dead = spawn('true');
    const deadPid = await new Promise<number>((res) => dead.on('exit', () => res(dead.pid!)));
    await writeFile(`${file}.lock`, `${deadPid}\n`);
    await new ReplayLog(file).append([rec('a')]);
    assert.deepEqual((await readdir(dir)).sort(), ['replay.jsonl']);

    const live = spawn('sleep', ['30']);
    try {
      await writeFile(`${file}.lock`, `${live.pid}\n`);
      const blocked = new ReplayLog(file, { timeoutMs: 300 });
      await assert.rejects(blocked.append([rec('b')]), (e: unknown) => e instanceof StateFileError && /still locked by pid/.test(e.message));
      // An old lock is a leftover even when its pid was reused by a live process.
      const past = new Date(Date.now() - 120_000);
      await utimes(`${file}.lock`, past, past);
      await new ReplayLog(file, { staleMs: 60_000 }).append([rec('c')]);
      assert.deepEqual((await new ReplayLog(file).read()).records.map((r) => r.path), ['a', 'c']);
    } finally {
      live.kill('SIGKILL');
    }
  }));

test('another process appending in a tight loop while this one replays and rewrites: every record survives', () =>
  withDir(async (dir) => {
    const file = join(dir, 'replay.jsonl');
    const logUrl = pathToFileURL(join(process.cwd(), 'src/replay/log.ts')).href;
    const N = 200;
    const code = `
      const { ReplayLog } = await import(${JSON.stringify(logUrl)});
      const log = new ReplayLog(${JSON.stringify(file)});
      for (let i = 0; i < ${N}; i++) {
        await log.append([{ time: new Date().toISOString(), root: '/data', remote: 'child', path: 'c-' + i, action: 'path', exitCode: 10, message: 'down', attempts: 1 }]);
      }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    const log = new ReplayLog(file);
    await log.append([rec('mine')]);
    let done = false;
    void exited.then(() => (done = true));
    let rounds = 0;
    // Each round "replays" everything successfully except our own record, so what the child
    // wrote is consumed; the child's records are collected as they are consumed.
    const consumed = new Set<string>();
    while (!done || rounds === 0) {
      const { records, mark } = await log.read();
      for (const r of records) if (r.remote === 'child') consumed.add(r.path);
      await log.rewrite(records.filter((r) => r.remote !== 'child'), mark);
      rounds++;
    }
    assert.equal(await exited, 0, stderr);
    const final = (await log.read()).records;
    for (const r of final) if (r.remote === 'child') consumed.add(r.path);
    assert.equal(consumed.size, N, `lost ${N - consumed.size} record(s) over ${rounds} rewrite rounds`);
    assert.deepEqual(final.filter((r) => r.remote !== 'child').map((r) => r.path), ['mine']);
    await waitFor(async () => !(await readdir(dir)).some((n) => n.endsWith('.lock')), 2000, 'lock released');
  }));

test('the log is never written through a symlink or into a file another user owns', () =>
  withDir(async (dir) => {
    const target = join(dir, 'victim');
    await writeFile(target, 'precious\n');
    const { symlink, chown } = await import('node:fs/promises');
    await symlink(target, join(dir, 'link.jsonl'));
    await assert.rejects(new ReplayLog(join(dir, 'link.jsonl')).append([rec('a')]), (e: unknown) => e instanceof StateFileError && /symbolic link/.test(e.message));
    assert.equal(await readFile(target, 'utf8'), 'precious\n');
    // chown to another user needs root: as a normal user only the symlink half runs.
    if (process.getuid?.() !== 0) return;
    const foreign = join(dir, 'foreign.jsonl');
    await writeFile(foreign, '');
    await chown(foreign, 12345, 12345);
    await assert.rejects(new ReplayLog(foreign).append([rec('a')]), (e: unknown) => e instanceof StateFileError && /owned by uid 12345/.test(e.message));
    assert.equal(await readFile(foreign, 'utf8'), '');
  }));
