/**
 * inotify limits, checked against the tree at start. parcel needs one watch per directory; when the
 * limit is reached it fails at subscribe (ENOSPC) or, worse, new directories silently go unwatched.
 * Sersync wrote /proc/sys/fs/inotify on every start; tssersync only reads and says what to raise.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { walkTree } from '../walk.js';

export interface InotifyLimits {
  readonly ok: boolean;
  readonly message?: string;
  readonly watches: number;
  readonly instances: number;
}

const PROC = '/proc/sys/fs/inotify';
/** Each root uses one inotify instance, two while it is re-watched; other programs use some too. */
const INSTANCE_HEADROOM = 8;

async function readLimit(name: string): Promise<number | undefined> {
  const text = await readFile(join(PROC, name), 'utf8').catch(() => undefined);
  const n = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
  return Number.isFinite(n) ? n : undefined;
}

/** Watches needed for `dirCount` directories, with room for growth and other inotify users. */
export function watchesNeeded(dirCount: number): number {
  return Math.ceil(dirCount * 1.25) + 1024;
}

/** A round number at least `n`: 2^k, never below the common 524288. */
function suggest(n: number): number {
  let s = 524_288;
  while (s < n) s *= 2;
  return s;
}

function raise(setting: string, current: number, to: number, why: string): string {
  return (
    `fs.inotify.${setting} is ${current}, ${why}: raise it with \`sysctl -w fs.inotify.${setting}=${to}\` ` +
    `and keep it across reboots with the line \`fs.inotify.${setting} = ${to}\` in /etc/sysctl.d/90-tssersync.conf`
  );
}

/** Compare the kernel's limits with what watching `dirCount` directories in `roots` roots needs. */
export async function checkInotifyLimits(dirCount: number, roots = 1): Promise<InotifyLimits> {
  const [watches, instances] = await Promise.all([readLimit('max_user_watches'), readLimit('max_user_instances')]);
  if (watches === undefined || instances === undefined) {
    return { ok: true, message: `cannot read ${PROC}: inotify limits not checked`, watches: watches ?? 0, instances: instances ?? 0 };
  }
  const problems: string[] = [];
  const needed = watchesNeeded(dirCount);
  if (watches < needed) {
    problems.push(raise('max_user_watches', watches, suggest(needed), `too low for ${dirCount} directories to watch (one watch each; changes in unwatched directories are missed)`));
  }
  const neededInstances = 2 * roots + INSTANCE_HEADROOM;
  if (instances < neededInstances) {
    problems.push(raise('max_user_instances', instances, Math.max(128, neededInstances), `too low for ${roots} watch root(s)`));
  }
  return problems.length === 0 ? { ok: true, watches, instances } : { ok: false, message: problems.join('; '), watches, instances };
}

/**
 * Directories under `root`, the root included, counting stops at `cap`. Symlinks are not followed
 * (parcel does not). Needed only for parcel: the inotify backend says how many watches it holds.
 */
export async function countDirectories(root: string, cap: number): Promise<number> {
  let count = 1;
  await walkTree(Buffer.from(root), (_dir, e) => void (count += e.dirs.length), { stop: () => count >= cap });
  return Math.min(count, cap);
}
