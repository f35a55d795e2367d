/**
 * Ordinary races, told apart from failures. A path that was there when the job was planned and was
 * renamed or deleted before rsync read it makes rsync print `link_stat "…" failed: No such file or
 * directory (2)` (or `Not a directory (20)`) and exit 23. That is not a failure of the remote: the
 * disk changed under the job. The answer is to look at the disk again — run those paths once more
 * at once (a path that is gone now becomes a delete, one that is back is sent) — and to say so at
 * debug level, not with a warning and a backoff.
 *
 * Only the two errnos that mean "gone" count: a path rsync could not read for any other reason
 * (EACCES, EIO, ENAMETOOLONG…) stays a failure and is never turned into a delete.
 */
import { unescapeRsyncName } from './stderr-paths.js';

/** The lines rsync prints for a source entry that is gone (quotes may be inside the name). */
const GONE = /^rsync: (?:\[sender\] )?link_stat "(.*)" failed: (?:No such file or directory \(2\)|Not a directory \(20\))$/;
/** Lines that name no failure of their own (as in stderr-paths.ts). */
const BENIGN = [
  /^rsync error: some files\/attrs were not transferred/,
  /^rsync warning: some files vanished before they could be transferred/,
  /^file has vanished: /,
  /^\*\*\* Skipping any contents from this failed directory \*\*\*$/,
  /^WARNING: parent dir is absent in the file list/,
];

/**
 * The failed paths that only raced with the disk: every error line of the run is a "gone" line,
 * and each of these paths is named by one (itself or something inside it). Undefined when stderr
 * holds any other error: then nothing is taken for a race and the failure stands as it is.
 */
export function racedPaths(stderr: string, failed: readonly string[], cwd: string): string[] | undefined {
  const gone: string[] = [];
  for (const line of stderr.split('\n')) {
    const l = line.trim();
    if (l === '' || BENIGN.some((re) => re.test(l))) continue;
    const m = GONE.exec(l);
    if (!m) return undefined;
    const name = unescapeRsyncName(m[1]!);
    const base = cwd.replace(/\/+$/, '');
    const rel = name.startsWith(`${base}/`) ? name.slice(base.length + 1) : name.startsWith('/') ? undefined : name;
    if (rel === undefined) return undefined;
    // Our stdin entries start with ./ (runner.ts); rsync prints them without, but either form is one path.
    gone.push(rel.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
  }
  if (gone.length === 0) return undefined;
  const raced = failed.filter((p) => gone.some((g) => g === p || g.startsWith(`${p}/`) || p === ''));
  return raced.length === failed.length ? raced : undefined;
}
