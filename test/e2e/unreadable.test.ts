/**
 * Unreadable is not deleted (issue 8.5): a directory made unreadable (chmod 000) stays on the
 * remote, live and through a full sync, and what failed is reported with its path and cause.
 *
 * chmod means nothing to root, so as root the CLI runs as `nobody` (spawn's uid/gid); as another
 * user it runs as that user. The rsync daemon is the test's own, as usual.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, sersyncXml } from '../support/cli.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const root = process.getuid?.() === 0;
/** nobody:nogroup on Debian-like systems. */
const AS = root ? { uid: 65534, gid: 65534 } : undefined;

function cli(args: readonly string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(AS ?? {}) });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return { child, exited, output: () => out };
}

async function records(log: string): Promise<{ path: string; message: string }[]> {
  if (!existsSync(log)) return [];
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { path: string; message: string });
}

test('a directory made unreadable (chmod 000) stays on the remote, live and through a full sync; the failure names path and cause', { skip: process.platform !== 'linux' && 'needs Linux permissions' }, async () => {
  const daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
  const base = await tempDir('tss-unreadable-');
  cleanups.push(base.cleanup);
  const src = join(base.path, 'src');
  const state = join(base.path, 'state');
  await mkdir(join(src, 'locked', 'sub'), { recursive: true });
  await mkdir(state);
  await writeFile(join(src, 'locked', 'a'), 'alpha');
  await writeFile(join(src, 'locked', 'sub', 'b'), 'beta');
  await writeFile(join(src, 'top'), 'top');
  // The client's password file must be readable by the CLI's user and by nobody else.
  const pas = join(base.path, 'client.pas');
  await writeFile(pas, `${daemon.password}\n`, { mode: 0o600 });
  if (AS) {
    for (const p of [base.path, src, join(src, 'locked'), join(src, 'locked', 'sub'), join(src, 'locked', 'a'), join(src, 'locked', 'sub', 'b'), join(src, 'top'), state, pas]) {
      await chown(p, AS.uid, AS.gid);
    }
  }
  const conf = join(base.path, 'confxml.xml');
  const log = join(state, 'fail.jsonl');
  await writeFile(conf, sersyncXml({ src, state, daemon: { ...daemon, passwordFile: pas }, tssersync: '<retry count="0"/>' }));
  const dst = daemon.modules['backup']!;
  cleanups.push(() => chmod(join(src, 'locked'), 0o755));

  let run = cli(['-o', conf, '-r']);
  cleanups.push(async () => void run.child.kill('SIGKILL'));
  await waitFor(() => existsSync(join(dst, 'locked', 'sub', 'b')) && existsSync(join(dst, 'top')), 20000, `the first full sync\n${run.output()}`);

  // Live: a change inside, then the directory locked before the watcher looks at it.
  await appendFile(join(src, 'locked', 'a'), '+more');
  await chmod(join(src, 'locked'), 0o000);
  await waitFor(async () => (await records(log)).find((r) => r.path.startsWith('locked')), 20000, `the failure in the replay log\n${run.output()}`);
  const live = (await records(log)).find((r) => r.path.startsWith('locked'))!;
  assert.match(live.message, /Permission denied/, 'the cause is named');
  assert.equal(await readRemote(dst, 'locked/a'), 'alpha', 'kept on the remote (the old copy, not deleted)');
  assert.equal(await readRemote(dst, 'locked/sub/b'), 'beta');

  // A full sync with --delete over the unreadable directory: rsync's I/O error holds its deletes back.
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output());
  await writeFile(join(src, 'new'), 'new');
  if (AS) await chown(join(src, 'new'), AS.uid, AS.gid);
  run = cli(['-o', conf, '-r']);
  await waitFor(async () => (await records(log)).some((r) => r.path === ''), 30000, `the full sync's failure in the replay log\n${run.output()}`);
  assert.ok(existsSync(join(dst, 'new')), 'what could be read was sent');
  assert.equal(await readRemote(dst, 'locked/a'), 'alpha', 'kept through the full sync');
  assert.equal(await readRemote(dst, 'locked/sub/b'), 'beta');
  assert.match(run.output(), /locked.*Permission denied|Permission denied.*locked/, `the path and the cause are reported\n${run.output()}`);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output());
});

/**
 * A file of the receiver's copy. rsync mirrors the mode, so the remote's `locked` may be 000 too:
 * root reads it anyway; a normal user running the tests (the daemon runs as that user) opens it for
 * the read and puts the mode back.
 */
async function readRemote(dst: string, rel: string): Promise<string> {
  if (process.getuid?.() === 0) return readFile(join(dst, rel), 'utf8');
  const dir = join(dst, rel.split('/')[0]!);
  const mode = (await stat(dir)).mode & 0o7777;
  await chmod(dir, mode | 0o700);
  try {
    return await readFile(join(dst, rel), 'utf8');
  } finally {
    await chmod(dir, mode);
  }
}
