import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEnvironment, loadConfig, parseConfig } from '../../src/config/index.js';
import { ConfigError, EnvironmentError } from '../../src/errors.js';

/** A temp dir with a config file whose watch root and password file are relative to it. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, opts: { passwordFile?: string; plugin?: string } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tssersync-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'confxml.xml');
  const pw = opts.passwordFile ?? 'rsync.pas';
  const xml = [
    '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '<head version="2.5">',
    '<sersync>',
    '  <localpath watch="src">',
    '    <remote ip="127.0.0.1" name="m"/>',
    '  </localpath>',
    `  <rsync><auth start="true" users="backup" passwordfile="${pw}"/></rsync>`,
    opts.plugin ? '  <plugin start="true" name="refreshCDN"/>' : '',
    '</sersync>',
    opts.plugin ?? '',
    '</head>',
  ].join('\n');
  await writeFile(file, xml);
  return { dir, file, root: join(dir, 'src'), pw: join(dir, 'rsync.pas') };
}

async function envError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof EnvironmentError, `expected an EnvironmentError, got ${String(err)}`);
  assert.ok(!err.message.includes('\n'), 'one line');
  return err.message;
}

test('a good setup loads: relative paths resolve against the config file', async (t) => {
  const { file, root, pw } = await setup(t);
  await mkdir(root);
  await writeFile(pw, 'secret\n', { mode: 0o600 });
  const c = await loadConfig(file);
  assert.equal(c.roots[0]?.path, root);
  assert.equal(c.roots[0]?.remotes[0]?.passwordFile, pw);
});

test('a missing watch root names the config line and the path', async (t) => {
  const { file, root, pw } = await setup(t);
  await writeFile(pw, 'secret\n', { mode: 0o600 });
  const msg = await envError(loadConfig(file));
  assert.match(msg, new RegExp(`^${file}:4 <localpath>: the watch root ${root} does not exist`));
});

test('a watch root that is a file is refused', async (t) => {
  const { file, root, pw } = await setup(t);
  await writeFile(root, 'x');
  await writeFile(pw, 'secret\n', { mode: 0o600 });
  assert.match(await envError(loadConfig(file)), /is not a directory/);
});

test('a missing password file is refused, with the remote line', async (t) => {
  const { file, root, pw } = await setup(t);
  await mkdir(root);
  const msg = await envError(loadConfig(file));
  assert.match(msg, new RegExp(`^${file}:5: the rsync password file ${pw} does not exist`));
});

test('a password file readable by others (0644) is refused with the fix', async (t) => {
  const { file, root, pw } = await setup(t);
  await mkdir(root);
  await writeFile(pw, 'secret\n');
  await chmod(pw, 0o644);
  assert.match(await envError(loadConfig(file)), /accessible by group or others \(mode 0644\): chmod 600 /);
  await chmod(pw, 0o640);
  assert.match(await envError(loadConfig(file)), /mode 0640/);
  await chmod(pw, 0o600);
  await loadConfig(file);
});

test('as root, a password file owned by someone else is refused (rsync would refuse it too)', { skip: process.getuid?.() !== 0 }, async (t) => {
  const { file, root, pw } = await setup(t);
  await mkdir(root);
  await writeFile(pw, 'secret\n', { mode: 0o600 });
  await chown(pw, 65534, 65534);
  assert.match(await envError(loadConfig(file)), /must be owned by root/);
});

test('several problems: the first is told, the rest counted', async (t) => {
  const { file } = await setup(t);
  assert.match(await envError(loadConfig(file)), /does not exist.*\(and 1 more problem\)$/);
});

test('a started CDN plugin needs its secret: env variable set, secret file private', async (t) => {
  const plugin = `<plugin name="refreshCDN"><localpath watch="src">
      <cdninfo domainname="cdn.example" username="me" passwdEnv="TSSERSYNC_TEST_CDN_SECRET"/>
      <sendurl base="http://www.example.com"/>
      <purge endpoint="https://api.example.com/purge" secretFile="cdn.token"/>
    </localpath></plugin>`;
  const { file, dir, root, pw } = await setup(t, { plugin });
  await mkdir(root);
  await writeFile(pw, 'secret\n', { mode: 0o600 });
  delete process.env['TSSERSYNC_TEST_CDN_SECRET'];
  assert.match(await envError(loadConfig(file)), /environment variable TSSERSYNC_TEST_CDN_SECRET is not set/);
  process.env['TSSERSYNC_TEST_CDN_SECRET'] = 'x';
  t.after(() => delete process.env['TSSERSYNC_TEST_CDN_SECRET']);
  assert.match(await envError(loadConfig(file)), /secret file .*cdn\.token does not exist/);
  await writeFile(join(dir, 'cdn.token'), 'tok', { mode: 0o600 });
  await loadConfig(file);
});

test('checkEnvironment works on a parsed Config too', async (t) => {
  const { dir } = await setup(t);
  const c = parseConfig('<head><sersync><localpath watch="nope"><remote ip="h" name="m"/></localpath></sersync></head>', join(dir, 'c.xml'));
  await assert.rejects(checkEnvironment(c), EnvironmentError);
});

test('config file problems: missing file, Latin-1 bytes', async (t) => {
  const { dir, file, root, pw } = await setup(t);
  await assert.rejects(loadConfig(join(dir, 'absent.xml')), (e: unknown) => e instanceof ConfigError && /no such file/.test(e.message));
  await mkdir(root);
  await writeFile(pw, 'secret\n', { mode: 0o600 });
  // Sersync's stock file declares ISO-8859-1: a Latin-1 comment must not break the load.
  const latin1 = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>\n<!-- caf'), Buffer.from([0xe9]), Buffer.from(' -->\n')]);
  const body = (await import('node:fs/promises')).readFile(file, 'utf8');
  await writeFile(file, Buffer.concat([latin1, Buffer.from((await body).split('\n').slice(1).join('\n'))]));
  const c = await loadConfig(file);
  assert.equal(c.roots[0]?.path, root);
});
