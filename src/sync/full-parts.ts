/**
 * A full sync in parts: a few rsync runs at once over disjoint parts of the root, instead of one.
 *
 * Why: one rsync over a large unchanged tree is one sender, one generator and one receiver
 * waiting on each other, file list by file list; the cores idle in between. On 1,000,000 files
 * in 20,000 directories (loopback, 2 cores) one `rsync -a --delete` took 9.2–12.8 s; two runs at
 * once over halves of the top-level directories took 5.5–7.1 s for about the same CPU
 * (docs/benchmarks.md, "A full sync in parts").
 *
 * The cut. Units are directories, found from the top down: the root's subdirectories; while there
 * are fewer than UNITS_PER_PART per part, each unit with subdirectories is replaced by them (a
 * directory without any stays a unit), at most MAX_DEPTH levels down and READ_BUDGET listings in
 * all. Excluded directories are never units. Each unit's size is estimated from its lstat (link
 * count: its subdirectories; st_size: its own entries), and the units are dealt largest first,
 * each to the part with the least so far. The estimate only balances the parts: a wrong one
 * costs time, never data.
 *
 * The runs (attempt.ts), all full-sync runs (`-r --delete ./ DEST`) with the usual excludes, each
 * part's own rules last, after every other filter rule (so the real-time excludes, the user's own
 * excludes and the crontab globs still apply inside its units):
 * - part 0 has `- /UNIT` for each unit of the other parts (partZeroRules): everything else of the
 *   root is its own (the root's files, the directories above the units, entries only the remote
 *   has), and the exclude rule protects the other parts' units from its --delete;
 * - part j ≥ 1 has `+ /DIR/` for each directory above its units, `+ /UNIT` for each unit,
 *   `- /DIR/*` for each directory above and `- /*` (partRules): it sends only its units, and its
 *   --delete acts only inside them (and on a unit gone from the source); everything else is
 *   excluded, so protected.
 * Both start with one rule that lets everything deeper than the units through at once
 * (belowUnitsRule): without it each file was checked against one rule per unit.
 * Each name of the root belongs to exactly one part; only the directories above the units are
 * set by two (to the same values; where the remote has a file in place of one, two parts race to
 * replace it, and the loser runs again alone: attempt.ts). rsync checks every file against the rules until one matches,
 * so a part names at most MAX_UNITS_PER_PART units (before belowUnitsRule, 50 rules over 500,000
 * files cost a part's sender 0.3 s of CPU here). --files-from would name the units without rules, but it turns off rsync's
 * incremental recursion: the same half of the tree took 6.3 s of CPU instead of 2.2 s.
 *
 * Not split (one run, as before) where the parts would not add up to one run:
 * `--delete-excluded` (part 0 would delete the other parts' units), an include or filter rule of
 * the user's (`--include`, `--filter`, `-f`, `-F`, `--files-from`: it could match before ours),
 * `-m` (a directory above a part's units, pruned from its list, would be deleted), `-H` (hard
 * links are kept only within one run), `--bwlimit` and `--max-delete` / `<maxDelete>` (both per run).
 */
import { lstat, readdir } from 'node:fs/promises';
import type { Pattern, RsyncSettings } from '../config/types.js';
import { nameFromBytes, pathBytes } from '../core/names.js';
import { ancestors } from '../core/paths.js';
import { escapeFilterName, nulRules } from './argv.js';
import { isExcluded } from '../watch/filter.js';

/** Levels below the root the cut looks at, at most. */
export const MAX_DEPTH = 3;
/** Directories listed to find the units, at most (the cut's cost is bounded, whatever the tree). */
export const READ_BUDGET = 256;
/** Units wanted per part: enough to balance, few enough that part 0's rules stay short. */
export const UNITS_PER_PART = 4;
/** Units one part ≥ 1 names, at most (each is a rule every file of the run is checked against). */
export const MAX_UNITS_PER_PART = 64;
/** An estimate counts each subdirectory as this many entries (its own are not listed). */
const ENTRIES_PER_SUBDIR = 50;
/** Bytes of directory size per entry, roughly (ext4, XFS, tmpfs all grow with their entries). */
const BYTES_PER_ENTRY = 32;

/** `<tssersync><fullSync parts minEntries/>`, resolved. */
export interface FullSyncSplit {
  /** Runs at once, at most; 1 = never split. */
  readonly parts: number;
  /** Trees estimated smaller than this go in one run (a second rsync costs ~15 ms of CPU). */
  readonly minEntries: number;
}

