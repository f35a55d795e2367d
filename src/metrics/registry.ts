/**
 * Prometheus metrics, read from the status model at scrape time (never from the engine): the
 * gauges and counters below are refilled from one StatusReport per scrape. Counters are the
 * model's cumulative counts (monotonic for the life of the process, across SIGHUP reloads).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StatusReport } from '../status/report.js';

export function createRegistry(report: () => StatusReport): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let current: StatusReport | undefined;
  let takenAt = 0;
  // One report per scrape: the collectors of one scrape share it (a scrape takes well under this).
  const snap = (): StatusReport => {
    const now = Date.now();
    if (!current || now - takenAt > 250) {
      current = report();
      takenAt = now;
    }
    return current;
  };
  const registers = [registry];

  const perChannel = (name: string, help: string, value: (c: StatusReport['channels'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['root', 'remote'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of snap().channels) this.set({ root: c.root, remote: c.remote }, value(c));
      },
    });
  perChannel('tssersync_lag_seconds', 'Age of the oldest change not yet on the remote (0 when current).', (c) => c.lagSeconds);
  perChannel('tssersync_pending_paths', 'Paths waiting to be sent.', (c) => c.pending);
  perChannel('tssersync_in_flight_paths', 'Paths in a running rsync.', (c) => c.inFlight);
  perChannel('tssersync_last_landed_timestamp_seconds', 'When a job last landed (0 = never).', (c) => (c.lastLandedAt ?? 0) / 1000);
  perChannel('tssersync_full_sync_running', '1 while a full sync of the root to the remote runs.', (c) => (c.state === 'full-sync' ? 1 : 0));
  perChannel('tssersync_full_sync_bytes_done', 'Bytes of the running full sync done.', (c) => c.progress?.bytes ?? 0);
  perChannel('tssersync_full_sync_bytes_total', 'Bytes of the running full sync in all (local count; 0 = unknown).', (c) => c.progress?.bytesTotal ?? 0);
  perChannel('tssersync_full_sync_files_done', 'Files of the running full sync done.', (c) => c.progress?.files ?? 0);
  perChannel('tssersync_full_sync_files_total', 'Files of the running full sync in all (local count; 0 = unknown).', (c) => c.progress?.filesTotal ?? 0);

  new Counter({
    name: 'tssersync_jobs_total',
    help: 'rsync jobs by result (ok: landed; failed: gave up, paths in the replay log).',
    labelNames: ['remote', 'result'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of snap().remotes) {
        this.inc({ remote: r.remote, result: 'ok' }, r.jobsOk);
        this.inc({ remote: r.remote, result: 'failed' }, r.jobsFailed);
      }
    },
  });
  new Counter({
    name: 'tssersync_bytes_sent_total',
    help: "Bytes sent, from rsync's stats line.",
    labelNames: ['remote'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of snap().remotes) this.inc({ remote: r.remote }, r.bytesSent);
    },
  });
  new Gauge({
    name: 'tssersync_replay_records',
    help: 'Records in the replay log (paths not yet on the remote; hook:NAME for plugins).',
    labelNames: ['remote'] as const,
    registers,
    collect() {
      this.reset();
      const s = snap();
      for (const r of s.remotes) this.set({ remote: r.remote }, r.replayRecords);
      for (const [hook, n] of Object.entries(s.hookReplayRecords)) this.set({ remote: hook }, n);
    },
  });
  new Gauge({
    name: 'tssersync_remote_up',
    help: '1 while the remote takes jobs, 0 while it is failing.',
    labelNames: ['remote'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of snap().remotes) this.set({ remote: r.remote }, r.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tssersync_root_halted',
    help: '1 while replication of the root is halted by a safety check (root missing or emptied).',
    labelNames: ['root'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of snap().roots) this.set({ root: r.root }, r.halted ? 1 : 0);
    },
  });
  new Counter({
    name: 'tssersync_watcher_restarts_total',
    help: 'Watcher restarts (each followed by a reconcile).',
    labelNames: ['root'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of snap().roots) this.inc({ root: r.root }, r.watcher.restarts);
    },
  });
  new Gauge({
    name: 'tssersync_watcher_up',
    help: '1 while the watcher of the root is live.',
    labelNames: ['root'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of snap().roots) this.set({ root: r.root }, r.watcher.state === 'live' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tssersync_inotify_watches',
    help: 'inotify watches needed: directories to watch, every root.',
    registers,
    collect() {
      this.set(snap().inotify.watches ?? 0);
    },
  });
  new Gauge({
    name: 'tssersync_inotify_watches_limit',
    help: 'fs.inotify.max_user_watches (0 = unknown).',
    registers,
    collect() {
      this.set(snap().inotify.limit ?? 0);
    },
  });
  new Gauge({
    name: 'tssersync_up',
    help: '1 when every remote is current (the status exit code 0).',
    registers,
    collect() {
      this.set(snap().current ? 1 : 0);
    },
  });
  return registry;
}
