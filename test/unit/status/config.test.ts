import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

const xml = (tssersync: string) =>
  ['<head version="2.5">', '<sersync><localpath watch="/srv/www"><remote ip="10.0.0.2" name="www"/></localpath></sersync>', `<tssersync>${tssersync}`, '</tssersync>', '</head>'].join('\n');

function fails(t: string, detail: RegExp): void {
  assert.throws(() => parseConfig(xml(t), 'confxml.xml'), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /^confxml\.xml:3:\d+ <(status|metrics)>: /);
    assert.match(err.message, detail);
    return true;
  });
}

test('<status> and <metrics>: absent = defaults (owner-only socket, no metrics)', () => {
  const c = parseConfig(xml(''), 'confxml.xml');
  assert.equal(c.status, undefined);
  assert.equal(c.metrics, undefined);
});

test('<status group lag replayAge> and <metrics listen> are read', () => {
  const c = parseConfig(xml('<status group="monitor" lag="30" replayAge="120"/><metrics listen="127.0.0.1:9743"/>'), 'confxml.xml');
  assert.deepEqual(c.status, { group: 'monitor', lagSeconds: 30, replayAgeSeconds: 120 });
  assert.deepEqual(c.metrics, { host: '127.0.0.1', port: 9743 });
  assert.deepEqual(parseConfig(xml('<metrics listen="[::1]:9"/>'), 'c').metrics, { host: '::1', port: 9 });
  assert.deepEqual(parseConfig(xml('<metrics listen="0.0.0.0:9743" public="true"/>'), 'c').metrics, { host: '0.0.0.0', port: 9743 });
});

test('a non-loopback metrics address needs public="true"; bad values are located errors', () => {
  fails('<metrics listen="0.0.0.0:9743"/>', /not a loopback address.*public="true"/);
  fails('<metrics listen="10.0.0.5:9743" public="yes"/>', /public: expected "true" or "false"/);
  fails('<metrics listen="9743"/>', /expected HOST:PORT/);
  fails('<metrics listen="127.0.0.1:70000"/>', /expected HOST:PORT/);
  fails('<status lag="0"/>', /lag/);
  fails('<status group="a b"/>', /group: expected a group name or number/);
  fails('<status grup="x"/>', /unknown attribute grup/);
});

const withPlugin = (block: string) =>
  ['<head version="2.5">', '<sersync><localpath watch="/srv/www"><remote ip="10.0.0.2" name="www"/></localpath>', '<plugin start="true" name="command"/><plugin start="true" name="http"/></sersync>', block, '<plugin name="http"><webhook url="http://127.0.0.1:1/x" events="alerts"/></plugin>', '</head>'].join('\n');

test('events="batches|alerts|both" on <webhook> and the command <param>; a shell prefix cannot take alerts', () => {
  const c = parseConfig(withPlugin('<plugin name="command"><param prefix="/usr/local/bin/page" suffix="" events="both"/></plugin>'), 'confxml.xml');
  assert.deepEqual(c.plugins.map((p) => [p.kind, 'events' in p ? p.events : undefined]), [['command', 'both'], ['http', 'alerts']]);
  const stock = parseConfig(withPlugin('<plugin name="command"><param prefix="/bin/sh" suffix="" ignoreError="true"/></plugin>'), 'confxml.xml');
  assert.equal((stock.plugins[0] as { events?: string }).events, undefined, 'default: batches, as Sersync');
  assert.throws(() => parseConfig(withPlugin('<plugin name="command"><param prefix="/bin/sh" events="alerts"/></plugin>'), 'confxml.xml'), /confxml\.xml:4:\d+ <param>: events="alerts": prefix runs a shell \(\/bin\/sh\)/);
  assert.throws(() => parseConfig(withPlugin('<plugin name="command"><param prefix="/x" events="all"/></plugin>'), 'confxml.xml'), /events: expected "batches"/);
});
