/**
 * Which requested paths an rsync run failed, read from its stderr (exit 23). Pure.
 *
 * Names are bytes: stderr comes in the canonical string form of src/core/names.ts (runner.ts
 * decodes rsync's bytes with nameFromBytes), rsync's `\#ooo` escapes are turned back into bytes, and
 * the result is compared with the requested paths in that same form, so a GBK, Latin-1 or 0xff
 * name is matched exactly, never through a lossy UTF-8 decoding.
 *
 * The answer must never be too small: a failed path reported as landed is a silent loss, while
 * an extra path only costs a retry. So every error line must name a path we can place; one line
 * we cannot place makes the answer "unknown" (undefined) and the caller treats all as failed.
 */

import { nameFromBytes, nameToBytes } from '../core/names.js';

/** Lines that accompany a partial transfer without naming a failure of their own. */
const BENIGN: readonly RegExp[] = [
  /^rsync error: some files\/attrs were not transferred/,
  /^rsync warning: some files vanished before they could be transferred/,
  /^\*\*\* Skipping any contents from this failed directory \*\*\*$/,
  // A vanished file is deleted locally: its delete follows; not a failure of this job.
  /^file has vanished: /,
  /^WARNING: parent dir is absent in the file list/,
];

/**
 * rsync prints non-printable bytes as `\#ooo` (octal); everything else, quotes too, as is. In and
 * out: the canonical string form (a raw non-UTF-8 byte that rsync printed as is stays exact).
 */
export function unescapeRsyncName(s: string): string {
  const bytes: number[] = [];
  const raw = nameToBytes(s);
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5c && raw[i + 1] === 0x23 && i + 4 < raw.length) {
      const oct = raw.subarray(i + 2, i + 5).toString('latin1');
      if (/^[0-7]{3}$/.test(oct)) {
        bytes.push(parseInt(oct, 8));
        i += 4;
        continue;
      }
    }
    bytes.push(b);
  }
  return nameFromBytes(Buffer.from(bytes));
}

/** The quoted name on an error line: first `"` to last `"` (names may contain quotes). */
function quotedName(line: string): string | undefined {
  const a = line.indexOf('"');
  const b = line.lastIndexOf('"');
  return a >= 0 && b > a ? line.slice(a + 1, b) : undefined;
}

export interface StderrContext {
  /** The sender's working directory (the watch root): sender errors name absolute paths. */
  readonly cwd: string;
  /** Receiver directory when known as an absolute path (ssh mode), for receiver errors. */
  readonly remotePath?: string;
  /** The paths the run was given, relative to cwd ("" = the root). */
  readonly requested: readonly string[];
}

/** Root-relative forms a reported name may stand for, or undefined if it is outside the job. */
function candidates(name: string, ctx: StderrContext): string[] | undefined {
  let s = unescapeRsyncName(name);
  if (s.startsWith('/')) {
    const base = [ctx.cwd, ctx.remotePath].find((p) => p !== undefined && (s === p || s.startsWith(`${p.replace(/\/$/, '')}/`)));
    if (base === undefined) return undefined;
    s = s.slice(base.replace(/\/$/, '').length);
  }
  s = s.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
  if (s === '.') s = '';
  const out = [s];
  // A failed write names rsync's temp file `.NAME.XXXXXX` next to the real one.
  const slash = s.lastIndexOf('/');
  const m = /^\.(.+)\.[A-Za-z0-9]{6}$/.exec(s.slice(slash + 1));
  if (m) out.push(`${s.slice(0, slash + 1)}${m[1]}`);
  return out;
}

function implicates(reported: string, requested: string): boolean {
  if (reported === '' || requested === '' || reported === requested) return true;
  return reported.startsWith(`${requested}/`) || requested.startsWith(`${reported}/`);
}

/**
 * The requested paths named as failed, or undefined when stderr does not say (then all failed).
 * An empty array means every error line was benign.
 */
export function failedFromStderr(stderr: string, ctx: StderrContext): string[] | undefined {
  const requested = ctx.requested.map((p) => (p === '.' ? '' : p.replace(/^\.\//, '').replace(/\/+$/, '')));
  const failed = new Set<number>();
  for (const line of stderr.split('\n')) {
    const l = line.trim();
    if (l === '' || BENIGN.some((re) => re.test(l))) continue;
    const name = quotedName(l);
    if (name === undefined) return undefined;
    const cands = candidates(name, ctx);
    if (cands === undefined) return undefined;
    let hit = false;
    requested.forEach((r, i) => {
      if (cands.some((c) => implicates(c, r))) {
        failed.add(i);
        hit = true;
      }
    });
    if (!hit) return undefined;
  }
  return [...failed].sort((a, b) => a - b).map((i) => ctx.requested[i]!);
}
