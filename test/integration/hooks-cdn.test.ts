import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CdnGenericConfig, RefreshCdnPluginConfig } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { HookError } from '../../src/errors.js';
import { PartialDeliveryError } from '../../src/hooks/failure.js';
import { createHook } from '../../src/hooks/index.js';
import { HookRunner } from '../../src/hooks/runner.js';
import type { LandedBatch, LandedItem } from '../../src/hooks/types.js';
import { httpRecorder, rawRecorder } from '../fixtures/hooks/servers.js';
import { AWKWARD_NAMES, tempDir } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const item = (rel: string, state: LandedItem['state'] = 'file'): LandedItem => ({ path: rel, absolute: `/site/${rel}`, state });
const batch = (items: LandedItem[]): LandedBatch => ({ root: '/site', remotes: ['127.0.0.1::m'], time: Date.now(), items });
const base = 'http://pic.example.com/cms';

function legacyPlugin(port: number, over: Partial<RefreshCdnPluginConfig> = {}): RefreshCdnPluginConfig {
  return {
    kind: 'refreshCDN',
    watch: '/site',
    baseUrl: base,
    regexUrl: undefined,
    legacy: { domain: '127.0.0.1', port, username: 'user', password: { from: 'env', name: 'CDN_PW' } },
    generic: undefined,
    ...over,
  };
}

function genericPlugin(endpoint: string, over: Partial<CdnGenericConfig> = {}): RefreshCdnPluginConfig {
  return {
    kind: 'refreshCDN',
    watch: '/site',
    baseUrl: base,
    regexUrl: undefined,
    legacy: undefined,
    generic: {
      endpoint,
      method: 'POST',
      headers: { Authorization: 'Bearer ${secret}' },
      bodyTemplate: '{"files": "${urls}"}',
      maxBatch: 30,
      ratePerSecond: 50,
      secret: { from: 'env', name: 'CDN_TOKEN' },
      ...over,
    },
  };
}

test('legacy refreshCDN: the exact HEAD request per path, dirs= for a directory, regexurl', async () => {
  const srv = await rawRecorder('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  cleanups.push(srv.close);
  const hook = createHook(legacyPlugin(srv.port), { emit: () => {}, env: { CDN_PW: 'p&ss' } });
  await hook.deliver(batch([item('img/a.png'), item('img', 'dir'), item('gone.css', 'missing')]));
  const expect = (q: string) => `HEAD /index.jsp?user=user&pswd=p%26ss&ok=ok&${q} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`;
  assert.deepEqual([...srv.requests].sort(), [
    expect(`urls=${encodeURIComponent(`${base}/img/a.png`)}`),
    expect(`dirs=${encodeURIComponent(`${base}/img/`)}`),
    expect(`urls=${encodeURIComponent(`${base}/gone.css`)}`),
  ].sort());

  srv.requests.length = 0;
  const re = createHook(legacyPlugin(srv.port, { regexUrl: /site\/images([/a-z0-9._-]*)/, baseUrl: 'http://img.example.com' }), { emit: () => {}, env: { CDN_PW: 'x' } });
  await re.deliver(batch([item('images/a/b.png'), item('css/skipped.css')]));
  assert.equal(srv.requests.length, 1, 'no regex match: no request');
  assert.match(srv.requests[0] ?? '', /&urls=http%3A%2F%2Fimg\.example\.com%2Fa%2Fb\.png HTTP\/1\.0\r\n/);
});

test('legacy refreshCDN: a non-2xx or whatsup error reply is a failure naming the paths; the password never shows', async () => {
  const srv = await rawRecorder('HTTP/1.0 200 OK\r\nwhatsup: user or password error\r\n\r\n');
  cleanups.push(srv.close);
  const hook = createHook(legacyPlugin(srv.port), { emit: () => {}, env: { CDN_PW: 'hunter2' } });
  const err = await hook.deliver(batch([item('a.png'), item('b.png')])).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof PartialDeliveryError);
  assert.deepEqual(err.failed.map((i) => i.path).sort(), ['a.png', 'b.png']);
  assert.match(err.message, /whatsup=user or password error/);
  assert.ok(!err.message.includes('hunter2'));
  const refused = await createHook(legacyPlugin(1), { emit: () => {}, env: { CDN_PW: 'x' } }).deliver(batch([item('a')])).catch((e: Error) => e.message);
  assert.match(String(refused), /127\.0\.0\.1:1: ECONNREFUSED/);
});

