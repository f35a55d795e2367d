/**
 * One exclude model on every route. The real-time `<filter>` excludes are regexes on Sersync's
 * test strings (src/watch/filter.ts); rsync cannot match regexes. So:
 *
 * - the paths of a job (live events, replay, --retry-log, the pending file, catch-up) that the
 *   filter excludes are taken out before rsync runs, by the function the watcher uses: never
 *   sent, never deleted;
 * - where rsync recurses (a tree job: new, moved-in or renamed directories, reconciles, bursts;
 *   a full sync: -r, <crontab>, the periodic reconcile), rsync gets filter rules, in a 0600 temp
 *   file read with --from0: an exclude with an exact rsync equivalent (exclude-rules.ts: Sersync's
 *   stock shapes `(.*)\.gz`, `^info/*`) as that one glob; any other regex by a local walk of the
 *   tree that finds every entry it excludes, one anchored literal rule `- /PATH` each (argv.ts
 *   excludeRules). An exclude rule also protects the receiver's copy from --delete, so an excluded
 *   entry present in the source is never deleted on a remote. The walk does not descend into an
 *   excluded directory.
 *
 * Every regex applies on every route (none is untranslatable). What the walk costs: rsync checks
 * every rule against every file, so a walked regex matching many entries slows a full sync (10,000
 * literal rules over 100,000 files: 37 s instead of 1 s here, rsync 3.5.0); a glob costs nothing.
 * An entry a walked regex excludes, created inside a tree while its rsync runs (after the walk),
 * can be sent by that run: a second walk after the run finds such entries and they are deleted from
 * the receiver again (attempt.ts retractLate); a glob has no such window. Remote-only entries: a
 * glob keeps a remote-only match (rsync protects what an exclude matches); the walk sees only the
 * source, so a tree or full sync deletes a remote-only match of a walked regex like any other entry
 * missing in the source.
 */
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pattern } from '../config/types.js';
import { nameFromBytes, pathBytes } from '../core/names.js';
import { filterStrings, isExcluded } from '../watch/filter.js';
import { excludeRules } from './argv.js';
import { rsyncRulesOf } from './exclude-rules.js';

/** The excludes split by how they reach rsync: as globs, or by a walk. */
export interface ExcludePlan {
  /** rsync rules (`- *.gz`, `- /info`) for the excludes that have an exact one. */
  readonly globs: readonly string[];
  /** The rest: their matches are found by walking the tree. */
  readonly walked: readonly Pattern[];
}

const plans = new WeakMap<readonly Pattern[], ExcludePlan>();

export function planExcludes(excludes: readonly Pattern[]): ExcludePlan {
  let plan = plans.get(excludes);
  if (!plan) {
    const globs: string[] = [];
    const walked: Pattern[] = [];
    for (const p of excludes) {
      const rules = rsyncRulesOf(p);
      if (rules !== undefined) globs.push(...rules);
      else walked.push(p);
    }
    plan = { globs, walked };
    plans.set(excludes, plan);
  }
  return plan;
}

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
 * Every existing entry below the directories `trees` ("" = the whole root) that a walked exclude
 * (one without an rsync glob) excludes, root-relative, topmost only: the walk enters no directory
 * that any exclude excludes.
 */
export async function excludedBelow(root: string, trees: readonly string[], excludes: readonly Pattern[]): Promise<string[]> {
  const { walked } = planExcludes(excludes);
  if (walked.length === 0 || trees.length === 0) return [];
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
      if (selfExcluded(walked, rel, isDir)) out.push(rel);
      else if (isDir && !selfExcluded(excludes, rel, isDir)) stack.push(rel);
    }
  }
  return out;
}

/**
 * Runs `fn` with a 0600 rules file: the excludes' globs, then `- /PATH` for each walked path (no
 * file when there are none).
 */
export async function withExcludeRules<T>(excludes: readonly Pattern[], paths: readonly string[], fn: (rulesFile: string | undefined) => Promise<T>): Promise<T> {
  const { globs } = planExcludes(excludes);
  if (paths.length === 0 && globs.length === 0) return fn(undefined);
  return withRulesFile(excludeRules(paths, globs), fn);
}

/** Runs `fn` with `rules` (NUL-separated filter rules) in a 0600 temp file, removed afterwards. */
export async function withRulesFile<T>(rules: Buffer, fn: (rulesFile: string) => Promise<T>): Promise<T> {
  return withRulesFiles([rules], ([file]) => fn(file!));
}

/** withRulesFile for several rule sets at once: one 0600 file each, in one temp dir. */
export async function withRulesFiles<T>(rules: readonly Buffer[], fn: (rulesFiles: string[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tssersync-rules-'));
  try {
    const files = rules.map((_, i) => join(dir, i === 0 ? 'excluded' : `excluded-${i}`));
    for (let i = 0; i < rules.length; i++) await writeFile(files[i]!, rules[i]!, { mode: 0o600 });
    return await fn(files);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}


/** Excluded entries below `trees` now that the first walk (`before`) did not see. */
export async function appearedDuring(root: string, trees: readonly string[], excludes: readonly Pattern[], before: readonly string[]): Promise<string[]> {
  if (planExcludes(excludes).walked.length === 0 || trees.length === 0) return [];
  const seen = new Set(before);
  return (await excludedBelow(root, trees, excludes)).filter((p) => !seen.has(p));
}
