/**
 * Restart recovery, both halves. At a stop: everything unconfirmed (pending and in flight) is
 * snapshotted for the next start. At a start: the saved pending work goes first, then what changed
 * while stopped (by ctime, catch-up.ts); a channel the snapshot does not know (a root or remote new
 * in the config) gets a full sync; an unclean stop (or `-r`) means a full sync of every root,
 * since nobody can know what was missed.
 */
import type { Config } from '../config/types.js';
import type { Action } from '../core/types.js';
import { errorText } from '../errors.js';
import type { Emit } from '../events.js';
import { loadPending, type PendingSnapshot } from '../replay/pending-store.js';
import { changedSince } from './catch-up.js';
import type { Channel } from './channel.js';
import type { Wiring } from './wiring.js';

export interface RecoveryDeps {
  readonly config: Config;
  readonly emit: Emit;
  /** The channels to fill; `syncs` false (plugin-only mode) skips the changed-since catch-up. */
  readonly wiring: Pick<Wiring, 'channels' | 'syncs'>;
  readonly intake: { enqueue(root: string, path: string, action: Action): void };
  /** Still running: a catch-up that ends after a stop began drops what it found (the stop saved the rest). */
  readonly running: () => boolean;
  readonly catchUpMarginMs: number;
  readonly pendingFile: string;
}

/** Queues what the previous run left; the catch-up scan goes on in the background. */
export async function recover(deps: RecoveryDeps, o: { fullSync: boolean; uncleanPrevious: boolean }): Promise<void> {
  const channels = deps.wiring.channels;
  const d: Inner = { ...deps, channels, roots: [...new Set(channels.map((c) => c.root))], enqueue: (r, p, a) => deps.intake.enqueue(r, p, a) };
  const saved = await loadPending(d.pendingFile).catch(() => undefined);
  if (saved) restorePending(d, saved);
  if (o.fullSync || o.uncleanPrevious) {
    if (o.uncleanPrevious && !o.fullSync) {
      d.emit({ type: 'recovery', level: 'warn', message: 'the previous run did not stop cleanly: catching up with a full sync of every root', kind: 'unclean', full: true });
    }
    for (const root of d.roots) d.enqueue(root, '', 'tree');
  } else if (saved && d.wiring.syncs) {
    syncNewChannels(d, saved);
    void catchUp(d, Date.parse(saved.savedAt) - d.catchUpMarginMs);
  }
}

interface Inner extends RecoveryDeps {
  readonly channels: readonly Channel[];
  readonly roots: readonly string[];
  readonly enqueue: (root: string, path: string, action: Action) => void;
}

/** Everything not confirmed by its remote, per channel, for the next start. */
export function stopSnapshot(channels: readonly Channel[], now: Date): PendingSnapshot {
  return {
    savedAt: now.toISOString(),
    lanes: channels.map((ch) => ({ remote: ch.remoteId, root: ch.root, entries: ch.changes.unconfirmed() })),
  };
}

function restorePending(d: Inner, saved: PendingSnapshot): void {
  let n = 0;
  for (const lane of saved.lanes) {
    const ch = d.channels.find((c) => c.root === lane.root && c.remoteId === lane.remote);
    // A remote that left the config: its work goes to every channel of the root, harmlessly.
    const targets = ch ? [ch] : d.channels.filter((c) => c.root === lane.root);
    for (const e of lane.entries) for (const t of targets) (t.add(e.path, e.action), n++);
  }
  if (n > 0) d.emit({ type: 'recovery', level: 'info', message: `resuming ${n} pending change(s) saved at ${saved.savedAt}`, kind: 'pending', changes: n });
}

/**
 * A root or remote added to the config since the last stop (a SIGHUP reload, a restart) has never
 * been synced: a changed-since scan would miss everything older, so it gets a full sync.
 */
function syncNewChannels(d: Inner, saved: PendingSnapshot): void {
  const known = new Set(saved.lanes.map((l) => JSON.stringify([l.root, l.remote])));
  for (const ch of d.channels) {
    if (known.has(JSON.stringify([ch.root, ch.remoteId]))) continue;
    d.emit({ type: 'recovery', level: 'info', message: `${ch.root} → ${ch.remoteId} is new in the config: full sync`, kind: 'new-channel', root: ch.root, full: true });
    ch.add('', 'tree');
  }
}

/** What changed while stopped (after a clean stop; the watcher is already live, so nothing falls between). */
async function catchUp(d: Inner, sinceMs: number): Promise<void> {
  for (const root of d.roots) {
    const t0 = Date.now();
    try {
      const { entries, scanned } = await changedSince(root, sinceMs, d.config.excludes);
      if (!d.running()) return;
      for (const e of entries) d.enqueue(root, e.path, e.action);
      const full = entries.some((e) => e.path === '');
      const what = full ? 'a full sync (the root itself changed)' : `${entries.length} change(s)`;
      d.emit({
        type: 'recovery',
        level: 'info',
        message: `catching up on ${root} since the last stop: ${what} (${scanned} entries looked at in ${Date.now() - t0} ms)`,
        kind: 'catch-up',
        root,
        changes: entries.length,
        full,
      });
    } catch (err) {
      if (!d.running()) return;
      d.emit({ type: 'recovery', level: 'warn', message: `catching up on ${root} since the last stop failed (${errorText(err)}): a full sync instead`, kind: 'catch-up-failed', root, full: true });
      d.enqueue(root, '', 'tree');
    }
  }
}
