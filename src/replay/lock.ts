/**
 * Mutual exclusion for a state file, inside this process and across processes.
 *
 * Why across processes: `tssersync --retry-log` is run by an operator while the daemon keeps
 * appending to the same log. Appends and the read-and-rename of a rewrite must not interleave, or
 * a record appended to the old inode just before the rename is lost.
 *
 * In-process: a promise chain, so callers run one at a time in call order (appends stay in order).
 * Across processes: `<file>.lock`, created with O_EXCL and holding the owner's pid. Critical
 * sections are a few writes and an fsync, so a lock older than `staleMs`, or whose pid is dead, is
 * left over from a crash and is broken.
 * HACK: breaking a stale lock is check-then-remove; two waiters breaking the same stale lock at the
 * same instant can both enter. It needs a crash plus two contenders within milliseconds; the cost
 * would be one duplicate or one stale line, never a torn file (rewrites go through rename).
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StateFileError } from '../errors.js';
import { FILE_MODE, ensureDir, errnoCode, errorText } from './fs-durable.js';

export interface LockOptions {
  /** A lock file older than this is a leftover. @default 30000 (a slow fsync takes seconds, not tens) */
  readonly staleMs?: number;
  /** Give up waiting after this long. @default 60000 */
  readonly timeoutMs?: number;
}

/** Is a process with this pid alive (EPERM = alive, owned by someone else)? */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

export class FileLock {
  readonly lockPath: string;
  readonly #staleMs: number;
  readonly #timeoutMs: number;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(file: string, opts: LockOptions = {}) {
    this.lockPath = `${file}.lock`;
    this.#staleMs = opts.staleMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** Run `fn` holding the lock; calls from this process run in call order, one at a time. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(async () => {
      await this.#acquire();
      try {
        return await fn();
      } finally {
        await rm(this.lockPath, { force: true }).catch(() => {});
      }
    });
    this.#tail = result.catch(() => {});
    return result;
  }

  async #acquire(): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    let delay = 5;
    for (;;) {
      try {
        const fh = await open(this.lockPath, 'wx', FILE_MODE);
        await fh.writeFile(`${process.pid}\n`).finally(() => fh.close());
        return;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') {
          // First use of a state dir that does not exist yet (a read of a never-written log too).
          await ensureDir(dirname(this.lockPath));
          continue;
        }
        if (errnoCode(err) !== 'EEXIST') throw new StateFileError(this.lockPath, `cannot create the lock file: ${errorText(err)}`);
      }
      const holder = await this.#holder();
      if (holder.stale) {
        await rm(this.lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StateFileError(this.lockPath, `still locked by pid ${holder.pid ?? '?'} after ${this.#timeoutMs} ms; remove the lock file if that process is not tssersync`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
  }

  async #holder(): Promise<{ pid: number | undefined; stale: boolean }> {
    const [text, st] = await Promise.all([readFile(this.lockPath, 'utf8').catch(() => undefined), stat(this.lockPath).catch(() => undefined)]);
    if (text === undefined || !st) return { pid: undefined, stale: false }; // gone already: retry at once
    const pid = /^\d+\n$/.test(text) ? Number(text.trim()) : undefined;
    const old = Date.now() - st.mtimeMs > this.#staleMs;
    // No pid yet = the holder is between its create and its write; give it until staleMs.
    // Our own pid = a leftover: this process serializes its own callers before taking the file.
    if (pid === undefined) return { pid, stale: old };
    return { pid, stale: old || pid === process.pid || !pidAlive(pid) };
  }
}
