/**
 * Starting an rsync without copying tssersync: posix_spawn (glibc and musl: clone with CLONE_VM
 * and CLONE_VFORK) through koffi, where node's child_process.spawn forks the whole process first.
 *
 * Why. libuv 1.46 (Node 20) forks on Linux: the kernel copies the parent's page tables, so a spawn
 * with piped stdio costs the parent 6.0 ms of CPU at 77 MB RSS and 9.1 ms at 186 MB, and blocks
 * its main thread 6.6 and 11.6 ms; this way 1.5 and 2.0 ms, blocking it 1.0 and 1.2 ms
 * (test/bench/spawn-cost.ts; docs/benchmarks.md "Tenth session"). Every rsync run pays it, on the
 * thread that also reads the watcher's events.
 *
 * What it keeps of node's spawn: argv as an array (no shell), the working directory (addchdir_np),
 * the environment, stdin/stdout/stderr as pipes (net.Socket over the parent's ends: the event loop,
 * not the thread pool) or a given descriptor, every signal back at its default and none blocked in
 * the child (node ignores SIGPIPE; libuv resets them the same way), and the same 'close' (code,
 * signal) once the child is reaped and its pipes are drained. The child is reaped with waitpid on
 * SIGCHLD (libuv reaps only the pids it started), with a timer as a fallback that also keeps the
 * event loop alive while a child runs, as node's process handle does.
 *
 * Where koffi or a function is missing (another platform, musl without addchdir_np), or with
 * TSSERSYNC_SPAWN=node, spawnChild() is node's spawn.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { libcFunc } from '../libc.js';
import { findExecutable } from './which.js';

/** What the runner uses of a child, whichever way it was started. */
export interface Child {
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal: NodeJS.Signals): void;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

export interface SpawnOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** stdin: a pipe or /dev/null; stdout: a pipe or this descriptor; stderr: a pipe. */
  readonly stdin: 'pipe' | 'ignore';
  readonly stdout: 'pipe' | number;
  /**
   * The child leads a process group of its own (posix_spawn's SETPGROUP; node's spawn: detached, a
   * session of its own), so what it forks (rsync's ssh) can be reniced with it and killed with it.
   */
  readonly group?: boolean;
}

