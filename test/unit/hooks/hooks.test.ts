import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CdnGenericConfig, PluginConfig } from '../../../src/config/types.js';
import { cdnTarget, cdnTargets } from '../../../src/hooks/cdn-urls.js';
import { commandArgv } from '../../../src/hooks/command.js';
import { purgeGroups, purgeRequest } from '../../../src/hooks/generic-cdn.js';
import { webhookBody } from '../../../src/hooks/http.js';
import { hookNames } from '../../../src/hooks/index.js';
import { legacyRequest, replyProblem } from '../../../src/hooks/legacy-cdn.js';
import { itemsUnder } from '../../../src/hooks/scope.js';
import { frameLine, parseLine } from '../../../src/hooks/socket-framing.js';
import type { LandedBatch, LandedItem } from '../../../src/hooks/types.js';
import { AWKWARD_NAMES } from '../../support/tree.js';

const file = (absolute: string): LandedItem => ({ path: absolute.replace(/^\/site\/?/, ''), absolute, state: 'file' });
const dir = (absolute: string): LandedItem => ({ ...file(absolute), state: 'dir' });
const plain = { watch: '/site', baseUrl: 'http://pic.example.com/cms', regexUrl: undefined };

test('cdn URL: base + path relative to the watch root (Sersync)', () => {
  const cases: Array<[LandedItem, typeof plain, string | undefined, boolean]> = [
    [file('/site/img/a.png'), plain, 'http://pic.example.com/cms/img/a.png', false],
    [dir('/site/img'), plain, 'http://pic.example.com/cms/img/', true],
    [dir('/site'), plain, 'http://pic.example.com/cms/', true],
    [file('/site/a.png'), { ...plain, baseUrl: 'http://pic.example.com/' }, 'http://pic.example.com/a.png', false],
    [{ ...file('/site/gone.png'), state: 'missing' }, plain, 'http://pic.example.com/cms/gone.png', false],
  ];
  for (const [item, o, url, isDir] of cases) assert.deepEqual(cdnTarget(item, o), url === undefined ? undefined : { url, dir: isDir }, item.absolute);
});

test('cdn URL: regexurl takes the first group searched in the absolute path, plus the text after the match', () => {
  const o = { ...plain, baseUrl: 'http://img.example.com', regexUrl: /site\/images([/a-z0-9._-]*)/ };
  assert.equal(cdnTarget(file('/site/images/a/b.png'), o)?.url, 'http://img.example.com/a/b.png');
  // The group stops at the space; what follows the match is kept (Sersync's rule).
  assert.equal(cdnTarget(file('/site/images/a/b c.png'), o)?.url, 'http://img.example.com/a/b%20c.png');
  assert.equal(cdnTarget(dir('/site/images/a'), o)?.url, 'http://img.example.com/a/');
  assert.equal(cdnTarget(file('/site/css/x.css'), o), undefined, 'no match: no URL');
  assert.equal(cdnTarget(file('/site/images/a.png'), { ...o, regexUrl: /site\/images([/a-z.]*)/g })?.url, 'http://img.example.com/a.png');
  assert.equal(cdnTarget(file('/site/images/b.png'), { ...o, regexUrl: /site\/images([/a-z.]*)/g })?.url, 'http://img.example.com/b.png', 'a g flag keeps no state');
});

