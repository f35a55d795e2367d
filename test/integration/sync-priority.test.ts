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

/** Our own rsync children: pid and nice value (field 19 of /proc/PID/stat). */
async function rsyncChildren(): Promise<{ pid: number; nice: number }[]> {
  const out: { pid: number; nice: number }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (comm === 'rsync' && Number(f[1]) === process.pid && Number(name) !== daemon.pid) out.push({ pid: Number(name), nice: Number(f[16]) });
  }
  return out;
}

const ioniceOf = (pid: number): Promise<string> =>
  new Promise((resolve, reject) => execFile('ionice', ['-p', String(pid)], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));

async function priorityWhileRunning(priority: Priority): Promise<{ nice: number; io: string; argv: readonly string[] }> {
  const t = await tempDir('tss-prio-');
  cleanups.push(t.cleanup);
  for (const n of await readdir(daemon.modules['backup']!)) await rm(join(daemon.modules['backup']!, n), { recursive: true, force: true });
  // 400 KB at 100 KB/s: rsync runs about 4 s, long enough to be looked at.
  await writeFile(join(t.path, 'big.bin'), randomBytes(400 * 1024));
  const rsync: RsyncSettings = { commonParams: ['-rt', '--bwlimit=100'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined, priority };
  let argv: readonly string[] = [];
  const lane = new Lane({ remote: remote(), rsync, concurrency: 1, retries: 0, emit: (e) => (e.type === 'job-start' && e.argv ? (argv = e.argv) : undefined), debug: true });
  cleanups.push(() => lane.stop('abort'));
  const job = lane.run({ root: t.path, action: 'path', paths: ['big.bin'] });
  const child = await waitFor(async () => (await rsyncChildren())[0], 5000, 'the rsync child');
  const io = await ioniceOf(child.pid);
  await lane.stop('abort');
  await job;
  return { nice: child.nice, io, argv };
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