type Int32 = Int32Array;
interface Libc {
  pipe2(fds: Int32, flags: number): number;
  faInit(fa: Buffer): number;
  faDestroy(fa: Buffer): number;
  faDup2(fa: Buffer, fd: number, to: number): number;
  faOpen(fa: Buffer, fd: number, path: string, flags: number, mode: number): number;
  faChdir(fa: Buffer, path: string): number;
  atInit(at: Buffer): number;
  atDestroy(at: Buffer): number;
  atFlags(at: Buffer, flags: number): number;
  atSigDefault(at: Buffer, set: Buffer): number;
  atSigMask(at: Buffer, set: Buffer): number;
  atPgroup(at: Buffer, pgroup: number): number;
  sigfillset(set: Buffer): number;
  sigemptyset(set: Buffer): number;
  spawn(pid: Int32, path: string, fa: Buffer, at: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
  waitpid(pid: number, status: Int32, options: number): number;
}

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== 'linux') return libc;
  const f = <F>(proto: string): F | undefined => libcFunc<F>(proto);
  const all = {
    pipe2: f<Libc['pipe2']>('int pipe2(_Inout_ int32_t *fds, int flags)'),
    faInit: f<Libc['faInit']>('int posix_spawn_file_actions_init(void *fa)'),
    faDestroy: f<Libc['faDestroy']>('int posix_spawn_file_actions_destroy(void *fa)'),
    faDup2: f<Libc['faDup2']>('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
    faOpen: f<Libc['faOpen']>('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)'),
    faChdir: f<Libc['faChdir']>('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)'),
    atInit: f<Libc['atInit']>('int posix_spawnattr_init(void *attr)'),
    atDestroy: f<Libc['atDestroy']>('int posix_spawnattr_destroy(void *attr)'),
    atFlags: f<Libc['atFlags']>('int posix_spawnattr_setflags(void *attr, short flags)'),
    atSigDefault: f<Libc['atSigDefault']>('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
    atSigMask: f<Libc['atSigMask']>('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
    atPgroup: f<Libc['atPgroup']>('int posix_spawnattr_setpgroup(void *attr, int pgroup)'),
    sigfillset: f<Libc['sigfillset']>('int sigfillset(void *set)'),
    sigemptyset: f<Libc['sigemptyset']>('int sigemptyset(void *set)'),
    spawn: f<Libc['spawn']>('int posix_spawn(_Inout_ int32_t *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)'),
    waitpid: f<Libc['waitpid']>('int waitpid(int pid, _Inout_ int32_t *status, int options)'),
  };
  if (Object.values(all).some((fn) => fn === undefined)) return libc;
  libc = all as Libc;
  return libc;
}

const O_CLOEXEC = 0o2000000;
const O_RDONLY = 0;
const WNOHANG = 1;
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** Larger than glibc's and musl's posix_spawn_file_actions_t (80 B), posix_spawnattr_t (336 B) and sigset_t (128 B). */
const OPAQUE_BYTES = 1024;
/** How often children are looked at besides SIGCHLD (and what keeps the event loop alive meanwhile). */
const REAP_POLL_MS = 100;

const ENOENT = constants.errno.ENOENT;

/** Where PATH has `name` (found ones kept: a spawn should not cost a PATH walk each time). */
const found = new Map<string, string>();
function which(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const key = `${env['PATH'] ?? ''}\0${name}`;
  let hit = found.get(key);
  if (hit === undefined) {
    hit = findExecutable(name, env);
    if (hit !== undefined) found.set(key, hit);
  }
  return hit;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** Children not reaped yet: pid → what to call with its wait status. */
const waiting = new Map<number, (status: number) => void>();
let reapTimer: NodeJS.Timeout | undefined;
let onSigchld = false;

function reapAll(): void {
  const l = libc;
  if (!l) return;
  const status = new Int32Array(1);
  for (const [pid, done] of waiting) {
    if (l.waitpid(pid, status, WNOHANG) !== pid) continue;
    waiting.delete(pid);
    done(status[0]!);
  }
  if (waiting.size === 0 && reapTimer) {
    clearInterval(reapTimer);
    reapTimer = undefined;
  }
}

function awaitExit(pid: number, done: (status: number) => void): void {
  waiting.set(pid, done);
  if (!onSigchld) {
    onSigchld = true;
    process.on('SIGCHLD', reapAll);
  }
  reapTimer ??= setInterval(reapAll, REAP_POLL_MS);
  // It may have exited already, before the listener saw a signal for it.
  setImmediate(reapAll);
}

/** waitpid's status → node's (code, signal). */
export function exitOf(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: SIGNAL_NAMES.get(sig) ?? 'SIGKILL' };
}

class SpawnedChild extends EventEmitter implements Child {
  pid: number | undefined;
  stdin: Writable | null = null;
  stdout: Readable | null = null;
  stderr: Readable | null = null;
  #reaped = false;
  #group = false;

  kill(signal: NodeJS.Signals): void {
    // A pid is ours until we reap it (a zombie keeps it): never a stranger's. So is its group
    // while it leads it (a group's id is its leader's pid, not reused while the leader is a zombie).
    if (this.pid === undefined || this.#reaped) return;
    try {
      process.kill(this.#group ? -this.pid : this.pid, signal);
    } catch {
      // exited meanwhile
    }
  }

  start(l: Libc, bin: string, args: readonly string[], o: SpawnOptions): void {
    const fds: number[] = [];
    const pipe = (): Int32Array => {
      const p = new Int32Array(2);
      if (l.pipe2(p, O_CLOEXEC) !== 0) throw new Error('pipe2 failed');
      fds.push(p[0]!, p[1]!);
      return p;
    };
    const fa = Buffer.alloc(OPAQUE_BYTES);
    const at = Buffer.alloc(OPAQUE_BYTES);
    const all = Buffer.alloc(OPAQUE_BYTES);
    const none = Buffer.alloc(OPAQUE_BYTES);
    let input: Int32Array | undefined;
    let output: Int32Array | undefined;
    let errors: Int32Array;
    try {
      input = o.stdin === 'pipe' ? pipe() : undefined;
      output = o.stdout === 'pipe' ? pipe() : undefined;
      errors = pipe();
    } catch (err) {
      for (const fd of fds) closeSync(fd);
      throw err;
    }
    l.faInit(fa);
    l.atInit(at);
    const pid = new Int32Array(1);
    let rc: number;
    try {
      if (input) l.faDup2(fa, input[0]!, 0);
      else l.faOpen(fa, 0, '/dev/null', O_RDONLY, 0);
      l.faDup2(fa, output ? output[1]! : (o.stdout as number), 1);
      l.faDup2(fa, errors[1]!, 2);
      l.faChdir(fa, o.cwd);
      l.sigfillset(all);
      l.sigemptyset(none);
      l.atSigDefault(at, all);
      l.atSigMask(at, none);
      if (o.group) l.atPgroup(at, 0);
      l.atFlags(at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (o.group ? POSIX_SPAWN_SETPGROUP : 0));
      const env: (string | null)[] = [];
      for (const [k, v] of Object.entries(o.env)) if (v !== undefined) env.push(`${k}=${v}`);
      env.push(null);
      // PATH is looked up in the child's environment, as node's spawn (execvp in the child) does;
      // a name with a slash is left to the kernel, relative to the new working directory.
      const file = bin.includes('/') ? bin : which(bin, o.env);
      rc = file === undefined ? ENOENT : l.spawn(pid, file, fa, at, [bin, ...args, null], env);
    } catch (err) {
      // An FFI error (not a spawn's errno): no child, so the parent's ends go too.
      if (input) closeSync(input[1]!);
      if (output) closeSync(output[0]!);
      closeSync(errors[0]!);
      throw err;
    } finally {
      l.faDestroy(fa);
      l.atDestroy(at);
      // The child has its own copies (or there is no child): the parent keeps only its ends.
      if (input) closeSync(input[0]!);
      if (output) closeSync(output[1]!);
      closeSync(errors[1]!);
    }
    if (rc !== 0) {
      if (input) closeSync(input[1]!);
      if (output) closeSync(output[0]!);
      closeSync(errors[0]!);
      const code = Object.entries(constants.errno).find(([, n]) => n === rc)?.[0] ?? `errno ${rc}`;
      const err = Object.assign(new Error(`spawn ${bin} ${code}`), { code, errno: -rc, syscall: `spawn ${bin}`, path: bin });
      process.nextTick(() => this.emit('error', err));
      return;
    }
    this.pid = pid[0]!;
    this.#group = o.group === true;
    let open = 0;
    let status: number | undefined;
    const maybeClose = (): void => {
      if (open > 0 || status === undefined) return;
      const { code, signal } = exitOf(status);
      this.emit('close', code, signal);
    };
    const reader = (fd: number): Readable => {
      const s = new Socket({ fd, readable: true, writable: false });
      open++;
      s.on('close', () => {
        open--;
        maybeClose();
      });
      s.on('error', () => s.destroy());
      return s;
    };
    if (input) {
      const s = new Socket({ fd: input[1]!, readable: false, writable: true });
      this.stdin = s;
    }
    if (output) this.stdout = reader(output[0]!);
    this.stderr = reader(errors[0]!);
    awaitExit(this.pid, (st) => {
      this.#reaped = true;
      status = st;
      // stdin may still hold what rsync never read (it failed early): drop it.
      this.stdin?.destroy();
      maybeClose();
    });
  }
}

/** Whether rsync children are started with posix_spawn here. */
export function fastSpawnAvailable(): boolean {
  return process.env['TSSERSYNC_SPAWN'] !== 'node' && load() !== null;
}

/** Starts `bin args` (posix_spawn where it can, else node's spawn); never a shell. */
export function spawnChild(bin: string, args: readonly string[], o: SpawnOptions): Child {
  const l = fastSpawnAvailable() ? load() : null;
  if (!l) {
    return nodeSpawn(bin, args, { cwd: o.cwd, env: o.env, stdio: [o.stdin, o.stdout, 'pipe'], shell: false, detached: o.group === true }) as ChildProcess & Child;
  }
  // A C string ends at NUL: a word holding one would be cut short in silence. Node's spawn throws.
  const words = [bin, o.cwd, ...args, ...Object.entries(o.env).flatMap(([k, v]) => [k, v ?? ''])];
  const bad = words.find((w) => w.includes('\0'));
  if (bad !== undefined) throw new TypeError(`spawn ${bin}: an argument, the working directory or the environment holds a NUL byte: ${JSON.stringify(bad.slice(0, 80))}`);
  const child = new SpawnedChild();
  child.start(l, bin, args, o);
  return child;
}
