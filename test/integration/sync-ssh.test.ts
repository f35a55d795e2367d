/** The rsync layer in ssh mode, through a real sshd on 127.0.0.1 (key auth, custom port). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, rm, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { Lane } from '../../src/sync/lane.js';
import { probeDeleteMissingArgs } from '../../src/sync/delete.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { AWKWARD_NAMES, snapshot, tempDir, treeDiff, waitFor } from '../support/tree.js';

const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: 30, binary: 'rsync', maxDelete: undefined };
let sshd: Sshd;
let src: string;
let dst: string;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  sshd = await startSshd();
  cleanups.push(() => sshd.stop());
  const s = await tempDir('tss-ssh-src-');
  const d = await tempDir('tss-ssh dst-'); // a space in the remote path: no shell on either side
  cleanups.push(s.cleanup, d.cleanup);
  src = s.path;
  dst = d.path;
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function remote(over: Partial<RemoteConfig> = {}): RemoteConfig {
  return { id: `${sshd.user}@127.0.0.1:${dst}`, host: '127.0.0.1', module: dst, mode: 'ssh', port: sshd.port, user: sshd.user, passwordFile: undefined, sshOptions: sshd.sshOptions, ...over };
}

async function put(root: string, rel: string, body: string): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), body);
}

test('ssh: the receiver accepts --delete-missing-args', async () => {
  assert.equal(await probeDeleteMissingArgs(remote(), rsync), true);
});

for (const forceDeleteFallback of [false, true]) {
  test(`ssh push: path batch, new tree, awkward names, deletes (${forceDeleteFallback ? 'filter fallback' : 'fast form'})`, async () => {
    for (const n of await readdir(src)) await rm(join(src, n), { recursive: true });
    for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true });
    const events: EngineEvent[] = [];
    const lane = new Lane({ remote: remote(), rsync, concurrency: 2, retries: 0, emit: (e) => events.push(e), debug: true, forceDeleteFallback });
    try {
      await put(src, 'a.txt', 'a');
      for (const n of AWKWARD_NAMES) await put(src, `tree/${n}/inner`, n);
      let r = await lane.run({ root: src, action: 'path', paths: ['a.txt'] });
      assert.equal(r.ok, true, JSON.stringify(r.outcome));
      r = await lane.run({ root: src, action: 'tree', paths: ['tree'] });
      assert.equal(r.ok, true, JSON.stringify(r.outcome));
      assert.deepEqual(await treeDiff(src, dst), []);
      const start = events.find((e) => e.type === 'job-start');
      const argv = start?.type === 'job-start' ? start.argv : undefined;
      assert.ok(argv?.includes('-e') && argv.some((w) => w.startsWith(`ssh -p ${sshd.port} -o BatchMode=yes -i `)), 'ssh transport with port and BatchMode');
      await rm(join(src, 'a.txt'));
      for (const n of AWKWARD_NAMES.slice(0, 8)) await rm(join(src, 'tree', n), { recursive: true });
      r = await lane.run({ root: src, action: 'path', paths: ['a.txt', ...AWKWARD_NAMES.slice(0, 8).map((n) => `tree/${n}`)] });
      assert.equal(r.ok, true, JSON.stringify(r.outcome));
      assert.deepEqual(await treeDiff(src, dst), []);
      const names = [...(await snapshot(dst)).keys()].map((k) => k.split('/').pop() ?? '');
      assert.equal(names.filter((n) => n.startsWith('PWNED_')).length, 0);
    } finally {
      await lane.stop('abort');
    }
  });
}

test('ssh: a key the server does not know fails (exit 255 or 12), retried, all paths handed back', async () => {
  const other = await tempDir('tss-ssh-nokey-');
  cleanups.push(other.cleanup);
  const events: EngineEvent[] = [];
  const opts = sshd.sshOptions.map((w) => (w === sshd.identityFile ? join(other.path, 'missing_key') : w));
  const lane = new Lane({ remote: remote({ sshOptions: [...opts, '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none'] }), rsync, concurrency: 1, retries: 1, emit: (e) => events.push(e), debug: false, retryDelayMs: { min: 10, max: 20 } });
  try {
    await put(src, 'x', 'x');
    const r = await lane.run({ root: src, action: 'path', paths: ['x'] });
    assert.ok(!r.ok);
    // rsync exits 255 when it reaps the failed ssh before it exits itself, and 12 ("connection
    // unexpectedly closed") when it notices the closed stream first (cleanup waits WNOHANG): a race
    // that CI lost once. Both are retryable; the operator is told ssh's own reason either way.
    assert.ok(r.outcome.exitCode === 255 || r.outcome.exitCode === 12, `exit ${r.outcome.exitCode}`);
    assert.equal(r.outcome.class, 'retry');
    assert.match(r.outcome.stderrTail, /Permission denied/);
    assert.deepEqual(r.failedPaths, ['x']);
    assert.deepEqual(events.filter((e) => e.type === 'job-failed').map((e) => e.type === 'job-failed' && e.willRetry), [true, false]);
  } finally {
    await lane.stop('abort');
  }
});

test('ssh: a renamed directory is seeded from the remote old copy, then the job deletes the old path', async () => {
  for (const n of await readdir(src)) await rm(join(src, n), { recursive: true });
  for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true });
  const events: EngineEvent[] = [];
  const lane = new Lane({ remote: remote(), rsync, concurrency: 1, retries: 0, emit: (e) => events.push(e), debug: true });
  try {
    await put(src, 'old dir/sub/f', 'x'.repeat(200_000));
    await put(src, 'old dir/g', 'g');
    assert.equal((await lane.run({ root: src, action: 'tree', paths: ['old dir'] })).ok, true);
    await mkdir(join(src, 'into'));
    const { rename } = await import('node:fs/promises');
    await rename(join(src, 'old dir'), join(src, 'into', 'new dir'));
    const r = await lane.run({ root: src, action: 'tree', paths: ['into', 'old dir'], renames: [{ from: 'old dir', to: 'into/new dir' }] });
    assert.equal(r.ok, true, JSON.stringify(r.outcome));
    assert.deepEqual(await treeDiff(src, dst), []);
    assert.ok(events.some((e) => e.type === 'info' && /seeded from the remote's old copy/.test(e.message)), events.map((e) => e.message).join('\n'));
  } finally {
    await lane.stop('drain');
  }
});

/** Every process: comm, ppid and command line (/proc). */
async function procs(): Promise<{ pid: number; ppid: number; comm: string; cmdline: string }[]> {
  const out: { pid: number; ppid: number; comm: string; cmdline: string }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').join(' ');
      out.push({ pid: Number(name), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The sshd process above each receiving `rsync --server` (one per run): one sshd per ssh connection. */
async function connectionsOfServers(): Promise<number[]> {
  const all = await procs();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const out: number[] = [];
  for (const p of all) {
    if (p.comm !== 'rsync' || !p.cmdline.includes('--server')) continue;
    let up = byPid.get(p.ppid);
    // A receiver forks its generator: count the first rsync of each run only.
    if (up?.comm === 'rsync') continue;
    while (up && !up.comm.startsWith('sshd')) up = byPid.get(up.ppid);
    if (up) out.push(up.pid);
  }
  return out;
}

test('ssh: runs to one remote share one ssh connection (one sshd session serves two rsyncs at once); -o ControlMaster=no in the options turns it off', async () => {
  for (const [extra, shared] of [[[], true], [['-o', 'ControlMaster=no'], false]] as const) {
    // The receivers of the round before end a moment after their senders were killed.
    await waitFor(async () => (await connectionsOfServers()).length === 0, 10_000, 'no receiving rsync left');
    for (const n of await readdir(src)) await rm(join(src, n), { recursive: true });
    for (const n of await readdir(dst)) await rm(join(dst, n), { recursive: true });
    const slow: RsyncSettings = { ...rsync, commonParams: ['-rt', '--bwlimit=100'] };
    const lane = new Lane({ remote: remote({ sshOptions: [...sshd.sshOptions, ...extra] }), rsync: slow, concurrency: 2, retries: 0, emit: () => {}, debug: false });
    try {
      // A first run opens the connection (two first runs at once could both try to be its master).
      await put(src, 'first', 'f');
      assert.equal((await lane.run({ root: src, action: 'path', paths: ['first'] })).ok, true);
      await put(src, 'a.bin', 'a'.repeat(300_000));
      await put(src, 'b.bin', 'b'.repeat(300_000));
      const jobs = [lane.run({ root: src, action: 'path', paths: ['a.bin'] }), lane.run({ root: src, action: 'path', paths: ['b.bin'] })];
      const servers = await waitFor(async () => {
        const s = await connectionsOfServers();
        return s.length === 2 ? s : undefined;
      }, 10_000, 'two receiving rsyncs at once');
      assert.equal(servers[0] === servers[1], shared, `sshd above the two receivers: ${servers.join(', ')}`);
      await lane.stop('abort');
      await Promise.all(jobs);
    } finally {
      await lane.stop('abort');
    }
  }
});
