/**
 * The pending change set across restarts. A clean stop (SIGTERM/SIGINT) writes what is not yet
 * confirmed by every remote; the next start sends it first. The file is written atomically
 * (temp + fsync + rename), mode 0600. A corrupt file is reported, moved aside to `<file>.corrupt`
 * and counts as an unclean stop (markRunning says so), never as a fatal error: the catch-up full
 * sync covers whatever it held.
 */
import { rename } from 'node:fs/promises';
import { silent, type Emit } from '../events.js';
import { writeFileAtomic } from './fs-durable.js';
import { PENDING_VERSION, readPending, type PendingSnapshot } from './pending-file.js';

export { PENDING_FILE, pendingPath, readPending, type PendingRead, type PendingSnapshot } from './pending-file.js';
export { markRunning, markStopped, type RunMark } from './run-marker.js';

export async function savePending(file: string, snapshot: PendingSnapshot): Promise<void> {
  // Only path and action are persisted: timings restart with the process.
  const lanes = snapshot.lanes.map((l) => ({ remote: l.remote, root: l.root, entries: l.entries.map((e) => ({ path: e.path, action: e.action })) }));
  await writeFileAtomic(file, `${JSON.stringify({ version: PENDING_VERSION, savedAt: snapshot.savedAt, lanes })}\n`);
}

/**
 * The snapshot of the last clean stop, or undefined (none, or corrupt: reported through `emit` and
 * moved aside so the operator can look at it and the next start does not trip on it again).
 */
export async function loadPending(file: string, emit: Emit = silent): Promise<PendingSnapshot | undefined> {
  const r = await readPending(file);
  switch (r.kind) {
    case 'missing':
      return undefined;
    case 'ok':
      return r.snapshot;
    case 'corrupt': {
      const aside = `${file}.corrupt`;
      const moved = await rename(file, aside).then(
        () => true,
        () => false,
      );
      emit({
        type: 'info',
        level: 'warn',
        message: `pending-changes file ${file} is corrupt (${r.error})${moved ? `, moved to ${aside}` : ''}: catching up with a full sync instead`,
      });
      return undefined;
    }
  }
}
