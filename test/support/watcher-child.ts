/** The watcher child process of this test process's engine (src/watch/child.ts), found in /proc. */
import { readdirSync, readFileSync } from 'node:fs';

export function watcherChildPid(): number {
  const mine = String(process.pid);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (ppid === mine && /watch\/child\.[jt]s/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'))) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error('no watcher child found');
}
