/**
 * A rename inside a root, sent without its contents (issue 9 item 2). Before the job that sends the
 * new path (and deletes the old one), one "seed" rsync lets the receiver build the new path from its
 * own old copy, so what crosses the wire is the file list and whatever differs:
 *
 *   directory:                 rsync <commonParams> -r --mkpath --link-dest=<OLD rel. to NEW> ./NEW/ DEST/NEW/
 *   file, same directory:      rsync <commonParams> --fuzzy ./NEW DEST/PARENT/          (basis: the old name)
 *   file, same name elsewhere: rsync <commonParams> --mkpath --link-dest=<OLDPARENT rel.> ./NEW DEST/NEWPARENT/
 *
 * The job itself then runs as always (tree or path, with --delete, the exclude rules, the forced
 * re-sends) and finds the bytes already there; it deletes the old path, whose job is held for this
 * one (core/change-set.ts), so the old copy is still there while the seed runs. No shell on the
 * remote, no `ssh … mv`: this works against rsync daemons.
 *
 * A seed is only an optimisation, and correct whatever the remote holds: rsync links (or uses as a
 * basis) only files whose quick check matches the source; a missing or changed old copy means a
 * normal send, which the job then finds done. A failed seed is ignored: the job sends everything.
 *
 * No seed (the job sends the new path as usual) when:
 * - a name holds a non-UTF-8 byte (argv words are UTF-8 strings; names otherwise travel on stdin);
 * - commonParams carries the user's own --link-dest/--copy-dest/--compare-dest (rsync would search
 *   them too) or filter options (--exclude, --filter, …: anchored at another transfer root here,
 *   they could select other entries than in the job);
 * - a file is smaller than SEED_MIN_BYTES (sending it costs about what a seed costs; an atomic
 *   save of a small file stays one rsync), or moved to another directory under another name
 *   (rsync looks for a fuzzy basis only in the destination directory: measured with 3.5.0).
 */
import { posix } from 'node:path';
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { hasEscapes } from '../core/names.js';
import { parentOf } from '../core/paths.js';
import type { Rename } from '../core/types.js';
import { connectionArgs, destinationFor, excludeRules, NANOSECOND_QUICK_CHECK, STATS_OPTION } from './argv.js';

/** Files below this are sent as they are: a seed would cost about as much as the bytes. */
export const SEED_MIN_BYTES = 1024 * 1024;

/** A renamed path as it is locally now (lstat). */
export interface SeedTarget {
  readonly rename: Rename;
  readonly kind: 'dir' | 'file';
  /** Files: their size. */
  readonly size?: number;
}

export interface SeedInput {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  readonly targets: readonly SeedTarget[];
  /** The root-relative entries below the new directories that a walked exclude excludes (excludes.ts). */
  readonly excluded?: readonly string[];
  /** The exclude globs (`- *LIT`, `- /LIT`). */
  readonly globs?: readonly string[];
}

export interface Seed {
  /** The renames this run seeds. */
  readonly renames: readonly Rename[];
  readonly argv: string[];
  /** Names for `--files-from=- --from0` (a group of directories moved together). */
  readonly stdinPaths?: readonly string[];
  /** Filter rules, NUL-separated: on stdin (`merge -`) for one directory, else in `rulesFile`'s file. */
  readonly rules?: Buffer;
  /** The rules go in a file at this argv index's `--filter=merge FILE` word (stdin carries names). */
  readonly rulesInFile?: boolean;
}

const ALT_DEST = /^--(link|copy|compare)-dest(=|$)/;
const FILTER_WORD = /^(--(exclude|include|filter|exclude-from|include-from|files-from|cvs-exclude)(=|$)|-[a-zA-Z]*[FC][a-zA-Z]*$)/;
/** The argv word a seed's rules file goes in (replaced by the path of the file). */
export const RULES_FILE = '\0rules';

/** Why these settings never get a seed, or undefined. */
export function seedRefusal(rsync: RsyncSettings): string | undefined {
  if (rsync.commonParams.some((w) => ALT_DEST.test(w))) return 'commonParams has its own --link-dest/--copy-dest/--compare-dest';
  if (rsync.commonParams.some((w) => FILTER_WORD.test(w))) return 'commonParams has its own filter options';
  return undefined;
}

/**
 * The seeds for a job's renames, and why the others get none. Directories moved together (the same
 * old and new parent, each under its own name: `mv a/* b/`) share one run, their names on stdin;
 * any other directory rename is one run of its own. Pure.
 */
