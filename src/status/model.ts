/**
 * The status model: folds the EngineEvent stream into per root × remote state, per remote health
 * and per root watcher state. Pure: events and `now` in, a snapshot out; no clock, no I/O, and no
 * reference to the engine — everything it knows came through `apply` (a test checks its imports).
 * Counters and per-channel state only, never per-path state: it costs the same at a million files.
 *
 * A channel's state, derived at snapshot time (the first that holds wins):
 *
 *   halted      a safety check stopped it (root missing, root emptied); why and since when
 *   failing     its remote's last job went to the replay log; the cause and since when
 *   full sync   a whole-root rsync runs, with progress when counted
 *   catching up paths pending or in flight, or replay records left
 *   live        nothing owed
 */
import type { AlertKind, EngineEvent, ReplayLogCount } from '../events.js';

export type ChannelStateName = 'live' | 'catching-up' | 'full-sync' | 'halted' | 'failing';

export interface Progress {
  /** Entries (files, directories, links) rsync has checked. */
  readonly files: number;
  /** Entries in the source, from the local count (null until counted). */
  readonly filesTotal: number | null;
  /** Bytes rsync has sent (changed files only: an unchanged file is checked, not sent). */
  readonly bytes: number;
  /** Bytes of the source's files, from the local count: what a sync to an empty remote sends. */
  readonly bytesTotal: number | null;
  /** Still counting the source: the totals may grow. */
  readonly counting: boolean;
  /** Bytes sent per second since the full sync started. */
  readonly bytesPerSecond: number;
  /** Seconds left, from the share of entries checked so far; null while unknown. */
  readonly etaSeconds: number | null;
}

export interface ChannelStatus {
  readonly root: string;
  readonly remote: string;
  readonly state: ChannelStateName;
  /** halted: the check that fired and its message. failing: the cause. */
  readonly reason: string | null;
  /** Epoch ms the current halted / failing / full-sync state began. */
  readonly since: number | null;
  readonly pending: number;
  readonly inFlight: number;
  /** Age of the oldest change not yet on that remote (pending, in flight or in the replay log); 0 when current. */
  readonly lagSeconds: number;
  readonly lastLandedAt: number | null;
  readonly jobsOk: number;
  readonly jobsFailed: number;
  readonly bytesSent: number;
  readonly replayRecords: number;
  /** Epoch ms of the oldest replay record's first failure. */
  readonly replayOldestAt: number | null;
  readonly progress: Progress | null;
  /** The last full sync that ended: when, whether it landed, and its final figures. */
  readonly lastFullSync: { readonly startedAt: number; readonly endedAt: number; readonly ok: boolean; readonly progress: Progress } | null;
}

export interface RemoteStatus {
  readonly remote: string;
  readonly up: boolean;
  readonly cause: string | null;
  readonly since: number | null;
  readonly jobsOk: number;
  readonly jobsFailed: number;
  readonly bytesSent: number;
  readonly replayRecords: number;
}

export type WatcherStateName = 'starting' | 'live' | 'degraded' | 'absent';

export interface RootStatus {
  readonly root: string;
  readonly halted: boolean;
  readonly watcher: {
    readonly state: WatcherStateName;
    /** The last watcher error, while degraded or absent. */
    readonly error: string | null;
    readonly backend: string | null;
    readonly directories: number | null;
    readonly restarts: number;
    /** The last gap: why, when, and how it was closed. */
    readonly lastGap: { readonly reason: string; readonly at: number; readonly closedBy: string } | null;
  };
}

export interface StatusSnapshot {
  readonly at: number;
  readonly startedAt: number | null;
  readonly running: boolean;
  readonly channels: readonly ChannelStatus[];
  readonly remotes: readonly RemoteStatus[];
  readonly roots: readonly RootStatus[];
  readonly inotify: { readonly watches: number | null; readonly limit: number | null; readonly instancesLimit: number | null };
  /** Hook (plugin) records in the replay log, by `hook:NAME`. */
  readonly hookReplayRecords: Readonly<Record<string, number>>;
  /** Alerts active now, by kind and subject. */
  readonly alerts: readonly { readonly alert: AlertKind; readonly subject: string; readonly since: number; readonly message: string }[];
}

