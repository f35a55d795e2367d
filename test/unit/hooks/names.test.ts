/** Names are bytes at the plugin edges: command argv, socket lines, CDN URLs, webhook JSON. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameFromBytes } from '../../../src/core/names.js';
import { cdnTarget, encodePath } from '../../../src/hooks/cdn-urls.js';
import { commandInvocation } from '../../../src/hooks/command.js';
import { webhookBody } from '../../../src/hooks/http.js';
import { frameBytes, parseLineBytes } from '../../../src/hooks/socket-framing.js';
import type { LandedBatch } from '../../../src/hooks/types.js';

const latin = nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "café" in Latin-1
const gbk = nameFromBytes(Buffer.from([0xd6, 0xd0, 0xce, 0xc4])); // "中文" in GBK

test('command: a UTF-8 path is one argv word; a non-UTF-8 path goes through xargs -0 with its exact bytes on stdin', () => {
  const cfg = { prefix: ['/usr/bin/cp', '--'], suffix: ['/backup/'] };
  assert.deepEqual(commandInvocation(cfg, '/site/café'), { argv: ['/usr/bin/cp', '--', '/site/café', '/backup/'] });
  const how = commandInvocation(cfg, `/site/${latin}`);
  assert.deepEqual(how.argv, ['xargs', '-0', '-I', '{tssersync-path}', '--', '/usr/bin/cp', '--', '{tssersync-path}', '/backup/']);
  assert.deepEqual(how.stdin, Buffer.from([...Buffer.from('/site/caf'), 0xe9, 0]));
  // A configured word holding the placeholder gets another one: the configured argv is kept as is.
  const odd = commandInvocation({ prefix: ['echo', '{tssersync-path}'], suffix: [] }, `/s/${gbk}`);
  assert.deepEqual(odd.argv, ['xargs', '-0', '-I', '{{tssersync-path}}', '--', 'echo', '{tssersync-path}', '{{tssersync-path}}']);
});

test('socket: a line is the exact bytes; newline names as JSON with \\udcXX for a non-UTF-8 byte; both round-trip', () => {
  assert.deepEqual(frameBytes(`/site/${latin}`), Buffer.from([...Buffer.from('/site/caf'), 0xe9, 0x0a]));
  assert.deepEqual(frameBytes('/site/ü'), Buffer.from('/site/ü\n'));
  const nl = frameBytes(`/site/${gbk}\nx`);
  assert.equal(nl.toString('latin1'), '"/site/\\udcd6\\udcd0\\udcce\\udcc4\\nx"\n', 'ASCII JSON');
  for (const name of [`/site/${latin}`, `/site/${gbk}\nx`, '/site/plain', '/site/\udcff']) {
    const b = frameBytes(name);
    assert.equal(parseLineBytes(b.subarray(0, -1)), name);
  }
});

test('CDN URL: the path bytes are percent-encoded (UTF-8 names unchanged, GBK/Latin-1 by their own bytes)', () => {
  assert.equal(encodePath('/img/a b?#.png'), `/img/${encodeURIComponent('a b?#.png')}`);
  assert.equal(encodePath("/ü日/x(1)!~*'.png"), `/${encodeURIComponent('ü日')}/${encodeURIComponent("x(1)!~*'.png")}`);
  assert.equal(encodePath(`/${latin}`), '/caf%E9');
  assert.equal(encodePath(`/d/${gbk}.png`), '/d/%D6%D0%CE%C4.png');
  assert.deepEqual(cdnTarget({ absolute: `/site/${gbk}`, state: 'dir' }, { watch: '/site', baseUrl: 'http://cdn.example.com', regexUrl: undefined }), { url: 'http://cdn.example.com/%D6%D0%CE%C4/', dir: true });
});

test('webhook JSON: canonical strings, plus base64 of the exact bytes only for non-UTF-8 names', () => {
  const batch: LandedBatch = {
    root: '/site',
    remotes: ['r'],
    time: 0,
    items: [
      { path: 'ok.txt', absolute: '/site/ok.txt', state: 'file' },
      { path: `d/${latin}`, absolute: `/site/d/${latin}`, state: 'missing' },
    ],
  };
  const body = webhookBody(batch, undefined);
  assert.deepEqual(body.items[0], { path: 'ok.txt', absolute: '/site/ok.txt', kind: 'file' });
  const it = body.items[1]!;
  assert.equal(Buffer.from(it.pathBase64!, 'base64').toString('latin1'), 'd/caf\u00e9');
  assert.equal(Buffer.from(it.absoluteBase64!, 'base64').toString('latin1'), '/site/d/caf\u00e9');
  const json = JSON.stringify(body);
  assert.match(json, /"path":"d\/caf\\udce9"/, 'a lone surrogate is escaped, the text stays ASCII-safe');
  assert.equal((JSON.parse(json) as typeof body).items[1]!.path, `d/${latin}`);
});
