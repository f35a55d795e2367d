/**
 * Which real-time excludes rsync can apply itself. Pure.
 *
 * A `<filter>` exclude is a full-match regex (compiled with the `s` flag: `.` matches any character)
 * on Sersync's test strings: `name` for an entry in the root, `/a/b/name` for a nested one, and
 * `rel/path/` for a directory (src/watch/filter.ts). Two shapes, which cover Sersync's stock
 * patterns, have an rsync filter rule that selects exactly the same entries:
 *
 * - `(.*)LIT` (or `.*LIT`), LIT a non-empty literal without `/` (or groups of literal alternatives,
 *   `(.*)\\.(gz|bz2)`: one rule per combination): the test string ends with LIT
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
export function rsyncRulesOf(p: Pattern): string[] | undefined {
  const asConfig = p.regex.flags.includes('s') && /^[gys]*$/.test(p.regex.flags) && p.regex.source === new RegExp(`^(?:${p.source})$`).source;
  return asConfig ? rsyncRulesFor(p.source) : undefined;
}

const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
/** Escapes that stand for the character itself. */
const PLAIN_ESCAPE = new Set(['.', '-', '_', '~', '+', '(', ')', '[', ']', '{', '}', '*', '?', '$', '^', '|', '\\', ' ', '#', '@', '%', '&', '=', ',', ':', ';', '!', "'", '"', '<', '>']);

/** A regex source that is a plain literal → that literal; anything else (or a `/`) → undefined. */
export function literalOf(src: string): string | undefined {
  const all = literalsOf(src);
  return all?.length === 1 ? all[0] : undefined;
}

/** At most this many literals from one expression's alternatives: past it, the regex is walked. */
const MAX_ALTERNATIVES = 64;

/**
 * The literals a regex source stands for when it is literal text with groups of literal
 * alternatives (`\.(gz|bz2)`, `(?:a|b)c`, not nested): every combination; undefined for anything
 * else, or when one of them is empty or holds a `/`.
 */
export function literalsOf(src: string): string[] | undefined {
  let out = [''];
  for (let i = 0; i < src.length; ) {
    if (src[i] === '(') {
      const open = src.startsWith('(?:', i) ? 3 : 1;
      if (open === 1 && src[i + 1] === '?') return undefined;
      const close = groupEnd(src, i + open);
      if (close < 0) return undefined;
      const alts: string[] = [];
      for (const part of splitAlternatives(src.slice(i + open, close))) {
        const lit = plainLiteral(part);
        if (lit === undefined) return undefined;
        alts.push(lit);
      }
      out = out.flatMap((o) => alts.map((a) => o + a));
      if (out.length > MAX_ALTERNATIVES) return undefined;
      i = close + 1;
      continue;
    }
    const next = nextGroup(src, i);
    const lit = plainLiteral(src.slice(i, next));
    if (lit === undefined) return undefined;
    out = out.map((o) => o + lit);
    i = next;
  }
  return out.every((o) => o.length > 0 && !o.includes('/')) ? out : undefined;
}

/** Index of the `)` closing a group whose body starts at `from`, skipping escapes; -1 if none or nested. */
function groupEnd(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '(') return -1;
    else if (src[i] === ')') return i;
  }
  return -1;
}

/** Index of the next unescaped `(` at or after `from` (or the end). */
function nextGroup(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '(') return i;
  }
  return src.length;
}

function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && i + 1 < body.length) {
      cur += body[i]! + body[i + 1]!;
      i++;
    } else if (body[i] === '|') {
      parts.push(cur);
      cur = '';
    } else cur += body[i];
  }
  parts.push(cur);
  return parts;
}

/** Literal text (escapes of plain characters, `\uXXXX`) → the text; any metacharacter → undefined. */
function plainLiteral(src: string): string | undefined {
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
  return out;
}

/** rsync reads `*?[` (and `\` before them) as wildcards: a literal name part with them is escaped. */
function globLiteral(s: string): string {
  return s.replace(/[*?[\\]/g, '\\$&');
}

/** The rsync filter rules equivalent to a `<filter>` exclude (one per alternative), or undefined. */
export function rsyncRulesFor(source: string): string[] | undefined {
  // `A|B` at the top: the full match of either branch, so the union of their rules.
  const branches = topLevelBranches(source);
  if (branches.length > 1) {
    const each = branches.map(rsyncRulesFor);
    return each.every((r) => r !== undefined) ? [...new Set(each.flat() as string[])] : undefined;
  }
  const body = source.replace(/^\^/, '').replace(/(?<!\\)\$$/, '');
  const suffix = /^(?:\(\.\*\)|\.\*)(.*)$/s.exec(body);
  if (suffix) {
    const lits = literalsOf(suffix[1]!);
    // `*` then the escaped literal: rsync reads the whole pattern as a wildcard pattern.
    return lits?.map((lit) => `- *${globLiteral(lit)}`);
  }
  const top = /^(.*?)(?:\/\*)?$/s.exec(body);
  const lits = top ? literalsOf(top[1]!) : undefined;
  // Without a wildcard rsync compares the pattern literally; with one of `*?[` in the name it would not.
  return lits?.map((lit) => (/[*?[]/.test(lit) ? `- /${globLiteral(lit)}` : `- /${lit}`));
}

/** `a|b(c|d)|e` → `a`, `b(c|d)`, `e`: alternatives outside any group. */
function topLevelBranches(src: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(src.slice(start, i));
      start = i + 1;
    }
  }
  out.push(src.slice(start));
  return out;
}

/** The single rule, for an exclude that translates to exactly one. */
export function rsyncRuleFor(source: string): string | undefined {
  const rules = rsyncRulesFor(source);
  return rules?.length === 1 ? rules[0] : undefined;
}
