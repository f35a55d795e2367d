/**
 * Alerts against real parts: the engine with the real watcher and a real rsync daemon that goes
 * down, the status sink raising alerts, and a real HTTP server as the alert webhook. An outage
 * with many failed jobs is one `remote-failing` and one `remote-back`, in that order.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine.js';
import type { Emit, EngineEvent } from '../../src/events.js';
import type { HttpPluginConfig } from '../../src/config/types.js';
import { StatusService } from '../../src/status/service.js';
import { AlertHooks, alertsFile, type AlertPayload } from '../../src/hooks/alerts.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { makeConfig, daemonRemote } from '../support/config.js';
import { tempDir, waitFor } from '../support/tree.js';
import { httpRecorder } from '../fixtures/hooks/servers.js';

let daemon: RsyncDaemon;
let work: { path: string; cleanup: () => Promise<void> };
const fast = { min: 20, max: 100 };

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['alerts'] });
  work = await tempDir('tss-alerts-');
});
after(async () => {
  await daemon.stop();
  await work.cleanup();
});

test('an outage with many failed jobs sends exactly one remote-failing and one remote-back alert to the webhook, not a batch', async () => {
  const hook = await httpRecorder();
  const src = join(work.path, 'src');
  const state = join(work.path, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(state, { recursive: true });
  const plugin: HttpPluginConfig = { kind: 'http', watch: undefined, url: `${hook.url}/alerts`, headers: { 'X-Team': 'ops' }, timeoutMs: 2000, events: 'alerts' };
  const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'alerts')] }], { plugins: [plugin], retries: 1 });
  const events: EngineEvent[] = [];
  let status: StatusService | undefined;
  let alerts: AlertHooks | undefined;
  const emit: Emit = (e) => {
    events.push(e);
    status?.see(e);
    alerts?.see(e);
  };
  status = new StatusService(config, emit);
  alerts = new AlertHooks(config, { emit, retryDelayMs: fast });
  const engine = new Engine(config, { emit, retryDelayMs: fast });
  await engine.start();
  const dst = daemon.modules['alerts']!;
  const payloads = () => hook.requests.map((r) => JSON.parse(r.body) as AlertPayload);
  try {
    await writeFile(join(src, 'first.txt'), 'first');
    await waitFor(() => existsSync(join(dst, 'first.txt')), 20000, 'first file');

    await daemon.kill();
    const gaveUp = () => events.filter((e) => e.type === 'job-failed' && !e.willRetry).length;
    // Many failed jobs: each file is written once the previous job has given up.
    for (let i = 0; i < 6; i++) {
      const before = gaveUp();
      await writeFile(join(src, `down-${i}.txt`), `down ${i}`);
      await waitFor(() => gaveUp() > before, 20000, `job ${i} to fail`);
    }
    await waitFor(() => payloads().some((p) => p.event === 'remote-failing'), 10000, 'the failing alert');

    await daemon.restart();
    await writeFile(join(src, 'back.txt'), 'back');
    await waitFor(() => payloads().some((p) => p.event === 'remote-back'), 30000, 'the back alert');
    await waitFor(async () => existsSync(join(dst, 'down-5.txt')) && status!.report().current, 30000, 'replayed and current');

    const got = payloads().filter((p) => p.alert === 'remote-failing');
    assert.deepEqual(got.map((p) => [p.event, p.subject, p.active, p.replayed]), [
      ['remote-failing', config.roots[0]!.remotes[0]!.id, true, false],
      ['remote-back', config.roots[0]!.remotes[0]!.id, false, false],
    ]);
    assert.ok(gaveUp() >= 6, `${gaveUp()} failed jobs`);
    assert.match(got[0]!.message, /failing/);
    assert.ok(Date.parse(got[0]!.time) <= Date.parse(got[1]!.time));
    assert.equal(hook.requests[0]!.headers['x-team'], 'ops');
    assert.ok(hook.requests.every((r) => r.url === '/alerts'));
    assert.ok(!hook.requests.some((r) => 'items' in (JSON.parse(r.body) as object)), 'events="alerts": no batches');
    assert.equal(await readFile(join(dst, 'down-0.txt'), 'utf8'), 'down 0');
  } finally {
    await engine.stop('test');
    await alerts.close();
    await status.close();
    await hook.close();
  }
});

test('an alert the webhook refuses is retried, kept in alerts.jsonl, and replayed later with its original time', async () => {
  let up = false;
  const hook = await httpRecorder(() => ({ status: up ? 200 : 503 }));
  const state = join(work.path, 'state-replay');
  await mkdir(state, { recursive: true });
  const plugin: HttpPluginConfig = { kind: 'http', watch: undefined, url: hook.url, headers: {}, timeoutMs: 2000, events: 'both' };
  const config = makeConfig(state, [], { plugins: [plugin], retries: 2 });
  const events: EngineEvent[] = [];
  const alerts = new AlertHooks(config, { emit: (e) => events.push(e), retryDelayMs: fast });
  const at = Date.UTC(2026, 0, 2, 3, 4, 5);
  try {
    alerts.see({ type: 'alert', level: 'error', message: 'remote x is failing: exit code 10', alert: 'remote-failing', subject: 'x', active: true, at });
    await waitFor(() => existsSync(alertsFile(state)) && events.some((e) => e.type === 'hook' && !e.ok && e.level === 'error'), 10000, 'given up');
    assert.equal(hook.requests.length, 3, 'first try and two retries');
    up = true;
    assert.deepEqual(await alerts.replayNow(), { replayed: 1, left: 0 });
    const last = JSON.parse(hook.requests.at(-1)!.body) as AlertPayload;
    assert.equal(last.replayed, true);
    assert.equal(last.time, new Date(at).toISOString());
    assert.match(last.message, /happened at 2026-01-02T03:04:05.000Z; replayed/);
    assert.deepEqual(await alerts.replayNow(), { replayed: 0, left: 0 });
  } finally {
    await alerts.close();
    await hook.close();
  }
});

test('the command plugin with events="alerts" runs PREFIX EVENT SUBJECT MESSAGE as argv words, no shell', async () => {
  const out = join(work.path, 'argv.jsonl');
  const recorder = join(import.meta.dirname, '../fixtures/hooks/argv-recorder.mjs');
  const state = join(work.path, 'state-command');
  await mkdir(state, { recursive: true });
  const config = makeConfig(state, [], {
    plugins: [{ kind: 'command', events: 'alerts', prefix: [process.execPath, recorder, out, '0', '0'], suffix: [], ignoreError: true, include: [], concurrency: 1, timeoutMs: 5000 }],
  });
  const alerts = new AlertHooks(config, { emit: () => {}, retryDelayMs: fast });
  try {
    const message = 'replication of /srv/a b is halted: rootMissing; $(touch /tmp/x) `id`';
    alerts.see({ type: 'alert', level: 'error', message, alert: 'root-halted', subject: '/srv/a b', active: true, at: Date.now() });
    alerts.see({ type: 'alert', level: 'info', message: 'resumed', alert: 'root-halted', subject: '/srv/a b', active: false, at: Date.now() });
    const lines = await waitFor(async () => {
      const l = existsSync(out) ? (await readFile(out, 'utf8')).trim().split('\n').map((x) => JSON.parse(x) as { phase: string; argv: string[] }).filter((x) => x.phase === 'end') : [];
      return l.length >= 2 ? l : undefined;
    }, 10000, 'two alert commands');
    assert.deepEqual(lines.map((l) => l.argv), [['root-halted', '/srv/a b', message], ['root-resumed', '/srv/a b', 'resumed']]);
  } finally {
    await alerts.close();
  }
});
