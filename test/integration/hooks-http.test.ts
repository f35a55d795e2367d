import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, test } from 'node:test';
import type { HttpPluginConfig } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { HookError } from '../../src/errors.js';
import { createHook } from '../../src/hooks/index.js';
import type { WebhookBody } from '../../src/hooks/http.js';
import { HookRunner } from '../../src/hooks/runner.js';
import type { LandedBatch, LandedItem } from '../../src/hooks/types.js';
import { httpRecorder } from '../fixtures/hooks/servers.js';
import { freePort } from '../support/net.js';
import { AWKWARD_NAMES, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const item = (rel: string, state: LandedItem['state'] = 'file', root = '/site'): LandedItem => ({ path: rel, absolute: `${root}/${rel}`, state });
const batch = (items: LandedItem[], time = Date.now()): LandedBatch => ({ root: '/site', remotes: ['u@127.0.0.1::m', '10.0.0.2::www'], time, items });

function plugin(url: string, over: Partial<HttpPluginConfig> = {}): HttpPluginConfig {
  return { kind: 'http', watch: undefined, url, headers: {}, timeoutMs: 5000, ...over };
}

async function recorder(reply?: Parameters<typeof httpRecorder>[0]) {
  const srv = await httpRecorder(reply);
  cleanups.push(srv.close);
  return srv;
}

test('http: one JSON POST per batch with root, remotes, ISO time and every item; awkward names intact', async () => {
  const srv = await recorder();
  const hook = createHook(plugin(`${srv.url}/hook?token=abc`, { headers: { Authorization: 'Bearer t0k', 'X-Site': 'www' } }), { emit: () => {} });
  const time = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
  const items = [...AWKWARD_NAMES.map((n) => item(`d/${n}`)), item('d', 'dir'), item('gone.css', 'missing')];
  await hook.deliver(batch(items, time));

  assert.equal(srv.requests.length, 1);
  const r = srv.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/hook?token=abc');
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['authorization'], 'Bearer t0k');
  assert.equal(r.headers['x-site'], 'www');
  const body = JSON.parse(r.body) as WebhookBody;
  assert.deepEqual(body, {
    root: '/site',
    remotes: ['u@127.0.0.1::m', '10.0.0.2::www'],
    time: '2025-01-02T03:04:05.678Z',
    items: items.map((i) => ({ path: i.path, absolute: i.absolute, kind: i.state })),
  });
  // Every awkward name arrives byte for byte (newline, quotes, backslash, unicode included).
  for (const n of AWKWARD_NAMES) assert.ok(body.items.some((i) => i.path === `d/${n}` && i.absolute === `/site/d/${n}`), JSON.stringify(n));
});

test('http: with a watch root only the items under it are sent; none under it means no request', async () => {
  const srv = await recorder();
  const hook = createHook(plugin(srv.url, { watch: '/site/img' }), { emit: () => {} });
  await hook.deliver(batch([item('img/a.png'), item('css/b.css'), item('img', 'dir'), item('imgx/c.png')]));
  assert.equal(srv.requests.length, 1);
  const body = JSON.parse(srv.requests[0]!.body) as WebhookBody;
  assert.deepEqual(body.items.map((i) => i.absolute), ['/site/img/a.png', '/site/img']);

  await hook.deliver(batch([item('css/only.css')]));
  assert.equal(srv.requests.length, 1, 'nothing under the watch root: no POST');
});

test('http: a non-2xx reply is a HookError naming the status, not the query token or reply text', async () => {
  for (const status of [500, 404, 301]) {
    const srv = await recorder(() => ({ status, body: 'echo: token=s3cret' }));
    const hook = createHook(plugin(`${srv.url}/hook?token=s3cret`), { emit: () => {} });
    const err = await hook.deliver(batch([item('a.txt')])).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof HookError, `${status}: expected a HookError`);
    assert.match(err.message, new RegExp(`^http: POST http://127\\.0\\.0\\.1:${srv.port}/hook replied ${status}`));
    assert.ok(!err.message.includes('s3cret'), err.message);
    assert.ok(!err.message.includes('\n'));
    assert.equal(srv.requests.length, 1);
  }
});

