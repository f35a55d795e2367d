/**
 * The durable-write primitives the replay log and the state files share. "Durable" here means:
 * after the promise resolves, a power cut cannot take the bytes back (file fsync'd, and for a new
 * or renamed name, its directory fsync'd too).
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Private files: the log holds paths and rsync messages, which may say more than they should. */
export const FILE_MODE = 0o600;
/** New state directories are private too; existing ones are left as the operator made them. */
export const DIR_MODE = 0o700;

/** mkdir -p with mode 0700 for what it creates. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/** fsync a directory so a create, rename or unlink inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replace `file` with `data` atomically: readers see the old content or the new, never a mix.
 * The temp file lives in the same directory (rename is only atomic within one file system).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  await ensureDir(dir);
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', FILE_MODE);
  try {
    try {
      // The open mode is filtered by umask; chmod makes 0600 exact whatever the umask.
      await fh.chmod(FILE_MODE);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/** The error code of a node:fs error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** One-line text of anything thrown (one definition, in src/errors.ts). */
export { errorText } from '../errors.js';
