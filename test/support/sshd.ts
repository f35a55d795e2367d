/**
 * A real sshd on 127.0.0.1 for tests: free port, temp host key, temp client key, login of the
 * user running the tests (root, or a normal user) by key only. rsync over ssh then runs the local rsync as the "remote" end. `stop()` kills it and
 * removes its files.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, readFile, rm, chmod } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './net.js';

const run = promisify(execFile);

export interface Sshd {
  readonly port: number;
  readonly host: string;
  readonly user: string;
  /** Private key the client must use. */
  readonly identityFile: string;
  /** ssh argv words for the client: identity, no host key checks, no known_hosts writes. */
  readonly sshOptions: string[];
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'tss-sshd-'));
  // sshd as root wants its privilege separation directory; as a normal user it is not needed (and not ours to make).
  await mkdir('/run/sshd', { recursive: true }).catch(() => {});
  const hostKey = join(dir, 'host_ed25519');
  const identityFile = join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identityFile]);
  const authorized = join(dir, 'authorized_keys');
  await writeFile(authorized, await readFile(`${identityFile}.pub`), { mode: 0o600 });
  await chmod(identityFile, 0o600);
  let log = '';

  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const cfg = join(dir, 'sshd_config');
    await writeFile(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${authorized}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PermitRootLogin yes',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'PrintMotd no',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => (log = (log + s).slice(-4000)));
    let exited = false;
    child.on('exit', () => (exited = true));
    try {
      await waitForPort(port, 5000, () => exited);
    } catch {
      child.kill('SIGKILL');
      continue;
    }
    return {
      port,
      host: '127.0.0.1',
      // As root: root (PermitRootLogin); as a normal user sshd can only let that user in.
      user: userInfo().username,
      identityFile,
      sshOptions: ['-i', identityFile, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'],
      dir,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => child.kill('SIGKILL'), 2000);
            child.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            child.kill('SIGTERM');
          });
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start: ${log}`);
}
