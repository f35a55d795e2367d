/**
 * The model's own view of a tree: its own walker (names as Buffers, never decoded on the way)
 * and its own reading of the documented exclude rule — deliberately not tssersync's code, so a bug
 * there cannot hide in the expected result.
 *
 * The exclude rule (docs/configuration.md, `<filter>`): each `expression` is a full-match regex
 * tested against `name` for an entry in the root and `/dir/…/name` below it; a directory also
 * against `rel/path/`; an entry is excluded when it or any ancestor directory matches; the
 * expression is compiled with the `s` flag (`.` matches a newline in a name). A name that
 * is not UTF-8 is tested in its Latin-1 reading: the model's expressions use only ASCII literals
 * and `.*`, for which every one-unit-per-byte reading gives the same answer.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { show as showName } from './names.js';

export type ModelEntry = { type: 'dir' } | { type: 'file'; size: number; sha: string } | { type: 'link'; target: string } | { type: 'other' };

/** Key of a relative path: its bytes in Latin-1 (one char per byte, `/` between components). */
export type Key = string;

const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(b: Buffer): string {
  try {
    return utf8.decode(b);
  } catch {
    return b.toString('latin1');
  }
}

const slash = Buffer.from('/');

/** Every entry below `root`, keyed by relative path bytes. */
export async function walk(root: string): Promise<Map<Key, ModelEntry>> {
  const out = new Map<Key, ModelEntry>();
  const rootB = Buffer.from(root);
  async function dir(rel: Buffer | undefined): Promise<void> {
    const abs = rel ? Buffer.concat([rootB, slash, rel]) : rootB;
    let names: Buffer[];
    try {
      names = await readdir(abs, { encoding: 'buffer' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const name of names) {
      const r = rel ? Buffer.concat([rel, slash, name]) : name;
      const p = Buffer.concat([rootB, slash, r]);
      const key = r.toString('latin1');
      // A remote is walked while rsync may still write it: an entry gone meanwhile is skipped (the
      // next poll sees the settled tree); any other error fails the walk.
      try {
        const st = await lstat(p);
        if (st.isDirectory()) {
          out.set(key, { type: 'dir' });
          await dir(r);
        } else if (st.isSymbolicLink()) {
          out.set(key, { type: 'link', target: (await readlink(p, { encoding: 'buffer' })).toString('latin1') });
        } else if (st.isFile()) {
          const body = await readFile(p);
          out.set(key, { type: 'file', size: body.length, sha: createHash('sha1').update(body).digest('hex') });
        } else {
          out.set(key, { type: 'other' });
        }
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      }
    }
  }
  await dir(undefined);
  return out;
}

/** The model's excludes: Sersync-style expressions (the stock `(.*)\.svn` and `^info/*` among them). */
export const EXCLUDES: readonly string[] = ['(.*)\\.tmp', '(.*)\\.svn', '.*/cache', '^info/*', '(.*)~'];

function selfExcluded(res: readonly RegExp[], rel: string, isDir: boolean): boolean {
  const forms = [rel.includes('/') ? `/${rel}` : rel, ...(isDir ? [`${rel}/`] : [])];
  return forms.some((s) => res.some((re) => re.test(s)));
}

/** `key` (Latin-1 bytes) is excluded by `expressions`: itself or an ancestor directory matches. */
export function excluded(expressions: readonly string[], key: Key, isDir: boolean): boolean {
  if (expressions.length === 0) return false;
  // Compiled with the s flag, as documented: `.` matches a newline in a name too.
  const res = expressions.map((e) => new RegExp(`^(?:${e})$`, 's'));
  const parts = key.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const rel = text(Buffer.from(parts.slice(0, i).join('/'), 'latin1'));
    if (selfExcluded(res, rel, i < parts.length || isDir)) return true;
  }
  return false;
}

/** What every remote of `root` must hold: the source minus the excludes. */
export async function expectedTree(root: string, expressions: readonly string[]): Promise<Map<Key, ModelEntry>> {
  const src = await walk(root);
  const out = new Map<Key, ModelEntry>();
  for (const [k, v] of src) if (!excluded(expressions, k, v.type === 'dir')) out.set(k, v);
  return out;
}

/** Readable differences (empty = equal); names shown with \xNN escapes. */
export function diffTrees(want: Map<Key, ModelEntry>, got: Map<Key, ModelEntry>): string[] {
  const show = (k: Key) => showName(Buffer.from(k, 'latin1'));
  const out: string[] = [];
  for (const [k, v] of want) {
    const w = got.get(k);
    if (!w) out.push(`missing on remote: ${show(k)} (${v.type})`);
    else if (JSON.stringify(v) !== JSON.stringify(w)) out.push(`differs: ${show(k)}: want ${JSON.stringify(v)}, got ${JSON.stringify(w)}`);
  }
  for (const [k, v] of got) if (!want.has(k)) out.push(`extra on remote: ${show(k)} (${v.type})`);
  return out;
}
