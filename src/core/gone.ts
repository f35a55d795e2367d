/**
 * When a failed stat means "nothing is there". Only ENOENT (no such entry) and ENOTDIR (an
 * ancestor is now a file) do. Any other error — EACCES, EIO, ENAMETOOLONG, ELOOP, EMFILE… — means
 * something may well be there that we cannot see right now, and a remote delete for it would
 * destroy the only good copy: such a path is reported and kept, never treated as missing.
 */
export const GONE_CODES: readonly string[] = ['ENOENT', 'ENOTDIR'];

export function isGone(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && GONE_CODES.includes(code);
}
