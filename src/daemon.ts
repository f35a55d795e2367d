/**
 * `-d`: detach into the background. The parent re-runs this program as a detached child and waits
 * until the child says it is watching (or dies with its reason), so `tssersync -d` only reports
 * success once replication is really running. The child writes the pid file.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from './config/types.js';
import { EnvironmentError, TssersyncError } from './errors.js';
import { pidAlive } from './replay/lock.js';

const READY = 'tssersync:ready';

export async function daemonize(argv: readonly string[], config: Config): Promise<number> {
  await refuseIfRunning(config.pidFile);
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv, '--daemon-child'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    cwd: process.cwd(),
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TssersyncError(`the background process did not start within 60 s; see ${config.logFile}`)), 60_000);
    child.on('message', (m) => {
      if (m !== READY) return;
      clearTimeout(timer);
      child.stderr?.destroy();
      child.disconnect();
      child.unref();
      resolve(child.pid!);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const why = stderr.trim().split('\n').pop()?.replace(/^tssersync: /, '') ?? '';
      reject(new TssersyncError(`the background process exited with code ${code ?? '?'} before it was ready${why ? `: ${why}` : ''}`));
    });
  });
}

export function notifyParentReady(): void {
  if (process.send) {
    process.send(READY);
    process.disconnect?.();
  }
}

async function refuseIfRunning(pidFile: string): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (pid > 0 && pidAlive(pid)) throw new EnvironmentError(`tssersync is already running (pid ${pid}, pid file ${pidFile}); stop it first: kill ${pid}`);
}


export async function writePidFile(pidFile: string): Promise<void> {
  await refuseIfRunning(pidFile).catch((err: unknown) => {
    // A live pid that is ourselves (the daemon child) is fine.
    if (!(err instanceof EnvironmentError) || !String(err.message).includes(`pid ${process.pid}`)) throw err;
  });
  await mkdir(dirname(pidFile), { recursive: true });
  await writeFile(pidFile, `${process.pid}\n`, { mode: 0o644 });
}

export async function removePidFile(pidFile: string): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  if (Number(text.trim()) === process.pid) await rm(pidFile, { force: true });
}
