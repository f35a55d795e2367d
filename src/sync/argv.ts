/**
 * rsync argv, built as arrays (never a shell string). Pure: no I/O, no clock. Every form starts
 * with `rsync.launcher` when set (`nice -n 10 ionice -c2 -n7`, see priority.ts), then the binary.
 *
 * Path jobs:  rsync [<excluded>] --info=stats1[,progress2 for full syncs] <commonParams> -R --files-from=- --from0 [-r --delete --force] [--delete-missing-args --force]
 *             [--checksum | --ignore-times] [--timeout=N] [--max-delete=N] [--sockopts=TCP_NODELAY] [--port=N]
 *             [--password-file=F] [-e "ssh …"] ./ DEST
 * Full sync:  rsync [<excluded>] --info=stats1[,progress2 for full syncs] <commonParams> -r --delete --force [--exclude=GLOB…] [<part>] <connection> ./ DEST
 * <part>:     a full sync in parts (full-parts.ts): --from0 --filter='merge PART' --no-from0,
 *             PART holding `+ /DIR/` above the part's units, `+ /UNIT/***` each, then `- *`
 * Fallback delete (receivers without --delete-missing-args, rsync #910), one per parent directory:
 *             rsync --info=stats1 <commonParams> -r --delete --force --from0 --filter='merge -' <connection> ./PARENT/ DEST/PARENT/
 *             with `+ /NAME`, `+ /NAME/***` … `- *` on stdin, NUL-separated.
 * <excluded>: --from0 --filter='merge RULES' --no-from0, RULES holding `- /PATH` per entry the
 *             real-time <filter> excludes (src/sync/excludes.ts). First in argv, so no include
 *             rule of the user's can bring an excluded entry back; --no-from0 before commonParams,
 *             so a user's own `--filter="merge FILE"` is still read line by line.
 *
 * Names in filter rules are bytes (NUL-separated, never argv words: Node's spawn would encode a
 * non-UTF-8 name as U+FFFD's UTF-8), so they go in a file or on stdin.
 */
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { hasEscapes, nameToBytes } from '../core/names.js';
import { TssersyncError } from '../errors.js';
import { controlWords, ownsControl, sshWordProblem } from './ssh-control.js';

export interface ArgvInput {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  readonly action: 'path' | 'tree';
  /** Whole root: recursive, --delete, excludes; no --files-from. */
  readonly full?: boolean;
  /** --exclude globs (full sync only: the crontab filter). */
  readonly excludes?: readonly string[];
  /**
   * A full sync's part (full-parts.ts): a file of NUL-separated rules naming the part's units,
   * read after every other filter rule (the user's and the crontab's still apply inside them).
   */
  readonly partRulesFile?: string;
  /** A listed path missing locally is deleted on the receiver (--delete-missing-args --force). */
  readonly deleteMissing: boolean;
  /**
   * Transfer listed files even when size and mtime (whole seconds) match: an event proves the
   * file changed, and a same-size rewrite within one second would otherwise be skipped for good.
   */
  readonly ignoreTimes: boolean;
  /**
   * How `ignoreTimes` is asked of rsync (path and tree jobs): `checksum` (the default) or
   * `ignore-times`, for a daemon whose rsyncd.conf refuses --checksum. See FORCE_OPTION.
   */
  readonly forceForm?: ForceForm;
  /** A file of NUL-separated filter rules (excludeRules) that must apply to this run. */
  readonly rulesFile?: string;
}

/** `[user@]host::module/` (daemon) or `[user@]host:path/` (ssh). Always ends in `/`. */
export function destinationFor(remote: RemoteConfig): string {
  const user = remote.user ? `${remote.user}@` : '';
  const mod = remote.module.endsWith('/') ? remote.module : `${remote.module}/`;
  return remote.mode === 'daemon' ? `${user}${remote.host}::${mod}` : `${user}${remote.host}:${mod}`;
}

/**
 * `ssh -p N -o BatchMode=yes <sshOptions> [<shared connection>]`: BatchMode so a missing key fails
 * instead of prompting; with `controlDir`, rsync runs share one connection per remote
 * (ssh-control.ts), after the operator's options, which win (ssh takes an option's first value).
 */
