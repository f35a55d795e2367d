/**
 * Runs one rsync and returns its outcome. The one place where process failures become values:
 * it never throws. Paths go on stdin NUL-separated; argv is an array; there is no shell.
 */
import { nameFromBytes, nameToBytes } from '../core/names.js';
import { classifyExit, effectiveExit } from './exit-codes.js';
import { failedFromStderr } from './stderr-paths.js';
import { openOutputFile, type OutputFile } from './output-file.js';
import { bytesSentFromStdout, progressFromStdout, type RsyncProgress } from './stats.js';
import { applyRenice, type Renice } from './priority.js';
import { spawnChild, type Child } from './spawn.js';
import type { RsyncOutcome } from './types.js';

export interface RunOptions {
  /** Working directory: the watch root (paths on stdin and `./` are relative to it). */
  readonly cwd: string;
  /**
   * Written to stdin NUL-separated (for `--files-from=- --from0`), each name as its exact bytes
   * (src/core/names.ts). Omitted: stdin is closed (or carries `stdinBytes`).
   */
  readonly stdinPaths?: readonly string[];
  /** Raw bytes for stdin when it carries no file list (the delete fallback's filter rules). */
  readonly stdinBytes?: Buffer;
  readonly env?: NodeJS.ProcessEnv;
  /** Abort kills rsync (SIGTERM, then SIGKILL); the outcome says so. */
  readonly signal?: AbortSignal;
  /** Absolute receiver directory (ssh mode), to place receiver-side error paths. */
  readonly remotePath?: string;
  /**
   * `--info=progress2` lines (full syncs): the latest every PROGRESS_POLL_MS, and the last at exit.
   * stdout then goes to a memory file (output-file.ts), not a pipe, where it can.
   */
  readonly onProgress?: (p: RsyncProgress) => void;
  /**
   * The priority to set on rsync as soon as it runs (priority.ts, a daemon remote's lane): before
   * its file list is written to stdin, so it reads and sends nothing at its parent's priority.
   */
  readonly renice?: Renice;
}

/** How often a full sync's latest progress line is read (lane.ts passes it on at most every 500 ms). */
export const PROGRESS_POLL_MS = 500;

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
    const chunks: Buffer[] = [];
    let stderrLength = 0;
    let stderr = '';
    // Only the end matters (the stats line); a user's -v lists every file before it.
    let stdout = '';
    let overflow = false;
    let spawnError: string | undefined;
    let priorityError: string | undefined;
    let settled = false;
    let output: OutputFile | undefined;
    let poll: NodeJS.Timeout | undefined;
    /** The end of what rsync printed to the memory file, its first partial line left out. */
    const readOutput = (): string => {
      const { text, whole } = output!.tail(TAIL_BYTES);
      const s = text.toString('latin1');
      return whole ? s : s.slice(s.search(/[\r\n]/) + 1);
    };
    const finish = (exit: number | null, signal: string | null): void => {
      if (settled) return;
      if (output) {
        clearInterval(poll);
        stdout = readOutput();
        output.close();
        const p = progressFromStdout(stdout);
        if (p) opts.onProgress?.(p);
      }
      stderr = stderrText(Buffer.concat(chunks));
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
        bytesSent: bytesSentFromStdout(stdout),
        ...(priorityError !== undefined ? { priorityError } : {}),
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
    const stdin = opts.stdinPaths ? nulList(opts.stdinPaths) : opts.stdinBytes;
    output = opts.onProgress ? openOutputFile() : undefined;
    let child: Child;
    try {
      child = spawnChild(bin, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdin: stdin ? 'pipe' : 'ignore', stdout: output?.fd ?? 'pipe', group: opts.renice?.group === true });
    } catch (err) {
      // A synchronous spawn failure (bad argv): an outcome like any other, and no descriptor left open.
      spawnError = err instanceof Error ? err.message : String(err);
      finish(null, null);
      return;
    }
    if (opts.renice && child.pid !== undefined) priorityError = applyRenice(child.pid, opts.renice);
    if (output) {
      const onProgress = opts.onProgress!;
      let seen = '';
      poll = setInterval(() => {
        // Nothing new printed (a long file, a stalled link): nothing to report again.
        const text = readOutput();
        if (text === seen) return;
        seen = text;
        const p = progressFromStdout(text);
        if (p) onProgress(p);
      }, PROGRESS_POLL_MS);
      poll.unref();
    }
    let killTimer: NodeJS.Timeout | undefined;
    function onAbort(): void {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      killTimer.unref();
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // stdout carries only rsync's own progress and stats lines here (names never matter on it).
    // (null when it goes to the memory file.)
    child.stdout?.setEncoding('latin1');
    child.stdout?.on('data', (chunk: string) => {
      stdout = (stdout + chunk).slice(-TAIL_BYTES);
      if (opts.onProgress) {
        const p = progressFromStdout(chunk);
        if (p) opts.onProgress(p);
      }
    });
    // Bytes, not text: rsync prints a name's bytes (escaping only what is not printable), and a
    // failed path must match the requested one exactly.
    child.stderr?.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      stderrLength += chunk.length;
      if (stderrLength > PARSE_BYTES) {
        overflow = true;
        const all = Buffer.concat(chunks);
        chunks.length = 0;
        chunks.push(all.subarray(-TAIL_BYTES));
        stderrLength = TAIL_BYTES;
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
    if (stdin && child.stdin) {
      // rsync may exit before reading everything (auth failure): EPIPE is expected, not fatal.
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    }
  });
}

/**
 * `./a\0./b\0`: the form `--files-from=- --from0` reads; any byte but NUL is allowed in a name, and
 * each name goes as the bytes it stands for (a non-UTF-8 byte too), never re-encoded.
 * Every entry starts with `./`: rsync skips a files-from line that begins with `#` or `;` as a
 * comment, even with --from0, and exits 0 — a file named `#notes` or `;x` was silently never sent
 * (found by the model test). `./#notes` is the same path to rsync (-R keeps `#notes`), for sends
 * and --delete-missing-args alike.
 */
export function nulList(paths: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of paths) parts.push(p === '' ? DOT : Buffer.concat([DOT_SLASH, nameToBytes(p)]), NUL);
  return Buffer.concat(parts);
}
const NUL = Buffer.from([0]);
const DOT = Buffer.from('.');
const DOT_SLASH = Buffer.from('./');

/**
 * Longer lines are not names (a path is at most 4096 bytes): kept as one char per byte. Also keeps
 * nameFromBytes' ASCII fast path (one String.fromCharCode.apply) far below V8's argument limit.
 */
const LONGEST_LINE = 16 * 1024;

/**
 * rsync's stderr bytes → the canonical string form (src/core/names.ts), line by line: UTF-8 text
 * reads as text and a raw non-UTF-8 byte of a name survives as its escape, so stderr-paths.ts can
 * give back the exact requested path.
 */
export function stderrText(bytes: Buffer): string {
  const lines: string[] = [];
  let start = 0;
  while (start <= bytes.length) {
    let nl = bytes.indexOf(0x0a, start);
    if (nl === -1) nl = bytes.length;
    const line = bytes.subarray(start, nl);
    lines.push(line.length > LONGEST_LINE ? line.toString('latin1') : nameFromBytes(line));
    start = nl + 1;
  }
  return lines.join('\n');
}

function tail(s: string): string {
  return s.length <= TAIL_BYTES ? s : s.slice(-TAIL_BYTES);
}
