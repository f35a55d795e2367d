/**
 * One exclude model on every route. The real-time `<filter>` excludes are regexes on Sersync's
 * test strings (src/watch/filter.ts); rsync cannot match regexes, and translating one to rsync
 * globs is exact only for a few shapes. So tssersync decides itself, with the same function the
 * watcher uses, on every route that reaches rsync:
 *
 * - the paths of a job (live events, replay, --retry-log, the pending file, catch-up) that the
 *   filter excludes are taken out before rsync runs: never sent, never deleted;
 * - where rsync recurses (a tree job: new, moved-in or renamed directories, reconciles, bursts;
 *   a full sync: -r, <crontab>, the periodic reconcile), a local walk of the tree finds every
 *   excluded entry that exists, and rsync gets one anchored literal rule `- /PATH` per entry
 *   (argv.ts excludeRules), in a 0600 temp file read with --from0. An exclude rule also protects
 *   the receiver's copy from --delete, so an excluded entry present in the source is never deleted
 *   on a remote. The walk does not descend into an excluded directory.
 *
 * This is exact for every regex (no pattern is untranslatable). An excluded entry created inside a
 * tree while that tree's rsync runs (after the walk) can be sent by that run: a second walk after
 * the run finds such entries and they are deleted from the receiver again (attempt.ts retractLate).
 * Remote-only entries are not in the local walk: a tree or full sync deletes them like any other
 * entry missing in the source, whatever their name (the source is the truth).
 */
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pattern } from '../config/types.js';
import { nameFromBytes, pathBytes } from '../core/names.js';
import { filterStrings, isExcluded } from '../watch/filter.js';
import { excludeRules } from './argv.js';

/** Job paths split into the ones to send and the ones the filter excludes (done without rsync). */
export async function splitExcluded(root: string, paths: readonly string[], excludes: readonly Pattern[]): Promise<{ kept: string[]; excluded: string[] }> {
  if (excludes.length === 0) return { kept: [...paths], excluded: [] };
  const kept: string[] = [];
  const excluded: string[] = [];
  for (const p of paths) {
    const asFile = isExcluded(excludes, p, false);
    const asDir = isExcluded(excludes, p, true);
    let out = asFile && asDir;
    if (asFile !== asDir) {
      // The answer depends on the type. Missing locally: either form keeps the remote copy (an
      // exclude never causes a delete).
      const st = await lstat(pathBytes(root, p)).catch(() => undefined);
      out = st ? (st.isDirectory() ? asDir : asFile) : true;
    }
    (out ? excluded : kept).push(p);
  }
  return { kept, excluded };
}

function selfExcluded(excludes: readonly Pattern[], rel: string, isDir: boolean): boolean {
  for (const s of filterStrings(rel, isDir)) {
    for (const p of excludes) {
      p.regex.lastIndex = 0;
      if (p.regex.test(s)) return true;
    }
  }
  return false;
}

/**
 * Every existing entry below the directories `trees` ("" = the whole root) that the filter
 * excludes, root-relative, topmost only (nothing below an excluded directory is listed).
 */
export async function excludedBelow(root: string, trees: readonly string[], excludes: readonly Pattern[]): Promise<string[]> {
  if (excludes.length === 0) return [];
  const out: string[] = [];
  const stack = [...trees];
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    let entries;
    try {
      entries = await readdir(pathBytes(root, dir), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      // Gone, or not a directory: nothing of it for rsync to recurse into.
      continue;
    }
    for (const e of entries) {
      const rel = dir === '' ? nameFromBytes(e.name) : `${dir}/${nameFromBytes(e.name)}`;
      let isDir = e.isDirectory();
      if (!isDir && !e.isFile() && !e.isSymbolicLink() && !e.isFIFO() && !e.isSocket() && !e.isBlockDevice() && !e.isCharacterDevice()) {
        // DT_UNKNOWN (some file systems): ask.
        isDir = (await lstat(pathBytes(root, rel)).catch(() => undefined))?.isDirectory() ?? false;
      }
      if (selfExcluded(excludes, rel, isDir)) out.push(rel);
      else if (isDir) stack.push(rel);
    }
  }
  return out;
}

/** Runs `fn` with a 0600 rules file holding `- /PATH` for each path (no file when there are none). */
export async function withExcludeRules<T>(paths: readonly string[], fn: (rulesFile: string | undefined) => Promise<T>): Promise<T> {
  if (paths.length === 0) return fn(undefined);
  const dir = await mkdtemp(join(tmpdir(), 'tssersync-rules-'));
  try {
    const file = join(dir, 'excluded');
    await writeFile(file, excludeRules(paths), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}


/** Excluded entries below `trees` now that the first walk (`before`) did not see. */
export async function appearedDuring(root: string, trees: readonly string[], excludes: readonly Pattern[], before: readonly string[]): Promise<string[]> {
  if (excludes.length === 0 || trees.length === 0) return [];
  const seen = new Set(before);
  return (await excludedBelow(root, trees, excludes)).filter((p) => !seen.has(p));
}
