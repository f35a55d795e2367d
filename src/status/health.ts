/**
 * What is wrong right now, from a status snapshot: the one list that `tssersync status`'s exit
 * code, `/healthz` and the alerts all read, so they never disagree. Pure.
 */
import type { AlertKind } from '../events.js';
import type { StatusSnapshot } from './model.js';

export interface Thresholds {
  /** A channel whose lag passes this is degraded. @default 60 */
  readonly lagSeconds: number;
  /** Replay records older than this raise the `replay-old` alert. @default 600 */
  readonly replayAgeSeconds: number;
  /** Watches used above this share of fs.inotify.max_user_watches count as a degraded watcher. @default 0.9 */
  readonly watchesShare: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { lagSeconds: 60, replayAgeSeconds: 600, watchesShare: 0.9 };

/** `replay-left` degrades `status` (something is owed) but is no alert until it is old (`replay-old`). */
export type ProblemKind = AlertKind | 'replay-left';

export interface Problem {
  readonly kind: ProblemKind;
  /** The remote id or the root path it is about. */
  readonly subject: string;
  readonly message: string;
}

export function problems(s: StatusSnapshot, t: Thresholds = DEFAULT_THRESHOLDS): Problem[] {
  const out: Problem[] = [];
  for (const r of s.remotes) {
    if (!r.up) out.push({ kind: 'remote-failing', subject: r.remote, message: `remote ${r.remote} is failing${r.cause ? `: ${r.cause}` : ''}` });
  }
  for (const r of s.roots) {
    if (r.halted) {
      const why = s.channels.find((c) => c.root === r.root && c.state === 'halted')?.reason;
      out.push({ kind: 'root-halted', subject: r.root, message: `replication of ${r.root} is halted${why ? `: ${why}` : ''}` });
    }
    if (r.watcher.state === 'degraded' || r.watcher.state === 'absent') {
      out.push({ kind: 'watcher-degraded', subject: r.root, message: `the watcher of ${r.root} is ${r.watcher.state}${r.watcher.error ? `: ${r.watcher.error}` : ''}` });
    }
  }
  const { watches, limit } = s.inotify;
  if (watches !== null && limit !== null && limit > 0 && watches > limit * t.watchesShare) {
    out.push({ kind: 'watcher-degraded', subject: 'inotify', message: `${watches} directories to watch against fs.inotify.max_user_watches=${limit}: raise the limit` });
  }
  const byRemote = new Map<string, { lag: number; lagRoot: string; replay: number; replayOldest: number | null }>();
  for (const c of s.channels) {
    const r = byRemote.get(c.remote) ?? { lag: 0, lagRoot: c.root, replay: 0, replayOldest: null };
    if (c.lagSeconds > r.lag) Object.assign(r, { lag: c.lagSeconds, lagRoot: c.root });
    r.replay += c.replayRecords;
    if (c.replayOldestAt !== null) r.replayOldest = r.replayOldest === null ? c.replayOldestAt : Math.min(r.replayOldest, c.replayOldestAt);
    byRemote.set(c.remote, r);
  }
  for (const [remote, r] of byRemote) {
    if (r.lag > t.lagSeconds) {
      out.push({ kind: 'lag-high', subject: remote, message: `${remote} is ${Math.round(r.lag)} s behind ${r.lagRoot} (threshold ${t.lagSeconds} s)` });
    }
    if (r.replay > 0) {
      const age = r.replayOldest === null ? 0 : (s.at - r.replayOldest) / 1000;
      const old = age > t.replayAgeSeconds;
      out.push({
        kind: old ? 'replay-old' : 'replay-left',
        subject: remote,
        message: `${r.replay} record(s) for ${remote} in the replay log, the oldest ${Math.round(age)} s old${old ? ` (threshold ${t.replayAgeSeconds} s)` : ''}: tssersync --retry-log`,
      });
    }
  }
  return out;
}

/** `status` exits 0 when this is empty and 1 otherwise; `/healthz` answers 503 while a remote is down. */
export function isCurrent(s: StatusSnapshot, t: Thresholds = DEFAULT_THRESHOLDS): boolean {
  return problems(s, t).length === 0;
}
