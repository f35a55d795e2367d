import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

/**
 * Each case is a file whose lines are known: line 1 `<head>`, line 2 `<sersync>`, line 3 the
 * `<localpath>`, line 4 its `<remote>`, line 5 `<rsync>` …, so every error must name its line.
 */
function file(opts: { remote?: string; rsync?: string; sersync?: string; head?: string } = {}): string {
  return [
    '<head version="2.5">',
    '<sersync>',
    '  <localpath watch="/srv/www">',
    `    ${opts.remote ?? '<remote ip="10.0.0.2" name="www"/>'}`,
    `  </localpath><rsync>${opts.rsync ?? '<commonParams params="-artuz"/>'}</rsync>`,
    `  ${opts.sersync ?? ''}`,
    '',
    '</sersync>',
    `${opts.head ?? ''}`,
    '</head>',
  ].join('\n');
}

function rejects(xml: string, line: number, detail: RegExp, element?: string): ConfigError {
  let caught: unknown;
  try {
    parseConfig(xml, 'confxml.xml');
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.file, 'confxml.xml');
  assert.equal(caught.line, line, caught.message);
  assert.ok(caught.column !== undefined && caught.column >= 1, caught.message);
  assert.match(caught.detail, detail);
  if (element) assert.equal(caught.element, element);
  assert.ok(!caught.message.includes('\n'), 'one line');
  assert.ok(caught.message.startsWith(`confxml.xml:${line}:`), caught.message);
  return caught;
}

test('the base file of these cases parses', () => {
  assert.equal(parseConfig(file(), 'confxml.xml').roots[0]?.remotes[0]?.line, 4);
});

