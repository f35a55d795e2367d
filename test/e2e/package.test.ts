/**
 * The package installs (issue 7.5): `npm pack` on a fresh checkout (no dist/) builds on prepack, and
 * the tarball, installed into a temporary prefix without network, gives a `tssersync` that starts,
 * says its version and checks a shipped example.
 *
 * HACK: not `npm install -g ./tssersync-*.tgz` itself. npm 11 resolves a tarball's dependencies
 * from full registry documents, while the cache `npm ci` leaves holds only the abbreviated ones,
 * so that command needs the network (ENOTCACHED with --offline). The install here goes through a
 * lockfile instead (our package-lock.json's runtime entries, the tarball as the one dependency),
 * which npm fetches by integrity from the cache: the same tarball, the same dependency tree, the
 * same bin link, offline.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tree.js';

const REPO = join(import.meta.dirname, '../..');
const work = await tempDir('tss-package-');
after(() => work.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const npm = (args: readonly string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd, { npm_config_update_notifier: 'false' });

/** A fresh checkout: the tracked files only (no dist/), node_modules borrowed for the build. */
async function freshCheckout(dir: string): Promise<void> {
  const listed = await run('git', ['ls-files', '-z'], REPO);
  assert.equal(listed.code, 0, listed.stderr);
  for (const f of listed.stdout.split('\0').filter((f) => f !== '' && existsSync(join(REPO, f)))) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await cp(join(REPO, f), join(dir, f));
  }
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
}

/** A lockfile that installs `tarball` with exactly our runtime dependency tree. */
async function lockFor(tarball: string, integrity: string): Promise<object> {
  const ours = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: object; engines: object; bin: object; license: string };
  const packages: Record<string, unknown> = {
    '': { name: 'install-check', dependencies: { [pkg.name]: `file:${tarball}` } },
    [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: `file:${tarball}`, integrity, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(ours.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  return { name: 'install-check', lockfileVersion: 3, requires: true, packages };
}

test('npm pack on a fresh checkout builds dist/; the tarball installs offline and its tssersync runs', async () => {
  const checkout = join(work.path, 'checkout');
  await freshCheckout(checkout);
  assert.ok(!existsSync(join(checkout, 'dist')), 'a fresh checkout has no dist/');

  const packed = await npm(['pack', '--json', '--pack-destination', work.path], checkout);
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const files = info.files.map((f) => f.path);
  assert.ok(files.includes('dist/cli.js'), `dist/cli.js is in the package: ${files.filter((f) => !f.startsWith('docs/')).join(', ')}`);
  assert.ok(files.includes('examples/sersync-stock.xml'));
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'sources and tests stay out');

  const tarball = join(work.path, info.filename);
  const prefix = join(work.path, 'prefix');
  await mkdir(prefix);
  const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
  await writeFile(join(prefix, 'package.json'), JSON.stringify({ name: 'install-check', private: true, dependencies: { tssersync: `file:${tarball}` } }));
  await writeFile(join(prefix, 'package-lock.json'), JSON.stringify(await lockFor(tarball, integrity), null, 2));
  const installed = await npm(['ci', '--offline'], prefix);
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);

  const bin = join(prefix, 'node_modules', '.bin', 'tssersync');
  const home = join(prefix, 'node_modules', 'tssersync');
  assert.deepEqual((await readdir(home)).filter((f) => f === 'src' || f === 'test'), []);

  const version = await run(bin, ['--version'], work.path);
  assert.equal(version.code, 0, version.stderr);
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout.trim(), pkg.version);

  // The shipped Sersync stock file parses; only its watch root is missing on this machine.
  const stock = join(home, 'examples', 'sersync-stock.xml');
  const checked = await run(bin, ['--check', '-o', stock], work.path);
  if (!existsSync('/opt/tongbu')) {
    assert.equal(checked.code, 4, checked.stdout + checked.stderr);
    assert.match(checked.stderr, /sersync-stock\.xml:\d+ <localpath>: the watch root \/opt\/tongbu does not exist/);
  }
  // With a root that exists, the check passes.
  const root = join(work.path, 'root');
  await mkdir(root);
  const mine = join(work.path, 'confxml.xml');
  await writeFile(mine, (await readFile(stock, 'utf8')).replace('/opt/tongbu', root));
  const ok = await run(bin, ['--check', '-o', mine], work.path);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /confxml\.xml: OK/);
});
