/**
 * The model's operations on real directories, through Node's fs with Buffer paths (names are
 * bytes). Each returns a line for the operation list, or undefined when it did not apply (nothing
 * to act on, a path too long for the file system): a skipped operation is not a failure.
 */
import { appendFile, link, lstat, mkdir, open, readdir, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { nameOf, show, type NameClass } from './names.js';
import type { Rng } from './rng.js';

/**
 * A dangling symlink's target. As root the model's daemons chroot their modules and an absolute
 * target arrives as it is; a normal user's daemon cannot chroot, and an unchrooted rsync daemon
 * strips the leading "/" of every symlink target (rsync's sanitize_paths): there the target is
 * relative, so the expected tree is what any receiver gives.
 */
const DANGLING_TARGET = process.getuid?.() === 0 ? '/nonexistent/target' : 'nonexistent/target';

export interface World {
  readonly rng: Rng;
  /** Watch roots (absolute). */
  readonly roots: readonly string[];
  /** A directory outside every root on the same file system: renames into and out of the tree. */
  readonly outside: string;
  readonly classes: readonly NameClass[];
}

interface Found {
  readonly rel: Buffer;
  readonly type: 'dir' | 'file' | 'link';
  readonly nlink: number;
  readonly size: number;
}

const SLASH = Buffer.from('/');
const abs = (root: string, rel: Buffer): Buffer => (rel.length === 0 ? Buffer.from(root) : Buffer.concat([Buffer.from(root), SLASH, rel]));
const join = (a: Buffer, b: Buffer): Buffer => (a.length === 0 ? b : Buffer.concat([a, SLASH, b]));
/** Keep whole paths well under PATH_MAX (4096), so deep trees of 255-byte names stay usable. */
const MAX_PATH = 3000;

/**
 * A file every root keeps, which no operation touches: a root that becomes empty halts its
 * deletes by design (an unmounted disk must not empty the backup), which is not what the model
 * is about.
 */
export const KEEP = Buffer.from('.model-keep');

async function list(root: string): Promise<Found[]> {
  const out: Found[] = [];
  async function dir(rel: Buffer): Promise<void> {
    const names = await readdir(abs(root, rel), { encoding: 'buffer' }).catch(() => [] as Buffer[]);
    for (const n of names) {
      if (rel.length === 0 && n.equals(KEEP)) continue;
      const r = join(rel, n);
      const st = await lstat(abs(root, r)).catch(() => undefined);
      if (!st) continue;
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file';
      out.push({ rel: r, type, nlink: st.nlink, size: st.size });
      if (type === 'dir') await dir(r);
    }
  }
  await dir(Buffer.alloc(0));
  return out;
}

function name(w: World): Buffer {
  return nameOf(w.rng.pick(w.classes), w.rng);
}

function content(w: World): Buffer {
  const size = w.rng.weighted({ empty: 1, small: 6, medium: 3, large: 1 });
  const n = { empty: 0, small: w.rng.int(1, 200), medium: w.rng.int(201, 20_000), large: w.rng.int(20_001, 200_000) }[size];
  return w.rng.bytes(n);
}

function label(w: World, root: string, rel: Buffer): string {
  return `r${w.roots.indexOf(root)}:${show(rel)}`;
}

async function pickDir(w: World, root: string, entries: readonly Found[]): Promise<Buffer> {
  const dirs = entries.filter((e) => e.type === 'dir');
  return dirs.length === 0 || w.rng.chance(0.3) ? Buffer.alloc(0) : w.rng.pick(dirs).rel;
}

type Op = (w: World, root: string, entries: readonly Found[]) => Promise<string | undefined>;

const tooLong = (root: string, rel: Buffer): boolean => Buffer.byteLength(root) + 1 + rel.length > MAX_PATH;

/**
 * A write through one name of a hard-linked file changes the file under its other names too, and
 * inotify reports it for the name written only: no watcher can see the others change (Sersync,
 * lsyncd and tssersync alike; the periodic reconcile repairs them). So the model writes only
 * through files with a single name, and creates only where no such file stands.
 */
async function writableName(p: Buffer): Promise<boolean> {
  const st = await lstat(p).catch(() => undefined);
  return !st || (st.isFile() && st.nlink === 1);
}

/** A plain writable file: one name (a write through one of several hard links changes the others unseen). */
const writable = (entries: readonly Found[]) => entries.filter((e) => e.type === 'file' && e.nlink === 1);

export const OPS: Readonly<Record<string, { weight: number; run: Op }>> = {
  create: {
    weight: 10,
    run: async (w, root, entries) => {
      const rel = join(await pickDir(w, root, entries), name(w));
      if (tooLong(root, rel)) return undefined;
      if (!(await writableName(abs(root, rel)))) return undefined;
      const body = content(w);
      await writeFile(abs(root, rel), body);
      return `create ${label(w, root, rel)} (${body.length} bytes)`;
    },
  },
  overwrite: {
    weight: 5,
    run: async (w, root, entries) => {
      const files = writable(entries);
      if (files.length === 0) return undefined;
      const f = w.rng.pick(files);
      const body = content(w);
      await writeFile(abs(root, f.rel), body);
      return `overwrite ${label(w, root, f.rel)} (${body.length} bytes)`;
    },
  },
  append: {
    weight: 4,
    run: async (w, root, entries) => {
      const files = writable(entries);
      if (files.length === 0) return undefined;
      const f = w.rng.pick(files);
      const body = w.rng.bytes(w.rng.int(1, 3000));
      await appendFile(abs(root, f.rel), body);
      return `append ${label(w, root, f.rel)} (+${body.length})`;
    },
  },
  truncate: {
    weight: 2,
    run: async (w, root, entries) => {
      const files = writable(entries);
      if (files.length === 0) return undefined;
      const f = w.rng.pick(files);
      const to = w.rng.chance(0.3) ? 0 : w.rng.int(0, f.size + 100);
      await truncate(abs(root, f.rel), to);
      return `truncate ${label(w, root, f.rel)} to ${to}`;
    },
  },
  sameSizeRewrite: {
    // The nasty case: same size, same second, so size + mtime cannot tell the versions apart.
    weight: 5,
    run: async (w, root, entries) => {
      const files = writable(entries).filter((f) => f.size > 0);
      if (files.length === 0) return undefined;
      const f = w.rng.pick(files);
      const times = w.rng.int(1, 3);
      for (let i = 0; i < times; i++) {
        const fh = await open(abs(root, f.rel), 'r+');
        try {
          const at = w.rng.int(0, f.size - 1);
          await fh.write(w.rng.bytes(Math.min(f.size - at, w.rng.int(1, 64))), 0, undefined, at);
        } finally {
          await fh.close();
        }
      }
      return `same-size rewrite ${label(w, root, f.rel)} x${times}`;
    },
  },
  renameWithin: {
    weight: 6,
    run: async (w, root, entries) => {
      if (entries.length === 0) return undefined;
      const from = w.rng.pick(entries);
      const dirs = entries.filter((e) => e.type === 'dir' && !(e.rel.equals(from.rel) || e.rel.subarray(0, from.rel.length + 1).equals(Buffer.concat([from.rel, SLASH]))));
      const parent = dirs.length === 0 || w.rng.chance(0.3) ? Buffer.alloc(0) : w.rng.pick(dirs).rel;
      // Sometimes onto an existing file (rename replaces it).
      const files = writable(entries).filter((e) => !e.rel.equals(from.rel));
      const to = from.type !== 'dir' && files.length > 0 && w.rng.chance(0.2) ? w.rng.pick(files).rel : join(parent, name(w));
      if (tooLong(root, to)) return undefined;
      try {
        await rename(abs(root, from.rel), abs(root, to));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EINVAL') return undefined;
        throw err;
      }
      return `rename ${label(w, root, from.rel)} -> ${label(w, root, to)}`;
    },
  },
  renameInto: {
    weight: 3,
    run: async (w, root, entries) => {
      const staged = Buffer.concat([Buffer.from(w.outside), SLASH, name(w)]);
      const isDir = w.rng.chance(0.6);
      await rm(staged, { recursive: true, force: true });
      if (isDir) {
        await mkdir(staged);
        for (let i = w.rng.int(0, 6); i > 0; i--) {
          const sub = w.rng.chance(0.3) ? Buffer.concat([staged, SLASH, Buffer.from(`s${i}`)]) : staged;
          await mkdir(sub, { recursive: true });
          await writeFile(Buffer.concat([sub, SLASH, name(w)]), content(w)).catch(() => {});
        }
      } else {
        await writeFile(staged, content(w));
      }
      const to = join(await pickDir(w, root, entries), name(w));
      if (tooLong(root, to)) return undefined;
      try {
        await rename(staged, abs(root, to));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw err;
      }
      return `move in ${isDir ? 'dir' : 'file'} -> ${label(w, root, to)}`;
    },
  },
  renameOut: {
    weight: 3,
    run: async (w, root, entries) => {
      if (entries.length === 0) return undefined;
      const from = w.rng.pick(entries);
      const to = Buffer.concat([Buffer.from(w.outside), SLASH, Buffer.from(`out-${w.rng.int(0, 1e9)}`)]);
      await rename(abs(root, from.rel), to);
      return `move out ${label(w, root, from.rel)}`;
    },
  },
  renameAcross: {
    weight: 2,
    run: async (w, root, entries) => {
      const others = w.roots.filter((r) => r !== root);
      if (others.length === 0 || entries.length === 0) return undefined;
      const from = w.rng.pick(entries);
      const other = w.rng.pick(others);
      const to = name(w);
      try {
        await rename(abs(root, from.rel), abs(other, to));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw err;
      }
      return `move ${label(w, root, from.rel)} -> ${label(w, other, to)}`;
    },
  },
  mkdirP: {
    weight: 4,
    run: async (w, root, entries) => {
      let rel = await pickDir(w, root, entries);
      for (let i = w.rng.int(1, 8); i > 0; i--) rel = join(rel, name(w));
      if (tooLong(root, rel)) return undefined;
      try {
        await mkdir(abs(root, rel), { recursive: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOENT: a component is a dangling symlink.
        if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'ENOENT') return undefined;
        throw err;
      }
      if (w.rng.chance(0.5)) await writeFile(abs(root, join(rel, name(w))), content(w), { flag: 'wx' }).catch(() => {});
      return `mkdir -p ${label(w, root, rel)}`;
    },
  },
  rmrf: {
    weight: 3,
    run: async (w, root, entries) => {
      if (entries.length === 0) return undefined;
      const e = w.rng.pick(entries);
      await rm(abs(root, e.rel), { recursive: true, force: true });
      return `rm -rf ${label(w, root, e.rel)} (${e.type})`;
    },
  },
  symlink: {
    weight: 3,
    run: async (w, root, entries) => {
      const rel = join(await pickDir(w, root, entries), name(w));
      if (tooLong(root, rel)) return undefined;
      // A target is just bytes: an existing entry, a dangling name, an absolute path.
      const target = entries.length > 0 && w.rng.chance(0.5) ? w.rng.pick(entries).rel : w.rng.chance(0.5) ? name(w) : Buffer.from(DANGLING_TARGET);
      try {
        await symlink(target, abs(root, rel));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
        throw err;
      }
      return `symlink ${label(w, root, rel)} -> ${show(target)}`;
    },
  },
  hardlink: {
    weight: 2,
    run: async (w, root, entries) => {
      const files = entries.filter((e) => e.type === 'file');
      if (files.length === 0) return undefined;
      const f = w.rng.pick(files);
      const rel = join(await pickDir(w, root, entries), name(w));
      if (tooLong(root, rel)) return undefined;
      try {
        await link(abs(root, f.rel), abs(root, rel));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
        throw err;
      }
      return `hard link ${label(w, root, rel)} -> ${label(w, root, f.rel)}`;
    },
  },
  dirToFile: {
    weight: 1,
    run: async (w, root, entries) => {
      const dirs = entries.filter((e) => e.type === 'dir');
      if (dirs.length === 0) return undefined;
      const d = w.rng.pick(dirs);
      await rm(abs(root, d.rel), { recursive: true, force: true });
      await writeFile(abs(root, d.rel), content(w));
      return `replace dir ${label(w, root, d.rel)} with a file`;
    },
  },
  burst: {
    weight: 1,
    run: async (w, root, entries) => {
      const dir = await pickDir(w, root, entries);
      const n = w.rng.int(20, 120);
      let made = 0;
      for (let i = 0; i < n; i++) {
        const rel = join(dir, Buffer.concat([name(w), Buffer.from(`-${i}`)]));
        if (tooLong(root, rel)) continue;
        await writeFile(abs(root, rel), w.rng.bytes(w.rng.int(0, 500)), { flag: 'wx' }).catch(() => {});
        made++;
      }
      return `burst of ${made} files in ${label(w, root, dir)}`;
    },
  },
};

export async function randomOp(w: World): Promise<string | undefined> {
  const root = w.rng.pick(w.roots);
  const kind = w.rng.weighted(Object.fromEntries(Object.entries(OPS).map(([k, v]) => [k, v.weight])) as Record<string, number>);
  const entries = await list(root);
  try {
    return await OPS[kind]!.run(w, root, entries);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The name picked is taken by another type, or the path is too long: the operation does not apply.
    if (code === 'ENAMETOOLONG' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'EINVAL') return undefined;
    throw err;
  }
}
