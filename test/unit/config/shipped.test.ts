import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseConfig, describeConfig } from '../../../src/config/index.js';
import { purgeGroups, purgeRequest } from '../../../src/hooks/generic-cdn.js';
import { cdnTargets } from '../../../src/hooks/cdn-urls.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const load = (rel: string) => parseConfig(readFileSync(join(repo, rel), 'utf8'), join(repo, rel));

test('examples/sersync-stock.xml is the stock Sersync file with the documented defaults', () => {
  const c = load('examples/sersync-stock.xml');
  const stock = load('test/fixtures/config/sersync-stock.xml');
  // Same meaning; only the file name and element line numbers differ.
  // The default state dir is per config file (keyed by its path), so its hash differs too.
  const strip = (x: unknown): string => JSON.stringify(x, (k, v: unknown) => (k === 'line' || k === 'file' ? undefined : v)).replace(/-[0-9a-f]{12}\b/g, '-HASH');
  assert.equal(strip(c), strip(stock), 'every element present, same meaning as the stock file');
  assert.equal(c.roots[0]?.line, readFileSync(join(repo, 'examples/sersync-stock.xml'), 'utf8').split('\n').findIndex((l) => l.includes('<localpath watch="/opt/tongbu">')) + 1);
});

test('config/confxml.xml is the stock file pointed at the demo (.demo/src → 127.0.0.1:8873 with auth)', () => {
  const c = load('config/confxml.xml');
  assert.equal(c.roots[0]?.path, join(repo, '.demo/src'));
  const r = c.roots[0]?.remotes[0];
  assert.deepEqual([r?.host, r?.module, r?.port, r?.user, r?.passwordFile], ['127.0.0.1', 'tongbu1', 8873, 'tssersync', join(repo, '.demo/rsync.pas')]);
  assert.equal(c.stateDir, join(repo, '.demo/state'));
});

test('every shipped example parses', () => {
  const files = readdirSync(join(repo, 'examples')).filter((f) => f.endsWith('.xml'));
  for (const want of ['daemon.xml', 'ssh.xml', 'multi-remote.xml', 'cdn.xml', 'cdn-cloudflare.xml', 'cdn-bunny.xml']) assert.ok(files.includes(want), want);
  for (const f of files) assert.doesNotThrow(() => describeConfig(load(`examples/${f}`)), f);
});

test('the examples say what they claim', () => {
  const daemon = load('examples/daemon.xml').roots[0]?.remotes[0];
  assert.deepEqual([daemon?.id, daemon?.port, daemon?.passwordFile], ['backup@backup.example.com::www', 8873, '/etc/tssersync/rsync.pas']);
  assert.equal(load('examples/daemon.xml').rsync.timeoutSeconds, 60);
  const ssh = load('examples/ssh.xml').roots[0]?.remotes[0];
  assert.deepEqual([ssh?.mode, ssh?.id, ssh?.port], ['ssh', 'mirror@mirror.example.com:/srv/mirror/www', 2222]);
  const multi = load('examples/multi-remote.xml');
  assert.equal(multi.roots.length, 2);
  assert.equal(multi.roots.flatMap((r) => r.remotes).length, 3);
  const cdn = load('examples/cdn.xml').plugins[0];
  assert.ok(cdn?.kind === 'refreshCDN' && cdn.legacy?.password.from === 'env');
  const conf = readFileSync(join(repo, 'examples/rsyncd.conf'), 'utf8');
  assert.match(conf, /^socket options = TCP_NODELAY$/m);
  assert.match(conf, /^\s*auth users = backup$/m);
  assert.match(conf, /^\s*secrets file = /m);
});

test('the complete-file example in docs/configuration.md parses', () => {
  const doc = readFileSync(join(repo, 'docs/configuration.md'), 'utf8');
  const blocks = [...doc.matchAll(/```xml\n(<head[\s\S]*?)```/g)].map((m) => m[1] ?? '');
  assert.ok(blocks.length >= 1);
  for (const xml of blocks) {
    const c = parseConfig(xml, join(repo, 'docs/example.xml'));
    assert.equal(c.roots[0]?.remotes[0]?.id, '10.0.0.2::www');
  }
});

/** The refreshCDN plugin of a shipped example, with its generic purge. */
function purgeOf(rel: string) {
  const p = load(rel).plugins[0];
  assert.ok(p?.kind === 'refreshCDN' && p.generic, `${rel}: a refreshCDN plugin with <purge>`);
  return { plugin: p, generic: p.generic };
}

test('examples/cdn-cloudflare.xml builds Cloudflare\'s purge-by-URL request, token from the environment', () => {
  const { plugin, generic } = purgeOf('examples/cdn-cloudflare.xml');
  assert.deepEqual(generic.secret, { from: 'env', name: 'CLOUDFLARE_API_TOKEN' });
  assert.equal(generic.maxBatch, 100, 'Cloudflare takes at most 100 URLs per request');
  const items = ['img/a b.png', 'css/site.css'].map((p) => ({ path: p, absolute: `/srv/www/static/${p}`, state: 'file' as const }));
  const targets = cdnTargets(items, plugin);
  assert.equal(purgeGroups(generic, targets).length, 1);
  const req = purgeRequest(generic, targets.map((t) => t.target.url), 'tok-123');
  assert.equal(req.method, 'POST');
  assert.match(req.url, /^https:\/\/api\.cloudflare\.com\/client\/v4\/zones\/[0-9a-f]{32}\/purge_cache$/);
  assert.equal(req.headers['Authorization'], 'Bearer tok-123');
  assert.equal(req.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(req.body ?? ''), { files: ['https://static.example.com/img/a%20b.png', 'https://static.example.com/css/site.css'] });
  const xml = readFileSync(join(repo, 'examples/cdn-cloudflare.xml'), 'utf8');
  assert.ok(!/Bearer [^$]/.test(xml), 'no inline token');
});

test('examples/cdn-bunny.xml builds bunny.net\'s Purge URL request: one URL per request, AccessKey from a file', () => {
  const { plugin, generic } = purgeOf('examples/cdn-bunny.xml');
  assert.deepEqual(generic.secret, { from: 'file', path: '/etc/tssersync/bunny.key' });
  const items = ['css/site.css', 'img/ü?.png'].map((p) => ({ path: p, absolute: `/srv/www/assets/${p}`, state: 'file' as const }));
  const targets = cdnTargets([...items, { path: 'img', absolute: '/srv/www/assets/img', state: 'dir' }], plugin);
  const groups = purgeGroups(generic, targets);
  assert.equal(groups.length, 3, 'one request per URL');
  const reqs = groups.map((g) => purgeRequest(generic, g.map((t) => t.target.url), 'key-456'));
  for (const r of reqs) {
    assert.equal(r.method, 'POST');
    assert.equal(r.body, undefined, 'no body');
    assert.deepEqual(r.headers, { AccessKey: 'key-456' });
    const u = new URL(r.url);
    assert.equal(`${u.origin}${u.pathname}`, 'https://api.bunny.net/purge');
  }
  assert.deepEqual(reqs.map((r) => new URL(r.url).searchParams.get('url')), [
    'https://example.b-cdn.net/css/site.css',
    'https://example.b-cdn.net/img/%C3%BC%3F.png',
    'https://example.b-cdn.net/img/',
  ]);
});
