/**
 * A real rsync daemon on 127.0.0.1 for tests: free port, temp dirs, auth user with a 0600
 * password file, TCP_NODELAY. Stopped (and its dirs removed) by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, chmod, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.js';

export interface RsyncDaemon {
  readonly port: number;
  readonly host: string;
  readonly user: string;
  readonly password: string;
  /** Client-side password file (mode 0600). */
  readonly passwordFile: string;
  /** Module name -> destination directory. */
  readonly modules: Readonly<Record<string, string>>;
  /** The scratch directory holding config, secrets and destinations. */
  readonly dir: string;
  readonly logFile: string;
  /** Pid of the daemon process (its per-connection children are reaped by it: /proc/PID/stat cutime). */
  readonly pid: number | undefined;
  /** Stop the daemon (SIGTERM, then SIGKILL). Destinations stay until cleanup(). */
  kill(): Promise<void>;
  /** Start again on the same port with the same modules. */
  restart(): Promise<void>;
  /** kill() and remove every directory. */
  stop(): Promise<void>;
}

export interface DaemonOptions {
  modules?: readonly string[];
  user?: string;
  password?: string;
  /** Extra lines for each module section, e.g. `exclude = /blocked/`. */
  moduleExtra?: readonly string[];
  port?: number;
}

export async function startRsyncDaemon(opts: DaemonOptions = {}): Promise<RsyncDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'tss-rsyncd-'));
  const user = opts.user ?? 'tsuser';
  const password = opts.password ?? 'tspass-123';
  const names = opts.modules ?? ['backup'];
  const modules: Record<string, string> = {};
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const secrets = join(dir, 'rsyncd.secrets');
  await writeFile(secrets, `${user}:${password}\n`, { mode: 0o600 });
  const passwordFile = join(dir, 'client.pas');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600);
  const logFile = join(dir, 'rsyncd.log');
  // uid/gid only as root (else the daemon runs its transfers as `nobody`). Set by a normal user,
  // rsync 3.2+ calls setgroups() for them and every transfer fails: "@ERROR: setgroups failed".
  let conf = `use chroot = no\nlog file = ${logFile}\nsocket options = TCP_NODELAY\n${uid === 0 ? `uid = ${uid}\ngid = ${gid}\n` : ''}`;
  for (const name of names) {
    const dest = join(dir, 'dest', name);
    await mkdir(dest, { recursive: true });
    modules[name] = dest;
    conf += `\n[${name}]\npath = ${dest}\nread only = no\nauth users = ${user}\nsecrets file = ${secrets}\n`;
    for (const line of opts.moduleExtra ?? []) conf += `${line}\n`;
  }
  const confFile = join(dir, 'rsyncd.conf');
  await writeFile(confFile, conf);

  let child: ChildProcess | undefined;
  let port = opts.port ?? 0;

  async function launch(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const p = port || (await freePort());
      const proc = spawn('rsync', ['--daemon', '--no-detach', `--config=${confFile}`, `--port=${p}`, '--address=127.0.0.1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let exited = false;
      proc.on('exit', () => (exited = true));
      proc.stderr?.resume();
      try {
        await waitForPort(p, 5000, () => exited);
        child = proc;
        port = p;
        return;
      } catch {
        proc.kill('SIGKILL');
        if (opts.port) break;
      }
    }
    throw new Error(`rsync daemon did not start; see ${logFile}: ${await readFile(logFile, 'utf8').catch(() => '')}`);
  }

  async function kill(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 2000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  }

  await launch();
  return {
    get port() {
      return port;
    },
    get pid() {
      return child?.pid;
    },
    host: '127.0.0.1',
    user,
    password,
    passwordFile,
    modules,
    dir,
    logFile,
    kill,
    restart: launch,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