export const DEFAULT_MIN_ENTRIES = 10_000;
/** `parts="auto"`: as many as the lane's concurrency and the cores allow, at most this many. */
export const AUTO_MAX_PARTS = 4;

export function autoParts(concurrency: number, cores: number): number {
  return Math.max(1, Math.min(concurrency, cores, AUTO_MAX_PARTS));
}

export interface Unit {
  readonly path: string;
  /** Estimated entries in its subtree (only relative sizes matter). */
  readonly weight: number;
}

export interface PartPlan {
  /** Units of parts 1…K-1 (part 0 is everything else). Each part has at least one unit. */
  readonly parts: readonly (readonly string[])[];
  /** Every unit not in part 0: the `- /UNIT` rules part 0 adds. */
  readonly others: readonly string[];
  readonly estimate: number;
}

/** Why the user's rsync options rule a split out; undefined when they do not. */
export function whyNotSplit(rsync: RsyncSettings): string | undefined {
  if (rsync.maxDelete !== undefined) return '<maxDelete> counts per run';
  for (const w of rsync.commonParams) {
    if (w === '--') break;
    const long = /^--([a-z0-9-]+)/.exec(w)?.[1];
    if (long !== undefined) {
      if (long === 'delete-excluded') return `${w}: an exclude would no longer protect another part's directories`;
      if (long === 'include' || long === 'include-from' || long === 'filter' || long === 'files-from') return `${w}: a rule of the user's could match before the parts' own`;
      if (long === 'prune-empty-dirs') return `${w}: a directory above a part's units could be pruned, then deleted`;
      if (long === 'hard-links') return `${w}: hard links are kept only within one run`;
      if (long === 'bwlimit' || long === 'max-delete') return `${w} counts per run`;
    } else if (/^-[a-zA-Z]*[HmfF]/.test(w)) {
      // -H, -m, -f, -F in a cluster of flags (-aH, -avzm); a flag with an argument ends the letters.
      return `${w}: one of -H, -m, -f, -F (hard links, pruning, filter rules) works only within one run`;
    }
  }
  return undefined;
}

/**
 * Pure: deal `units` to `parts` parts, largest first, each to the lightest part so far; a part ≥ 1
 * that names MAX_UNITS_PER_PART units takes no more (part 0, the rest, names none). A split needs
 * at least one unit outside part 0.
 */
export function dealUnits(units: readonly Unit[], parts: number, maxPerPart = MAX_UNITS_PER_PART): PartPlan | undefined {
  if (parts < 2 || units.length < 2) return undefined;
  const k = Math.min(parts, units.length);
  const load = new Array<number>(k).fill(0);
  const owned: string[][] = Array.from({ length: k }, () => []);
  const sorted = [...units].sort((a, b) => b.weight - a.weight || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const u of sorted) {
    let best = 0;
    for (let i = 1; i < k; i++) if (owned[i]!.length < maxPerPart && load[i]! < load[best]!) best = i;
    load[best]! += u.weight;
    owned[best]!.push(u.path);
  }
  const rest = owned.slice(1).filter((o) => o.length > 0);
  if (rest.length === 0) return undefined;
  return { parts: rest, others: rest.flat(), estimate: load.reduce((a, b) => a + b, 0) };
}

/**
 * The first rule of every part's own rules: what lies deeper than the deepest unit is included at
 * once (for units one level down: `+ /`, a `*` component, then `**`; one more `*` component per
 * level), so it is not checked against one rule per unit. rsync checks every file against the rules until one matches: a file deep in
 * a tree used to be matched against every unit's rule before the default let it through. Such a
 * path can only be reached through a directory the rules after this one let in (a unit of this
 * part, or for part 0 one that is not another part's), and every other filter (the real-time
 * excludes, the user's, the crontab's) comes before this file, so they still apply to it.
 * Measured on 1,000,000 files in 20,000 directories, half of the tree in 50 units
 * (test/bench/part-rules.ts, docs/benchmarks.md "Eighth session"): see there.
 */
export function belowUnitsRule(units: readonly string[]): string {
  const depth = Math.max(1, ...units.map((u) => u.split('/').length));
  return `+ /${'*/'.repeat(depth)}**`;
}

