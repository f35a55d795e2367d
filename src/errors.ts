/**
 * Typed errors that carry what the operator needs. Every error that can reach the CLI is one of
 * these; the CLI prints `message` on one line and exits with `exitCode`, never a stack trace.
 */

/** CLI exit codes (documented in docs/operations.md). */
export const ExitCode = {
  ok: 0,
  /** Runtime failure: something could not be replicated, or `--retry-log` left records. */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** The config file does not parse or validate. */
  config: 3,
  /** The environment is wrong: rsync missing, a watch root missing, a password file unreadable. */
  environment: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class TssersyncError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = ExitCode.failure) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A config problem, located: `confxml.xml:14:5 <remote ip="…">: expected a port number, got "8o73"`. */
export class ConfigError extends TssersyncError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly element: string | undefined;
  readonly detail: string;
  constructor(opts: { file: string; line?: number; column?: number; element?: string; detail: string }) {
    const where = [opts.file, opts.line, opts.line !== undefined ? opts.column : undefined]
      .filter((x) => x !== undefined)
      .join(':');
    super(`${where}${opts.element ? ` ${opts.element}` : ''}: ${opts.detail}`, ExitCode.config);
    this.file = opts.file;
    this.line = opts.line;
    this.column = opts.column;
    this.element = opts.element;
    this.detail = opts.detail;
  }
}

/** The machine is not ready: a missing root, rsync not installed, a bad password file. */
export class EnvironmentError extends TssersyncError {
  constructor(message: string) {
    super(message, ExitCode.environment);
  }
}

export class UsageError extends TssersyncError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

export class HookError extends TssersyncError {
  readonly hook: string;
  constructor(hook: string, message: string) {
    super(`${hook}: ${message}`);
    this.hook = hook;
  }
}

/** A durable-state file (replay log, pending set, run marker) that cannot be read or written. */
export class StateFileError extends TssersyncError {
  readonly file: string;
  readonly detail: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.file = file;
    this.detail = detail;
  }
}

/** The message of anything thrown, for one-line operator text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** For exhaustive switches over state unions: a new state fails to compile until handled. */
export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
