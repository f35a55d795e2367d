/**
 * rsync children run at the configured CPU and I/O priority: read from the running rsync itself
 * (/proc/PID/stat's nice field, `ionice -p PID`), slowed with --bwlimit so it lives long enough.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { Lane } from '../../src/sync/lane.js';
import { DEFAULT_PRIORITY, NO_PRIORITY, type Priority } from '../../src/sync/priority.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

let daemon: RsyncDaemon;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  daemon = await startRsyncDaemon({ modules: ['backup'] });
  cleanups.push(() => daemon.stop());
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const remote = (): RemoteConfig => ({ id: `${daemon.host}::backup`, host: daemon.host, module: 'backup', mode: 'daemon', port: daemon.port, user: daemon.user, passwordFile: daemon.passwordFile, sshOptions: [] });

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly comm: string;
  readonly nice: number;
}

/** Every process: /proc/PID/stat's comm, ppid, process group and nice value (fields 2, 4, 5, 19). */
async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (stat === '') continue;
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ pid: Number(name), ppid: Number(f[1]), pgrp: Number(f[2]), comm, nice: Number(f[16]) });
  }
  return out;
}

/** Our own rsync children. */
async function rsyncChildren(): Promise<Proc[]> {
  return (await processes()).filter((p) => p.comm === 'rsync' && p.ppid === process.pid && p.pid !== daemon.pid);
}

const ioniceOf = (pid: number): Promise<string> =>
  new Promise((resolve, reject) => execFile('ionice', ['-p', String(pid)], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));

async function priorityWhileRunning(priority: Priority, r: RemoteConfig = remote(), dest = daemon.modules['backup']!): Promise<{ nice: number; io: string; argv: readonly string[]; pid: number }> {
  const t = await tempDir('tss-prio-');
  cleanups.push(t.cleanup);
  for (const n of await readdir(dest)) await rm(join(dest, n), { recursive: true, force: true });
  // 400 KB at 100 KB/s: rsync runs about 4 s, long enough to be looked at.
  await writeFile(join(t.path, 'big.bin'), randomBytes(400 * 1024));
  const rsync: RsyncSettings = { commonParams: ['-rt', '--bwlimit=100'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined, priority };
  let argv: readonly string[] = [];
  const lane = new Lane({ remote: r, rsync, concurrency: 1, retries: 0, emit: (e) => (e.type === 'job-start' && e.argv ? (argv = e.argv) : undefined), debug: true });
  cleanups.push(() => lane.stop('abort'));
  const job = lane.run({ root: t.path, action: 'path', paths: ['big.bin'] });
  const child = await waitFor(async () => (await rsyncChildren())[0], 5000, 'the rsync child');
  const io = await ioniceOf(child.pid);
  await lane.stop('abort');
  await job;
  return { nice: child.nice, io, argv, pid: child.pid };
}

const ownNice = async (): Promise<number> => Number((await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ')[16]);

test('by default rsync runs at nice 10 and best-effort I/O level 7, set on rsync itself: no launcher exec for a daemon remote', async () => {
  const { nice, io, argv } = await priorityWhileRunning(DEFAULT_PRIORITY);
  assert.equal(nice, Math.min(19, (await ownNice()) + 10));
  assert.match(io, /best-effort: prio 7/);
  assert.equal(argv[0], 'rsync', `argv: ${argv.join(' ')}`);
});

test('other levels and the idle class are set the same way', async () => {
  const r = await priorityWhileRunning({ nice: 5, ionice: { kind: 'idle' } });
  assert.equal(r.nice, Math.min(19, (await ownNice()) + 5));
  assert.match(r.io, /^idle/);
  assert.equal(r.argv[0], 'rsync');
  const be = await priorityWhileRunning({ nice: 3, ionice: { kind: 'best-effort', level: 2 } });
  assert.match(be.io, /best-effort: prio 2/);
});

test('TSSERSYNC_PRIORITY_LAUNCHER=1: through nice and ionice, with the same result', async () => {
  process.env['TSSERSYNC_PRIORITY_LAUNCHER'] = '1';
  try {
    const { nice, io, argv } = await priorityWhileRunning(DEFAULT_PRIORITY);
    assert.equal(nice, Math.min(19, (await ownNice()) + 10));
    assert.match(io, /best-effort: prio 7/);
    assert.match(argv[0] ?? '', /(^|\/)nice$/, `argv: ${argv.join(' ')}`);
  } finally {
    delete process.env['TSSERSYNC_PRIORITY_LAUNCHER'];
  }
});

test('<priority nice="0"/> (off) leaves rsync at the daemon\'s own priority', async () => {
  const own = await ownNice();
  const { nice, io } = await priorityWhileRunning(NO_PRIORITY);
  assert.equal(nice, own);
  assert.doesNotMatch(io, /prio 7/);
});

test('over ssh: rsync leads a process group of its own, it and the ssh it forks run at the priority without launchers, and an abort ends both', async () => {
  const sshd: Sshd = await startSshd();
  cleanups.push(() => sshd.stop());
  const dst = await tempDir('tss-prio-ssh-');
  const t = await tempDir('tss-prio-');
  cleanups.push(dst.cleanup, t.cleanup);
  const r: RemoteConfig = { id: `${sshd.user}@127.0.0.1:${dst.path}`, host: '127.0.0.1', module: dst.path, mode: 'ssh', port: sshd.port, user: sshd.user, passwordFile: undefined, sshOptions: sshd.sshOptions };
  await writeFile(join(t.path, 'big.bin'), randomBytes(400 * 1024));
  const rsync: RsyncSettings = { commonParams: ['-rt', '--bwlimit=100'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined, priority: DEFAULT_PRIORITY };
  let argv: readonly string[] = [];
  const lane = new Lane({ remote: r, rsync, concurrency: 1, retries: 0, emit: (e) => (e.type === 'job-start' && e.argv ? (argv = e.argv) : undefined), debug: true });
  cleanups.push(() => lane.stop('abort'));
  const job = lane.run({ root: t.path, action: 'path', paths: ['big.bin'] });
  const child = await waitFor(async () => (await rsyncChildren())[0], 5000, 'the rsync child');
  const ssh = await waitFor(async () => (await processes()).find((p) => p.ppid === child.pid && p.comm === 'ssh'), 5000, 'the ssh rsync forked');
  const want = Math.min(19, (await ownNice()) + 10);
  assert.equal(argv[0], 'rsync', `argv: ${argv.join(' ')}`);
  assert.equal(child.pgrp, child.pid, 'rsync leads its own process group');
  assert.equal(ssh.pgrp, child.pid, 'ssh is in rsync\'s group');
  // Read again: the priority was set before this test could see either process, so these are final.
  const now = await processes();
  assert.equal(now.find((p) => p.pid === child.pid)?.nice, want);
  assert.equal(now.find((p) => p.pid === ssh.pid)?.nice, want);
  assert.match(await ioniceOf(child.pid), /best-effort: prio 7/);
  assert.match(await ioniceOf(ssh.pid), /best-effort: prio 7/);
  await lane.stop('abort');
  await job;
  await waitFor(async () => ((await processes()).some((p) => p.pgrp === child.pid) ? undefined : true), 5000, 'rsync and ssh both gone');
});