test('http: a redirect is a failure and is not followed (the body and headers stay with the configured host)', async () => {
  const other = await recorder();
  const srv = await recorder(() => ({ status: 307, headers: { Location: `${other.url}/elsewhere` } }));
  const hook = createHook(plugin(`${srv.url}/hook`, { headers: { Authorization: 'Bearer t0k' } }), { emit: () => {} });
  await assert.rejects(hook.deliver(batch([item('a.txt')])), (e: unknown) => e instanceof HookError && /replied 307/.test(e.message));
  assert.equal(srv.requests.length, 1);
  assert.equal(other.requests.length, 0, 'the redirect target never saw the request');
});

test('http: no reply within the timeout is a failure, and so is a refused connection', async () => {
  const hung = createServer(() => {}); // accepts, never answers
  const port = await freePort();
  await new Promise<void>((r) => hung.listen(port, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (hung.closeAllConnections(), hung.close(() => r()))));
  const hook = createHook(plugin(`http://127.0.0.1:${port}/slow`, { timeoutMs: 300 }), { emit: () => {} });
  const t0 = Date.now();
  await assert.rejects(hook.deliver(batch([item('a')])), (e: unknown) => e instanceof HookError && /POST http:\/\/127\.0\.0\.1:\d+\/slow: no reply within 300 ms/.test(e.message));
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 3000, `timed out after ${took} ms`);

  const closed = await freePort();
  const refused = createHook(plugin(`http://127.0.0.1:${closed}/x`), { emit: () => {} });
  await assert.rejects(refused.deliver(batch([item('a')])), (e: unknown) => e instanceof HookError && /ECONNREFUSED/.test(e.message));
});

test('runner: a hook that keeps failing is retried, then given up with its batch; another hook is unaffected', async () => {
  const bad = await recorder(() => ({ status: 503 }));
  const good = await recorder();
  const events: EngineEvent[] = [];
  const gaveUp: Array<{ hook: string; batch: LandedBatch; error: string }> = [];
  const hooks = [createHook(plugin(bad.url), { emit: () => {}, name: 'http' }), createHook(plugin(good.url), { emit: () => {}, name: 'http#2' })];
  const runner = new HookRunner({
    hooks,
    emit: (e) => events.push(e),
    retries: 2,
    retryDelayMs: { min: 20, max: 40 },
    onGiveUp: async (hook, b, error) => void gaveUp.push({ hook, batch: b, error }),
  });
  cleanups.push(() => runner.close());
  const b1 = batch([item('a.txt'), item('semi;touch PWNED.txt')]);
  const b2 = batch([item('b.txt')]);
  runner.submit(b1);
  runner.submit(b2);
  await runner.drain();

  assert.equal(bad.requests.length, 2 * 3, 'each batch: the first attempt and 2 retries');
  assert.equal(good.requests.length, 2, 'the good hook got each batch once');
  assert.deepEqual(
    good.requests.map((r) => (JSON.parse(r.body) as WebhookBody).items.map((i) => i.path)).sort(),
    [['a.txt', 'semi;touch PWNED.txt'], ['b.txt']],
  );
  assert.equal(gaveUp.length, 2);
  assert.ok(gaveUp.every((g) => g.hook === 'http' && /replied 503/.test(g.error)));
  assert.deepEqual(new Set(gaveUp.map((g) => g.batch)), new Set([b1, b2]), 'the whole batch is handed to onGiveUp');
  assert.ok(events.some((e) => e.type === 'hook' && e.level === 'warn' && /attempt 1 of 3, retrying/.test(e.message)));
  assert.ok(events.some((e) => e.type === 'hook' && e.level === 'error' && e.hook === 'http' && /giving up on 2 path\(s\)/.test(e.message)));
  assert.ok(!events.some((e) => e.type === 'hook' && e.hook === 'http#2' && !e.ok));
});

