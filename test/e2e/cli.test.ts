/** The built CLI as a subprocess, against a real rsync daemon. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readFile, chmod, rename, truncate, utimes } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor, waitForSameTree } from '../support/tree.js';
import { runCli, startCli, writeXml } from '../support/cli.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['backup', 'full', 'bg', 'replay', 'oldmtime'] });
  work = await tempDir('tss-e2e-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

async function setup(name: string, module: string, extra: Partial<Parameters<typeof writeXml>[1]> = {}) {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const conf = await writeXml(join(work.path, name, 'confxml.xml'), { src, state, daemon, module, ...extra });
  return { src, state, conf, dst: daemon.modules[module]! };
}

test('-h and --version exit 0; a bad flag exits 2 with one line', async () => {
  const h = await runCli(['-h']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage:/);
  const v = await runCli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const bad = await runCli(['-n', 'lots']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('--check accepts a good config and prints the effective settings', async () => {
  const { conf, src } = await setup('check', 'backup');
  const r = await runCli(['--check', '-o', conf]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(src));
  assert.ok(!r.stdout.includes(daemon.password), 'a secret was printed');
});

test('--check on broken configs: file, line, exit code, no stack trace', async () => {
  const { conf, src } = await setup('broken', 'backup');
  const good = await readFile(conf, 'utf8');
  const cases: { name: string; text: string; code: number; match: RegExp }[] = [
    { name: 'malformed', text: good.replace('</inotify>', '</inotfy>'), code: 3, match: /broken\.xml:\d+/ },
    { name: 'badport', text: good.replace(`port="${daemon.port}"`, 'port="8o73"'), code: 3, match: /:\d+.*8o73/ },
    { name: 'missingroot', text: good.replace(src, join(work.path, 'nope')), code: 4, match: /nope/ },
  ];
  for (const c of cases) {
    const f = join(work.path, 'broken', 'broken.xml');
    await writeFile(f, c.text);
    const r = await runCli(['--check', '-o', f]);
    assert.equal(r.code, c.code, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, c.match, c.name);
    assert.ok(!/\n\s+at /.test(r.stderr), `${c.name}: stack trace printed`);
  }
  const pas = join(work.path, 'broken', 'open.pas');
  await writeFile(pas, 'secret\n');
  await chmod(pas, 0o644);
  const f = join(work.path, 'broken', 'pas.xml');
  await writeFile(f, good.replace(daemon.passwordFile, pas));
  const r = await runCli(['--check', '-o', f]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /open\.pas/);
});

test('-r: full sync (with delete) once watching, then live; SIGTERM exits 0', async () => {
  const { src, conf, dst } = await setup('full', 'full');
  await mkdir(join(src, 'old/tree'), { recursive: true });
  await writeFile(join(src, 'old/tree/file'), 'existed before start');
  await writeFile(join(dst, 'stale-on-remote'), 'must go');
  const run = startCli(['-r', '-o', conf]);
  try {
    await waitForSameTree(src, dst, 20000);
    await writeFile(join(src, 'live.txt'), 'after start');
    await waitForSameTree(src, dst, 20000);
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.output());
});

test('-d: detaches with a pid file and a log file; SIGTERM stops it', async () => {
  const { src, conf, dst, state } = await setup('bg', 'bg');
  const r = await runCli(['-d', '-o', conf]);
  assert.equal(r.code, 0, r.stderr);
  const pidFile = join(state, 'tssersync.pid');
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  assert.ok(pid > 0);
  try {
    await writeFile(join(src, 'from-daemon.txt'), 'hello');
    await waitForSameTree(src, dst, 20000);
    const logFile = join(state, 'tssersync.log');
    assert.ok(existsSync(logFile));
    // logrotate's copytruncate: the file is opened for append, so the next lines start at byte 0
    // of the truncated file (no hole of NULs where the old content was).
    await truncate(logFile, 0);
    await writeFile(join(src, 'after-rotation.txt'), 'rotated');
    await waitForSameTree(src, dst, 20000);
    const rotated = await waitFor(async () => {
      const text = await readFile(logFile, 'utf8');
      return text.includes('landed') ? text : undefined;
    }, 10000, 'a log line after the truncation');
    assert.equal(rotated.charCodeAt(0), '{'.charCodeAt(0), 'JSON lines from byte 0, no NUL hole');
    for (const line of rotated.trim().split('\n')) JSON.parse(line);
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  await waitFor(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 15000, 'the daemon to exit');
  assert.ok(!existsSync(pidFile), 'pid file removed on stop');
});

test('--retry-log replays the failed list; exits 1 while anything is left', async () => {
  const { src, conf, dst, state } = await setup('replay', 'replay');
  await writeFile(join(src, 'was-failed.txt'), 'replay me');
  const log = join(state, 'fail.jsonl');
  const rec = { time: new Date().toISOString(), root: src, remote: `${daemon.user}@127.0.0.1::replay`, path: 'was-failed.txt', action: 'path', exitCode: 10, message: 'test', attempts: 1 };
  await writeFile(join(src, 'second.txt'), 'after the bad line');
  // A corrupt line in the middle and a truncated last line: reported, set aside, never fatal.
  const lines = [JSON.stringify(rec), 'not json at all', JSON.stringify({ ...rec, path: 'second.txt' }), '{"truncated'];
  await writeFile(log, lines.join('\n'), { mode: 0o600 });
  const ok = await runCli(['--retry-log', '-o', conf]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal(await readFile(join(dst, 'was-failed.txt'), 'utf8'), 'replay me');
  assert.equal(await readFile(join(dst, 'second.txt'), 'utf8'), 'after the bad line');
  assert.match(ok.stdout, /2 corrupt line\(s\)/);
  assert.equal((await readFile(log, 'utf8')).trim(), '');
  assert.match(await readFile(`${log}.corrupt`, 'utf8'), /not json at all/);

  await writeFile(log, `${JSON.stringify({ ...rec, remote: `${daemon.user}@127.0.0.1::no-such-module` })}\n`, { mode: 0o600 });
  const left = await runCli(['--retry-log', log, '-o', conf]);
  assert.equal(left.code, 1, left.stdout + left.stderr);
  assert.match((await readFile(log, 'utf8')), /no-such-module/);
});

test("stock -artuz: a file restored with an older mtime still replaces the backup copy (-u is dropped)", async () => {
  const { src, conf, dst } = await setup('oldmtime', 'oldmtime');
  const run = startCli(['-o', conf]);
  try {
    await waitFor(async () => {
      await writeFile(join(src, 'page.html'), 'current version');
      await new Promise((r) => setTimeout(r, 300));
      return existsSync(join(dst, 'page.html'));
    }, 20000, 'the first copy');
    // Restored from last year's backup (as tar x or cp -p then mv do): other bytes, an mtime
    // older than the remote copy's, arriving in one rename.
    const restored = join(work.path, 'oldmtime', 'restored.tmp');
    await writeFile(restored, 'restored version, longer');
    const lastYear = new Date(Date.now() - 365 * 86400_000);
    await utimes(restored, lastYear, lastYear);
    await rename(restored, join(src, 'page.html'));
    await waitForSameTree(src, dst, 20000);
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.output());
  const check = await runCli(['--check', '-o', conf]);
  assert.match(check.stdout, /-artz/, '--check shows the flags actually used');
});

test('a missing rsync: one line with the fix, the environment exit code, nothing watched', async () => {
  const { conf } = await setup('norsync', 'backup', { tssersync: `<rsyncBinary path="${join(work.path, 'norsync', 'no-such-rsync')}"/>` });
  for (const args of [['-o', conf], ['-r', '-o', conf], ['--retry-log', '-o', conf]]) {
    const r = await runCli(args);
    assert.equal(r.code, 4, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /rsync is not installed \(looked for ".*no-such-rsync"\): install it/);
    assert.ok(!/watching/.test(r.stdout + r.stderr), 'it watched without rsync');
    assert.ok(!/\n\s+at /.test(r.stderr), 'a stack trace was printed');
  }
});
