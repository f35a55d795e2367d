/** Finding the failed paths of an exit 23 in rsync's stderr (samples captured from rsync 3.5.0). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failedFromStderr, unescapeRsyncName } from '../../../src/sync/stderr-paths.js';
import { failureText, causeLine, outcomeText } from '../../../src/sync/messages.js';
import type { RsyncOutcome } from '../../../src/sync/types.js';

const SUMMARY = 'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]';
const ctx = (requested: string[]) => ({ cwd: '/src/root', requested });

test('unescape: \\#ooo octal escapes become bytes, the rest stays', () => {
  assert.equal(unescapeRsyncName('a/new\\#012line'), 'a/new\nline');
  assert.equal(unescapeRsyncName('tab\\#011x'), 'tab\tx');
  assert.equal(unescapeRsyncName('back\\slash'), 'back\\slash');
  assert.equal(unescapeRsyncName('ü 日'), 'ü 日');
  assert.equal(unescapeRsyncName('end\\#01'), 'end\\#01');
});

test('daemon-refused files: exactly those, names with quotes and newlines included', () => {
  const stderr = [
    'ERROR: daemon refused to receive file "a/new\\#012line.deny"',
    'ERROR: daemon refused to receive file "a/q"x.deny"',
    'ERROR: daemon refused to receive file "a/ü 日.deny"',
    SUMMARY,
  ].join('\n');
  const req = ['a/new\nline.deny', 'a/ü 日.deny', 'a/q"x.deny', 'a/ok', 'top'];
  assert.deepEqual(failedFromStderr(stderr, ctx(req)), ['a/new\nline.deny', 'a/ü 日.deny', 'a/q"x.deny']);
});

test('a refused directory fails every requested path below it, and a tree containing it', () => {
  const stderr = ['ERROR: daemon refused to receive directory "blocked"', '*** Skipping any contents from this failed directory ***', SUMMARY].join('\n');
  assert.deepEqual(failedFromStderr(stderr, ctx(['blocked/g', 'blockedx', 'a/b', 'blocked'])), ['blocked/g', 'blocked']);
  assert.deepEqual(failedFromStderr('ERROR: daemon refused to receive directory "t/blocked"\n' + SUMMARY, ctx(['t', 'u'])), ['t']);
});

test('sender paths are absolute under the root', () => {
  const stderr = `rsync: [sender] link_stat "/src/root/nothere/x" failed: No such file or directory (2)\n${SUMMARY}`;
  assert.deepEqual(failedFromStderr(stderr, ctx(['nothere/x', 'top'])), ['nothere/x']);
});

test("a failed write names rsync's temp file: the real name is failed", () => {
  const stderr = `rsync: [receiver] mkstemp "d/.file.txt.Ab12Cd" failed: Permission denied (13)\n${SUMMARY}`;
  assert.deepEqual(failedFromStderr(stderr, ctx(['d/file.txt', 'd/other'])), ['d/file.txt']);
  const ssh = `rsync: [receiver] mkstemp "/srv/dest/d/.f.Ab12Cd" failed: Permission denied (13)\n${SUMMARY}`;
  assert.deepEqual(failedFromStderr(ssh, { ...ctx(['d/f', 'e']), remotePath: '/srv/dest' }), ['d/f']);
});

test('unknown when a line cannot be placed: never report a failure as landed', () => {
  assert.equal(failedFromStderr(`rsync: [sender] write error: Broken pipe (32)\n${SUMMARY}`, ctx(['a'])), undefined);
  assert.equal(failedFromStderr(`rsync: [receiver] mkstemp "/elsewhere/x" failed\n${SUMMARY}`, ctx(['x'])), undefined);
  assert.equal(failedFromStderr(`ERROR: daemon refused to receive file "zzz"\n${SUMMARY}`, ctx(['a', 'b'])), undefined);
});

test('vanished files and summaries are not failures', () => {
  const stderr = ['file has vanished: "/src/root/x"', 'WARNING: parent dir is absent in the file list: x/y', 'rsync warning: some files vanished before they could be transferred (code 24) at main.c(1394) [sender=3.5.0]'].join('\n');
  assert.deepEqual(failedFromStderr(stderr, ctx(['x/y/z'])), []);
});

test('an error on the root implicates everything; the root request is implicated by anything', () => {
  assert.deepEqual(failedFromStderr(`rsync: [generator] failed to set times on ".": Operation not permitted (1)\n${SUMMARY}`, ctx(['a', 'b'])), ['a', 'b']);
  assert.deepEqual(failedFromStderr(`ERROR: daemon refused to receive file "deep/x"\n${SUMMARY}`, ctx([''])), ['']);
});

const outcome = (o: Partial<RsyncOutcome>): RsyncOutcome => ({ exitCode: 0, signal: null, class: 'done', meaning: 'success', stderrTail: '', durationMs: 1, failedPaths: [], spawnError: undefined, ...o });

test('failure text: where, code, meaning, then the telling stderr line', () => {
  assert.equal(
    failureText('127.0.0.1::backup', outcome({ exitCode: 10, class: 'retry', meaning: 'error in socket I/O', stderrTail: 'rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)\nrsync error: error in socket I/O (code 10) at clientserver.c(139) [sender=3.5.0]\n' })),
    'rsync to 127.0.0.1::backup failed with exit code 10 (error in socket I/O): rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)',
  );
  assert.equal(
    failureText('h::m', outcome({ exitCode: 5, class: 'retry', meaning: 'error starting client-server protocol', stderrTail: '@ERROR: auth failed on module backup\nrsync error: error starting client-server protocol (code 5) at main.c(1850) [sender=3.5.0]' }), 2, 7),
    'rsync to h::m failed with exit code 5 (error starting client-server protocol): @ERROR: auth failed on module backup [2 of 7 paths]',
  );
  assert.equal(failureText('h::m', outcome({ exitCode: null, signal: 'SIGTERM', class: 'retry' })), 'rsync to h::m was killed by SIGTERM');
  assert.match(failureText('h::m', outcome({ exitCode: null, spawnError: 'spawn rsync ENOENT', meaning: 'could not start rsync' })), /could not run \(could not start rsync: spawn rsync ENOENT\)/);
  assert.equal(causeLine('\n\n'), undefined);
});

test('causeLine: one table of telling lines for every rsync message', () => {
  assert.equal(causeLine('@ERROR: auth failed on module backup\nrsync error: error starting client-server protocol (code 5)'), '@ERROR: auth failed on module backup');
  assert.equal(
    causeLine('rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)\nrsync error: error in socket I/O (code 10)'),
    'rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)',
  );
  assert.equal(causeLine('building file list\nrsync: mkdir "/x" failed: No route to host (113)'), 'rsync: mkdir "/x" failed: No route to host (113)');
  assert.equal(causeLine('  \n'), undefined);
  // Nothing looks telling: the first line is better than nothing.
  assert.equal(causeLine('something odd'), 'something odd');
  // rsync's own summary only repeats the exit code.
  assert.equal(causeLine(SUMMARY), undefined);
  assert.equal(causeLine(`x${'y'.repeat(400)} failed`)?.length, 301);
  // ssh saying it could not share a connection (it then connected on its own): never the cause.
  assert.equal(
    causeLine('mux_client_request_session: session request failed: Session open refused by peer\nControlSocket /tmp/tssersync-ssh-x/0a1b already exists, disabling multiplexing\nrsync: [sender] write error: Broken pipe (32)\nrsync error: error in socket I/O (code 10)'),
    'rsync: [sender] write error: Broken pipe (32)',
  );
});

test('outcomeText: the same text without the remote (replay records name it themselves)', () => {
  const o = outcome({ exitCode: 10, class: 'retry', meaning: 'error in socket I/O', stderrTail: 'rsync: [sender] failed to connect to h: Connection refused (111)\n' });
  assert.equal(outcomeText(o), 'rsync failed with exit code 10 (error in socket I/O): rsync: [sender] failed to connect to h: Connection refused (111)');
  assert.equal(failureText('h::m', o), `rsync to h::m ${outcomeText(o).slice('rsync '.length)}`);
});

test('names are bytes: a non-UTF-8 name matches exactly, printed raw or as \\#ooo', () => {
  const latin = 'caf\udce9'; // caf + byte 0xE9 (Latin-1 é), canonical form
  const gbk = '\udcd6\udcd0\udcce\udcc4'; // 中文 in GBK
  const raw = `rsync: [sender] link_stat "/src/root/d/${latin}" failed: No such file or directory (2)\n${SUMMARY}`;
  assert.deepEqual(failedFromStderr(raw, ctx(['d/caf\u00e9', `d/${latin}`, 'd/caf\ufffd'])), [`d/${latin}`], 'not the UTF-8 é, not U+FFFD');
  const escaped = `ERROR: daemon refused to receive file "d/\\#326\\#320\\#316\\#304"\n${SUMMARY}`;
  assert.deepEqual(failedFromStderr(escaped, ctx([`d/${gbk}`, 'd/other'])), [`d/${gbk}`]);
  assert.equal(unescapeRsyncName('caf\\#351'), latin);
  assert.equal(unescapeRsyncName('caf\\#303\\#251'), 'caf\u00e9', 'escaped UTF-8 bytes decode as text');
});
