/**
 * What file system a bench's trees and daemon modules live on, for its report: the receiving
 * daemon's and the writer's CPU depend on it more than on the replicator (docs/benchmarks.md,
 * "Seventh session"). On an ext4 without a journal, a file created within one to six minutes of a
 * mass delete in its block group costs the kernel a scan past every recently deleted inode
 * (fs/ext4/ialloc.c: find_inode_bit checks recently_deleted only when there is no journal).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';

export interface FsKind {
  readonly mountPoint: string;
  readonly source: string;
  readonly type: string;
  /** ext4 only: whether it has a journal (a jbd2 entry in /proc/fs/jbd2); undefined elsewhere. */
  readonly journal: boolean | undefined;
}

/** The mount holding `path` (the longest mount point that is a prefix of it), from /proc/self/mountinfo. */
export async function fsKindOf(path: string): Promise<FsKind | undefined> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  let best: FsKind | undefined;
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional fields] - type source superoptions
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = unescape(left.split(' ')[4] ?? '');
    const [type = '', source = ''] = right.split(' ');
    const inside = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (!inside || (best && best.mountPoint.length >= mountPoint.length)) continue;
    best = { mountPoint, source, type, journal: type === 'ext4' ? existsSync(`/proc/fs/jbd2/${basename(source)}-8`) : undefined };
  }
  return best;
}

/** One line for the report. */
export function fsKindText(k: FsKind | undefined): string {
  if (!k) return 'file system: unknown';
  const journal = k.journal === undefined ? '' : k.journal ? ', with a journal' : ', WITHOUT a journal (file creations after mass deletes cost the kernel more: see docs/benchmarks.md)';
  return `file system: ${k.type} on ${k.source} at ${k.mountPoint}${journal}`;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