test('runner: submit() returns at once while a webhook hangs; close() gives the stuck batch up', async () => {
  let release: (() => void) | undefined;
  const slow = createServer((_req, res) => (release = () => res.end()));
  const port = await freePort();
  await new Promise<void>((r) => slow.listen(port, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (slow.closeAllConnections(), slow.close(() => r()))));
  const gaveUp: string[] = [];
  const runner = new HookRunner({
    hooks: [createHook(plugin(`http://127.0.0.1:${port}/`, { timeoutMs: 30_000 }), { emit: () => {} })],
    emit: () => {},
    retries: 0,
    closeGraceMs: 200,
    onGiveUp: async (_h, b) => void gaveUp.push(...b.items.map((i) => i.path)),
  });
  const t0 = Date.now();
  runner.submit(batch([item('stuck.txt')]));
  assert.ok(Date.now() - t0 < 50, 'submit does not wait for the hook');
  await waitFor(() => release !== undefined, 5000, 'the webhook to receive the request');
  await runner.close();
  assert.deepEqual(gaveUp, ['stuck.txt'], 'a delivery still running at close is given up, not dropped');
});

test('runner: a delivery that succeeds during close() is not also given up (no replay record for a delivered batch)', async () => {
  let release: (() => void) | undefined;
  let answered = 0;
  const slow = createServer((_req, res) => (release = () => (answered++, res.end())));
  const port = await freePort();
  await new Promise<void>((r) => slow.listen(port, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (slow.closeAllConnections(), slow.close(() => r()))));
  const gaveUp: string[] = [];
  const runner = new HookRunner({
    hooks: [createHook(plugin(`http://127.0.0.1:${port}/`), { emit: () => {} })],
    emit: () => {},
    retries: 2,
    closeGraceMs: 5000,
    onGiveUp: async (_h, b) => void gaveUp.push(...b.items.map((i) => i.path)),
  });
  runner.submit(batch([item('in-flight.txt')]));
  await waitFor(() => release !== undefined, 5000, 'the webhook to receive the request');
  const closing = runner.close();
  setTimeout(() => release?.(), 200);
  await closing;
  assert.equal(answered, 1);
  assert.deepEqual(gaveUp, [], 'delivered within the grace period: nothing to replay');
});

test('--retry-log delivers a hook record left by -m (plugin defined, not started) through the defined plugin', async () => {
  const { Engine } = await import('../../src/engine.js');
  const { makeConfig } = await import('../support/config.js');
  const { tempDir } = await import('../support/tree.js');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const server = await httpRecorder();
  const work = await tempDir('tss-hook-standby-');
  try {
    const root = join(work.path, 'site');
    await mkdir(root);
    await writeFile(join(root, 'page one.html'), 'x');
    const config = makeConfig(join(work.path, 'state'), [{ path: root, remotes: [] }], { plugins: [], definedPlugins: [plugin(`${server.url}/hook`)] });
    await mkdir(config.stateDir, { recursive: true });
    const rec = { time: new Date().toISOString(), root, remote: 'hook:http', path: 'page one.html', action: 'path', exitCode: null, message: 'replied 500', attempts: 3 };
    await writeFile(config.failLog.path, `${JSON.stringify(rec)}\n`, { mode: 0o600 });
    const engine = new Engine(config, { emit: () => {} });
    const result = await engine.replayNow({ operator: true });
    assert.equal(result.left.length, 0, JSON.stringify(result.left));
    assert.equal(server.requests.length, 1);
    const body = JSON.parse(server.requests[0]!.body) as WebhookBody;
    assert.deepEqual(body.items.map((i) => i.path), ['page one.html']);
    assert.deepEqual((await engine.replayLog.read()).records, []);
  } finally {
    await server.close();
    await work.cleanup();
  }
});
