/**
 * Catch-up after a clean stop: what changed in a root while tssersync was not running. The watcher
 * only sees what happens while it runs, and a restart without `-r` would otherwise leave every
 * change made during the downtime (an upgrade, a reboot) for the next periodic reconcile.
 *
 * The inode change time (ctime) is set by the kernel on every write, create, delete, rename and
 * attribute change, and unlike mtime cannot be set back by `touch -d`, `cp -p` or `tar x`. So:
 * - a directory whose ctime is after the stop had entries created, deleted or renamed in it: it is
 *   sent as a tree (its deletes included) and not walked further;
 * - any other entry whose ctime is after the stop is sent as a path.
 * The root itself changed means a full sync of the root. Only local lstat calls: no remote walk.
 * Entries the real-time filter excludes are skipped, as the watcher would skip them.
 * Names are bytes: directories are read with Buffer names and every fs call takes the exact path
 * bytes (src/core/names.ts), so a GBK, Latin-1 or 0xff name is found and sent as it is.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import PQueue from 'p-queue';
import type { Pattern } from '../config/types.js';
import { nameFromBytes, pathBytes } from '../core/names.js';
import type { Action } from '../core/types.js';
import { isExcluded } from '../watch/filter.js';

export interface CatchUpEntry {
  readonly path: string;
  readonly action: Action;
}

export interface CatchUpResult {
  readonly entries: readonly CatchUpEntry[];
  /** Entries looked at (for the log line). */
  readonly scanned: number;
}

/** Changes in `root` since `sinceMs` (epoch ms), by ctime. */
export async function changedSince(root: string, sinceMs: number, excludes: readonly Pattern[]): Promise<CatchUpResult> {
  const entries: CatchUpEntry[] = [];
  let scanned = 0;
  const queue = new PQueue({ concurrency: 16 });
  let failure: unknown;
  const add = (job: () => Promise<void>): void => {
    queue.add(job).catch((err: unknown) => (failure ??= err));
  };
  const changed = (ctimeMs: number): boolean => ctimeMs >= sinceMs;

  const visitDir = (rel: string): void =>
    add(async () => {
      const names = await readdir(pathBytes(root, rel), { encoding: 'buffer' }).catch(vanished);
      for (const raw of names ?? []) {
        const name = nameFromBytes(raw);
        add(() => visit(rel ? `${rel}/${name}` : name));
      }
    });

  async function visit(rel: string): Promise<void> {
    const st = await lstat(pathBytes(root, rel)).catch(vanished);
    scanned++;
    if (!st || isExcluded(excludes, rel, st.isDirectory())) return;
    if (st.isDirectory()) {
      if (changed(st.ctimeMs)) entries.push({ path: rel, action: 'tree' });
      else visitDir(rel);
    } else if (changed(st.ctimeMs)) {
      entries.push({ path: rel, action: 'path' });
    }
  }

  // stat: a root given as a symlink is its target directory (whose ctime counts, not the link's).
  const top = await stat(root);
  if (changed(top.ctimeMs)) return { entries: [{ path: '', action: 'tree' }], scanned: 1 };
  visitDir('');
  await queue.onIdle();
  if (failure !== undefined) throw failure;
  return { entries, scanned };
}

/** An entry removed while walking is not an error: the watcher reports that delete. */
function vanished(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw err;
}
