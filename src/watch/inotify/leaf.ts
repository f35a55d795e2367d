/**
 * Whether a directory can have no subdirectories, without listing it: find(1)'s leaf
 * optimisation. On file systems that keep the Unix link count convention a directory has
 * 2 + (number of subdirectories) links, so a link count of 2 means a leaf: the scan has nothing to
 * watch below it and need not read its entries (in a tree of 1,000,000 files in 20,000 directories
 * the listings were most of the watcher's start-up: every file's entry was read to find none).
 *
 * Only for the file systems known to keep the convention, by statfs type, once per device: ext2/3/4,
 * XFS, tmpfs. btrfs gives 1 for every directory, and FUSE, network and union file systems may give
 * anything: they are always listed (find's -noleaf behaviour). A subdirectory made after the
 * directory's watch exists raises IN_CREATE, so the link count needs to be right only at the moment
 * it is read, which comes after the watch.
 */
import { lstatSync, statfsSync } from 'node:fs';

/** statfs f_type of the file systems that keep the link count convention (linux/magic.h). */
const CONVENTIONAL = new Set([
  0xef53, // EXT2/3/4_SUPER_MAGIC
  0x58465342, // XFS_SUPER_MAGIC
  0x01021994, // TMPFS_MAGIC
]);

export class LeafTest {
  /** st_dev → the file system keeps the convention. */
  readonly #byDevice = new Map<number, boolean>();

  /** True only when `dir` certainly has no subdirectory now; false when unsure (list it). */
  isLeaf(dir: Buffer): boolean {
    try {
      const st = lstatSync(dir, { throwIfNoEntry: false });
      if (!st?.isDirectory() || st.nlink !== 2) return false;
      let ok = this.#byDevice.get(st.dev);
      if (ok === undefined) {
        ok = CONVENTIONAL.has(Number(statfsSync(dir).type));
        this.#byDevice.set(st.dev, ok);
      }
      return ok;
    } catch {
      return false;
    }
  }
}