interface Chan {
  root: string;
  remote: string;
  pending: number;
  inFlight: number;
  oldestMs: number | null;
  state: 'running' | 'halted' | 'stopped';
  haltReason: string | null;
  haltSince: number | null;
  lastLandedAt: number | null;
  jobsOk: number;
  jobsFailed: number;
  bytesSent: number;
  replayRecords: number;
  replayOldest: number | null;
  fullSince: number | null;
  progress: { files: number; bytes: number } | null;
  lastFull: { startedAt: number; endedAt: number; ok: boolean; progress: Progress } | null;
}

interface Remote {
  up: boolean;
  cause: string | null;
  since: number | null;
}

interface Root {
  watcher: WatcherStateName;
  error: string | null;
  backend: string | null;
  directories: number | null;
  restarts: number;
  lastGap: { reason: string; at: number; closedBy: string } | null;
  rootMissing: boolean;
  count: { files: number; bytes: number | null; complete: boolean } | null;
}

export class StatusModel {
  readonly #chans = new Map<string, Chan>();
  readonly #remotes = new Map<string, Remote>();
  readonly #roots = new Map<string, Root>();
  readonly #hookRecords = new Map<string, number>();
  readonly #alerts = new Map<string, { alert: AlertKind; subject: string; since: number; message: string }>();
  #startedAt: number | null = null;
  #running = false;
  #watches: number | null = null;
  #limit: number | null = null;
  #instances: number | null = null;

  /** Declares the channels up front (from the config), so a channel with no event yet still shows. */
  constructor(channels: readonly { readonly root: string; readonly remote: string }[] = []) {
    this.declare(channels);
  }

  /** Channels of the config (a reload may add some): shown before their first event. */
  declare(channels: readonly { readonly root: string; readonly remote: string }[]): void {
    for (const c of channels) this.#chan(c.root, c.remote);
  }

