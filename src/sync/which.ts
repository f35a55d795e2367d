/**
 * A program's path as execvp(3) would find it: a name with a slash as is, any other in PATH. No
 * process is started: the check that rsync is installed cost a spawn of `rsync --version` (about
 * 55 ms) before every start's watcher could begin.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const runnable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return runnable(name) ? name : undefined;
  for (const d of (env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).filter(Boolean)) {
    if (runnable(join(d, name))) return join(d, name);
  }
  return undefined;
}