test('cdn URL: awkward names are percent-encoded per segment and decode back to the name', () => {
  for (const name of AWKWARD_NAMES) {
    const t = cdnTarget(file(`/site/d/${name}`), plain);
    assert.ok(t, name);
    // encodeURIComponent keeps ' ( ) * ! ~ (valid in a URL path); everything a shell or JSON cares about is encoded.
    assert.ok(!/[\s"`|;$\\]/.test(t.url), `${JSON.stringify(t.url)} has a raw special character`);
    assert.equal(decodeURIComponent(t.url.slice('http://pic.example.com/cms/d/'.length)), name);
  }
});

test('cdn URLs: duplicates are dropped, order kept', () => {
  const out = cdnTargets([file('/site/a'), file('/site/b'), file('/site/a')], plain);
  assert.deepEqual(out.map((t) => t.target.url), ['http://pic.example.com/cms/a', 'http://pic.example.com/cms/b']);
});

test('legacy request: the exact HEAD form, values encoded, dirs= for a directory', () => {
  const ep = { domain: 'ccms.chinacache.com', port: 80, username: 'us er' };
  assert.equal(
    legacyRequest(ep, 'p&w=d', 'http://pic.example.com/cms/a b.png', false),
    'HEAD /index.jsp?user=us%20er&pswd=p%26w%3Dd&ok=ok&urls=http%3A%2F%2Fpic.example.com%2Fcms%2Fa%20b.png HTTP/1.0\r\nHost: ccms.chinacache.com\r\n\r\n',
  );
  assert.match(legacyRequest(ep, 'x', 'http://pic.example.com/cms/img/', true), /&ok=ok&dirs=http%3A%2F%2Fpic\.example\.com%2Fcms%2Fimg%2F HTTP\/1\.0\r\n/);
});

test('legacy reply: what counts as success', () => {
  const table: Array<[string, boolean]> = [
    ['HTTP/1.0 200 OK\r\n\r\n', true],
    ['HTTP/1.1 204 No Content\r\n\r\n', true],
    ['HTTP/1.0 200 OK\r\nwhatsup: content\r\n\r\n', true],
    ['HTTP/1.0 200 OK\r\n\r\nwhatsup=content', true],
    ['HTTP/1.0 200 OK\r\n\r\nwhatsup=url exceed limit', false],
    ['HTTP/1.0 200 OK\r\nwhatsup: user or password error\r\n\r\n', false],
    ['HTTP/1.0 403 Forbidden\r\n\r\n', false],
    ['HTTP/1.0 500 Internal\r\n\r\n', false],
    ['', false],
    ['garbage', false],
  ];
  for (const [reply, ok] of table) assert.equal(replyProblem(reply) === undefined, ok, JSON.stringify(reply));
});

const generic = (over: Partial<CdnGenericConfig> = {}): CdnGenericConfig => ({
  endpoint: 'https://api.example.com/zones/z/purge_cache',
  method: 'POST',
  headers: { Authorization: 'Bearer ${secret}' },
  bodyTemplate: '{"files": "${urls}"}',
  maxBatch: 2,
  ratePerSecond: 5,
  secret: { from: 'env', name: 'T' },
  ...over,
});

test('generic purge: body template, headers, content type', () => {
  const r = purgeRequest(generic(), ['http://a/1', 'http://a/"2"'], 'tok"en');
  assert.equal(r.url, 'https://api.example.com/zones/z/purge_cache');
  assert.deepEqual(JSON.parse(r.body ?? ''), { files: ['http://a/1', 'http://a/"2"'] });
  assert.equal(r.headers['Authorization'], 'Bearer tok"en');
  assert.equal(r.headers['Content-Type'], 'application/json');
  const withSecretInBody = purgeRequest(generic({ bodyTemplate: '{"key": "${secret}", "urls": ${urls}}' }), ['u'], 'a"b\\c');
  assert.deepEqual(JSON.parse(withSecretInBody.body ?? ''), { key: 'a"b\\c', urls: ['u'] });
  assert.equal(purgeRequest(generic({ bodyTemplate: '' }), ['u'], 's').body, undefined);
});

test('generic purge: placeholders are replaced in one pass (a name cannot pull in the secret)', () => {
  const r = purgeRequest(generic(), ['http://a/${secret}'], 'SECRET');
  assert.ok(!r.body?.includes('SECRET'));
  assert.deepEqual(JSON.parse(r.body ?? ''), { files: ['http://a/${secret}'] });
});

test('generic purge: ${url} in the endpoint means one URL per request, percent-encoded', () => {
  const cfg = generic({ endpoint: 'https://api.bunny.net/purge?url=${url}&async=true', bodyTemplate: '', maxBatch: 30 });
  const targets = ['http://x/a b', 'http://x/c'].map((url) => ({ target: { url, dir: false } }));
  assert.equal(purgeGroups(cfg, targets).length, 2);
  assert.equal(purgeRequest(cfg, ['http://x/a b?&'], 's').url, 'https://api.bunny.net/purge?url=http%3A%2F%2Fx%2Fa%20b%3F%26&async=true');
  assert.deepEqual(purgeGroups(generic({ maxBatch: 2 }), [1, 2, 3, 4, 5].map((n) => ({ target: { url: `u${n}`, dir: false } }))).map((g) => g.length), [2, 2, 1]);
});

test('socket framing: every awkward name round-trips; ordinary paths are sent as is', () => {
  for (const name of AWKWARD_NAMES) {
    const line = frameLine(`/site/${name}`);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.slice(0, -1).includes('\n'), false, JSON.stringify(name));
    assert.equal(parseLine(line.slice(0, -1)), `/site/${name}`);
  }
  assert.equal(frameLine('/site/a b.txt'), '/site/a b.txt\n');
  assert.equal(frameLine('/site/new\nline'), '"/site/new\\nline"\n');
  assert.equal(frameLine('/site/cr\rx'), '"/site/cr\\rx"\n');
});

test('scope: a hook with a watch root takes only what lies under it', () => {
  const batch: LandedBatch = { root: '/', remotes: ['r'], time: 0, items: [file('/site/a'), file('/site2/b'), dir('/site'), file('/other/c')] };
  assert.deepEqual(itemsUnder(batch, '/site').map((i) => i.absolute), ['/site/a', '/site']);
  assert.deepEqual(itemsUnder(batch, '/site/').map((i) => i.absolute), ['/site/a', '/site']);
  assert.equal(itemsUnder(batch, undefined).length, 4);
});

test('command argv: prefix words, the path as one word, suffix words', () => {
  assert.deepEqual(commandArgv({ prefix: ['/bin/echo', '-n'], suffix: ['--', 'x y'] }, '/site/a;b $(c)'), ['/bin/echo', '-n', '/site/a;b $(c)', '--', 'x y']);
});

test('webhook body: root, remotes, ISO time, items with their kind', () => {
  const batch: LandedBatch = { root: '/site', remotes: ['a::m'], time: Date.UTC(2025, 0, 2), items: [file('/site/a'), { ...file('/site/b'), state: 'missing' }, dir('/site/d')] };
  assert.deepEqual(webhookBody(batch, undefined), {
    root: '/site',
    remotes: ['a::m'],
    time: '2025-01-02T00:00:00.000Z',
    items: [
      { path: 'a', absolute: '/site/a', kind: 'file' },
      { path: 'b', absolute: '/site/b', kind: 'missing' },
      { path: 'd', absolute: '/site/d', kind: 'dir' },
    ],
  });
});

test('hook names are unique and stable', () => {
  const sock = (watch: string): PluginConfig => ({ kind: 'socket', watch, host: 'h', port: 1, bufferLimit: 1 });
  const cmd: PluginConfig = { kind: 'command', prefix: ['x'], suffix: [], ignoreError: true, include: [], concurrency: 1, timeoutMs: 1 };
  assert.deepEqual(hookNames([cmd, sock('/a')]), ['command', 'socket']);
  assert.deepEqual(hookNames([sock('/a'), sock('/b'), cmd, cmd]), ['socket:/a', 'socket:/b', 'command', 'command#2']);
});
