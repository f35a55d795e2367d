/**
 * The status socket: `<stateDir>/status.sock`, a unix socket (never the network). A client
 * connects, the daemon writes one JSON StatusReport and a newline, and closes. Owner-only (0600)
 * unless `<status group="…">` names a group, which then may connect too (0660, that group).
 * A connect needs write permission on the socket and search (x) permission on the state dir.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { chmod, chown, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import type { StatusReport } from './report.js';

export function statusSocketPath(stateDir: string): string {
  return join(stateDir, 'status.sock');
}

/** A group name or number → gid, from /etc/group (node has no getgrnam). */
export async function resolveGroup(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new EnvironmentError(`<status group="${group}">: no such group in /etc/group; create it (groupadd ${group}) or give its number`);
}

export class StatusSocket {
  #server: Server | undefined;

  constructor(
    readonly path: string,
    private readonly report: () => StatusReport,
  ) {}

  async listen(group: string | undefined): Promise<void> {
    const gid = group === undefined ? undefined : await resolveGroup(group);
    if (await answers(this.path)) throw new EnvironmentError(`${this.path}: another tssersync already serves its status here (same state dir); stop it or give this config its own <stateDir>`);
    await rm(this.path, { force: true });
    const server = createServer((conn) => {
      conn.on('error', () => {});
      let body: string;
      try {
        body = `${JSON.stringify(this.report())}\n`;
      } catch (err) {
        body = `${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`;
      }
      conn.end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    if (gid !== undefined) await chown(this.path, -1, gid);
    await chmod(this.path, gid === undefined ? 0o600 : 0o660);
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    await rm(this.path, { force: true }).catch(() => {});
  }
}

export type AskResult = { kind: 'report'; report: StatusReport } | { kind: 'not-running'; why: string };

/** The client side: ask the daemon listening on `path`. */
export function askStatus(path: string, timeoutMs = 5000): Promise<AskResult> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let text = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new EnvironmentError(`${path}: the daemon did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => (text += d));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve({ kind: 'not-running', why: `no tssersync serves ${path}` });
      else if (err.code === 'EACCES') reject(new EnvironmentError(`${path}: permission denied; run as the daemon's user, or set <status group="…"> and join that group`));
      else reject(new EnvironmentError(`${path}: ${err.message}`));
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve({ kind: 'report', report: JSON.parse(text) as StatusReport });
      } catch {
        reject(new EnvironmentError(`${path}: the daemon's answer is not JSON`));
      }
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.on('connect', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
}
