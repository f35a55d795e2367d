/**
 * Plugins end to end: the built CLI with a real rsync daemon, a real webhook server, the argv
 * recorder as the command, and a real TCP listener; `-m` with no rsync daemon at all.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WebhookBody } from '../../src/hooks/http.js';
import { parseLine } from '../../src/hooks/socket-framing.js';
import { runCli, startCli, writeXml } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { AWKWARD_NAMES, tempDir, waitFor, waitForSameTree } from '../support/tree.js';
import { httpRecorder, LineListener } from '../fixtures/hooks/servers.js';

const RECORDER = fileURLToPath(new URL('../fixtures/hooks/argv-recorder.mjs', import.meta.url));

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['both', 'replay'] });
  work = await tempDir('tss-e2e-plugins-');
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await daemon.stop();
  await work.cleanup();
});

async function dirs(name: string) {
  const base = join(work.path, name);
  const src = join(base, 'src');
  const state = join(base, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  return { base, src, state, conf: join(base, 'confxml.xml'), replayLog: join(state, 'fail.jsonl') };
}

/** A command block running the argv recorder: each run appends {argv: [PATH, "--end"]} to `out`. */
function commandBlock(out: string): string {
  return `
  <plugin name="command">
    <param prefix="${process.execPath} ${RECORDER} ${out} 0 0" suffix="--end" ignoreError="false"/>
  </plugin>`;
}

async function argvPaths(out: string): Promise<string[]> {
  const text = await readFile(out, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { phase: string; argv: string[] })
    .filter((l) => l.phase === 'end')
    .map((l) => {
      assert.equal(l.argv.length, 2, `one word for the path, then the suffix: ${JSON.stringify(l.argv)}`);
      assert.equal(l.argv[1], '--end');
      return l.argv[0]!;
    });
}

function webhookItems(srv: { requests: ReadonlyArray<{ body: string }> }): WebhookBody['items'][number][] {
  return srv.requests.flatMap((r) => (JSON.parse(r.body) as WebhookBody).items);
}

async function pwned(dirsToCheck: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.name.startsWith('PWNED')) found.push(join(d, e.name));
      else if (e.isDirectory()) await walk(join(d, e.name));
    }
  }
  for (const d of dirsToCheck) await walk(d);
  return found;
}

/**
 * Resolves once `read` has returned the same value for `quietMs`: a file is written as a create and
 * then a close, which may land as two batches, and a batch still queued at SIGTERM goes to the
 * replay log (by design); so a test that checks the log stays quiet first.
 */
async function quiet(read: () => Promise<unknown> | unknown, quietMs = 1500, timeoutMs = 20000): Promise<void> {
  let last = JSON.stringify(await read());
  let since = Date.now();
  await waitFor(async () => {
    const now = JSON.stringify(await read());
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= quietMs;
  }, timeoutMs, 'the plugin to go quiet');
}

async function started(run: ReturnType<typeof startCli>): Promise<void> {
  await waitFor(() => /watching \d+ root/.test(run.output()), 15000, `the CLI to start watching:\n${run.output()}`);
}

async function stop(run: ReturnType<typeof startCli>): Promise<void> {
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output());
}

test('command + http together: awkward names reach the rsync destination, the argv and the webhook intact; nothing runs', async () => {
  const d = await dirs('both');
  const argvOut = join(d.base, 'argv.jsonl');
  const hook = await httpRecorder();
  cleanups.push(hook.close);
  await writeXml(d.conf, {
    src: d.src,
    state: d.state,
    daemon,
    module: 'both',
    sersyncExtra: '\n    <plugin start="true" name="command"/>\n    <plugin start="true" name="http"/>',
    headExtra: `${commandBlock(argvOut)}
  <plugin name="http">
    <webhook url="${hook.url}/hook?token=t" timeout="5000"/>
    <header name="X-Test" value="e2e"/>
  </plugin>`,
  });
  const run = startCli(['-o', d.conf], { TSSERSYNC_DEBUG: '1' });
  try {
    await started(run);
    for (const [i, n] of AWKWARD_NAMES.entries()) await writeFile(join(d.src, n), `content ${i}\n`);
    const dst = daemon.modules['both']!;
    await waitForSameTree(d.src, dst, 30000);

    const want = AWKWARD_NAMES.map((n) => join(d.src, n)).sort();
    const got = await waitFor(async () => {
      const p = [...new Set(await argvPaths(argvOut))].sort();
      return want.every((w) => p.includes(w)) ? p : undefined;
    }, 20000, 'every path in the command argv');
    assert.deepEqual(got, want, 'each name is one argv word, byte for byte, and nothing else ran');

    await waitFor(() => AWKWARD_NAMES.every((n) => webhookItems(hook).some((i) => i.path === n)), 20000, 'every path at the webhook');
    for (const n of AWKWARD_NAMES) {
      const it = webhookItems(hook).find((i) => i.path === n);
      assert.deepEqual(it, { path: n, absolute: join(d.src, n), kind: 'file' });
    }
    for (const r of hook.requests) {
      assert.equal(r.url, '/hook?token=t');
      assert.equal(r.headers['x-test'], 'e2e');
      const body = JSON.parse(r.body) as WebhookBody;
      assert.equal(body.root, d.src);
      assert.deepEqual(body.remotes, [`${daemon.user}@127.0.0.1::both`]);
    }
  } finally {
    await stop(run);
  }
  assert.deepEqual(await pwned([d.base, daemon.modules['both']!, process.cwd()]), []);
});

