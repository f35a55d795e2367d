import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteConfig, RsyncSettings } from '../../../src/config/types.js';
import { controlKey } from '../../../src/sync/ssh-control.js';
import { buildDeleteFallbackArgv, buildRsyncArgv, deleteFallbackRules, destinationFor, escapeFilterName, excludeRules, includeRulesFor, redactArgv, refusedChecksum, sshCommand } from '../../../src/sync/argv.js';
import { nameFromBytes } from '../../../src/core/names.js';
import { nulList, stderrText } from '../../../src/sync/runner.js';

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

test('path job to a daemon: files-from on stdin, fast delete, forced by --checksum (or --ignore-times where refused)', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: true, ignoreTimes: true }), [
    'rsync', '--info=stats1', '-artuz', '-R', '--files-from=-', '--from0', '--delete-missing-args', '--force', '--checksum', ...tail,
  ]);
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: true, ignoreTimes: true, forceForm: 'ignore-times' }), [
    'rsync', '--info=stats1', '-artuz', '-R', '--files-from=-', '--from0', '--delete-missing-args', '--force', '--ignore-times', ...tail,
  ]);
  assert.ok(!buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: true, ignoreTimes: false, forceForm: 'ignore-times' }).some((w) => w === '--ignore-times' || w === '--checksum'));
});

test('a daemon refusing --checksum is recognised by its exit 4 and message only', () => {
  const refused = 'rsync: The server is configured to refuse --checksum (-c)\nrsync error: requested action not supported (code 4) at clientserver.c(1267) [Receiver=3.5.0]';
  assert.equal(refusedChecksum(4, refused), true);
  assert.equal(refusedChecksum(5, refused), false);
  assert.equal(refusedChecksum(4, 'rsync: The server is configured to refuse --delete-missing-args'), false);
  assert.equal(refusedChecksum(0, ''), false);
});

test('path job without the fast delete or ignore-times', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'path', deleteMissing: false, ignoreTimes: false }), [
    'rsync', '--info=stats1', '--modify-window=-1', '-artuz', '-R', '--files-from=-', '--from0', '--force', ...tail,
  ]);
});

test('tree job: recursive with --delete inside the listed dirs; --force only once', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'tree', deleteMissing: true, ignoreTimes: false }), [
    'rsync', '--info=stats1', '--modify-window=-1', '-artuz', '-R', '--files-from=-', '--from0', '-r', '--delete', '--force', '--delete-missing-args', ...tail,
  ]);
});

test('timeout, max-delete and binary come from the settings', () => {
  const s: RsyncSettings = { commonParams: ['-a', '-z'], timeoutSeconds: 100, binary: '/opt/rsync', maxDelete: 50 };
  assert.deepEqual(buildRsyncArgv({ remote: { ...daemon, port: undefined, passwordFile: undefined, user: undefined }, rsync: s, action: 'path', deleteMissing: false, ignoreTimes: false }), [
    '/opt/rsync', '--info=stats1', '--modify-window=-1', '-a', '-z', '-R', '--files-from=-', '--from0', '--force', '--timeout=100', '--max-delete=50', '--sockopts=TCP_NODELAY', './', '127.0.0.1::backup/',
  ]);
});

test('full sync: whole root, --delete, crontab excludes, no files-from', () => {
  assert.deepEqual(buildRsyncArgv({ remote: daemon, rsync, action: 'tree', full: true, excludes: ['*.php', 'info/*'], deleteMissing: false, ignoreTimes: false }), [
    'rsync', '--info=stats1,progress2', '--modify-window=-1', '-artuz', '-r', '--delete', '--force', '--exclude=*.php', '--exclude=info/*', ...tail,
  ]);
});

test('ssh: -e with port, BatchMode and the options as one word list; no daemon options', () => {
  assert.deepEqual(buildRsyncArgv({ remote: ssh, rsync, action: 'path', deleteMissing: false, ignoreTimes: true }), [
    'rsync', '--info=stats1', '-artuz', '-R', '--files-from=-', '--from0', '--force', '--checksum',
    '-e', 'ssh -p 2222 -o BatchMode=yes -i /k/id -o StrictHostKeyChecking=no', './', 'root@10.0.0.2:/srv/www/',
  ]);
  assert.equal(sshCommand({ ...ssh, port: undefined, sshOptions: [] }), 'ssh -o BatchMode=yes');
});

