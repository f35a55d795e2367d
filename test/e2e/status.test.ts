/**
 * Issue 10: `tssersync status` and the metrics, end to end — the built CLI as a subprocess, a real
 * rsync daemon that goes down and comes back. Asserts on the daemon's answer (exit code, JSON) and
 * on the destination's bytes, waiting for conditions.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { runCli, startCli, writeXml, type XmlOptions } from '../support/cli.js';
import { tempDir, waitFor } from '../support/tree.js';
import { freePort } from '../support/net.js';
import type { StatusReport } from '../../src/status/report.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
const running: Array<ReturnType<typeof startCli>> = [];

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['st', 'prog'] });
  work = await tempDir('tss-status-');
});
after(async () => {
  for (const r of running) r.child.kill('SIGKILL');
  await daemon.stop();
  await work.cleanup();
});

async function setup(name: string, extra: Partial<XmlOptions> = {}) {
  const src = join(work.path, name, 'src');
  const state = join(work.path, name, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const conf = await writeXml(join(work.path, name, 'confxml.xml'), { src, state, daemon, module: name, tssersync: '\n    <retry count="1"/>', ...extra });
  return { src, state, conf, dst: daemon.modules[name]! };
}

async function status(conf: string): Promise<{ code: number | null; report: StatusReport | undefined; stdout: string; stderr: string }> {
  const r = await runCli(['status', '-o', conf, '--json']);
  let report: StatusReport | undefined;
  try {
    const parsed = JSON.parse(r.stdout) as StatusReport;
    if (parsed.channels) report = parsed;
  } catch {
    // not running: no report
  }
  return { ...r, report };
}

/** One sample of a metric, by its labels (`{}` for none). */
async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function healthz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
}

async function live(src: string, dst: string): Promise<void> {
  let n = 0;
  await waitFor(async () => {
    if (existsSync(join(dst, '.probe'))) return true;
    if (n++ % 10 === 0) await writeFile(join(src, '.probe'), 'probe');
    return false;
  }, 20000, 'the first file to replicate');
}

test('status and /metrics: not running (exit 5), idle (lag 0, exit 0), remote down (failing with its cause, lag grows, remote_up 0, exit 1, 503), back (lag 0, exit 0, 200)', async () => {
  const port = await freePort();
  const { src, state, conf, dst } = await setup('st', { tssersync: `\n    <retry count="1"/>\n    <metrics listen="127.0.0.1:${port}"/>` });
  const R = { remote: 'tsuser@127.0.0.1::st' };
  const RR = { root: src, ...R };
  const none = await status(conf);
  assert.equal(none.code, 5, `no daemon: exit 5\n${none.stderr}`);
  assert.match(none.stderr, /not running/);

  const run = startCli(['--foreground', '-o', conf]);
  running.push(run);
  await live(src, dst);

  const idle = await waitFor(async () => {
    const s = await status(conf);
    return s.code === 0 && s.report?.channels[0]?.state === 'live' ? s : undefined;
  }, 15000, 'status current');
  const ch = idle.report!.channels[0]!;
  assert.equal(ch.lagSeconds, 0);
  assert.equal(ch.remote, 'tsuser@127.0.0.1::st');
  assert.ok(ch.jobsOk >= 1);
  assert.ok(ch.bytesSent > 0, 'bytes sent from rsync stats');
  assert.equal((await stat(join(state, 'status.sock'))).mode & 0o777, 0o600, 'owner only');
  const table = await runCli(['status', '-o', conf]);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /ROOT\s+REMOTE\s+STATE\s+LAG/);
  assert.match(table.stdout, /all remotes current/);
  assert.equal(await metric(port, 'tssersync_lag_seconds', RR), 0);
  assert.equal(await metric(port, 'tssersync_remote_up', R), 1);
  assert.equal(await metric(port, 'tssersync_pending_paths', RR), 0);
  assert.ok((await metric(port, 'tssersync_jobs_total', { ...R, result: 'ok' }))! >= 1);
  assert.ok((await metric(port, 'tssersync_bytes_sent_total', R))! > 0);
  assert.equal(await metric(port, 'tssersync_root_halted', { root: src }), 0);
  assert.equal(await metric(port, 'tssersync_watcher_restarts_total', { root: src }), 0);
  assert.ok((await metric(port, 'tssersync_inotify_watches'))! >= 1);
  assert.ok((await metric(port, 'process_resident_memory_bytes'))! > 0, 'default process metrics');
  assert.equal(await healthz(port), 200);

  await daemon.kill();
  for (let i = 0; i < 5; i++) await writeFile(join(src, `down-${i}.txt`), `down ${i}`);
  const down = await waitFor(async () => {
    const s = await status(conf);
    return s.code === 1 && s.report?.channels[0]?.state === 'failing' ? s : undefined;
  }, 30000, 'status failing');
  const failing = down.report!.channels[0]!;
  assert.match(failing.reason ?? '', /exit code|socket|connection/i, `the cause: ${failing.reason}`);
  assert.ok(failing.since !== null && failing.since <= Date.now());
  assert.equal(down.report!.remotes[0]!.up, false);
  assert.ok(down.report!.problems.some((p) => p.kind === 'remote-failing'));
  const lag1 = failing.lagSeconds;
  const later = await waitFor(async () => {
    const s = await status(conf);
    const lag = s.report?.channels[0]?.lagSeconds ?? 0;
    return lag >= lag1 + 1.5 ? s : undefined;
  }, 15000, 'lag to grow');
  assert.equal(later.code, 1);
  assert.ok(later.report!.channels[0]!.replayRecords + later.report!.channels[0]!.pending + later.report!.channels[0]!.inFlight > 0);
  assert.equal(await metric(port, 'tssersync_remote_up', R), 0);
  assert.ok((await metric(port, 'tssersync_lag_seconds', RR))! > 1);
  assert.ok((await metric(port, 'tssersync_jobs_total', { ...R, result: 'failed' }))! >= 1);
  assert.equal(await healthz(port), 503);

  await daemon.restart();
  await writeFile(join(src, 'back.txt'), 'back');
  const t0 = Date.now();
  const back = await waitFor(async () => {
    const s = await status(conf);
    return s.code === 0 && s.report?.channels[0]?.lagSeconds === 0 ? s : undefined;
  }, 40000, 'status current again, lag 0');
  assert.equal(back.report!.channels[0]!.lagSeconds, 0);
  assert.equal(back.report!.channels[0]!.state, 'live');
  assert.ok(Date.now() - t0 < 40000);
  for (let i = 0; i < 5; i++) assert.equal(await readFile(join(dst, `down-${i}.txt`), 'utf8'), `down ${i}`);
  assert.equal(await metric(port, 'tssersync_remote_up', R), 1);
  assert.equal(await metric(port, 'tssersync_lag_seconds', RR), 0);
  assert.equal(await metric(port, 'tssersync_replay_records', R), 0);
  assert.equal(await healthz(port), 200);

  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);
  assert.ok(!existsSync(join(state, 'status.sock')), 'the socket is removed at stop');
  assert.equal((await status(conf)).code, 5);
});