test('a webhook that answers 500: replication unaffected, paths end in the replay log as hook:http, --retry-log delivers them', async () => {
  const d = await dirs('replay');
  let failing = true;
  const hook = await httpRecorder(() => (failing ? { status: 500, body: 'down for maintenance' } : { status: 200 }));
  cleanups.push(hook.close);
  await writeXml(d.conf, {
    src: d.src,
    state: d.state,
    daemon,
    module: 'replay',
    // One retry keeps the backoff (1-2 s) short; the default is 3.
    tssersync: '\n    <retry count="1"/>',
    sersyncExtra: '\n    <plugin start="true" name="http"/>',
    headExtra: `
  <plugin name="http">
    <webhook url="${hook.url}/hook" timeout="3000"/>
  </plugin>`,
  });
  const names = ['a.txt', 'semi;touch PWNED_semi.txt', 'new\nline.txt', '$(touch PWNED_dollar).txt'];
  const run = startCli(['-o', d.conf]);
  try {
    await started(run);
    for (const n of names) await writeFile(join(d.src, n), n);
    await waitForSameTree(d.src, daemon.modules['replay']!, 30000);

    const records = await waitFor(async () => {
      const lines = (await readFile(d.replayLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      const recs = lines.map((l) => JSON.parse(l) as { remote: string; path: string; root: string; message: string });
      return names.every((n) => recs.some((r) => r.path === n)) ? recs : undefined;
    }, 30000, 'the failed paths in the replay log');
    assert.ok(records.every((r) => r.remote === 'hook:http' && r.root === d.src), JSON.stringify(records));
    assert.ok(records.every((r) => /replied 500/.test(r.message)));
    assert.deepEqual([...new Set(records.map((r) => r.path))].sort(), [...names].sort());
    // At least the first attempt and one retry; the rsync side never went to the replay log.
    assert.ok(hook.requests.length >= 2, `${hook.requests.length} webhook attempts`);
  } finally {
    await stop(run);
  }

  failing = false;
  const before = hook.requests.length;
  const replay = await runCli(['--retry-log', '-o', d.conf]);
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  const delivered = hook.requests.slice(before).flatMap((r) => (JSON.parse(r.body) as WebhookBody).items);
  // A path that landed twice (create, then close) may have failed twice: delivered at least once.
  assert.deepEqual([...new Set(delivered.map((i) => i.path))].sort(), [...names].sort());
  assert.ok(delivered.every((i) => i.kind === 'file' && i.absolute === join(d.src, i.path)));
  for (const r of hook.requests.slice(before)) {
    assert.deepEqual((JSON.parse(r.body) as WebhookBody).remotes, [`${daemon.user}@127.0.0.1::replay`], 'the root\'s remotes, not the replay record id');
  }
  assert.equal((await readFile(d.replayLog, 'utf8')).trim(), '', 'the replay log is empty');
  assert.deepEqual(await pwned([d.base, daemon.modules['replay']!, process.cwd()]), []);
});

test('-m command and -m socket: no rsync daemon; changes under the plugin\'s own root reach it; rsync is never tried', async () => {
  const d = await dirs('plugin-only');
  const sockRoot = join(d.base, 'sockroot');
  await mkdir(sockRoot, { recursive: true });
  // Where the config's rsync daemon would be: a listener that only counts connections.
  let rsyncConnections = 0;
  const fakeRsyncPort = await freePort();
  const fake = createServer((s: Socket) => (rsyncConnections++, s.destroy()));
  await new Promise<void>((r) => fake.listen(fakeRsyncPort, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => fake.close(() => r())));
  const pas = join(d.base, 'rsync.pas');
  await writeFile(pas, 'unused\n', { mode: 0o600 });
  const noDaemon: RsyncDaemon = { ...daemon, port: fakeRsyncPort, passwordFile: pas };
  const listener = new LineListener(await freePort());
  await listener.start();
  cleanups.push(() => listener.stop());
  const argvOut = join(d.base, 'argv.jsonl');
  await writeXml(d.conf, {
    src: d.src,
    state: d.state,
    daemon: noDaemon,
    // A missing rsync binary: any attempt to run rsync would fail loudly.
    tssersync: `\n    <rsyncBinary path="${join(d.base, 'no-such-rsync')}"/>`,
    headExtra: `${commandBlock(argvOut)}
  <plugin name="socket">
    <localpath watch="${sockRoot}">
      <deshost ip="127.0.0.1" port="${listener.port}"/>
    </localpath>
  </plugin>`,
  });

  // -m command: the command plugin is not started in <sersync>, and watches the first root.
  const cmd = startCli(['-m', 'command', '-o', d.conf]);
  try {
    await started(cmd);
    const names = ['plain.txt', 'back`touch PWNED_bt`tick.txt', 'new\nline.txt', '-leading-dash.txt'];
    for (const n of names) await writeFile(join(d.src, n), n);
    const want = names.map((n) => join(d.src, n)).sort();
    await waitFor(async () => {
      const p = await argvPaths(argvOut);
      return want.every((w) => p.includes(w));
    }, 20000, 'the command to see every path');
    await quiet(() => readFile(argvOut, 'utf8'));
    assert.deepEqual([...new Set(await argvPaths(argvOut))].sort(), want);
  } finally {
    await stop(cmd);
  }

  // -m socket: its own watch root; the sersync root is not watched.
  const sock = startCli(['-m', 'socket', '-o', d.conf]);
  try {
    await started(sock);
    await writeFile(join(d.src, 'not-watched-here.txt'), 'x');
    const names = ['s1.txt', 'with space.txt', 'new\nline.txt', 'dq"uote.txt'];
    for (const n of names) await writeFile(join(sockRoot, n), n);
    const want = names.map((n) => join(sockRoot, n));
    await waitFor(() => want.every((w) => listener.lines.map(parseLine).includes(w)), 20000, 'every path at the socket listener');
    await quiet(() => listener.lines.length);
    const got = new Set(listener.lines.map(parseLine));
    assert.deepEqual([...got].filter((p) => p !== sockRoot).sort(), [...want].sort(), 'only paths under the plugin root, each intact');
  } finally {
    await stop(sock);
  }

  assert.equal(rsyncConnections, 0, 'nothing was attempted over rsync');
  const log = await readFile(d.replayLog, 'utf8').catch(() => '');
  assert.equal(log.trim(), '', 'nothing failed');
  assert.deepEqual(await pwned([d.base, process.cwd()]), []);
});

test('-m http replays its own hook records at start (no --retry-log needed) and leaves rsync records untouched', async () => {
  const d = await dirs('plugin-only-replay');
  const hook = await httpRecorder(() => ({ status: 200 }));
  cleanups.push(hook.close);
  await writeXml(d.conf, {
    src: d.src,
    state: d.state,
    daemon,
    module: 'replay',
    headExtra: `
  <plugin name="http">
    <webhook url="${hook.url}/hook" timeout="3000"/>
  </plugin>`,
  });
  const name = 'left by -m $(touch PWNED_m).txt';
  await writeFile(join(d.src, name), 'delivered late');
  // What an earlier `-m http` left (webhook down) and what an earlier rsync run left (daemon down).
  const hookRecord = { time: '2026-11-29T10:00:00.000Z', root: d.src, remote: 'hook:http', path: name, action: 'path', exitCode: null, message: 'webhook replied 503', attempts: 4 };
  const rsyncLine = JSON.stringify({ time: '2026-11-29T10:00:01.000Z', root: d.src, remote: `${daemon.user}@127.0.0.1::replay`, path: 'kept.txt', action: 'path', exitCode: 10, message: 'connection refused', attempts: 4 });
  await writeFile(d.replayLog, `${JSON.stringify(hookRecord)}\n${rsyncLine}\n`, { mode: 0o600 });

  const run = startCli(['-m', 'http', '-o', d.conf]);
  try {
    await started(run);
    await waitFor(() => webhookItems(hook).some((i) => i.path === name), 15000, 'the -m process to deliver the old hook record by itself');
    await waitFor(async () => (await readFile(d.replayLog, 'utf8')) === `${rsyncLine}\n`, 10000, 'the log to keep only the rsync record, byte for byte');
  } finally {
    await stop(run);
  }
  assert.equal(await readFile(d.replayLog, 'utf8'), `${rsyncLine}\n`);
  assert.deepEqual(await pwned([d.base, process.cwd()]), []);
});