test('ssh: one shared connection per remote as configured, after the operator\'s options; none where the operator sets Control* or -S/-M', () => {
  const key = controlKey(ssh);
  assert.equal(sshCommand(ssh, '/tmp/tssersync-ssh-AbC123'), `ssh -p 2222 -o BatchMode=yes -i /k/id -o StrictHostKeyChecking=no -o ControlMaster=auto -o ControlPath=/tmp/tssersync-ssh-AbC123/${key} -o ControlPersist=60 -o ServerAliveInterval=15`);
  assert.match(key, /^[0-9a-f]{32}$/);
  assert.equal(buildRsyncArgv({ remote: ssh, rsync: { ...rsync, sshControl: '/tmp/d' }, action: 'path', deleteMissing: false, ignoreTimes: true }).find((w) => w.startsWith('ssh ')), sshCommand(ssh, '/tmp/d'));
  // Another key, port, login or any other option is another connection: never a run under another remote's key.
  const others = [{ ...ssh, sshOptions: ['-i', '/k/other'] }, { ...ssh, port: 2223 }, { ...ssh, user: 'backup' }, { ...ssh, sshOptions: [...ssh.sshOptions, '-J', 'jump'] }, { ...ssh, host: '10.0.0.3' }];
  assert.equal(new Set([key, ...others.map(controlKey)]).size, others.length + 1);
  const elsewhere: typeof ssh = { ...ssh, module: '/elsewhere' };
  assert.equal(controlKey(elsewhere), key, 'the destination path is not part of the connection');
  for (const own of [['-o', 'ControlMaster=no'], ['-oControlPath=/x/%C'], ['-o', 'controlpersist=yes'], ['-S', '/x/sock'], ['-M']]) {
    assert.doesNotMatch(sshCommand({ ...ssh, sshOptions: own }, '/tmp/d'), /ControlMaster=auto/, own.join(' '));
  }
  assert.equal(sshCommand(ssh), 'ssh -p 2222 -o BatchMode=yes -i /k/id -o StrictHostKeyChecking=no');
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
  assert.deepEqual(includeRulesFor(['x*', 'y']), ['+ /x\\*', '+ /x\\*/***', '+ /y', '+ /y/***']);
});

test('fallback delete: per parent, named entries and their subtrees on stdin, everything else excluded', () => {
  assert.deepEqual(buildDeleteFallbackArgv({ remote: daemon, rsync, parent: 'a/b' }), [
    'rsync', '--info=stats1', '-artuz', '-r', '--delete', '--force', '--from0', '--filter=merge -',
    '--sockopts=TCP_NODELAY', '--port=8873', '--password-file=/etc/rsync.pas', './a/b/', 'tsuser@127.0.0.1::backup/a/b/',
  ]);
  assert.deepEqual(deleteFallbackRules('a/b', ['gone', '-dash']), Buffer.from('+ /gone\0+ /gone/***\0+ /-dash\0+ /-dash/***\0- *\0'));
  const root = buildDeleteFallbackArgv({ remote: ssh, rsync, parent: '' });
  assert.deepEqual(root.slice(-2), ['./', 'root@10.0.0.2:/srv/www/']);
});

test('fallback delete: names are bytes on stdin; a non-UTF-8 parent runs from the root with the directory chain included', () => {
  // caf\xe9 (Latin-1) and \xff: not argv words (spawn would send U+FFFD's UTF-8), exact bytes on stdin.
  const latin = 'caf\udce9';
  assert.deepEqual(deleteFallbackRules('', [latin, 'x\udcff\ny']), Buffer.concat([
    Buffer.from('+ /caf'), Buffer.from([0xe9, 0]), Buffer.from('+ /caf'), Buffer.from([0xe9]), Buffer.from('/***\0'),
    Buffer.from('+ /x'), Buffer.from([0xff]), Buffer.from('\ny\0+ /x'), Buffer.from([0xff]), Buffer.from('\ny/***\0- *\0'),
  ]));
  const argv = buildDeleteFallbackArgv({ remote: daemon, rsync, parent: `d/${latin}` });
  assert.deepEqual(argv.slice(-2), ['./', 'tsuser@127.0.0.1::backup/'], 'no name byte in argv');
  assert.deepEqual(deleteFallbackRules(`d/${latin}`, ['g*']), Buffer.concat([
    Buffer.from('+ /d/\0+ /d/caf'), Buffer.from([0xe9]), Buffer.from('/\0'),
    Buffer.from('+ /d/caf'), Buffer.from([0xe9]), Buffer.from('/g\\*\0'),
    Buffer.from('+ /d/caf'), Buffer.from([0xe9]), Buffer.from('/g\\*/***\0- *\0'),
  ]));
});