test('legacy refreshCDN: awkward names reach the CDN intact as encoded query values', async () => {
  const srv = await rawRecorder('HTTP/1.0 200 OK\r\n\r\n');
  cleanups.push(srv.close);
  const hook = createHook(legacyPlugin(srv.port), { emit: () => {}, env: { CDN_PW: 'x' } });
  await hook.deliver(batch(AWKWARD_NAMES.map((n) => item(`d/${n}`))));
  assert.equal(srv.requests.length, AWKWARD_NAMES.length);
  const got = srv.requests.map((r) => {
    assert.equal(r.split('\r\n').length, 4, 'request line, Host, blank: no injected line');
    const m = /&urls=(\S+) HTTP\/1\.0\r\n/.exec(r);
    assert.ok(m, r);
    return decodeURIComponent(decodeURIComponent(m[1]!).slice(`${base}/d/`.length));
  });
  assert.deepEqual(got.sort(), [...AWKWARD_NAMES].sort());
});

test('generic purge: batches of maxBatch, JSON body, bearer secret from the environment', async () => {
  const srv = await httpRecorder();
  cleanups.push(srv.close);
  const hook = createHook(genericPlugin(`${srv.url}/zones/z/purge_cache`, { maxBatch: 3 }), { emit: () => {}, env: { CDN_TOKEN: 'tok-env' } });
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  await hook.deliver(batch([...names.map((n) => item(n)), item('dir', 'dir')]));
  assert.equal(srv.requests.length, 3);
  const urls = srv.requests.flatMap((r) => {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/zones/z/purge_cache');
    assert.equal(r.headers['authorization'], 'Bearer tok-env');
    assert.equal(r.headers['content-type'], 'application/json');
    return (JSON.parse(r.body) as { files: string[] }).files;
  });
  assert.deepEqual(srv.requests.map((r) => (JSON.parse(r.body) as { files: string[] }).files.length).sort(), [2, 3, 3]);
  assert.deepEqual(urls.sort(), [...names.map((n) => `${base}/${n}`), `${base}/dir/`].sort());
});

test('generic purge: secret from a file, resolved at each delivery (rotation without restart)', async () => {
  const srv = await httpRecorder();
  cleanups.push(srv.close);
  const dir = await tempDir('tss-hooks-');
  cleanups.push(dir.cleanup);
  const secretFile = join(dir.path, 'token');
  await writeFile(secretFile, 'tok-file-1\n');
  await chmod(secretFile, 0o600);
  const hook = createHook(genericPlugin(srv.url, { secret: { from: 'file', path: secretFile } }), { emit: () => {}, env: {} });
  await hook.deliver(batch([item('a')]));
  await writeFile(secretFile, 'tok-file-2\n');
  await hook.deliver(batch([item('b')]));
  assert.deepEqual(srv.requests.map((r) => r.headers['authorization']), ['Bearer tok-file-1', 'Bearer tok-file-2']);
});

test('generic purge: a missing secret is a clear HookError naming the variable or file, and nothing is sent', async () => {
  const srv = await httpRecorder();
  cleanups.push(srv.close);
  const env = createHook(genericPlugin(srv.url), { emit: () => {}, env: {} });
  await assert.rejects(env.deliver(batch([item('a')])), (e: unknown) => e instanceof HookError && /environment variable CDN_TOKEN is not set/.test(e.message));
  const file = createHook(genericPlugin(srv.url, { secret: { from: 'file', path: '/nonexistent/tssersync/token' } }), { emit: () => {}, env: {} });
  await assert.rejects(file.deliver(batch([item('a')])), /cannot read the secret file \/nonexistent\/tssersync\/token \(ENOENT\)/);
  assert.equal(srv.requests.length, 0);
});