/**
 * Pure: part 0's own rules, NUL-separated: the rule for what lies below the units' depth, then
 * `- /UNIT` for each unit of the other parts (either type: a receiver whose UNIT is a file while
 * the source's is a directory must not see part 0 delete it while another part replaces it).
 */
export function partZeroRules(others: readonly string[]): Buffer {
  return nulRules([belowUnitsRule(others), ...others.map((u) => `- /${escapeFilterName(u, false)}`)]);
}

/**
 * Pure: the rules of a part ≥ 1, NUL-separated: the rule for what lies below the units' depth,
 * `+ /DIR/` for each directory above its units (rsync must enter them), `+ /UNIT` for each unit,
 * then `- /DIR/*` for each directory above and `- /*`: every other entry at the levels of the
 * units and above is excluded. A unit's rule is for either type, as part 0's `- /UNIT` is: a unit
 * that became a file since the cut is sent by this part and by no other.
 */
export function partRules(units: readonly string[]): Buffer {
  const above = new Set<string>();
  for (const u of units) for (const a of ancestors(u)) if (a !== '') above.add(a);
  const dirs = [...above].sort((a, b) => a.split('/').length - b.split('/').length);
  return nulRules([
    belowUnitsRule(units),
    ...dirs.map((a) => `+ /${escapeFilterName(a, false)}/`),
    ...units.map((u) => `+ /${escapeFilterName(u, false)}`),
    ...dirs.map((a) => `- /${escapeFilterName(a, true)}/*`),
    '- /*',
  ]);
}

/** Subdirectories of `dir` (root-relative) that are not excluded; undefined when it cannot be listed. */
async function subdirsOf(root: string, dir: string, excludes: readonly Pattern[]): Promise<string[] | undefined> {
  let entries;
  try {
    entries = await readdir(pathBytes(root, dir), { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return undefined;
  }
  const out: string[] = [];
  for (const e of entries) {
    // DT_UNKNOWN is not asked for: such a directory stays with its parent (part 0, or the parent's part).
    if (!e.isDirectory()) continue;
    const rel = dir === '' ? nameFromBytes(e.name) : `${dir}/${nameFromBytes(e.name)}`;
    if (!isExcluded(excludes, rel, true)) out.push(rel);
  }
  return out;
}

async function weightOf(root: string, rel: string): Promise<number | undefined> {
  const st = await lstat(pathBytes(root, rel)).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  return 1 + Math.max(0, st.nlink - 2) * ENTRIES_PER_SUBDIR + Math.floor(st.size / BYTES_PER_ENTRY);
}

/** The units of `root` (see the file comment); I/O bounded by READ_BUDGET listings. */
export async function findUnits(root: string, excludes: readonly Pattern[], parts: number): Promise<Unit[]> {
  let units = (await subdirsOf(root, '', excludes)) ?? [];
  let listed = 1;
  for (let depth = 2; depth <= MAX_DEPTH && units.length > 0 && units.length < parts * UNITS_PER_PART; depth++) {
    const next: string[] = [];
    let deeper = false;
    for (const u of units) {
      const below = listed < READ_BUDGET ? (listed++, await subdirsOf(root, u, excludes)) : undefined;
      if (below && below.length > 0) {
        next.push(...below);
        deeper = true;
      } else next.push(u);
    }
    if (!deeper) break; // nothing below: deeper levels add nothing
    units = next;
  }
  // All at once: one after the other, each lstat waited for a turn of the event loop, and a full
  // sync's first count (progress.ts) takes a turn of ~10 ms per 20,000 entries: on 1,000,000 files
  // the first -r's rsync started 0.95 s late.
  const weights = await Promise.all(units.map((path) => weightOf(root, path)));
  const out: Unit[] = [];
  units.forEach((path, i) => {
    const weight = weights[i];
    if (weight !== undefined) out.push({ path, weight });
  });
  return out;
}

/** The plan for one full sync of `root`, or undefined for one run. */
export async function planParts(root: string, rsync: RsyncSettings, split: FullSyncSplit | undefined): Promise<PartPlan | undefined> {
  if (!split || split.parts < 2 || whyNotSplit(rsync) !== undefined) return undefined;
  const plan = dealUnits(await findUnits(root, rsync.excludes ?? [], split.parts), split.parts);
  return plan && plan.estimate >= split.minEntries ? plan : undefined;
}