export function sshCommand(remote: RemoteConfig, controlDir?: string): string {
  const shared = controlDir !== undefined && !ownsControl(remote.sshOptions) ? controlWords(controlDir, remote) : [];
  const words = ['ssh', ...(remote.port !== undefined ? ['-p', String(remote.port)] : []), '-o', 'BatchMode=yes', ...remote.sshOptions, ...shared];
  for (const w of words) {
    const problem = sshWordProblem(w);
    if (problem) throw new TssersyncError(`remote ${remote.id}: ${problem}; rsync -e cannot pass it safely`);
  }
  return words.join(' ');
}

/** Options that say how to reach the remote and how long to wait: shared by every form. */
export function connectionArgs(remote: RemoteConfig, rsync: RsyncSettings): string[] {
  const out: string[] = [];
  if (rsync.timeoutSeconds !== undefined) out.push(`--timeout=${rsync.timeoutSeconds}`);
  if (rsync.maxDelete !== undefined) out.push(`--max-delete=${rsync.maxDelete}`);
  if (remote.mode === 'daemon') {
    // Nagle + delayed ACKs cost ~40 ms per protocol round trip on a small push (rsync-facts).
    out.push('--sockopts=TCP_NODELAY');
    if (remote.port !== undefined) out.push(`--port=${remote.port}`);
    if (remote.passwordFile !== undefined) out.push(`--password-file=${remote.passwordFile}`);
  } else {
    out.push('-e', sshCommand(remote, rsync.sshControl));
  }
  return out;
}

/**
 * `--info=stats1`: rsync's closing "sent N bytes received M bytes" line, read for bytes sent
 * (runner.ts). It goes before commonParams so a user's own `--info=stats0` or `-q` still wins;
 * a user's `-v` prints the same line and changes nothing.
 */
export const STATS_OPTION = '--info=stats1';

/**
 * Tree jobs and full syncs trust rsync's quick check (size + mtime), which by default compares
 * whole seconds: a same-size rewrite within the second of the version the remote has (a path event
 * folded into a pending tree, a reconcile) was skipped for good — 5 of 5 in the engine test.
 * `--modify-window=-1` compares nanoseconds (receivers from 3.1.3, 2018). It goes before
 * commonParams, so a user's own `--modify-window=1` (FAT) still wins. Forced path jobs use --checksum (FORCE_OPTION).
 * HACK: this narrows the window to one timestamp tick; file systems without fine-grained
 * timestamps (Linux < 6.13) can still give two writes in one tick the same mtime.
 */
export const NANOSECOND_QUICK_CHECK = '--modify-window=-1';

/**
 * How a forced send bypasses the quick check. `--checksum` (the default): a file whose size and
 * whole-file checksum match the receiver's copy is left alone, any other is sent (a same-size
 * rewrite within one second included). `--ignore-times` sent every listed file through the delta
 * algorithm: for a file the remote already had, both ends read it, checksummed every block, and the
 * receiver wrote a new copy and renamed it over the old one. Measured (1,000 files of 10-100 KB the
 * daemon already held, loopback, 3 runs each): client + daemon CPU 130+790 to 130+940 ms with
 * --ignore-times, 80+30 to 100+40 ms with --checksum; for 1,000 same-size rewrites the two cost
 * the same (880-1010 + 910-1050 ms). A daemon with `refuse options = checksum` answers exit 4; the
 * lane then uses `ignore-times` for that remote (attempt.ts).
 */
export type ForceForm = 'checksum' | 'ignore-times';
export const FORCE_OPTION: Record<ForceForm, string> = { checksum: '--checksum', 'ignore-times': '--ignore-times' };

/** The daemon's rsyncd.conf refuses --checksum (`refuse options`): exit 4 before any transfer. */
export function refusedChecksum(exitCode: number | null, stderr: string): boolean {
  return exitCode === 4 && /refuse --checksum|refuse[^\n]*\(-c\)/.test(stderr);
}

