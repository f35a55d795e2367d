/**
 * Bytes sent, from rsync's closing stats line ("sent 200,156 bytes  received 35 bytes …", printed
 * by `--info=stats1`, `-v` and `--stats` alike). Pure. The number may carry digit groups (`,` or
 * `.` by locale) or, with a user's `-h`, a unit (`200.16K`, powers of 1000; `-hh`: of 1024 — the
 * figure is then approximate). No line (a user's `-q`) = undefined, never an error.
 */
const SENT = /^sent ([\d.,]+)([KMGTP]?) bytes\s+received /m;
const UNITS = 'KMGTP';

export function bytesSentFromStdout(stdout: string): number | undefined {
  let m: RegExpExecArray | null = null;
  // The last such line: a user's -v may print file names first, one of which could look alike.
  for (const hit of stdout.matchAll(new RegExp(SENT.source, 'gm'))) m = hit;
  if (!m) return undefined;
  const [, num, unit] = m as unknown as [string, string, string];
  if (unit === '') return Number(num.replace(/[.,]/g, ''));
  const value = Number(num.replace(',', '.'));
  return Number.isFinite(value) ? Math.round(value * 1000 ** (UNITS.indexOf(unit) + 1)) : undefined;
}
