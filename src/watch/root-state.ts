/** What a watch root is right now, for noticing that it vanished, was replaced, or came back. */
import { opendir, stat } from 'node:fs/promises';
import type { RootState as SafetyRootState } from '../core/safety.js';

export type RootState =
  | {
      readonly kind: 'dir';
      readonly dev: number;
      readonly ino: number;
      /** ext4 reuses a freed inode at once (rm -rf root && mkdir root): the birth time tells them apart (0 where unsupported). */
      readonly birth: number;
    }
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-dir' };

/** stat, not lstat: a root given as a symlink is watched through it, so its target is what counts. */
export async function rootState(root: string): Promise<RootState> {
  try {
    const st = await stat(root);
    return st.isDirectory() ? { kind: 'dir', dev: st.dev, ino: st.ino, birth: st.birthtimeMs } : { kind: 'not-dir' };
  } catch {
    return { kind: 'missing' };
  }
}

/** Same directory as before: same device, inode and birth time. A new inode means a new directory that the old subscription cannot see. */
export function sameDir(a: RootState, b: RootState): boolean {
  return a.kind === 'dir' && b.kind === 'dir' && a.dev === b.dev && a.ino === b.ino && a.birth === b.birth;
}

export function describeRoot(s: RootState): string {
  switch (s.kind) {
    case 'dir':
      return 'a directory';
    case 'missing':
      return 'missing';
    case 'not-dir':
      return 'not a directory';
  }
}

/** What a channel checks before dispatching (src/core/safety.ts): does the root exist, and is it empty? */
export async function probeRoot(root: string): Promise<SafetyRootState> {
  try {
    // stat, as rootState: a root given as a symlink to its directory is that directory.
    const st = await stat(root);
    if (!st.isDirectory()) return { exists: true, isDir: false, empty: true };
    const dir = await opendir(root);
    try {
      return { exists: true, isDir: true, empty: (await dir.read()) === null };
    } finally {
      await dir.close().catch(() => {});
    }
  } catch {
    return { exists: false, isDir: false, empty: true };
  }
}
