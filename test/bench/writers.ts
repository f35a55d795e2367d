/**
 * The applications the benchmarks replicate: a burst of new files, and a storm of mixed operations
 * on an existing tree. Deterministic (a seeded generator), so the bare run and the tssersync run
 * write exactly the same thing. Each returns the final state it left: relative path → size.
 */
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../model/rng.js';

export type Expected = Map<string, number>;

/** Seeded PRNG (mulberry32, test/model/rng.ts): the same seed gives the same storm in both runs. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/**
 * `files` files of 10-100 KB (55 KB on average: 1,000 files ≈ 55 MB, 10,000 ≈ 562 MB) in `dirs` new
 * directories, written as fast as the disk takes them (each directory's files at once).
 */
export async function writeBurst(root: string, seed: Buffer, files: number, dirs: number, prefix = 'dir'): Promise<Expected> {
  const out: Expected = new Map();
  const per = Math.ceil(files / dirs);
  for (let d = 0; d < dirs; d++) {
    const name = `${prefix}${String(d).padStart(3, '0')}`;
    await mkdir(join(root, name), { recursive: true });
    await Promise.all(
      Array.from({ length: Math.max(0, Math.min(per, files - d * per)) }, (_, i) => {
        const size = 10_240 + ((d * 7919 + i * 104_729) % 92_160);
        const off = (d * 31 + i * 17) % (seed.length - size);
        out.set(`${name}/f${i}.bin`, size);
        return writeFile(join(root, name, `f${i}.bin`), seed.subarray(off, off + size));
      }),
    );
  }
  return out;
}

/** The tree a storm runs on: `files` files of 1-64 KB in directories of 50. */
export async function writeStormTree(root: string, seed: Buffer, files: number): Promise<Expected> {
  const out: Expected = new Map();
  const r = rng(7);
  for (let i = 0; i < files; i++) {
    const rel = `t${String(Math.floor(i / 50)).padStart(2, '0')}/s${i}.dat`;
    if (i % 50 === 0) await mkdir(join(root, rel, '..'), { recursive: true });
    const size = 1024 + Math.floor(r() * 63 * 1024);
    await writeFile(join(root, rel), slice(seed, i, size));
    out.set(rel, size);
  }
  return out;
}

/**
 * `ops` mixed operations, one after the other as an application would do them: rewrites (half of
 * them same-size, the case rsync's quick check misses), appends, creates, deletes, renames, new
 * directories with a few files, removed directories. `state` is the tree's state before (from
 * writeStormTree) and is updated to the state after.
 */
export async function writeStorm(root: string, seed: Buffer, state: Expected, ops: number, seedNo = 42): Promise<Expected> {
  const r = rng(seedNo);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let serial = 0;
  const dirsOf = (): string[] => [...new Set([...state.keys()].map((p) => p.slice(0, p.lastIndexOf('/'))))];
  for (let op = 0; op < ops; op++) {
    const files = [...state.keys()];
    const x = r();
    if (files.length === 0 || x < 0.2) {
      // create
      const dir = files.length ? pick(dirsOf()) : 'fresh';
      const rel = `${dir}/new${serial++}.dat`;
      const size = 512 + Math.floor(r() * 32 * 1024);
      await mkdir(join(root, dir), { recursive: true });
      await writeFile(join(root, rel), slice(seed, op, size));
      state.set(rel, size);
    } else if (x < 0.55) {
      // rewrite: half keep the size (the same-second same-size case)
      const rel = pick(files);
      const size = r() < 0.5 ? state.get(rel)! : 512 + Math.floor(r() * 32 * 1024);
      await writeFile(join(root, rel), slice(seed, op * 13 + 1, size));
      state.set(rel, size);
    } else if (x < 0.65) {
      const rel = pick(files);
      const add = 100 + Math.floor(r() * 4000);
      await appendFile(join(root, rel), slice(seed, op * 7 + 3, add));
      state.set(rel, state.get(rel)! + add);
    } else if (x < 0.8) {
      const rel = pick(files);
      await rm(join(root, rel));
      state.delete(rel);
    } else if (x < 0.9) {
      const rel = pick(files);
      const to = `${pick(dirsOf())}/mv${serial++}.dat`;
      await rename(join(root, rel), join(root, to));
      state.set(to, state.get(rel)!);
      state.delete(rel);
    } else if (x < 0.96) {
      const dir = `nd${serial++}`;
      await mkdir(join(root, dir));
      for (let i = 0; i < 5; i++) {
        const size = 512 + Math.floor(r() * 16 * 1024);
        await writeFile(join(root, dir, `n${i}.dat`), slice(seed, op + i, size));
        state.set(`${dir}/n${i}.dat`, size);
      }
    } else {
      const dir = pick(dirsOf());
      await rm(join(root, dir), { recursive: true });
      for (const p of files) if (p.startsWith(`${dir}/`)) state.delete(p);
    }
  }
  return state;
}

function slice(seed: Buffer, k: number, size: number): Buffer {
  const off = (k * 104_729) % (seed.length - size);
  return seed.subarray(off, off + size);
}
