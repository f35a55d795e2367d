/**
 * Where ssh remotes' shared connections live: one private directory per tssersync process for
 * OpenSSH's control sockets (ControlMaster=auto, ControlPath=<dir>/<key>), so rsync runs to the
 * same remote reuse one authenticated ssh connection instead of a key exchange each.
 *
 * Why. Over ssh each rsync run started its own ssh, and ssh's key exchange and login were most of a
 * small job: 390 ms and 109 ms of CPU (rsync and ssh) per one-file job to 127.0.0.1 here, against
 * 168-183 ms and 14-26 ms over a shared connection (docs/benchmarks.md, "Eleventh session").
 *
 * Safety. The directory is made with mkdtemp (mode 0700, a fresh name: nobody else's socket can be
 * planted in it). A master ssh outlives the rsync that started it (it runs detached, stdio on
 * /dev/null, at that rsync's priority) until ControlPersist seconds after the last run that used
 * it; when the process exits, the masters are told to end and the directory is removed. Where the remote refuses more sessions
 * (sshd's MaxSessions, 10 by default) or the socket is stale, ssh says so on stderr and connects
 * on its own, as before. An operator's own Control* option (or -S/-M) in the ssh options turns all
 * of this off for that remote (`-o ControlMaster=no`).
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemoteConfig } from '../config/types.js';

/**
 * rsync splits the `-e` value into words itself (not a shell, but it does interpret quotes and
 * backslashes), so only words that survive that splitting unchanged are allowed.
 */
export function sshWordProblem(word: string): string | undefined {
  if (word.length === 0) return 'an empty word';
  if (/[\s'"\\]/.test(word)) return `ssh option ${JSON.stringify(word)} contains whitespace, a quote or a backslash`;
  return undefined;
}

/** How long a master stays after the last run that used it, seconds. */
export const CONTROL_PERSIST_S = 60;

/** Hex digits of a connection's key (controlKey) in its socket's name. */
const KEY_HEX = 32;

/**
 * A socket path must fit sockaddr_un (108 bytes with its NUL); ssh binds `<path>.<16 random>`
 * first: the directory may take up to this many.
 */
const MAX_DIR = 107 - 1 - KEY_HEX - 17;

let dir: string | null | undefined;

/** The control socket directory of this process, made on first use; undefined where none can be made. */
export function sshControlDir(): string | undefined {
  if (dir !== undefined) return dir ?? undefined;
  dir = null;
  for (const base of [tmpdir(), '/tmp']) {
    try {
      const d = mkdtempSync(join(base, 'tssersync-ssh-'));
      // rsync splits -e into words itself: a path it would split or unquote cannot be passed.
      if (d.length > MAX_DIR || sshWordProblem(d) !== undefined) {
        rmSync(d, { recursive: true, force: true });
        continue;
      }
      dir = d;
      const made = d;
      process.on('exit', () => closeShared(made));
      break;
    } catch {
      // not writable: the next base, or no sharing
    }
  }
  return dir ?? undefined;
}

/**
 * At exit: each master asked to end now (`ssh -O exit`, through its socket only: no network), not
 * ControlPersist seconds later, and the directory removed. Synchronous: an 'exit' handler.
 */
function closeShared(d: string): void {
  try {
    for (const name of readdirSync(d)) {
      spawnSync('ssh', ['-o', `ControlPath=${join(d, name)}`, '-O', 'exit', 'tssersync-shared-connection'], { stdio: 'ignore', timeout: 2000 });
    }
  } catch {
    // best effort: an idle master ends by itself after ControlPersist
  }
  rmSync(d, { recursive: true, force: true });
}

/** The operator already says how ssh shares connections (an option of their own wins). */
export function ownsControl(sshOptions: readonly string[]): boolean {
  return sshOptions.some((w) => /^(-o\s*)?control(master|path|persist)/i.test(w) || /^-S/.test(w) || w === '-M');
}

/**
 * One shared connection per remote as configured: host, port, login and every ssh option. Not
 * ssh's own %C (host, port, login only): two remotes on one host with different keys (each
 * restricted to its own tree in authorized_keys) or a different ProxyJump must never share a
 * connection: a run would go out under the other remote's key.
 */
export function controlKey(remote: Pick<RemoteConfig, 'host' | 'port' | 'user' | 'sshOptions'>): string {
  return createHash('sha256').update(JSON.stringify([remote.host, remote.port ?? null, remote.user ?? null, remote.sshOptions])).digest('hex').slice(0, KEY_HEX);
}

/** ssh's keepalive on a shared connection, seconds (three missed: the connection is given up). */
export const SERVER_ALIVE_S = 15;

/**
 * The ssh words that share one connection for `remote` through `controlDir`. With a keepalive: a
 * connection of its own per run only stalled that run when the network went away; a shared one
 * would take every later run with it until TCP gave up (minutes), so a silent one is ended after
 * ~45 s and the next run opens a new one. After the operator's options, which win.
 */
export function controlWords(controlDir: string, remote: Pick<RemoteConfig, 'host' | 'port' | 'user' | 'sshOptions'>): string[] {
  return ['-o', 'ControlMaster=auto', '-o', `ControlPath=${controlDir}/${controlKey(remote)}`, '-o', `ControlPersist=${CONTROL_PERSIST_S}`, '-o', `ServerAliveInterval=${SERVER_ALIVE_S}`];
}