  apply(e: EngineEvent, now: number): void {
    switch (e.type) {
      case 'started':
        this.#startedAt ??= now;
        this.#running = true;
        return;
      case 'stopping':
        if (e.reason !== 'reload') this.#running = false;
        return;
      case 'watch':
        if (e.backend) this.#root(e.root).backend = e.backend;
        return this.#watch(e.root, e.message, e.detail, now);
      case 'watch-error': {
        const r = this.#root(e.root);
        r.watcher = e.level === 'error' ? 'absent' : 'degraded';
        r.error = e.error;
        return;
      }
      case 'job-start':
        return;
      case 'job-done': {
        const c = this.#chan(e.root, e.remote);
        c.jobsOk++;
        c.lastLandedAt = now;
        return;
      }
      case 'job-failed':
        // Each attempt reports; a job counts as failed once, when the lane gives up (not again when
        // the engine writes its paths to the replay log).
        if (!e.willRetry && !e.logged && e.attempt > 0) this.#chan(e.root, e.remote).jobsFailed += e.paths > 0 ? 1 : 0;
        return;
      case 'remote-health': {
        // healthy + cause is a warning (a receiver without --delete-missing-args), not an outage.
        const r = this.#remote(e.remote);
        if (e.healthy) {
          if (!r.up) Object.assign(r, { up: true, cause: null, since: now });
        } else if (r.up || r.cause !== (e.cause ?? e.message)) {
          Object.assign(r, { up: false, cause: e.cause ?? e.message, since: r.up ? now : r.since });
        }
        return;
      }
      case 'replay':
      case 'hook':
      case 'limits':
      case 'info':
      case 'recovery':
        return;
      case 'safety':
        return this.#safety(e.root, e.check, e.message, e.level, now);
      case 'full-sync': {
        const c = this.#chan(e.root, e.remote);
        if (e.phase === 'start') {
          c.fullSince = now;
          c.progress = null;
        } else {
          const startedAt = c.fullSince ?? now;
          c.lastFull = { startedAt, endedAt: now, ok: e.phase === 'done', progress: progressOf(c.progress ?? { files: 0, bytes: 0 }, this.#root(e.root).count, startedAt, now) };
          c.fullSince = null;
          c.progress = null;
        }
        return;
      }
      case 'queue': {
        const c = this.#chan(e.root, e.remote);
        c.pending = e.pending;
        c.inFlight = e.inFlight;
        c.oldestMs = e.oldestMs;
        if (e.state === 'halted' && c.state !== 'halted') c.haltSince ??= now;
        if (e.state === 'running') {
          c.haltReason = null;
          c.haltSince = null;
        }
        c.state = e.state;
        return;
      }
      case 'transfer':
        this.#chan(e.root, e.remote).bytesSent += e.bytesSent;
        return;
      case 'replay-log':
        return this.#replayLog(e.channels);
      case 'inotify': {
        let total = 0;
        for (const [root, n] of Object.entries(e.directories)) {
          this.#root(root).directories = n;
          total += n;
        }
        this.#watches = total;
        this.#limit = e.maxUserWatches;
        this.#instances = e.maxUserInstances;
        return;
      }
      case 'progress': {
        const c = this.#chan(e.root, e.remote);
        c.fullSince ??= now;
        c.progress = { files: e.files, bytes: e.bytes };
        return;
      }
      case 'source-count':
        this.#root(e.root).count = { files: e.files, bytes: e.bytesCounted === false ? null : e.bytes, complete: e.complete };
        return;
      case 'alert': {
        const key = `${e.alert}\0${e.subject}`;
        if (e.active) this.#alerts.set(key, { alert: e.alert, subject: e.subject, since: e.at, message: e.message });
        else this.#alerts.delete(key);
        return;
      }
      default:
        return unknownEvent(e);
    }
  }

  snapshot(now: number): StatusSnapshot {
    const channels = [...this.#chans.values()].map((c) => this.#channelStatus(c, now));
    const remotes = [...this.#remotes.entries()].map(([remote, r]): RemoteStatus => {
      const mine = channels.filter((c) => c.remote === remote);
      const sum = (f: (c: ChannelStatus) => number) => mine.reduce((n, c) => n + f(c), 0);
      return {
        remote,
        up: r.up,
        cause: r.cause,
        since: r.since,
        jobsOk: sum((c) => c.jobsOk),
        jobsFailed: sum((c) => c.jobsFailed),
        bytesSent: sum((c) => c.bytesSent),
        replayRecords: sum((c) => c.replayRecords),
      };
    });
    const roots = [...this.#roots.entries()].map(([root, r]): RootStatus => ({
      root,
      halted: r.rootMissing || channels.some((c) => c.root === root && c.state === 'halted'),
      watcher: { state: r.watcher, error: r.error, backend: r.backend, directories: r.directories, restarts: r.restarts, lastGap: r.lastGap },
    }));
    return {
      at: now,
      startedAt: this.#startedAt,
      running: this.#running,
      channels,
      remotes,
      roots,
      inotify: { watches: this.#watches, limit: this.#limit, instancesLimit: this.#instances },
      hookReplayRecords: Object.fromEntries(this.#hookRecords),
      alerts: [...this.#alerts.values()],
    };
  }

  #channelStatus(c: Chan, now: number): ChannelStatus {
    const remote = this.#remote(c.remote);
    const root = this.#root(c.root);
    const oldest = minOf(c.oldestMs, c.replayOldest);
    const lagSeconds = oldest === null ? 0 : Math.max(0, (now - oldest) / 1000);
    let state: ChannelStateName;
    let reason: string | null = null;
    let since: number | null = null;
    if (c.state === 'halted' || root.rootMissing) {
      state = 'halted';
      reason = c.haltReason ?? (root.rootMissing ? 'rootMissing: the watch root is missing' : 'halted by a safety check');
      since = c.haltSince;
    } else if (!remote.up) {
      state = 'failing';
      reason = remote.cause;
      since = remote.since;
    } else if (c.fullSince !== null) {
      state = 'full-sync';
      since = c.fullSince;
    } else if (c.pending > 0 || c.inFlight > 0 || c.replayRecords > 0) {
      state = 'catching-up';
    } else {
      state = 'live';
    }
    return {
      root: c.root,
      remote: c.remote,
      state,
      reason,
      since,
      pending: c.pending,
      inFlight: c.inFlight,
      lagSeconds: Math.round(lagSeconds * 10) / 10,
      lastLandedAt: c.lastLandedAt,
      jobsOk: c.jobsOk,
      jobsFailed: c.jobsFailed,
      bytesSent: c.bytesSent,
      replayRecords: c.replayRecords,
      replayOldestAt: c.replayOldest,
      progress: c.fullSince !== null ? progressOf(c.progress ?? { files: 0, bytes: 0 }, root.count, c.fullSince, now) : null,
      lastFullSync: c.lastFull,
    };
  }

  #watch(root: string, message: string, detail: string | undefined, now: number): void {
    const r = this.#root(root);
    if (detail === undefined) {
      if (message.startsWith('watch root ')) {
        // "watch root ROOT is back: watching it again": a new subscription, the old trouble is gone.
        r.watcher = 'live';
        r.error = null;
        r.rootMissing = false;
      } else {
        // "watching ROOT": subscribed; a warning during its start (a fallback backend) still holds.
        r.watcher = r.error === null ? 'live' : 'degraded';
      }
      return;
    }
    if (/ restarted$/.test(message)) {
      r.restarts++;
      r.watcher = 'live';
      r.error = null;
      r.lastGap = { reason: detail, at: now, closedBy: 'new subscription, then reconcile' };
      return;
    }
    if (detail === 'burst') {
      r.lastGap = { reason: 'event burst', at: now, closedBy: 'reconcile of the burst' };
      return;
    }
    if (message.startsWith('reconciling ')) r.lastGap = { reason: detail, at: now, closedBy: 'reconcile' };
  }

  #safety(root: string, check: string, message: string, level: string, now: number): void {
    if (check === 'maxDelete') return; // a held delete: the replay records say it
    const r = this.#root(root);
    const halting = level === 'error';
    if (check === 'rootMissing') {
      r.rootMissing = halting;
      if (halting) r.watcher = 'absent';
    }
    for (const c of this.#chans.values()) {
      if (c.root !== root) continue;
      if (halting) {
        c.haltReason = `${check}: ${message}`;
        c.haltSince ??= now;
        if (check !== 'rootMissing') c.state = 'halted';
      } else if (check === 'rootMissing') {
        c.haltReason = null;
        c.haltSince = null;
      }
    }
  }

