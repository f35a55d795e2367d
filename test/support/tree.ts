/** Compare directory trees byte for byte, and wait for conditions instead of sleeping. */
import { lstat, readdir, readFile, readlink, mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import PQueue from 'p-queue';
import { join } from 'node:path';

export type Entry = { type: 'file'; sha: string; size: number; mode: number } | { type: 'dir'; mode: number } | { type: 'link'; target: string };

/**
 * Every entry below `dir`, keyed by relative path. `cheap`: files by size and mtime (seconds)
 * instead of content, for polling big trees; the final comparison is always by content.
 *
 * Entries are read in parallel through one bounded queue: an unbounded walk of 50,000 files opened
 * them all at once, hit EMFILE and (errors being swallowed) reported thousands of files "missing".
 * Only ENOENT (an entry removed while walking) is skipped; any other error fails the snapshot.
 */
export async function snapshot(dir: string, cheap = false): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const queue = new PQueue({ concurrency: 32 });
  const gone = (err: unknown): undefined => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  };
  let failure: unknown;
  const add = (job: () => Promise<void>): void => {
    queue.add(job).catch((err: unknown) => (failure ??= err));
  };
  const walk = (rel: string): void =>
    add(async () => {
      const names = await readdir(join(dir, rel)).catch(gone);
      for (const name of names ?? []) add(() => entry(rel ? `${rel}/${name}` : name));
    });
  async function entry(r: string): Promise<void> {
    const p = join(dir, r);
    const st = await lstat(p).catch(gone);
    if (!st) return;
    if (st.isDirectory()) {
      out.set(r, { type: 'dir', mode: st.mode & 0o7777 });
      walk(r);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(p).catch(gone);
      if (target !== undefined) out.set(r, { type: 'link', target });
    } else if (st.isFile() && cheap) {
      out.set(r, { type: 'file', sha: `mtime ${Math.floor(st.mtimeMs / 1000)}`, size: st.size, mode: st.mode & 0o7777 });
    } else if (st.isFile()) {
      const buf = await readFile(p).catch(gone);
      if (buf) out.set(r, { type: 'file', sha: createHash('sha1').update(buf).digest('hex'), size: buf.length, mode: st.mode & 0o7777 });
    }
  }
  walk('');
  await queue.onIdle();
  if (failure !== undefined) throw failure;
  return out;
}

/** Differences between two trees, as readable lines (empty = equal). */
export async function treeDiff(src: string, dst: string, ignore: (rel: string) => boolean = () => false, cheap = false): Promise<string[]> {
  const [a, b] = await Promise.all([snapshot(src, cheap), snapshot(dst, cheap)]);
  const diffs: string[] = [];
  for (const [k, v] of a) {
    if (ignore(k)) continue;
    const w = b.get(k);
    if (!w) diffs.push(`missing on dest: ${JSON.stringify(k)}`);
    else if (JSON.stringify(v) !== JSON.stringify(w)) diffs.push(`differs: ${JSON.stringify(k)}`);
  }
  for (const k of b.keys()) if (!a.has(k) && !ignore(k)) diffs.push(`extra on dest: ${JSON.stringify(k)}`);
  return diffs;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** Wait until dst equals src; on timeout, fail with the differences. */
export async function waitForSameTree(src: string, dst: string, timeoutMs = 15000, ignore?: (rel: string) => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let diffs: string[] = [];
  let delay = 20;
  while (Date.now() < deadline) {
    // Poll cheaply (sizes, mtimes); confirm byte for byte once that says equal.
    const began = Date.now();
    diffs = await treeDiff(src, dst, ignore, true);
    if (diffs.length === 0) diffs = await treeDiff(src, dst, ignore);
    if (diffs.length === 0) return;
    // Rest at least as long as the walk took: on a 50,000-file tree back-to-back walks (4-5 s each
    // under load) took a core from the rsyncs being waited for.
    await new Promise((r) => setTimeout(r, Math.max(delay, Date.now() - began)));
    delay = Math.min(delay * 2, 250);
  }
  throw new Error(`trees differ after ${timeoutMs} ms (${diffs.length} differences):\n${diffs.slice(0, 20).join('\n')}`);
}

export async function tempDir(prefix = 'tss-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Names that break shell-built commands. Each must replicate and run nothing. */
export const AWKWARD_NAMES: readonly string[] = [
  'with space.txt',
  'new\nline.txt',
  'tab\there.txt',
  'dq"uote.txt',
  "sq'uote.txt",
  'back`touch PWNED_bt`tick.txt',
  '$(touch PWNED_dollar).txt',
  'semi;touch PWNED_semi.txt',
  'pipe|cat.txt',
  'star*q?[br].txt',
  '-leading-dash.txt',
  '--delete',
  'ünïcödé-日本語.txt',
  'emoji-🚀.txt',
  'back\\slash.txt',
];

/**
 * Like snapshot, with names read as bytes: keys are the canonical string form of src/core/names.ts
 * (a GBK, Latin-1 or 0xff name is its exact bytes, never a lossy UTF-8 decoding), symlink targets
 * too. Sequential and content-compared: for the small trees of the names and excludes tests.
 */
export async function snapshotBytes(dir: string): Promise<Map<string, Entry>> {
  const { nameFromBytes, pathBytes } = await import('../../src/core/names.js');
  const out = new Map<string, Entry>();
  // An entry removed while walking (rsync at work on a destination) is skipped, as snapshot does.
  const gone = (err: unknown): undefined => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  };
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(pathBytes(dir, rel), { encoding: 'buffer' }).catch(gone)) ?? [];
    for (const raw of names) {
      const r = rel ? `${rel}/${nameFromBytes(raw)}` : nameFromBytes(raw);
      const p = pathBytes(dir, r);
      const st = await lstat(p).catch(gone);
      if (!st) continue;
      if (st.isDirectory()) {
        out.set(r, { type: 'dir', mode: st.mode & 0o7777 });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        const target = await readlink(p, { encoding: 'buffer' }).catch(gone);
        if (target) out.set(r, { type: 'link', target: nameFromBytes(target) });
      } else if (st.isFile()) {
        const buf = await readFile(p).catch(gone);
        if (buf) out.set(r, { type: 'file', sha: createHash('sha1').update(buf).digest('hex'), size: buf.length, mode: st.mode & 0o7777 });
      }
    }
  };
  await walk('');
  return out;
}

/** Differences between two trees by byte names (displayName-escaped lines; empty = equal). */
export async function treeDiffBytes(src: string, dst: string, ignore: (rel: string) => boolean = () => false): Promise<string[]> {
  const { displayName } = await import('../../src/core/names.js');
  const [a, b] = await Promise.all([snapshotBytes(src), snapshotBytes(dst)]);
  const diffs: string[] = [];
  for (const [k, v] of a) {
    if (ignore(k)) continue;
    const w = b.get(k);
    if (!w) diffs.push(`missing on dest: ${displayName(k)}`);
    else if (JSON.stringify(v) !== JSON.stringify(w)) diffs.push(`differs: ${displayName(k)}`);
  }
  for (const k of b.keys()) if (!a.has(k) && !ignore(k)) diffs.push(`extra on dest: ${displayName(k)}`);
  return diffs;
}
