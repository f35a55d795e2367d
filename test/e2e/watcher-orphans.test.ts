/**
 * The watcher children (one per root, src/watch/child.ts) end with the CLI, however it dies: a
 * SIGKILL (the parent says nothing), a closed stdout/stderr pipe followed by a write (EPIPE), an
 * uncaught error. Found by the scale bench: children left running under pid 1. The case that broke
 * is a CLI killed just after it forked a child: the channel closed while child.ts was still loading,
 * the 'disconnect' event went to no listener, and the child watched on forever. Both backends.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, sersyncXml } from '../support/cli.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
const leftovers = new Set<number>();
after(async () => {
  // Whatever a failed run left behind must not outlive the test.
  for (const pid of leftovers) if (await isWatcherAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** The state letter of /proc/PID/stat, undefined once the process is gone. */
async function procState(pid: number): Promise<string | undefined> {
  const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return st ? st.slice(st.lastIndexOf(')') + 2)[0] : undefined;
}

/** Alive, not a zombie waiting for pid 1 to reap it, and still a watcher child (not a reused pid). */
async function isWatcherAlive(pid: number): Promise<boolean> {
  const state = await procState(pid);
  if (state === undefined || state === 'Z' || state === 'X') return false;
  return /watch\/child/.test(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''));
}

async function watcherChildren(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = await readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
    if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue;
    if (/watch\/child/.test(await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => ''))) out.push(Number(d));
  }
  return out;
}

let daemon: RsyncDaemon | undefined;

async function setup(backend: string) {
  daemon ??= await startRsyncDaemon();
  const d = daemon;
  if (cleanups.length === 0) cleanups.push(() => d.stop());
  const t = await tempDir('tss-orphans-');
  cleanups.push(t.cleanup);
  const src = join(t.path, 'src');
  const state = join(t.path, 'state');
  await mkdir(src);
  await mkdir(state);
  for (let i = 0; i < 20; i++) await mkdir(join(src, `d${i}`));
  const conf = join(t.path, 'confxml.xml');
  await writeFile(conf, sersyncXml({ src, state, daemon: d, tssersync: `<watcher backend="${backend}"/>` }));
  // An uncaught error on demand: SIGUSR2 makes the CLI (and only the CLI, not its forked children) throw.
  const boom = join(t.path, 'boom.mjs');
  await writeFile(boom, "if (!process.send) process.on('SIGUSR2', () => { throw new Error('an uncaught error, on purpose'); });\n");
  return { src, conf, boom, dst: d.modules['backup']! };
}

function spawnCli(conf: string, execArgv: string[] = []): { cli: ChildProcess; output: () => string } {
  const cli = spawn(process.execPath, [...execArgv, CLI, '-o', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  cli.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  cli.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  cleanups.push(async () => void cli.kill('SIGKILL'));
  return { cli, output: () => out };
}

/** Started, watching, and replicating: a file written now lands. Returns the watcher children's pids. */
async function running(cli: ChildProcess, output: () => string, src: string, dst: string): Promise<number[]> {
  await waitFor(() => /watching \d+ root/.test(output()) || undefined, 30000, `the CLI watching\n${output()}`);
  await writeFile(join(src, 'probe'), 'probe');
  await waitFor(async () => (await readFile(join(dst, 'probe'), 'utf8').catch(() => '')) === 'probe', 20000, 'the probe file on the receiver');
  const kids = await watcherChildren(cli.pid!);
  assert.ok(kids.length > 0, 'a watcher child');
  return kids;
}

async function assertAllGone(kids: readonly number[], what: string): Promise<void> {
  for (const k of kids) leftovers.add(k);
  const alive = async () => (await Promise.all(kids.map(isWatcherAlive))).some(Boolean);
  await waitFor(async () => !(await alive()), 10000, `no watcher child alive after ${what} (pids ${kids.join(', ')})`).catch(async (err: Error) => {
    const still = [];
    for (const k of kids) if (await isWatcherAlive(k)) still.push(`${k} (ppid ${/PPid:\s+(\d+)/.exec(await readFile(`/proc/${k}/status`, 'utf8').catch(() => ''))?.[1]})`);
    throw new Error(`${err.message}: still running ${still.join(', ')}`);
  });
}

const exited = (cli: ChildProcess) =>
  cli.exitCode !== null || cli.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => cli.once('exit', () => r()));

for (const backend of ['inotify', 'parcel']) {
  test(`${backend}: a CLI SIGKILLed just after forking its watcher child leaves no child running`, async () => {
    const { conf } = await setup(backend);
    // Three times: the child must be caught while it is still loading, which one try may miss.
    for (let i = 0; i < 3; i++) {
      const { cli, output } = spawnCli(conf);
      const kids = await waitFor(async () => {
        if (cli.exitCode !== null) throw new Error(`the CLI exited early\n${output()}`);
        const k = await watcherChildren(cli.pid!);
        return k.length > 0 ? k : undefined;
      }, 30000, 'a watcher child forked');
      cli.kill('SIGKILL');
      await exited(cli);
      await assertAllGone(kids, `a SIGKILL at startup (try ${i + 1})`);
    }
  });

  test(`${backend}: a running CLI SIGKILLed leaves no child running`, async () => {
    const { src, conf, dst } = await setup(backend);
    const { cli, output } = spawnCli(conf);
    const kids = await running(cli, output, src, dst);
    cli.kill('SIGKILL');
    await exited(cli);
    await assertAllGone(kids, 'a SIGKILL');
  });

  test(`${backend}: a CLI whose stdout and stderr pipes closed dies at its next write, and its children with it`, async () => {
    const { src, conf, dst } = await setup(backend);
    const { cli, output } = spawnCli(conf);
    const kids = await running(cli, output, src, dst);
    cli.stdout!.destroy();
    cli.stderr!.destroy();
    // The next change is logged: that write fails with EPIPE.
    await writeFile(join(src, 'after-the-pipe'), 'x');
    await waitFor(() => cli.exitCode !== null || cli.signalCode !== null || undefined, 20000, 'the CLI ending on EPIPE');
    await assertAllGone(kids, 'the CLI died of a closed pipe');
  });

  test(`${backend}: a CLI ended by an uncaught error leaves no child running`, async () => {
    const { src, conf, boom, dst } = await setup(backend);
    const { cli, output } = spawnCli(conf, ['--import', boom]);
    const kids = await running(cli, output, src, dst);
    cli.kill('SIGUSR2');
    await exited(cli);
    assert.match(output(), /an uncaught error, on purpose/);
    await assertAllGone(kids, 'an uncaught error');
  });
}
