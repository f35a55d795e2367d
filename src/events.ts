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
  | { type: 'watch'; level: Level; message: string; root: string; detail?: string; backend?: string }
  | { type: 'watch-error'; level: Level; message: string; root: string; error: string }
  | { type: 'job-start'; level: Level; message: string; remote: string; root: string; paths: number; argv?: readonly string[] }
  | { type: 'job-done'; level: Level; message: string; remote: string; root: string; paths: number; durationMs: number }
  | { type: 'job-failed'; level: Level; message: string; remote: string; root: string; paths: number; exitCode: number | null; attempt: number; willRetry: boolean; /** The engine's follow-up: the failed paths are now in the replay log (the lane already reported the job). */ logged?: boolean }
  | { type: 'remote-health'; level: Level; message: string; remote: string; healthy: boolean; cause?: string }
  | { type: 'replay'; level: Level; message: string; records: number; left?: number; /** Records an automatic replay left out: held for the operator (maxDelete). */ held?: number }
  | { type: 'hook'; level: Level; message: string; hook: string; ok: boolean; paths?: number }
  | { type: 'safety'; level: Level; message: string; root: string; check: string }
  | { type: 'full-sync'; level: Level; message: string; root: string; remote: string; phase: 'start' | 'done' | 'failed' }
  | { type: 'limits'; level: Level; message: string }
  | { type: 'info'; level: Level; message: string }
  /**
   * A channel's queue (root × remote), throttled (at most one a second, and one when it settles):
   * paths pending, paths in flight, and `oldestMs` (epoch ms of the oldest change on it not yet
   * landed; null when there is none). `state` is the channel's own (halted: a safety check fired).
   */
  | { type: 'queue'; level: Level; message: string; root: string; remote: string; pending: number; inFlight: number; oldestMs: number | null; state: 'running' | 'halted' | 'stopped' }
  /** Bytes one rsync run sent (rsync's own stats line), whether the job landed or not. */
  | { type: 'transfer'; level: Level; message: string; root: string; remote: string; bytesSent: number }
  /**
   * What the replay log holds, per root × remote (hook records under `hook:NAME`): read from the
   * file after each change to it, so it stays true when `--retry-log` runs in another process.
   */
  | { type: 'replay-log'; level: Level; message: string; channels: readonly ReplayLogCount[] }
  /**
   * inotify watches: directories to watch per root against the kernel's per-user limits
   * (null when /proc/sys/fs/inotify cannot be read).
   */
  | { type: 'inotify'; level: Level; message: string; directories: Readonly<Record<string, number>>; maxUserWatches: number | null; maxUserInstances: number | null }
  /**
   * A full sync's progress as rsync reports it (`--info=progress2`, throttled): entries it has
   * checked (files, directories, links; its `to-chk` count) and bytes it has sent so far.
   */
  | { type: 'progress'; level: Level; message: string; root: string; remote: string; files: number; bytes: number }
  /**
   * A local count of a root's entries (the root included, as rsync counts it) and file bytes, made
   * alongside a full sync so rsync's incremental recursion stays on; `complete` once the walk is done.
   */
  | { type: 'source-count'; level: Level; message: string; root: string; files: number; bytes: number; complete: boolean; /** false: past SIZED_FILES the bytes are not counted (progress.ts) */ bytesCounted?: boolean; /** true: the entries of the last full sync that landed, not a count of now */ estimated?: boolean }
  /** A health change worth a page: once per change of state, never per failed job. See src/status/alerts.ts. */
  | { type: 'alert'; level: Level; message: string; alert: AlertKind; subject: string; active: boolean; at: number }
  /** Restart recovery (src/engine/recovery.ts): what the previous run left and how it is caught up. `changes`: paths queued. */
  | { type: 'recovery'; level: Level; message: string; kind: 'pending' | 'unclean' | 'new-channel' | 'catch-up' | 'catch-up-failed'; root?: string; changes?: number; full?: boolean };

/** src/status/alerts.ts: what changed. `*-failing` and friends come with `active: false` when it clears. */
export type AlertKind = 'remote-failing' | 'root-halted' | 'replay-old' | 'lag-high' | 'watcher-degraded';

export interface ReplayLogCount {
  readonly root: string;
  readonly remote: string;
  readonly records: number;
  /** Epoch ms of the oldest record's first failure. */
  readonly oldestMs: number;
}

export type Emit = (event: EngineEvent) => void;

/** An Emit that drops everything (tests, plugin-only helpers). */
export const silent: Emit = () => {};