test('malformed XML: position from the validator', () => {
  rejects(file({ remote: '<remote ip="10.0.0.2" name="www">' }), 5, /malformed XML: Expected closing tag 'remote' \(opened in line 4/);
  rejects(file({ remote: '<remote ip=10.0.0.2 name="www"/>' }), 4, /malformed XML/);
  rejects('', 1, /empty|malformed/);
});

test('a missing required attribute', () => {
  rejects(file({ remote: '<remote name="www"/>' }), 4, /missing attribute ip/, '<remote>');
  rejects(file({ remote: '<remote ip="10.0.0.2"/>' }), 4, /missing attribute name/);
  rejects(file({ remote: '<remote ip="" name="www"/>' }), 4, /ip is empty/);
});

test('a bad number names the attribute and the value', () => {
  const e = rejects(file({ remote: '<remote ip="10.0.0.2" name="www" port="8o73"/>' }), 4, /port: expected a port number \(1-65535\), got "8o73"/);
  assert.match(e.message, /^confxml\.xml:4:5 <remote>: port: expected a port number/);
  rejects(file({ rsync: '<userDefinedPort start="true" port="70000"/>' }), 5, /port number/);
  rejects(file({ rsync: '<timeout start="true" time="-1"/>' }), 5, /time: expected seconds/);
  rejects(file({ sersync: '<failLog path="/x" timeToExecute="soon"/>' }), 6, /timeToExecute/);
  rejects(file({ head: '<tssersync><threads num="0"/></tssersync>' }), 9, /num: expected a number of workers/);
  rejects(file({ head: '<tssersync><settle ms="100" max="50"/></tssersync>' }), 9, /ceiling/);
  rejects(file({ head: '<tssersync><priority nice="20"/></tssersync>' }), 9, /nice/, '<priority>');
  rejects(file({ head: '<tssersync><priority nice="-5"/></tssersync>' }), 9, /nice/, '<priority>');
  rejects(file({ head: '<tssersync><priority ionice="realtime"/></tssersync>' }), 9, /ionice: expected "best-effort:N"/, '<priority>');
  rejects(file({ head: '<tssersync><priority ionice="best-effort:9"/></tssersync>' }), 9, /ionice/, '<priority>');
  rejects(file({ head: '<tssersync><priority level="3"/></tssersync>' }), 9, /level/, '<priority>');
});

test('a regex that does not compile, at its element', () => {
  rejects(file({ head: '<filter start="true">\n<exclude expression="(.*\\.gz"/></filter>' }), 10, /not a valid regular expression/, '<exclude>');
  rejects(
    file({ head: '<plugin name="command"><param prefix="/bin/true"/>\n<filter start="true"><include expression="[a-"/></filter></plugin>' }),
    10,
    /expression: "\[a-" is not a valid regular expression/,
  );
  rejects(
    file({ head: '<plugin name="refreshCDN"><localpath watch="/srv/www"><cdninfo domainname="d" username="u" passwd="p"/><sendurl base="http://x"/>\n<regexurl regex="true" match="no-group"/></localpath></plugin>' }),
    10,
    /capture group/,
  );
});

test('unknown elements and attributes are reported with what is allowed', () => {
  rejects(file({ sersync: '<crontabb start="true"/>' }), 6, /unknown element <crontabb> inside <sersync>; allowed there: <localpath>, <rsync>/);
  rejects(file({ head: '<tssersync><thread num="2"/></tssersync>' }), 9, /unknown element <thread>.*<threads>/);
  rejects(file({ rsync: '<auth start="true" users="u" passwordFile="/etc/p"/>' }), 5, /unknown attribute passwordFile \(did you mean passwordfile\?\)/);
  rejects(file({ head: '<plugin name="ftp"/>' }), 9, /unknown plugin "ftp"/);
  rejects('<config/>', 1, /root element must be <head/);
  rejects(file({ head: '<debug start="true"/>\n<debug start="false"/>' }), 10, /duplicate <debug>/);
});

test('commonParams that would break the engine are refused at <commonParams>', () => {
  for (const params of ['-artuz --delete', '-artunz', '-a0', '-a --files-from=/tmp/x', '-a -e ssh', '--rsh=ssh', '-a --password-file=/p', '-a --port=874', '-a --dry-run', '-a --remove-source-files', '-a --daemon', '-a /etc']) {
    rejects(file({ rsync: `<commonParams params="${params}"/>` }), 5, /params: .* (is not allowed|is not an option)/, '<commonParams>');
  }
  rejects(file({ rsync: `<commonParams params="-a --exclude='x"/>` }), 5, /unterminated ' quote/);
});

test('semantic mistakes: no root, no remote, duplicates, unstarted plugin definitions', () => {
  rejects('<head>\n<sersync>\n</sersync>\n</head>', 2, /at least one <localpath/);
  rejects('<head>\n<sersync>\n<localpath watch="/a">\n</localpath>\n</sersync>\n</head>', 3, /at least one <remote/);
  rejects(file({ sersync: '<localpath watch="/srv/www/"><remote ip="h" name="m"/></localpath>' }), 6, /already a watch root/);
  rejects(file({ sersync: '<plugin start="true" name="socket"/>' }), 6, /started but no <plugin name="socket">/);
  rejects(file({ remote: '<remote ip="-oProxyCommand=x" name="www"/>' }), 4, /ip: expected a host name/);
  rejects(file({ remote: '<remote ip="h" name="www" user="-x"/>' }), 4, /user: expected a user name/);
  rejects(file({ remote: '<remote ip="h" name="/srv/x"/>' }), 4, /module name.*ssh/);
  rejects(file({ remote: '<remote ip="h" name="/srv/x" ssh="true" passwordfile="/p"/>' }), 4, /password file/);
  rejects(file({ head: '<plugin name="http"><webhook url="ftp://x"/></plugin>' }), 9, /http:\/\/ or https:\/\//);
  rejects(
    file({ head: '<plugin name="refreshCDN"><localpath watch="/w"><cdninfo domainname="d" username="u" passwd="p" passwdEnv="X"/><sendurl base="http://x"/></localpath></plugin>' }),
    9,
    /one way only/,
  );
  rejects(file({ head: '<hooks when="all"/>' }), 9, /unknown element <hooks> inside <head>/);
});

test('two roots on one remote destination (they would delete each other\'s files) are refused at the second <remote>', () => {
  const second = (remote: string) => file({ sersync: `<localpath watch="/srv/other">${remote}</localpath>` });
  rejects(second('<remote ip="10.0.0.2" name="www"/>'), 6, /10\.0\.0\.2::www is already the destination of the watch root \/srv\/www \(line 3\).*delete each other's files/, '<remote>');
  rejects(second('<remote ip="10.0.0.2" name="www/sub"/>'), 6, /overlaps 10\.0\.0\.2::www, the destination of the watch root \/srv\/www/);
  rejects(second('<remote ip="10.0.0.2" name="www/" user="other"/>'), 6, /already the destination/);
  rejects(second('<remote ip="10.0.0.2" name="www" port="873"/>'), 6, /already the destination/, '<remote>');
  // Different module, host, port or transport: separate destinations.
  for (const ok of ['<remote ip="10.0.0.2" name="www2"/>', '<remote ip="10.0.0.3" name="www"/>', '<remote ip="10.0.0.2" name="www" port="8730"/>', '<remote ip="10.0.0.2" name="/www" ssh="true"/>']) {
    assert.doesNotThrow(() => parseConfig(second(ok), 'confxml.xml'), ok);
  }
  const ssh = (a: string, b: string) =>
    file({ remote: `<remote ip="h" name="${a}" ssh="true"/>`, sersync: `<localpath watch="/srv/other"><remote ip="h" name="${b}" ssh="true"/></localpath>` });
  rejects(ssh('/backup/www', '/backup/www/'), 6, /already the destination/);
  rejects(ssh('/backup', '/backup/www'), 6, /overlaps/);
  assert.doesNotThrow(() => parseConfig(ssh('/backup/www', '/backup/www2'), 'confxml.xml'));
  // One root with two remote lines for one destination is not this case (no root deletes another's files).
  assert.doesNotThrow(() => parseConfig(file({ remote: '<remote ip="10.0.0.2" name="www"/><remote ip="10.0.0.2" name="www" user="u"/>' }), 'confxml.xml'));
});
