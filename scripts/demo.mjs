#!/usr/bin/env node
// `npm run demo`: live replication on this machine, nothing to configure. Starts an rsync daemon
// on 127.0.0.1:8873 (auth user + 0600 password file, module "tongbu1" → .demo/dest), runs
// tssersync on config/confxml.xml watching .demo/src, proves one file replicates, then says what
// to try. Ctrl-C stops both. `--once` stops after the proof (used by the tests).
import { spawn } from 'node:child_process';
import { mkdir, writeFile, chmod, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';

const repo = join(import.meta.dirname, '..');
const demo = join(repo, '.demo');
const src = join(demo, 'src');
const dest = join(demo, 'dest');
const state = join(demo, 'state');
const port = 8873;
const once = process.argv.includes('--once');
const rel = (p) => relative(process.cwd(), p) || '.';

async function portOpen(p) {
  return new Promise((resolve) => {
    const s = connect(p, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

if (await portOpen(port)) {
  console.error(`demo: port 127.0.0.1:${port} is already in use (another demo running?): stop it and run again.`);
  process.exit(1);
}
for (const d of [src, dest, state]) await mkdir(d, { recursive: true });
await rm(join(state, 'running'), { force: true });
const secrets = join(demo, 'rsyncd.secrets');
await writeFile(secrets, 'tssersync:demo-password\n', { mode: 0o600 });
await chmod(secrets, 0o600);
const pas = join(demo, 'rsync.pas');
await writeFile(pas, 'demo-password\n', { mode: 0o600 });
await chmod(pas, 0o600);
const conf = join(demo, 'rsyncd.conf');
await writeFile(
  conf,
  `use chroot = no\nsocket options = TCP_NODELAY\nlog file = ${join(demo, 'rsyncd.log')}\n${process.getuid() === 0 ? 'uid = 0\ngid = 0\n' : ''}\n` +
    `[tongbu1]\npath = ${dest}\nread only = no\nauth users = tssersync\nsecrets file = ${secrets}\n`,
);

const children = [];
const stopAll = (code) => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
};
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

const rsyncd = spawn('rsync', ['--daemon', '--no-detach', `--config=${conf}`, `--port=${port}`, '--address=127.0.0.1'], { stdio: 'inherit' });
children.push(rsyncd);
await waitFor(() => portOpen(port), 5000, 'the rsync daemon');
console.log(`demo: rsync daemon listening on 127.0.0.1:${port}, module tongbu1 → ${rel(dest)}`);

const config = join(repo, 'config', 'confxml.xml');
const tss = spawn(process.execPath, [join(repo, 'dist', 'cli.js'), '-r', '-o', config], { stdio: 'inherit' });
children.push(tss);
tss.on('exit', (code) => {
  if (code !== 0 && code !== null) console.error(`demo: tssersync exited with code ${code}`);
  stopAll(code ?? 1);
});

try {
  await waitFor(() => existsSync(join(state, 'running')), 15000, 'tssersync to start');
  const probe = join(src, 'hello.txt');
  const text = `hello from tssersync at ${new Date().toISOString()}\n`;
  const t0 = Date.now();
  await writeFile(probe, text);
  await waitFor(async () => (await readFile(join(dest, 'hello.txt'), 'utf8').catch(() => '')) === text, 15000, 'hello.txt to replicate');
  console.log(`\ndemo: ✓ ${rel(probe)} reached ${rel(join(dest, 'hello.txt'))} in ${Date.now() - t0} ms\n`);
} catch (err) {
  console.error(`demo: ${err.message}`);
  stopAll(1);
}
if (once) stopAll(0);
else {
  console.log(`Try, in another terminal:
  echo hi > ${rel(src)}/a.txt               # a new file
  mkdir -p ${rel(src)}/x/y/z && cp -r src ${rel(src)}/x/y/z/   # a whole tree
  mv ${rel(src)}/a.txt ${rel(src)}/b.txt    # a rename; then rm it
  diff -r ${rel(src)} ${rel(dest)} && echo identical
Config: config/confxml.xml (docs/configuration.md). Ctrl-C stops the demo.`);
}