test('status during -r: progress rises to the local count of the source (a user -v in commonParams changes nothing), then lastFullSync holds the total', async () => {
  const { src, conf, dst } = await setup('prog');
  // ~6 MB of incompressible data at 1 MB/s: the full sync lasts long enough to be watched.
  const { randomBytes } = await import('node:crypto');
  let entries = 1;
  let size = 0;
  for (let d = 0; d < 12; d++) {
    await mkdir(join(src, `d${d}`));
    entries++;
    for (let f = 0; f < 50; f++) {
      const body = randomBytes(10_000);
      await writeFile(join(src, `d${d}`, `f${f}.bin`), body);
      entries++;
      size += body.length;
    }
  }
  const xml = await readFile(conf, 'utf8');
  await writeFile(conf, xml.replace('<commonParams params="-artuz"/>', '<commonParams params="-artv --bwlimit=1000"/>'));
  const run = startCli(['-r', '--foreground', '-o', conf]);
  running.push(run);
  const seen: { files: number; bytes: number; filesTotal: number | null }[] = [];
  const done = await waitFor(async () => {
    const s = await status(conf);
    const c = s.report?.channels[0];
    if (c?.progress) seen.push({ files: c.progress.files, bytes: c.progress.bytes, filesTotal: c.progress.filesTotal });
    return c?.lastFullSync && c.state === 'live' ? c : undefined;
  }, 60000, 'the full sync to end');
  assert.ok(seen.length >= 2, `progress seen ${seen.length} time(s) while it ran`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.files >= seen[i - 1]!.files && seen[i]!.bytes >= seen[i - 1]!.bytes, 'never goes back');
  assert.ok(seen.some((p) => p.filesTotal === entries), `the total is the local count (${entries}): ${JSON.stringify(seen.slice(-3))}`);
  assert.ok(seen.some((p) => p.files > 0 && p.files < entries), 'seen part way');
  const last = done.lastFullSync!;
  assert.equal(last.ok, true);
  assert.equal(last.progress.files, entries, 'rises to the total');
  assert.equal(last.progress.filesTotal, entries);
  assert.equal(last.progress.bytesTotal, size);
  assert.ok(last.progress.bytes >= size, `${last.progress.bytes} bytes sent of ${size}`);
  assert.equal(await readFile(join(dst, 'd11', 'f49.bin')).then((b) => b.length), 10_000);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);
});
