/**
 * The `inotify` event: directories to watch per root against the kernel's per-user limits, counted
 * once at start (the same walk the engine's limits check does; capped like it).
 */
import type { Emit } from '../events.js';
import { checkInotifyLimits, countDirectories } from '../watch/limits.js';

const CAP = 10_000_000;

export async function reportInotify(roots: readonly string[], emit: Emit): Promise<void> {
  const directories: Record<string, number> = {};
  for (const r of roots) directories[r] = await countDirectories(r, CAP);
  const total = Object.values(directories).reduce((a, b) => a + b, 0);
  const limits = await checkInotifyLimits(total, roots.length);
  const known = limits.watches > 0;
  emit({
    type: 'inotify',
    level: 'debug',
    message: `${total} directories to watch${known ? `, fs.inotify.max_user_watches=${limits.watches}` : ''}`,
    directories,
    maxUserWatches: known ? limits.watches : null,
    maxUserInstances: known ? limits.instances : null,
  });
}
