/**
 * Which real-time excludes rsync can apply itself. Pure.
 *
 * A `<filter>` exclude is a full-match regex (compiled with the `s` flag: `.` matches any character)
 * on Sersync's test strings: `name` for an entry in the root, `/a/b/name` for a nested one, and
 * `rel/path/` for a directory (src/watch/filter.ts). Two shapes, which cover Sersync's stock
 * patterns, have an rsync filter rule that selects exactly the same entries:
 *
 * - `(.*)LIT` (or `.*LIT`), LIT a non-empty literal without `/`: the test string ends with LIT
 *   exactly when the entry's own name does (LIT has no `/`; the directory form ends in `/`), which
 *   is rsync's `- *LIT` (no `/` in the pattern: it is matched against the last component, and `*`
 *   may match nothing);
 * - `LIT` or `LIT/*` (optionally `^`-anchored), LIT a non-empty literal without `/`: only the
 *   root-level entry named LIT has such a test string (`LIT`, or `LIT/` for a directory), which is
 *   rsync's `- /LIT`.
 *
 * rsync does not descend into an excluded directory, as the filter excludes everything below one.
 * Any other regex gets undefined: src/sync/excludes.ts then finds its matches with a local walk.
 */

import type { Pattern } from '../config/types.js';

/**
 * The rule for a compiled exclude. The translation assumes the regex is the expression as
 * parseConfig compiles it (full match, `s`, no `i`/`m`/`u`); anything else gets undefined and is
 * walked, which is exact for every regex.
 */
export function rsyncRuleOf(p: Pattern): string | undefined {
  const asConfig = p.regex.flags.includes('s') && /^[gys]*$/.test(p.regex.flags) && p.regex.source === new RegExp(`^(?:${p.source})$`).source;
  return asConfig ? rsyncRuleFor(p.source) : undefined;
}

const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
/** Escapes that stand for the character itself. */
const PLAIN_ESCAPE = new Set(['.', '-', '_', '~', '+', '(', ')', '[', ']', '{', '}', '*', '?', '$', '^', '|', '\\', ' ', '#', '@', '%', '&', '=', ',', ':', ';', '!', "'", '"', '<', '>']);

/** A regex source that is a plain literal → that literal; anything else (or a `/`) → undefined. */
export function literalOf(src: string): string | undefined {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return undefined;
      if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
        i += 5;
        continue;
      }
      if (!PLAIN_ESCAPE.has(n)) return undefined;
      out += n;
      i++;
      continue;
    }
    if (META.has(c)) return undefined;
    out += c;
  }
  return out.length > 0 && !out.includes('/') ? out : undefined;
}

/** rsync reads `*?[` (and `\` before them) as wildcards: a literal name part with them is escaped. */
function globLiteral(s: string): string {
  return s.replace(/[*?[\\]/g, '\\$&');
}

/** The rsync filter rule equivalent to a `<filter>` exclude, or undefined when there is none. */
export function rsyncRuleFor(source: string): string | undefined {
  const body = source.replace(/^\^/, '').replace(/(?<!\\)\$$/, '');
  const suffix = /^(?:\(\.\*\)|\.\*)(.*)$/s.exec(body);
  if (suffix) {
    const lit = literalOf(suffix[1]!);
    // `*` then the escaped literal: rsync reads the whole pattern as a wildcard pattern.
    return lit === undefined ? undefined : `- *${globLiteral(lit)}`;
  }
  const top = /^(.*?)(?:\/\*)?$/s.exec(body);
  const lit = top ? literalOf(top[1]!) : undefined;
  if (lit === undefined) return undefined;
  // Without a wildcard rsync compares the pattern literally; with one of `*?[` in the name it would not.
  return /[*?[]/.test(lit) ? `- /${globLiteral(lit)}` : `- /${lit}`;
}