test('retract rules: hide each named entry from the sender, let the receiver delete it, protect the rest', () => {
  assert.deepEqual(deleteFallbackRules('d', ['late.gz', 'x*'], 'retract'), Buffer.from('H /late.gz\0R /late.gz\0R /late.gz/***\0H /x\\*\0R /x\\*\0R /x\\*/***\0- *\0'));
  assert.deepEqual(deleteFallbackRules('caf\udce9', ['y.gz'], 'retract'), Buffer.concat([
    Buffer.from('+ /caf'), Buffer.from([0xe9]), Buffer.from('/\0H /caf'), Buffer.from([0xe9]), Buffer.from('/y.gz\0R /caf'), Buffer.from([0xe9]), Buffer.from('/y.gz\0R /caf'), Buffer.from([0xe9]), Buffer.from('/y.gz/***\0- *\0'),
  ]));
});

test('exclude rules: first in argv, read NUL-separated, then --no-from0 so a user merge file reads by lines', () => {
  const argv = buildRsyncArgv({ remote: daemon, rsync, action: 'tree', deleteMissing: true, ignoreTimes: false, rulesFile: '/tmp/r/excluded' });
  assert.deepEqual(argv.slice(0, 7), ['rsync', '--from0', '--filter=merge /tmp/r/excluded', '--no-from0', '--info=stats1', '--modify-window=-1', '-artuz']);
  const full = buildRsyncArgv({ remote: daemon, rsync, action: 'tree', full: true, excludes: ['*.php'], deleteMissing: false, ignoreTimes: false, rulesFile: '/tmp/r/x' });
  assert.deepEqual(full.slice(0, 11), ['rsync', '--from0', '--filter=merge /tmp/r/x', '--no-from0', '--info=stats1,progress2', '--modify-window=-1', '-artuz', '-r', '--delete', '--force', '--exclude=*.php']);
  assert.deepEqual(excludeRules(['a/x.gz', 'top*', 'caf\udce9/- lead ']), Buffer.concat([
    Buffer.from('- /a/x.gz\0- /top\\*\0- /caf'), Buffer.from([0xe9]), Buffer.from('/- lead \0'),
  ]));
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

test('the priority launcher goes before the binary in every form', () => {
  const launched = { ...rsync, launcher: ['/usr/bin/nice', '-n', '10', '/usr/bin/ionice', '-c2', '-n7'] };
  const path = buildRsyncArgv({ remote: daemon, rsync: launched, action: 'path', deleteMissing: true, ignoreTimes: false });
  assert.deepEqual(path.slice(0, 10), ['/usr/bin/nice', '-n', '10', '/usr/bin/ionice', '-c2', '-n7', 'rsync', '--info=stats1', '--modify-window=-1', '-artuz']);
  const full = buildRsyncArgv({ remote: daemon, rsync: launched, action: 'tree', full: true, deleteMissing: false, ignoreTimes: false });
  assert.deepEqual(full.slice(0, 7), [...launched.launcher, 'rsync']);
  const del = buildDeleteFallbackArgv({ remote: daemon, rsync: launched, parent: '' });
  assert.deepEqual(del.slice(0, 7), [...launched.launcher, 'rsync']);
});

test('stdin list: every name as its exact bytes (GBK, Latin-1, 0xff, UTF-8)', () => {
  const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // 中文 in GBK: not valid UTF-8
  const names = [gbk, Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from([0xff]), Buffer.from('日本/ü', 'utf8')];
  const canonical = names.map((b) => nameFromBytes(b));
  const dotSlash = Buffer.from('./');
  assert.deepEqual(nulList(canonical), Buffer.concat(names.flatMap((b) => [dotSlash, b, Buffer.from([0])])));
  for (let b = 1; b < 256; b++) {
    if (b === 0x2f) continue;
    const one = Buffer.from([0x61, b]);
    assert.deepEqual(nulList([nameFromBytes(one)]), Buffer.concat([dotSlash, one, Buffer.from([0])]), `byte ${b}`);
  }
});

test('stderr bytes read as the canonical form: a raw non-UTF-8 byte survives, UTF-8 reads as text', () => {
  const raw = Buffer.concat([Buffer.from('rsync: [sender] link_stat "/r/caf'), Buffer.from([0xe9]), Buffer.from('" failed\nü\n')]);
  assert.equal(stderrText(raw), 'rsync: [sender] link_stat "/r/caf\udce9" failed\nü\n');
  assert.equal(stderrText(Buffer.alloc(0)), '');
});
