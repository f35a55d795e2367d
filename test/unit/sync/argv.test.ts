import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteConfig, RsyncSettings } from '../../../src/config/types.js';
import { buildDeleteFallbackArgv, buildRsyncArgv, destinationFor, escapeFilterName, includeRulesFor, redactArgv, sshCommand } from '../../../src/sync/argv.js';
import { nulList } from '../../../src/sync/runner.js';

const daemon: RemoteConfig = { id: 'tsuser@127.0.0.1::backup', host: '127.0.0.1', module: 'backup', mode: 'daemon', port: 8873, user: 'tsuser', passwordFile: '/etc/rsync.pas', sshOptions: [] };
const ssh: RemoteConfig = { id: 'root@10.0.0.2:/srv/www', host: '10.0.0.2', module: '/srv/www', mode: 'ssh', port: 2222, user: 'root', passwordFile: undefined, sshOptions: ['-i', '/k/id', '-o', 'StrictHostKeyChecking=no'] };
const rsync: RsyncSettings = { commonParams: ['-artuz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined };
const tail = ['--sockopts=TCP_NODELAY', '--port=8873', '--password-file=/etc/rsync.pas', './', 'tsuser@127.0.0.1::backup/'];

test('destination: daemon module and ssh path, always ending in /', () => {
  assert.equal(destinationFor(daemon), 'tsuser@127.0.0.1::backup/');
  assert.equal(destinationFor({ ...daemon, user: undefined, module: 'backup/' }), '127.0.0.1::backup/');
  assert.equal(destinationFor(ssh), 'root@10.0.0.2:/srv/www/');
  assert.equal(destinationFor({ ...ssh, user: undefined, module: 'rel/dir' }), '10.0.0.2:rel/dir/');
});

test('path job to a daemon: files-from on stdin, fast delete, ignore-times', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: true, ignoreTimes: true }), [
    'rsync', '-artuz', '-R', '--files-from=-', '--from0', '--delete-missing-args', '--force', '--ignore-times', ...tail,
  ]);
});

test('path job without the fast delete or ignore-times', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: false, ignoreTimes: false }), [
    'rsync', '-artuz', '-R', '--files-from=-', '--from0', '--force', ...tail,
  ]);
});

test('tree job: recursive with --delete inside the listed dirs; --force only once', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'tree', deleteMissing: true, ignoreTimes: false }), [
    'rsync', '-artuz', '-R', '--files-from=-', '--from0', '-r', '--delete', '--force', '--delete-missing-args', ...tail,
  ]);
});

test('timeout, max-delete and binary come from the settings', () => {
  const s: RsyncSettings = { commonParams: ['-a', '-z'], timeoutSeconds: 100, binary: '/opt/rsync', maxDelete: 50 };
  assert.deepEqual(buildRsyncArgv({ remote: { ...daemon, port: undefined, passwordFile: undefined, user: undefined }, rsync: s, action: 'path', deleteMissing: false, ignoreTimes: false }), [
    '/opt/rsync', '-a', '-z', '-R', '--files-from=-', '--from0', '--force', '--timeout=100', '--max-delete=50', '--sockopts=TCP_NODELAY', './', '127.0.0.1::backup/',
  ]);
});

test('full sync: whole root, --delete, crontab excludes, no files-from', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'tree', full: true, excludes: ['*.php', 'info/*'], deleteMissing: false, ignoreTimes: false }), [
    'rsync', '-artuz', '-r', '--delete', '--force', '--exclude=*.php', '--exclude=info/*', ...tail,
  ]);
});

test('ssh: -e with port, BatchMode and the options as one word list; no daemon options', () => {
  assert.deepEqual(buildRsyncArgv({ remote: ssh, rsync, action: 'path', deleteMissing: false, ignoreTimes: true }), [
    'rsync', '-artuz', '-R', '--files-from=-', '--from0', '--force', '--ignore-times',
    '-e', 'ssh -p 2222 -o BatchMode=yes -i /k/id -o StrictHostKeyChecking=no', './', 'root@10.0.0.2:/srv/www/',
  ]);
  assert.equal(sshCommand({ ...ssh, port: undefined, sshOptions: [] }), 'ssh -o BatchMode=yes');
});

test('ssh options that rsync -e would re-split are refused', () => {
  for (const bad of ['/path with space/key', "it's", 'a"b', 'back\\slash', '']) {
    assert.throws(() => sshCommand({ ...ssh, sshOptions: ['-i', bad] }), /cannot pass it safely/, JSON.stringify(bad));
  }
});

test('filter escaping: wildcards and backslashes only where rsync reads them', () => {
  assert.equal(escapeFilterName('plain.txt', false), 'plain.txt');
  assert.equal(escapeFilterName('back\\slash', false), 'back\\slash', 'no wildcard: literal compare, no escape');
  assert.equal(escapeFilterName('back\\slash', true), 'back\\\\slash');
  assert.equal(escapeFilterName('star*q?[br]', false), 'star\\*q\\?\\[br]');
  assert.equal(escapeFilterName('a*\\b', false), 'a\\*\\\\b');
  assert.equal(escapeFilterName('new\nline', true), 'new\nline');
  assert.deepEqual(includeRulesFor(['x*', 'y']), ['--include=/x\\*', '--include=/x\\*/***', '--include=/y', '--include=/y/***']);
});

test('fallback delete: per parent, named entries and their subtrees, everything else excluded', () => {
  assert.deepEqual(buildDeleteFallbackArgv({ remote: daemon, rsync, parent: 'a/b', names: ['gone', '-dash'] }), [
    'rsync', '-artuz', '-r', '--delete', '--force', '--include=/gone', '--include=/gone/***', '--include=/-dash', '--include=/-dash/***', '--exclude=*',
    '--sockopts=TCP_NODELAY', '--port=8873', '--password-file=/etc/rsync.pas', './a/b/', 'tsuser@127.0.0.1::backup/a/b/',
  ]);
  const root = buildDeleteFallbackArgv({ remote: ssh, rsync, parent: '', names: ['x'] });
  assert.deepEqual(root.slice(-2), ['./', 'root@10.0.0.2:/srv/www/']);
});

test('no secret ever in argv; redactArgv masks what would be one', () => {
  const argv = buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: true, ignoreTimes: true });
  assert.deepEqual(redactArgv(argv), argv, 'nothing to redact: the password is only in the password file');
  assert.deepEqual(redactArgv(['rsync', '--password=hunter2', 'RSYNC_PASSWORD=x', 'rsync://u:pw@h/m']), ['rsync', '--password=***', 'RSYNC_PASSWORD=***', 'rsync://u:***@h/m']);
});

test('stdin list: NUL-terminated, the root as ".", any other byte kept', () => {
  assert.deepEqual(nulList(['a', 'new\nline', '', '-x']), Buffer.from('./a\0./new\nline\0.\0./-x\0'));
  // rsync takes a files-from line starting with # or ; for a comment, even with --from0.
  assert.deepEqual(nulList(['#notes', ';x', 'd/#y']), Buffer.from('./#notes\0./;x\0./d/#y\0'));
});
