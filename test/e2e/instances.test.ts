/**
 * Several instances on one host (issue 8.4), through the CLI: two configs without <stateDir> keep
 * their state apart by themselves; a second instance of one config refuses to start naming the
 * first's pid; one killed (SIGKILL) and one stopped cleanly, each catches up its own root.
 *
 * The default state dir of root is /var/lib/tssersync, which a test must not touch: as root the
 * CLI runs as `nobody` with $XDG_STATE_HOME in the test's temp dir.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, sersyncXml } from '../support/cli.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

function cli(args: readonly string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, ...(AS ?? {}) });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  cleanups.push(async () => void child.kill('SIGKILL'));
  return { child, exited, output: () => out };
}

async function own(...paths: string[]): Promise<void> {
  if (AS) for (const p of paths) await chown(p, AS.uid, AS.gid);
}

test('two configs on one host: own state dirs by default, one instance per config, each catches up its own root after SIGKILL / SIGTERM', async () => {
  const daemon = await startRsyncDaemon({ modules: ['a', 'b'] });
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-instances-');
  cleanups.push(t.cleanup);
  const xdg = join(t.path, 'xdg');
  const pas = join(t.path, 'client.pas');
  await mkdir(xdg);
  await writeFile(pas, `${daemon.password}\n`, { mode: 0o600 });
  await own(t.path, xdg, pas);
  const env = { XDG_STATE_HOME: xdg };
  const confs: Record<'a' | 'b', string> = { a: '', b: '' };
  for (const name of ['a', 'b'] as const) {
    const src = join(t.path, `src-${name}`);
    await mkdir(src);
    await own(src);
    // Sersync's stock fail log and no <stateDir>: everything in the config's own default state dir.
    const xml = sersyncXml({ src, state: '/unused', daemon: { ...daemon, passwordFile: pas }, module: name })
      .replace(/\s*<stateDir path="[^"]*"\/>/, '')
      .replace(/<failLog path="[^"]*"/, '<failLog path="/tmp/rsync_fail_log.sh"');
    confs[name] = join(t.path, `${name}.xml`);
    await writeFile(confs[name], xml);
  }
  const put = async (name: 'a' | 'b', file: string) => {
    const p = join(t.path, `src-${name}`, file);
    await writeFile(p, `${name}:${file}`);
    await own(p);
  };
  const landed = (name: 'a' | 'b', file: string) => existsSync(join(daemon.modules[name]!, file));
  const started = async (r: ReturnType<typeof cli>) => waitFor(() => /watching \d+ root/.test(r.output()) || r.child.exitCode !== null, 20000, 'a start');

  let a = cli(['-o', confs.a], env);
  let b = cli(['-o', confs.b], env);
  await started(a);
  await started(b);
  await put('a', 'one');
  await put('b', 'one');
  await waitFor(() => landed('a', 'one') && landed('b', 'one'), 20000, `both live\n${a.output()}\n${b.output()}`);

  // Two state dirs, one per config, under the default base.
  const dirs = (await readdir(join(xdg, 'tssersync'))).sort();
  assert.deepEqual(dirs.map((d) => d.replace(/-[0-9a-f]{12}$/, '-HASH')), ['a-HASH', 'b-HASH'], dirs.join(', '));

  // The same config again: refused, one line, naming the running one's pid.
  const again = cli(['-o', confs.a], env);
  assert.equal(await again.exited, 4, again.output());
  assert.equal(again.output().trim().split('\n').length, 1, again.output());
  assert.match(again.output(), new RegExp(`another tssersync \\(pid ${a.child.pid}\\) is already running with this config`));
  assert.ok(a.child.exitCode === null, 'the first one still runs');

  a.child.kill('SIGKILL');
  await a.exited;
  b.child.kill('SIGTERM');
  assert.equal(await b.exited, 0, b.output());
  await put('a', 'while-down');
  await put('b', 'while-down');
  a = cli(['-o', confs.a], env);
  b = cli(['-o', confs.b], env);
  await waitFor(() => landed('a', 'while-down') && landed('b', 'while-down'), 30000, `each catches up its own root\n${a.output()}\n${b.output()}`);
  assert.match(a.output(), /did not stop cleanly: catching up with a full sync/, 'a was killed: full sync');
  assert.match(b.output(), /catching up on .*src-b since the last stop/, 'b stopped cleanly: catch-up scan');
  assert.doesNotMatch(b.output(), /did not stop cleanly/, "a's crash is not b's");
  assert.equal(await readFile(join(daemon.modules['a']!, 'while-down'), 'utf8'), 'a:while-down');
  assert.equal(await readFile(join(daemon.modules['b']!, 'while-down'), 'utf8'), 'b:while-down');
  for (const r of [a, b]) r.child.kill('SIGTERM');
  assert.deepEqual([await a.exited, await b.exited], [0, 0]);
});
