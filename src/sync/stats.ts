/**
 * Bytes sent, from rsync's closing stats line ("sent 200,156 bytes  received 35 bytes …", printed
 * by `--info=stats1`, `-v` and `--stats` alike). Pure. The number may carry digit groups (`,` or
 * `.` by locale) or, with a user's `-h`, a unit (`200.16K`, powers of 1000; `-hh`: of 1024 — the
 * figure is then approximate). No line (a user's `-q`) = undefined, never an error.
 */
const SENT = /^sent ([\d.,]+)([KMGTP]?) bytes\s+received /m;
const UNITS = 'KMGTP';

/** `200,156` / `1.234.567` / `200.16K` → a number (see above); undefined when it is none. */
export function rsyncNumber(num: string, unit: string): number | undefined {
  if (unit === '') {
    const n = Number(num.replace(/[.,]/g, ''));
    return Number.isFinite(n) ? n : undefined;
  }
  const value = Number(num.replace(',', '.'));
  return Number.isFinite(value) ? Math.round(value * 1000 ** (UNITS.indexOf(unit) + 1)) : undefined;
}

export interface RsyncProgress {
  /** Bytes sent so far (transferred files only). */
  readonly bytes: number;
  /** Entries rsync has checked so far: its list size minus `to-chk`. */
  readonly checked: number;
}

/**
 * The last `--info=progress2` line in a chunk of stdout: `  1,234,567  12%  1.20MB/s  0:00:09
 * (xfr#3, ir-chk=1000/1203)`. Lines end in \r; a user's -v file names in between are skipped.
 */
export function progressFromStdout(chunk: string): RsyncProgress | undefined {
  let last: RsyncProgress | undefined;
  for (const line of chunk.split(/[\r\n]/)) {
    const m = PROGRESS.exec(line);
    if (!m) continue;
    const bytes = rsyncNumber(m[1]!, m[2]!);
    if (bytes === undefined) continue;
    last = { bytes, checked: Number(m[4]) - Number(m[3]) };
  }
  return last;
}
const PROGRESS = /^\s*([\d.,]+)([KMGTP]?)\s+\d+%\s+\S+\s+\d+:\d\d:\d\d\s+\(xfr#\d+, (?:ir|to)-chk=(\d+)\/(\d+)\)/;

export function bytesSentFromStdout(stdout: string): number | undefined {
  let m: RegExpExecArray | null = null;
  // The last such line: a user's -v may print file names first, one of which could look alike.
  for (const hit of stdout.matchAll(new RegExp(SENT.source, 'gm'))) m = hit;
  if (!m) return undefined;
  const [, num, unit] = m as unknown as [string, string, string];
  return rsyncNumber(num, unit);
}
