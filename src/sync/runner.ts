/**
 * Runs one rsync and returns its outcome. The one place where process failures become values:
 * it never throws. Paths go on stdin NUL-separated; argv is an array; there is no shell.
 */
import { spawn } from 'node:child_process';
import { classifyExit, effectiveExit } from './exit-codes.js';
import { failedFromStderr } from './stderr-paths.js';
import type { RsyncOutcome } from './types.js';

export interface RunOptions {
  /** Working directory: the watch root (paths on stdin and `./` are relative to it). */
  readonly cwd: string;
  /** Written to stdin NUL-separated (for `--files-from=- --from0`). Omitted: stdin is closed. */
  readonly stdinPaths?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Abort kills rsync (SIGTERM, then SIGKILL); the outcome says so. */
  readonly signal?: AbortSignal;
  /** Absolute receiver directory (ssh mode), to place receiver-side error paths. */
  readonly remotePath?: string;
}

/** Kept for the outcome (operator messages): the end is where rsync says what went wrong. */
const TAIL_BYTES = 4096;
/** Kept for finding failed paths; past this the answer is "unknown" (all failed). */
const PARSE_BYTES = 1024 * 1024;
/** A SIGTERM'd rsync that does not exit this soon is killed. */
const KILL_AFTER_MS = 3000;

export function runRsync(argv: readonly string[], opts: RunOptions): Promise<RsyncOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const [bin, ...args] = argv;
    let stderr = '';
    let overflow = false;
    let spawnError: string | undefined;
    let settled = false;
    const finish = (exit: number | null, signal: string | null): void => {
      if (settled) return;
      const code = effectiveExit(exit, stderr);
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      const cls = spawnError !== undefined ? { class: 'retry' as const, meaning: 'could not start rsync' } : classifyExit(code, signal);
      let failedPaths: readonly string[] = [];
      if (spawnError === undefined && (code === 23 || code === 24) && !overflow) {
        failedPaths = failedFromStderr(stderr, { cwd: opts.cwd, requested: opts.stdinPaths ?? [''], ...(opts.remotePath ? { remotePath: opts.remotePath } : {}) }) ?? [];
      }
      resolve({
        exitCode: code,
        signal,
        class: cls.class,
        meaning: cls.meaning,
        stderrTail: tail(stderr),
        durationMs: Math.round(performance.now() - started),
        failedPaths,
        spawnError,
      });
    };
    if (bin === undefined) {
      spawnError = 'empty argv';
      finish(null, null);
      return;
    }
    if (opts.signal?.aborted) {
      spawnError = 'aborted before start';
      finish(null, null);
      return;
    }
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.stdinPaths ? 'pipe' : 'ignore', 'ignore', 'pipe'],
      shell: false,
    });
    let killTimer: NodeJS.Timeout | undefined;
    function onAbort(): void {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      killTimer.unref();
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > PARSE_BYTES) {
        overflow = true;
        stderr = stderr.slice(-TAIL_BYTES);
      }
    });
    child.on('error', (err) => {
      spawnError = err.message;
      // 'close' may not follow a failed spawn.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      finish(code, signal);
    });
    if (opts.stdinPaths && child.stdin) {
      // rsync may exit before reading everything (auth failure): EPIPE is expected, not fatal.
      child.stdin.on('error', () => {});
      child.stdin.end(nulList(opts.stdinPaths));
    }
  });
}

/** `a\0b\0`: the form `--files-from=- --from0` reads; any byte but NUL is allowed in a name. */
/**
 * The `--files-from` list. Every entry starts with `./`: rsync skips a files-from line that begins
 * with `#` or `;` as a comment, even with --from0, and exits 0 — a file named `#notes` or `;x` was
 * silently never sent (found by the model test). `./#notes` is the same path to rsync (-R keeps
 * `#notes`), for sends and --delete-missing-args alike.
 */
export function nulList(paths: readonly string[]): Buffer {
  return Buffer.from(paths.map((p) => `${p === '' ? '.' : `./${p}`}\0`).join(''), 'utf8');
}

function tail(s: string): string {
  return s.length <= TAIL_BYTES ? s : s.slice(-TAIL_BYTES);
}
