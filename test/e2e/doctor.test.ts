/**
 * `tssersync doctor` against real receivers: a good rsync daemon, a wrong password, a missing
 * module, a read-only module, an ssh host whose key is unknown (and one whose key is accepted),
 * two roots on one destination. The CLI runs as a subprocess; asserts on exit codes, the one line
 * per problem with its fix, and that the scratch file is gone from the receiver.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { runCli, writeXml, type XmlOptions } from '../support/cli.js';
import { tempDir } from '../support/tree.js';

let daemon: RsyncDaemon;
let readOnly: RsyncDaemon;
let sshd: Sshd;
let work: { path: string; cleanup: () => Promise<void> };

before(async () => {
  daemon = await startRsyncDaemon({ modules: ['good', 'other'] });
  readOnly = await startRsyncDaemon({ modules: ['ro'], moduleExtra: ['read only = yes'] });
  sshd = await startSshd();
  work = await tempDir('tss-doctor-');
});
after(async () => {
  await daemon.stop();
  await readOnly.stop();
  await sshd.stop();
  await work.cleanup();
});

let n = 0;
async function doctor(extra: Partial<XmlOptions> = {}) {
  const base = join(work.path, `case-${n++}`);
  const src = join(base, 'src');
  const state = join(base, 'state');
  await mkdir(src, { recursive: true });
  await mkdir(join(src, 'sub'), { recursive: true });
  const conf = await writeXml(join(base, 'confxml.xml'), { src, state, daemon, module: 'good', ...extra });
  const r = await runCli(['doctor', '-o', conf], { timeoutMs: 120_000 });
  return { ...r, src, lines: r.stdout.split('\n') };
}

const line = (lines: string[], re: RegExp) => lines.find((l) => re.test(l));

test('doctor: a good setup is ready (exit 0), every check one line, the scratch file removed', async () => {
  const r = await doctor();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const re of [/^ok +config: .* is valid \(1 root\(s\), 1 remote\(s\)\)/, /^ok +rsync: rsync +version/, /^ok +root /, /^ok +password file .*client\.pas/, /^ok +state dir .*: writable/, /^ok +instance: no tssersync runs/, /^ok +destinations:/, /^ok +inotify: \d+ directories/, /^ok +remote tsuser@127\.0\.0\.1::good: reachable, login accepted, writable/, /^ok +remote .*: the receiver supports --delete-missing-args/]) {
    assert.ok(line(r.lines, re), `${re}\n${r.stdout}`);
  }
  assert.match(r.stdout, /ready to go live/);
  assert.deepEqual(await readdir(daemon.modules['good']!), [], 'no scratch file left on the receiver');
});

test('doctor: a module that refuses --checksum is a warning with the fix, not a failure; the scratch file is still removed', async () => {
  const refusing = await startRsyncDaemon({ modules: ['nock'], moduleExtra: ['refuse options = checksum'] });
  try {
    const r = await doctor({ daemon: refusing, module: 'nock' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(line(r.lines, /^warn +remote .*::nock: the receiver refuses --checksum .* — fix: remove checksum from `refuse options`/), r.stdout);
    assert.deepEqual(await readdir(refusing.modules['nock']!), [], 'no scratch file left on the receiver');
  } finally {
    await refusing.stop();
  }
});

test('doctor: a wrong password fails with the fix', async () => {
  const wrong = join(work.path, 'wrong.pas');
  await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
  const r = await doctor({ daemon: { ...daemon, passwordFile: wrong, port: daemon.port } });
  assert.equal(r.code, 1, r.stdout);
  assert.ok(line(r.lines, /^FAIL remote tsuser@127\.0\.0\.1::good: the rsync daemon refused the login of tsuser \(wrong user or password\) — fix: check <auth users/), r.stdout);
});

test('doctor: a missing module fails with the fix', async () => {
  const r = await doctor({ module: 'nosuch' });
  assert.equal(r.code, 1, r.stdout);
  assert.ok(line(r.lines, /^FAIL remote .*::nosuch: the rsync daemon has no module "nosuch" — fix: /), r.stdout);
});

test('doctor: a read-only module fails with the fix', async () => {
  const r = await doctor({ daemon: readOnly, module: 'ro' });
  assert.equal(r.code, 1, r.stdout);
  assert.ok(line(r.lines, /^FAIL remote .*::ro: the module is read-only.* — fix: set "read only = no"/), r.stdout);
});

test('doctor: an ssh host with an unknown host key fails (BatchMode cannot ask); with the key accepted it passes', async () => {
  const dst = await tempDir('tss-doctor-ssh-');
  try {
    const remote = (opts: string) => `\n      <remote ip="127.0.0.1" name="${dst.path}" ssh="true" user="${sshd.user}" port="${sshd.port}" sshOptions="${opts}"/>`;
    const unknown = await doctor({ module: 'other', extraRemotes: remote(`-i ${sshd.identityFile} -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`) });
    assert.equal(unknown.code, 1, unknown.stdout);
    assert.ok(line(unknown.lines, new RegExp(`^FAIL remote ${sshd.user}@127\\.0\\.0\\.1:.*: the ssh host key of 127\\.0\\.0\\.1 is not known .* — fix: .*ssh-keyscan -p \\d+ 127\\.0\\.0\\.1 >> ~/\\.ssh/known_hosts`)), unknown.stdout);
    assert.ok(line(unknown.lines, /^ok +remote tsuser@127\.0\.0\.1::other: reachable/), 'the daemon remote is still checked');

    const known = await doctor({ module: 'other', extraRemotes: remote(sshd.sshOptions.join(' ')) });
    assert.equal(known.code, 0, known.stdout);
    assert.ok(line(known.lines, new RegExp(`^ok +remote ${sshd.user}@127\\.0\\.0\\.1:.*: ssh BatchMode login works and the host key is known`)), known.stdout);
    assert.deepEqual(await readdir(dst.path), [], 'no scratch file left over ssh');
  } finally {
    await dst.cleanup();
  }
});

test('doctor: a root sent inside another root\'s destination fails (the parser already refuses the very same one); an invalid config is one line and exit 1', async () => {
  const other = join(work.path, 'second-root');
  await mkdir(other, { recursive: true });
  const r = await doctor({ sersyncExtra: `\n    <localpath watch="${other}"><remote ip="127.0.0.1" name="good/inner"/></localpath>` });
  assert.equal(r.code, 1, r.stdout);
  assert.ok(line(r.lines, /^FAIL (config|destinations): .*(two roots on one destination|land in the same place).* — fix: /), r.stdout);

  const bad = join(work.path, 'bad.xml');
  await writeFile(bad, '<head version="2.5"><sersync><localpath watch="/x"><remote ip="h" name="m" port="8o73"/></localpath></sersync></head>');
  const b = await runCli(['doctor', '-o', bad]);
  assert.equal(b.code, 1);
  assert.match(b.stdout, /^FAIL config: .*bad\.xml:1:\d+ <remote>: .*8o73.* — fix: /);
});
