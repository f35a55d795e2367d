/**
 * The one typed event stream. Components emit EngineEvents through an `Emit` they are given;
 * the logger, counters and the status file consume them. No module but src/log.ts imports winston.
 * Add a variant here when a component has something new to say; keep `message` a one-line,
 * operator-readable sentence and never put a secret in any field.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export type EngineEvent =
  | { type: 'started'; level: Level; message: string; roots: number; remotes: number }
  | { type: 'stopping'; level: Level; message: string; reason: string }
  | { type: 'watch'; level: Level; message: string; root: string; detail?: string }
  | { type: 'watch-error'; level: Level; message: string; root: string; error: string }
  | { type: 'job-start'; level: Level; message: string; remote: string; root: string; paths: number; argv?: readonly string[] }
  | { type: 'job-done'; level: Level; message: string; remote: string; root: string; paths: number; durationMs: number }
  | { type: 'job-failed'; level: Level; message: string; remote: string; root: string; paths: number; exitCode: number | null; attempt: number; willRetry: boolean }
  | { type: 'remote-health'; level: Level; message: string; remote: string; healthy: boolean; cause?: string }
  | { type: 'replay'; level: Level; message: string; records: number; left?: number; /** Records an automatic replay left out: held for the operator (maxDelete). */ held?: number }
  | { type: 'hook'; level: Level; message: string; hook: string; ok: boolean; paths?: number }
  | { type: 'safety'; level: Level; message: string; root: string; check: string }
  | { type: 'full-sync'; level: Level; message: string; root: string; remote: string; phase: 'start' | 'done' | 'failed' }
  | { type: 'limits'; level: Level; message: string }
  | { type: 'info'; level: Level; message: string }
  /** Restart recovery (src/engine/recovery.ts): what the previous run left and how it is caught up. `changes`: paths queued. */
  | { type: 'recovery'; level: Level; message: string; kind: 'pending' | 'unclean' | 'new-channel' | 'catch-up' | 'catch-up-failed'; root?: string; changes?: number; full?: boolean };

export type Emit = (event: EngineEvent) => void;

/** An Emit that drops everything (tests, plugin-only helpers). */
export const silent: Emit = () => {};