test('generic purge: an error reply that echoes the secret is redacted', async () => {
  const srv = await httpRecorder((r) => ({ status: 401, body: `bad token ${r.headers['authorization']}` }));
  cleanups.push(srv.close);
  const events: EngineEvent[] = [];
  const hook = createHook(genericPlugin(srv.url), { emit: (e) => events.push(e), env: { CDN_TOKEN: 'sup3r-s3cret' } });
  const err = await hook.deliver(batch([item('a')])).then(() => undefined, (e: Error) => e);
  assert.ok(err);
  assert.match(err.message, /replied 401: bad token Bearer \*\*\*/);
  assert.ok(!err.message.includes('sup3r-s3cret'));
  assert.ok(!JSON.stringify(events).includes('sup3r-s3cret'));
});

test('generic purge: the rate limit holds requests to N per rolling second', async () => {
  const srv = await httpRecorder();
  cleanups.push(srv.close);
  const hook = createHook(genericPlugin(srv.url, { maxBatch: 1, ratePerSecond: 2 }), { emit: () => {}, env: { CDN_TOKEN: 't' } });
  const t0 = Date.now();
  await hook.deliver(batch(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => item(n))));
  const elapsed = Date.now() - t0;
  assert.equal(srv.requests.length, 6);
  const at = srv.requests.map((r) => r.at).sort((a, b) => a - b);
  // 6 requests at 2/s: the last starts about 2 s after the first; no 3 inside one second.
  assert.ok(elapsed >= 1800 && elapsed < 6000, `took ${elapsed} ms`);
  for (let i = 0; i + 2 < at.length; i++) assert.ok(at[i + 2]! - at[i]! >= 900, `requests ${i}..${i + 2} within ${at[i + 2]! - at[i]!} ms`);
});

test('generic purge: ${url} endpoint (Bunny style) sends one request per URL with the URL in the query', async () => {
  const srv = await httpRecorder();
  cleanups.push(srv.close);
  const hook = createHook(genericPlugin(`${srv.url}/purge?url=\${url}&async=true`, { bodyTemplate: '', headers: { AccessKey: '${secret}' } }), { emit: () => {}, env: { CDN_TOKEN: 'k' } });
  await hook.deliver(batch([item('a b.png'), item('x', 'dir')]));
  assert.deepEqual(srv.requests.map((r) => new URL(r.url, srv.url).searchParams.get('url')).sort(), [`${base}/a%20b.png`, `${base}/x/`]);
  assert.ok(srv.requests.every((r) => r.headers['accesskey'] === 'k' && r.body === '' && r.headers['content-type'] === undefined));
});

test('generic purge through the runner: a 500 then a success, and only the failed batch is resent', async () => {
  const srv = await httpRecorder((_r, n) => ({ status: n === 2 ? 500 : 200, body: n === 2 ? 'upstream busy' : '{"success":true}' }));
  cleanups.push(srv.close);
  const hook = createHook(genericPlugin(srv.url, { maxBatch: 2, ratePerSecond: 100 }), { emit: () => {}, env: { CDN_TOKEN: 'token-500' } });
  const gaveUp: string[] = [];
  const events: EngineEvent[] = [];
  const runner = new HookRunner({ hooks: [hook], emit: (e) => events.push(e), retries: 3, retryDelayMs: { min: 20, max: 50 }, onGiveUp: async (h) => void gaveUp.push(h) });
  runner.submit(batch([item('a'), item('b'), item('c'), item('d')]));
  await runner.drain();
  await runner.close();
  assert.deepEqual(gaveUp, []);
  const sent = srv.requests.map((r) => (JSON.parse(r.body) as { files: string[] }).files);
  assert.equal(sent.length, 3, 'two batches, then the failed one again');
  assert.deepEqual(sent[2], sent[1], 'the retry carries exactly the URLs whose request failed');
  assert.ok(events.some((e) => e.type === 'hook' && e.level === 'warn' && /replied 500: upstream busy/.test(e.message)));
});
