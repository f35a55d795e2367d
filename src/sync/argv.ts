/**
 * rsync argv, built as arrays (never a shell string). Pure: no I/O, no clock.
 *
 * Path jobs:  rsync --info=stats1 <commonParams> -R --files-from=- --from0 [-r --delete --force] [--delete-missing-args --force]
 *             [--ignore-times] [--timeout=N] [--max-delete=N] [--sockopts=TCP_NODELAY] [--port=N]
 *             [--password-file=F] [-e "ssh …"] ./ DEST
 * Full sync:  rsync --info=stats1 <commonParams> -r --delete --force [--exclude=GLOB…] <connection> ./ DEST
 * Fallback delete (receivers without --delete-missing-args, rsync #910), one per parent directory:
 *             rsync --info=stats1 <commonParams> -r --delete --force --include=/NAME --include=/NAME/*** … --exclude=*
 *             <connection> ./PARENT/ DEST/PARENT/
 */
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { TssersyncError } from '../errors.js';

export interface ArgvInput {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  readonly action: 'path' | 'tree';
  /** Whole root: recursive, --delete, excludes; no --files-from. */
  readonly full?: boolean;
  /** --exclude globs (full sync only: the crontab filter). */
  readonly excludes?: readonly string[];
  /** A listed path missing locally is deleted on the receiver (--delete-missing-args --force). */
  readonly deleteMissing: boolean;
  /**
   * Transfer listed files even when size and mtime (whole seconds) match: an event proves the
   * file changed, and a same-size rewrite within one second would otherwise be skipped for good.
   */
  readonly ignoreTimes: boolean;
}

/** `[user@]host::module/` (daemon) or `[user@]host:path/` (ssh). Always ends in `/`. */
export function destinationFor(remote: RemoteConfig): string {
  const user = remote.user ? `${remote.user}@` : '';
  const mod = remote.module.endsWith('/') ? remote.module : `${remote.module}/`;
  return remote.mode === 'daemon' ? `${user}${remote.host}::${mod}` : `${user}${remote.host}:${mod}`;
}

/**
 * rsync splits the `-e` value into words itself (not a shell, but it does interpret quotes and
 * backslashes), so only words that survive that splitting unchanged are allowed.
 */
export function sshWordProblem(word: string): string | undefined {
  if (word.length === 0) return 'an empty word';
  if (/[\s'"\\]/.test(word)) return `ssh option ${JSON.stringify(word)} contains whitespace, a quote or a backslash`;
  return undefined;
}

/** `ssh -p N -o BatchMode=yes <sshOptions>`: BatchMode so a missing key fails instead of prompting. */
export function sshCommand(remote: RemoteConfig): string {
  const words = ['ssh', ...(remote.port !== undefined ? ['-p', String(remote.port)] : []), '-o', 'BatchMode=yes', ...remote.sshOptions];
  for (const w of words) {
    const problem = sshWordProblem(w);
    if (problem) throw new TssersyncError(`remote ${remote.id}: ${problem}; rsync -e cannot pass it safely`);
  }
  return words.join(' ');
}

/** Options that say how to reach the remote and how long to wait: shared by every form. */
function connectionArgs(remote: RemoteConfig, rsync: RsyncSettings): string[] {
  const out: string[] = [];
  if (rsync.timeoutSeconds !== undefined) out.push(`--timeout=${rsync.timeoutSeconds}`);
  if (rsync.maxDelete !== undefined) out.push(`--max-delete=${rsync.maxDelete}`);
  if (remote.mode === 'daemon') {
    // Nagle + delayed ACKs cost ~40 ms per protocol round trip on a small push (rsync-facts).
    out.push('--sockopts=TCP_NODELAY');
    if (remote.port !== undefined) out.push(`--port=${remote.port}`);
    if (remote.passwordFile !== undefined) out.push(`--password-file=${remote.passwordFile}`);
  } else {
    out.push('-e', sshCommand(remote));
  }
  return out;
}

/**
 * `--info=stats1`: rsync's closing "sent N bytes received M bytes" line, read for bytes sent
 * (runner.ts). It goes before commonParams so a user's own `--info=stats0` or `-q` still wins;
 * a user's `-v` prints the same line and changes nothing.
 */
export const STATS_OPTION = '--info=stats1';

export function buildRsyncArgv(input: ArgvInput): string[] {
  const { remote, rsync } = input;
  // A full sync also reports its progress; before commonParams too, so a user's own --info wins.
  const argv = [rsync.binary, input.full ? `${STATS_OPTION},progress2` : STATS_OPTION, ...rsync.commonParams];
  if (input.full) {
    argv.push('-r', '--delete', '--force');
    for (const glob of input.excludes ?? []) argv.push(`--exclude=${glob}`);
  } else {
    argv.push('-R', '--files-from=-', '--from0');
    if (input.action === 'tree') argv.push('-r', '--delete', '--force');
    if (input.deleteMissing) argv.push('--delete-missing-args', ...(input.action === 'tree' ? [] : ['--force']));
    if (input.ignoreTimes) argv.push('--ignore-times');
  }
  argv.push(...connectionArgs(remote, rsync), './', destinationFor(remote));
  return argv;
}

/**
 * Escape a name for an rsync filter pattern. rsync treats `\` as an escape only in patterns that
 * contain a wildcard (`*?[`); in a plain pattern it compares literally. So: escape `*?[\` when the
 * pattern will hold a wildcard (ours, or the name's own), and leave a wildcard-free name as it is.
 */
export function escapeFilterName(name: string, patternHasWildcard: boolean): string {
  return patternHasWildcard || /[*?[]/.test(name) ? name.replace(/[*?[\\]/g, '\\$&') : name;
}

/** The include rules naming exactly `names` (entries directly in one directory) and their subtrees. */
export function includeRulesFor(names: readonly string[]): string[] {
  return names.flatMap((n) => [`--include=/${escapeFilterName(n, false)}`, `--include=/${escapeFilterName(n, true)}/***`]);
}

export interface FallbackDeleteInput {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  /** Directory relative to the root ("" = the root itself); must exist locally. */
  readonly parent: string;
  /** Entry names directly in `parent` that are missing locally and must go on the receiver. */
  readonly names: readonly string[];
}

/**
 * Deletes the named entries of one directory on the receiver, subtrees included (-r + --force),
 * without --delete-missing-args. rsync descends only into the included names; everything else
 * is excluded and therefore protected from --delete. Run with cwd = the root.
 */
export function buildDeleteFallbackArgv(input: FallbackDeleteInput): string[] {
  const { remote, rsync, parent } = input;
  const sub = parent === '' ? '' : `${parent}/`;
  return [
    rsync.binary,
    STATS_OPTION,
    ...rsync.commonParams,
    '-r',
    '--delete',
    '--force',
    ...includeRulesFor(input.names),
    '--exclude=*',
    ...connectionArgs(remote, rsync),
    // "./" keeps a name with a leading dash or a colon from reading as an option or a host.
    `./${sub}`,
    `${destinationFor(remote)}${sub}`,
  ];
}

/** Words that could carry a secret, masked for logs. rsync never needs one in argv; keep it so. */
const SECRET_WORD = [/^(--password=)(.*)$/, /^(RSYNC_PASSWORD=)(.*)$/, /^(rsync:\/\/[^:/@]+:)([^@]*)(@.*)$/];

export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((w) => {
    for (const re of SECRET_WORD) {
      const m = re.exec(w);
      if (m) return `${m[1]}***${m[3] ?? ''}`;
    }
    return w;
  });
}