export function buildRsyncArgv(input: ArgvInput): string[] {
  const { remote, rsync } = input;
  const argv = [...(rsync.launcher ?? []), rsync.binary];
  if (input.rulesFile !== undefined) argv.push('--from0', `--filter=merge ${input.rulesFile}`, '--no-from0');
  // A full sync also reports its progress; before commonParams too, so a user's own --info wins.
  argv.push(input.full ? `${STATS_OPTION},progress2` : STATS_OPTION);
  if (!input.ignoreTimes) argv.push(NANOSECOND_QUICK_CHECK);
  argv.push(...rsync.commonParams);
  if (input.full) {
    argv.push('-r', '--delete', '--force');
    for (const glob of input.excludes ?? []) argv.push(`--exclude=${glob}`);
    if (input.partRulesFile !== undefined) argv.push('--from0', `--filter=merge ${input.partRulesFile}`, '--no-from0');
  } else {
    argv.push('-R', '--files-from=-', '--from0');
    if (input.action === 'tree') argv.push('-r', '--delete', '--force');
    if (input.deleteMissing) argv.push('--delete-missing-args');
    // A path that is now a file where the remote has a directory (rm -rf d; echo > d) replaces it
    // only with --force ("cannot delete non-empty directory"): what the disk says, in every form.
    if (input.action !== 'tree') argv.push('--force');
    if (input.ignoreTimes) argv.push(FORCE_OPTION[input.forceForm ?? 'checksum']);
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
  return names.flatMap((n) => [`+ /${escapeFilterName(n, false)}`, `+ /${escapeFilterName(n, true)}/***`]);
}

/**
 * Rules as rsync reads them with --from0 from a merge file: each `RULE\0`, names as their exact
 * bytes. A rule is the whole text up to the NUL (a leading `- `, trailing spaces and newlines in a
 * name stay part of it: checked with rsync 3.5.0).
 */
export function nulRules(rules: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of rules) parts.push(nameToBytes(r), Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * A parent whose name holds a non-UTF-8 byte cannot be an argv word (`./PARENT/`, `DEST/PARENT/`):
 * Node's spawn encodes argv as UTF-8. Then the delete runs from the root, and the rules include the
 * chain of directories down to PARENT (each is read once, not recursed into).
 */
export function fallbackFromRoot(parent: string): boolean {
  return hasEscapes(parent);
}

/**
 * The delete fallback's stdin: the named entries and their subtrees, then everything else excluded
 * (so protected from --delete). `retract`: the named entries exist in the source but must go from
 * the receiver (excluded entries an earlier run may have sent, see excludes.ts): `H` hides each
 * from the sender and `R` lets the receiver delete it, while `- *` still protects the rest.
 */
export function deleteFallbackRules(parent: string, names: readonly string[], mode: 'delete' | 'retract' = 'delete'): Buffer {
  const fromRoot = fallbackFromRoot(parent);
  const parts = fromRoot ? parent.split('/') : [];
  const chain = parts.map((_, i) => `+ /${escapeFilterName(parts.slice(0, i + 1).join('/'), false)}/`);
  const at = (n: string): string => (fromRoot ? `${parent}/${n}` : n);
  const named = names.flatMap((n) =>
    mode === 'delete'
      ? [`+ /${escapeFilterName(at(n), false)}`, `+ /${escapeFilterName(at(n), true)}/***`]
      : [`H /${escapeFilterName(at(n), false)}`, `R /${escapeFilterName(at(n), false)}`, `R /${escapeFilterName(at(n), true)}/***`],
  );
  return nulRules([...chain, ...named, '- *']);
}

/**
 * `globs` as they are, then `- /PATH` for each root-relative path (anchored at the transfer root,
 * which is the watch root for path, tree and full jobs). An exclude rule also protects the
 * receiver's copy from --delete.
 */
export function excludeRules(paths: readonly string[], globs: readonly string[] = []): Buffer {
  return nulRules([...globs, ...paths.map((p) => `- /${escapeFilterName(p, false)}`)]);
}

export interface FallbackDeleteInput {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  /** Directory relative to the root ("" = the root itself); must exist locally. */
  readonly parent: string;
}

/**
 * Deletes entries of one directory on the receiver, subtrees included (-r + --force), without
 * --delete-missing-args. The names come on stdin as rules (deleteFallbackRules): rsync descends only
 * into the included names; everything else is excluded and therefore protected from --delete. Run
 * with cwd = the root. A user's own exclude in commonParams comes first and so protects too.
 */
export function buildDeleteFallbackArgv(input: FallbackDeleteInput): string[] {
  const { remote, rsync, parent } = input;
  const sub = parent === '' || fallbackFromRoot(parent) ? '' : `${parent}/`;
  return [
    ...(rsync.launcher ?? []),
    rsync.binary,
    STATS_OPTION,
    ...rsync.commonParams,
    '-r',
    '--delete',
    '--force',
    '--from0',
    '--filter=merge -',
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
