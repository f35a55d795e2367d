/**
 * A tree's entries, cheaply: the walk under the full sync's progress count (progress.ts) and the
 * inotify limit check (watch/limits.ts). Both only need how many entries there are, which are
 * directories, and for some files their names; neither needs a JS object per entry.
 *
 * node's readdir builds a Dirent (a name buffer, an object) for each entry and lists through the
 * thread pool with small reads: a walk of 1,000,000 entries in 20,100 directories cost 4.1 s of CPU
 * (2.2 s user, 1.9 s system). getdents64 through koffi (the FFI the inotify backend already ships,
 * prebuilt, nothing compiled) into one 128 KiB buffer, and a loop over its records that reads two
 * fields of each, cost 0.6 s (0.1 s user; the rest is the kernel reading the directories, which
 * any walk pays). Where koffi or getdents64 is missing, readdirSync does the same job.
 *
 * Names stay bytes (core/names.ts): a name that is not UTF-8 is found and descended into as is.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync } from 'node:fs';
import { libcFunc } from './libc.js';

/** Entries of one directory, or of one chunk of a large one ("." and ".." left out). */
export interface DirEntries {
  /** Entries of every kind. */
  count: number;
  /** Subdirectories (not symlinks to directories), as absolute byte paths. */
  readonly dirs: Buffer[];
  /** Regular files, named or not. */
  regular: number;
  /** Names of regular files, as bytes, when asked for; at most `fileNames` of them per directory. */
  readonly files: Buffer[];
}

/** A directory's entries in chunks; none when it cannot be opened (gone, unreadable, no longer a directory). */
export type ListDir = (dir: Buffer, fileNames: number) => Iterable<DirEntries>;

const SLASH = 0x2f;
const DT_UNKNOWN = 0;
const DT_DIR = 4;
const DT_REG = 8;
/** struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]. */
const RECLEN = 16;
const TYPE = 18;
const NAME = 19;

function child(dir: Buffer, name: Buffer): Buffer {
  const out = Buffer.allocUnsafe(dir.length + 1 + name.length);
  dir.copy(out, 0);
  out[dir.length] = SLASH;
  name.copy(out, dir.length + 1);
  return out;
}

function isDot(b: Buffer, start: number, end: number): boolean {
  const n = end - start;
  return b[start] === 0x2e && (n === 1 || (n === 2 && b[start + 1] === 0x2e));
}

/** getdents64 through koffi, or undefined where it cannot load (no koffi binary, no such symbol). */
function getdents(): ((fd: number, buf: Buffer, size: number) => number) | undefined {
  const fn = libcFunc<(fd: number, buf: Buffer, size: number) => number | bigint>('long getdents64(int fd, uint8_t *dirp, size_t count)');
  return fn ? (fd, buf, size) => Number(fn(fd, buf, size)) : undefined;
}

function getdentsLister(call: (fd: number, buf: Buffer, size: number) => number): ListDir {
  const buf = Buffer.alloc(128 * 1024);
  // One chunk per read of the buffer (about 3,000 entries), parsed before it is handed out, so a
  // walk can yield between the chunks of a huge directory and two walks can share the buffer.
  return function* (dir, fileNames) {
    let fd: number;
    try {
      // O_NOFOLLOW: a directory replaced by a symlink since its parent was read is not followed.
      fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch {
      return;
    }
    try {
      let named = 0;
      for (;;) {
        const got = call(fd, buf, buf.length);
        if (got <= 0) return; // 0: the end; < 0: an error reading it, counted as far as it got
        const out: DirEntries = { count: 0, regular: 0, dirs: [], files: [] };
        for (let off = 0; off < got; off += buf.readUInt16LE(off + RECLEN)) {
          let type = buf[off + TYPE]!;
          const start = off + NAME;
          const end = buf.indexOf(0, start);
          if (isDot(buf, start, end)) continue;
          out.count++;
          if (type === DT_UNKNOWN) {
            // Some file systems do not fill d_type: ask the inode.
            const st = lstatSync(child(dir, buf.subarray(start, end)), { throwIfNoEntry: false });
            type = st?.isDirectory() ? DT_DIR : st?.isFile() ? DT_REG : -1;
          }
          if (type === DT_DIR) out.dirs.push(child(dir, buf.subarray(start, end)));
          else if (type === DT_REG) {
            out.regular++;
            if (named++ < fileNames) out.files.push(Buffer.from(buf.subarray(start, end)));
          }
        }
        yield out;
      }
    } finally {
      closeSync(fd);
    }
  };
}

function readdirLister(): ListDir {
  return function* (dir, fileNames) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return;
    }
    const out: DirEntries = { count: entries.length, regular: 0, dirs: [], files: [] };
    for (const d of entries) {
      const name = d.name as unknown as Buffer;
      if (d.isDirectory()) out.dirs.push(child(dir, name));
      else if (d.isFile() && ++out.regular <= fileNames) out.files.push(name);
    }
    yield out;
  };
}

let lister: ListDir | undefined;

/** The cheapest way this machine has to list a directory (decided once). */
export function listDir(): ListDir {
  if (!lister) {
    const call = getdents();
    lister = call ? getdentsLister(call) : readdirLister();
  }
  return lister;
}

/** For tests: both ways, to hold them to the same answers. */
export const listers = {
  getdents: (): ListDir | undefined => {
    const call = getdents();
    return call ? getdentsLister(call) : undefined;
  },
  readdir: readdirLister,
};

export interface WalkOptions {
  /** Names of regular files wanted, in all (the first ones the walk meets); 0 by default. */
  fileNames?: number;
  /** Stop early when this returns true (checked between directories). */
  stop?: () => boolean;
  /** Entries listed between two turns of the event loop: a huge tree does not hold up the process. */
  yieldEvery?: number;
  /** The lister (tests); listDir() by default. */
  list?: ListDir;
}

/**
 * Depth first below `root` (the root itself is not counted): `onDir` for every directory listed,
 * with its entries, once per chunk of a large directory (awaited when it returns a promise). Symlinks are not followed, as rsync does not.
 */
export async function walkTree(root: Buffer, onDir: (dir: Buffer, e: DirEntries) => void | Promise<void>, o: WalkOptions = {}): Promise<void> {
  const list = o.list ?? listDir();
  const yieldEvery = o.yieldEvery ?? 20_000;
  let names = o.fileNames ?? 0;
  let since = 0;
  const stack = [root];
  while (stack.length > 0) {
    if (o.stop?.()) return;
    const dir = stack.pop()!;
    for (const e of list(dir, names)) {
      names -= e.files.length;
      await onDir(dir, e);
      for (const d of e.dirs) stack.push(d);
      since += e.count;
      if (since >= yieldEvery) {
        since = 0;
        await new Promise((r) => setImmediate(r));
        if (o.stop?.()) return;
      }
    }
  }
}