export function planSeeds(input: SeedInput): { seeds: Seed[]; skipped: { rename: Rename; why: string }[] } {
  const seeds: Seed[] = [];
  const skipped: { rename: Rename; why: string }[] = [];
  const refusal = seedRefusal(input.rsync);
  const groups = new Map<string, SeedTarget[]>();
  for (const t of input.targets) {
    const { from, to } = t.rename;
    const why = refusal ?? pathProblem(from, to);
    if (why) {
      skipped.push({ rename: t.rename, why });
      continue;
    }
    if (t.kind === 'dir') {
      const fromParent = parentOf(from);
      const toParent = parentOf(to);
      if (posix.basename(from) === posix.basename(to) && !hasEscapes(fromParent) && !hasEscapes(toParent)) {
        const key = `${fromParent}\0${toParent}`;
        groups.set(key, [...(groups.get(key) ?? []), t]);
        continue;
      }
      if (hasEscapes(from) || hasEscapes(to)) skipped.push({ rename: t.rename, why: 'a name is not UTF-8: it can only travel on stdin' });
      else seeds.push(dirSeed(input, t.rename));
      continue;
    }
    const file = fileSeed(input, t);
    if ('why' in file) skipped.push({ rename: t.rename, why: file.why });
    else seeds.push(file);
  }
  for (const group of groups.values()) {
    const first = group[0]!.rename;
    seeds.push(group.length === 1 && !hasEscapes(first.to) && !hasEscapes(first.from) ? dirSeed(input, first) : groupSeed(input, group.map((t) => t.rename)));
  }
  return { seeds, skipped };
}

function pathProblem(from: string, to: string): string | undefined {
  if (from === '' || to === '' || from === to) return 'not a rename below the root';
  if (posix.isAbsolute(from) || posix.isAbsolute(to) || from.split('/').includes('..') || to.split('/').includes('..')) return 'not a relative path';
  return undefined;
}

/** Exclude rules for a run whose transfer root is `base` ("" = the watch root). */
function rulesBelow(input: SeedInput, base: string): Buffer | undefined {
  // Rules anchored at the watch root (`- /LIT`) name root-level entries only: none is below `base`.
  const globs = (input.globs ?? []).filter((g) => base === '' || !g.startsWith('- /'));
  const prefix = base === '' ? '' : `${base}/`;
  const below = (input.excluded ?? []).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  return globs.length + below.length > 0 ? excludeRules(below, globs) : undefined;
}

function head(rsync: RsyncSettings): string[] {
  return [...(rsync.launcher ?? []), rsync.binary];
}

/** One directory: `./NEW/` into `DEST/NEW/`, linked from the old copy. */
function dirSeed(input: SeedInput, rename: Rename): Seed {
  const { remote, rsync } = input;
  const rules = rulesBelow(input, rename.to);
  const argv = [
    ...head(rsync),
    ...(rules ? ['--from0', '--filter=merge -', '--no-from0'] : []),
    STATS_OPTION,
    NANOSECOND_QUICK_CHECK,
    ...rsync.commonParams,
    '-r',
    // NEW's parents may not exist on the remote yet (a rename into a new directory).
    '--mkpath',
    `--link-dest=${posix.relative(rename.to, rename.from)}`,
    ...connectionArgs(remote, rsync),
    // "./" keeps a leading dash in a name from reading as an option.
    `./${rename.to}/`,
    `${destinationFor(remote)}${rename.to}/`,
  ];
  return { renames: [rename], argv, ...(rules ? { rules } : {}) };
}

/** Directories moved from one parent to another under their own names: one run, the names on stdin. */
function groupSeed(input: SeedInput, renames: readonly Rename[]): Seed {
  const { remote, rsync } = input;
  const fromParent = parentOf(renames[0]!.from);
  const toParent = parentOf(renames[0]!.to);
  const rules = rulesBelow(input, toParent);
  const sub = toParent === '' ? '' : `${toParent}/`;
  const argv = [
    ...head(rsync),
    ...(rules ? ['--from0', `--filter=merge ${RULES_FILE}`, '--no-from0'] : []),
    STATS_OPTION,
    NANOSECOND_QUICK_CHECK,
    ...rsync.commonParams,
    '--files-from=-',
    '--from0',
    '-r',
    '--mkpath',
    `--link-dest=${toParent === fromParent ? '.' : posix.relative(toParent, fromParent)}`,
    ...connectionArgs(remote, rsync),
    `./${sub}`,
    `${destinationFor(remote)}${sub}`,
  ];
  return { renames, argv, stdinPaths: renames.map((r) => posix.basename(r.to)), ...(rules ? { rules, rulesInFile: true } : {}) };
}

/** A large file: a fuzzy basis in its own directory, or a link from the old directory under the same name. */
function fileSeed(input: SeedInput, t: SeedTarget): Seed | { why: string } {
  const { remote, rsync } = input;
  const { from, to } = t.rename;
  if (hasEscapes(from) || hasEscapes(to)) return { why: 'a name is not UTF-8: it can only travel on stdin' };
  if ((t.size ?? 0) < SEED_MIN_BYTES) return { why: 'a small file: sent as it is' };
  const toParent = parentOf(to);
  const fromParent = parentOf(from);
  const dest = `${destinationFor(remote)}${toParent === '' ? '' : `${toParent}/`}`;
  if (toParent === fromParent) return { renames: [t.rename], argv: [...head(rsync), STATS_OPTION, ...rsync.commonParams, '--fuzzy', ...connectionArgs(remote, rsync), `./${to}`, dest] };
  if (posix.basename(to) !== posix.basename(from)) return { why: 'moved to another directory under another name: no basis rsync can find' };
  return {
    renames: [t.rename],
    argv: [...head(rsync), STATS_OPTION, NANOSECOND_QUICK_CHECK, ...rsync.commonParams, '--mkpath', `--link-dest=${posix.relative(toParent, fromParent)}`, ...connectionArgs(remote, rsync), `./${to}`, dest],
  };
}
