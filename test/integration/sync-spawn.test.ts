/**
 * rsync children started with posix_spawn (src/sync/spawn.ts): what node's spawn gave the runner
 * must hold the same way. Real processes: sh and node as the children.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, fastSpawnAvailable, spawnChild, type Child } from '../../src/sync/spawn.js';

/** Runs to the end: code, signal, stdout and stderr as text. */
function run(child: Child, stdin?: string): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (out += d));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

const opts = { cwd: tmpdir(), env: process.env, stdin: 'pipe' as const, stdout: 'pipe' as const };

test('posix_spawn is what starts rsync here (Linux, koffi)', () => {
  assert.equal(fastSpawnAvailable(), process.platform === 'linux');
});

test('argv words reach the child exactly, no shell; stdin, stdout, stderr, the exit code', async () => {
  const words = ['a b', '$(touch /tmp/PWNED-spawn)', "it's", 'new\nline', '*', '', 'ünï'];
  const child = spawnChild(process.execPath, ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stdout.write(JSON.stringify([process.argv.slice(1),s]));process.stderr.write("to stderr");process.exit(7)})', ...words], opts);
  assert.ok(child.pid !== undefined && child.pid > 0);
  const r = await run(child, 'from stdin');
  assert.deepEqual(JSON.parse(r.out), [words, 'from stdin']);
  assert.equal(r.err, 'to stderr');
  assert.equal(r.code, 7);
  assert.equal(r.signal, null);
  assert.equal(existsSync('/tmp/PWNED-spawn'), false);
});

test('the working directory, the environment and PATH are the ones given', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tss-spawn-'));
  try {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TSS_SPAWN_TEST: 'x y' };
    const r = await run(spawnChild('sh', ['-c', 'pwd; echo "$TSS_SPAWN_TEST"; echo "${HOME-unset}"'], { ...opts, cwd: dir, env, stdin: 'ignore' }));
    assert.deepEqual(r.out.trim().split('\n'), [dir, 'x y', 'unset']);
    assert.equal(r.code, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Our own descriptors any child inherits (no FD_CLOEXEC: /proc/self/fdinfo's flags), e.g. from whatever started the tests. */
function inheritedFds(): Set<number> {
  const out = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    const info = (() => {
      try {
        return readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      } catch {
        return '';
      }
    })();
    const flags = /^flags:\s+([0-7]+)/m.exec(info)?.[1];
    if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) out.add(Number(fd));
  }
  return out;
}

test('in the child no signal is blocked and none of 1-31 ignored (node ignores SIGPIPE), and only stdin, stdout and stderr are open', async () => {
  // Read by the child itself (grep of its own /proc/self/status), not by a shell's child: a shell
  // blocks every signal around its own forks and waits, so what a command it runs reads of the
  // shell's mask depends on the moment (dash: SigBlk fffffffe7ffbfeff once in CI).
  const sig = await run(spawnChild('grep', ['-E', '^Sig(Blk|Ign)', '/proc/self/status'], { ...opts, stdin: 'ignore' }));
  const lines = sig.out.trim().split('\n');
  assert.match(lines[0]!, /^SigBlk:\s+0+$/);
  // Signals 1-31 (SIGPIPE among them) at their default. glibc's posix_spawn leaves its two
  // internal real-time signals (32, 33: thread cancellation and setxid) ignored in the child; the
  // child's own glibc installs handlers for them if it ever uses them.
  const ignored = BigInt(`0x${lines[1]!.split(/\s+/)[1]}`);
  assert.equal(ignored & 0x7fffffffn, 0n, lines[1]);
  // ls's own descriptors: 0, 1, 2 and the directory it reads; beyond those only what this test
  // process itself was given without close-on-exec (every child inherits those, node's spawn's too).
  const before = inheritedFds();
  const r = await run(spawnChild('ls', ['/proc/self/fd'], { ...opts, stdin: 'ignore' }));
  const fds = r.out.trim().split('\n').map(Number).sort((a, b) => a - b);
  assert.deepEqual(fds.slice(0, 3), [0, 1, 2]);
  const extra = fds.slice(3).filter((fd) => !before.has(fd));
  assert.ok(extra.length <= 1, `fds in the child: ${fds.join(' ')} (inherited by this process: ${[...before].join(' ')})`);
});

test('a signal ends the child: close says which; the child is reaped; no descriptor left open', async () => {
  const before = readdirSync('/proc/self/fd').length;
  const child = spawnChild('sleep', ['30'], { ...opts, stdin: 'ignore' });
  const done = run(child);
  setTimeout(() => child.kill('SIGTERM'), 50);
  const r = await done;
  assert.equal(r.code, null);
  assert.equal(r.signal, 'SIGTERM');
  assert.equal(existsSync(`/proc/${child.pid}`), false, 'reaped, not a zombie');
  // The pipes are closed by the time close fired (the sockets' handles go on the next turn).
  await new Promise((r) => setImmediate(r));
  assert.equal(readdirSync('/proc/self/fd').length, before);
  child.kill('SIGKILL'); // after the reap: a no-op, never another process that got the pid
});

test('a program that does not exist: an error with ENOENT and no pid; a NUL byte in a word throws', async () => {
  const child = spawnChild('tssersync-no-such-program', [], { ...opts, stdin: 'ignore' });
  const err = await new Promise<Error & { code?: string }>((resolve) => child.on('error', resolve));
  assert.equal(err.code, 'ENOENT');
  assert.equal(child.pid, undefined);
  assert.throws(() => spawnChild('sh', ['-c', 'echo a\0b'], opts), /NUL byte/);
});

test('exitOf reads waitpid statuses', () => {
  assert.deepEqual(exitOf(0), { code: 0, signal: null });
  assert.deepEqual(exitOf(23 << 8), { code: 23, signal: null });
  assert.deepEqual(exitOf(15), { code: null, signal: 'SIGTERM' });
  assert.deepEqual(exitOf(9 | 0x80), { code: null, signal: 'SIGKILL' }); // core dumped bit
});

test('many at once, each reaped with its own status', async () => {
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => run(spawnChild('sh', ['-c', `exit ${i}`], { ...opts, stdin: 'ignore' }))));
  assert.deepEqual(rs.map((r) => r.code), Array.from({ length: 20 }, (_, i) => i));
});

/** Field 5 of /proc/PID/stat: the process group (undefined once the process is gone). */
function pgrpOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

test('group: the child leads a process group of its own, what it forks is in it, and kill ends them all', async () => {
  // A child that forks a grandchild (as rsync forks ssh) and prints its pid.
  const script = 'const g=require("child_process").spawn("sleep",["30"],{stdio:"ignore"});console.log(g.pid);setInterval(()=>{},1000)';
  const child = spawnChild(process.execPath, ['-e', script], { ...opts, stdin: 'ignore', group: true });
  const done = run(child);
  const grandchild = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  assert.equal(pgrpOf(child.pid!), child.pid);
  assert.equal(pgrpOf(grandchild), child.pid);
  assert.notEqual(pgrpOf(process.pid), child.pid);
  child.kill('SIGTERM');
  assert.equal((await done).signal, 'SIGTERM');
  for (let i = 0; i < 100 && pgrpOf(grandchild) !== undefined; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(pgrpOf(grandchild), undefined, 'the grandchild was killed with its group');
});

test('without group the child stays in our process group', async () => {
  const r = await run(spawnChild('sh', ['-c', 'cut -d" " -f5 /proc/$$/stat'], { ...opts, stdin: 'ignore' }));
  assert.equal(Number(r.out.trim()), pgrpOf(process.pid));
});
