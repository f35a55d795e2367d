/**
 * Sersync's real-time filter (`<filter start="true"><exclude expression="REGEX"/>…`), pure.
 *
 * Sersync tests a full-match regex against a string built from the path relative to the root:
 * - an entry directly in the root: its name alone (`x.gz`, `info`);
 * - a nested entry: `/sub/dir/name`, with a leading slash;
 * - at start-up, a directory is tested as `rel/path/` (no leading slash, trailing slash).
 *
 * Ambiguity resolved here: Sersync tests a directory with one form or the other depending on when
 * it saw it (start-up crawl or a live event). tssersync must give the same answer whenever it sees
 * the directory, so a directory is excluded when EITHER form matches. This only ever excludes more
 * for directories, and it is what makes the stock `^info/*` exclude the root-level `info` both ways.
 *
 * Unlike Sersync, hidden files, names ending in `~` and a file named `4913` are not dropped here:
 * only the configured patterns exclude anything.
 */
import type { Pattern } from '../config/types.js';

/** The live-event string Sersync tests for `relPath` (files and directories alike). */
export function filterString(relPath: string, isDir: boolean): string {
  void isDir; // the live form does not depend on the type; see filterStrings for directories
  return relPath.includes('/') ? `/${relPath}` : relPath;
}

/** Every string Sersync may test for this entry: the live form, and for a directory the start-up form. */
export function filterStrings(relPath: string, isDir: boolean): readonly string[] {
  const live = filterString(relPath, isDir);
  return isDir ? [live, `${relPath}/`] : [live];
}

function matchesAny(excludes: readonly Pattern[], s: string): boolean {
  for (const p of excludes) {
    // A compiled pattern may carry the `g` or `y` flag; reset so `test` never depends on a previous call.
    p.regex.lastIndex = 0;
    if (p.regex.test(s)) return true;
  }
  return false;
}

function selfExcluded(excludes: readonly Pattern[], relPath: string, isDir: boolean): boolean {
  return filterStrings(relPath, isDir).some((s) => matchesAny(excludes, s));
}

/**
 * True when `relPath` must not be replicated in real time: it matches an exclude itself, or one of
 * its ancestor directories does (nothing below an excluded directory is synced). The root ("") is
 * never excluded.
 */
export function isExcluded(excludes: readonly Pattern[], relPath: string, isDir: boolean): boolean {
  if (excludes.length === 0 || relPath === '') return false;
  if (selfExcluded(excludes, relPath, isDir)) return true;
  let i = relPath.indexOf('/');
  while (i > 0) {
    if (selfExcluded(excludes, relPath.slice(0, i), true)) return true;
    i = relPath.indexOf('/', i + 1);
  }
  return false;
}