  #replayLog(counts: readonly ReplayLogCount[]): void {
    for (const c of this.#chans.values()) {
      c.replayRecords = 0;
      c.replayOldest = null;
    }
    this.#hookRecords.clear();
    for (const n of counts) {
      if (n.remote.startsWith('hook:')) {
        this.#hookRecords.set(n.remote, (this.#hookRecords.get(n.remote) ?? 0) + n.records);
        continue;
      }
      const c = this.#chan(n.root, n.remote);
      c.replayRecords += n.records;
      c.replayOldest = minOf(c.replayOldest, n.oldestMs);
    }
  }

  #chan(root: string, remote: string): Chan {
    const key = `${root}\0${remote}`;
    let c = this.#chans.get(key);
    if (!c) {
      c = {
        root,
        remote,
        pending: 0,
        inFlight: 0,
        oldestMs: null,
        state: 'running',
        haltReason: null,
        haltSince: null,
        lastLandedAt: null,
        jobsOk: 0,
        jobsFailed: 0,
        bytesSent: 0,
        replayRecords: 0,
        replayOldest: null,
        fullSince: null,
        progress: null,
        lastFull: null,
      };
      this.#chans.set(key, c);
      this.#remote(remote);
      this.#root(root);
    }
    return c;
  }

  #remote(id: string): Remote {
    let r = this.#remotes.get(id);
    if (!r) this.#remotes.set(id, (r = { up: true, cause: null, since: null }));
    return r;
  }

  #root(path: string): Root {
    let r = this.#roots.get(path);
    if (!r) {
      r = { watcher: 'starting', error: null, backend: null, directories: null, restarts: 0, lastGap: null, rootMissing: false, count: null };
      this.#roots.set(path, r);
    }
    return r;
  }
}

/**
 * rsync's figures against the local count. The share done is the share of entries checked (the
 * measure that reaches 100 % whether files change or not); the ETA assumes the pace so far holds.
 */
function progressOf(p: { files: number; bytes: number }, count: Root['count'], since: number, now: number): Progress {
  const secs = Math.max(0.001, (now - since) / 1000);
  const counting = count === null || !count.complete;
  // A file created during the sync can make rsync's figure pass the count: never above 100 %.
  const filesTotal = count === null ? null : Math.max(count.files, p.files);
  const bytesTotal = count === null || count.bytes === null ? null : Math.max(count.bytes, p.bytes);
  const share = filesTotal ? p.files / filesTotal : 0;
  const etaSeconds = counting || share <= 0 ? null : Math.round((secs * (1 - share)) / share);
  return { files: p.files, filesTotal, bytes: p.bytes, bytesTotal, counting, bytesPerSecond: Math.round(p.bytes / secs), etaSeconds };
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** A new EngineEvent variant the model does not know yet is ignored, not a crash of the daemon. */
function unknownEvent(_e: never): void {}
