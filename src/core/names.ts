/**
 * File names are bytes. A Linux name is any byte string without "/" and NUL; hosts written by Samba
 * or FTP for Windows clients hold GBK, Big5, Shift-JIS or Latin-1 names. In memory a name (or a
 * relative path) is ONE canonical JS string that round-trips every byte string:
 *
 * - every well-formed UTF-8 sequence is decoded as usual, so UTF-8 names stay readable and `<filter>`
 *   regexes match them as text;
 * - every byte that is not part of a well-formed sequence (always >= 0x80) becomes the lone
 *   surrogate U+DC00 + byte (U+DC80…U+DCFF), as Python's "surrogateescape" does.
 *
 * Well-formed UTF-8 can never encode a surrogate, so the mapping is a bijection: `namesToBytes`
 * gives back exactly the bytes `nameFromBytes` was given. This string is what the change set, the
 * planner, the replay log (JSON escapes lone surrogates as `\udcXX`, which JSON.parse restores) and
 * the pending file hold; the edges turn it into bytes with `nameToBytes` before the file system,
 * rsync's stdin or a plugin sees it. A `<filter>` regex sees an invalid byte as that surrogate:
 * `.` matches it, and `[\udc80-\udcff]` matches any non-UTF-8 byte.
 *
 * U+FFFD in a name from a source that decoded lossily (@parcel/watcher's JS strings) means "this name
 * is not exact": `isExactName` says so, and the caller falls back to the parent directory as a tree.
 */

const fatal = new TextDecoder('utf-8', { fatal: true });

/** Bytes → the canonical string. */
export function nameFromBytes(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) { ascii = false; break; }
  if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  try {
    return fatal.decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

function decodeEscaping(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const n = sequenceLength(b, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + c);
      i++;
      continue;
    }
    let cp = n === 2 ? c & 0x1f : n === 3 ? c & 0x0f : c & 0x07;
    for (let k = 1; k < n; k++) cp = (cp << 6) | (b[i + k]! & 0x3f);
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence at b[i] (Unicode table 3-7), 0 if it is not one. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const at = (k: number): number => (i + k < b.length ? b[i + k]! : -1);
  const cont = (x: number): boolean => x >= 0x80 && x <= 0xbf;
  if (c >= 0xc2 && c <= 0xdf) return cont(at(1)) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const x = at(1);
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf; // 0xED 0xA0.. would be a surrogate
    return x >= lo && x <= hi && cont(at(2)) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const x = at(1);
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return x >= lo && x <= hi && cont(at(2)) && cont(at(3)) ? 4 : 0;
  }
  return 0;
}

/** The canonical string → the exact bytes it stands for. */
export function nameToBytes(name: string): Buffer {
  if (!hasEscapes(name)) return Buffer.from(name, 'utf8');
  const parts: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0xdc80 && u <= 0xdcff) {
      parts.push(u - 0xdc00);
      continue;
    }
    let cp = u;
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < name.length) {
      const v = name.charCodeAt(i + 1);
      if (v >= 0xdc00 && v <= 0xdfff) {
        cp = 0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00);
        i++;
      }
    }
    for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) parts.push(byte);
  }
  return Buffer.from(parts);
}

/** Does the string hold an escaped (non-UTF-8) byte? Cheap test before the slow path. */
export function hasEscapes(name: string): boolean {
  // An escaped byte is a LONE low surrogate; a well-formed pair never uses U+DC80-U+DCFF alone.
  return /(?<![\ud800-\udbff])[\udc80-\udcff]/.test(name);
}

/**
 * False when the name came through a lossy decoding (U+FFFD stands for bytes we no longer know) or
 * holds a lone surrogate that is not one of ours: such a name cannot be handed to rsync as is.
 */
export function isExactName(name: string): boolean {
  return !/\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udc7f\udd00-\udfff]/.test(name);
}

/** Absolute path bytes for `rel` under `root` (root "" part = the root itself), for fs calls. */
export function pathBytes(root: string, rel: string): Buffer {
  if (rel === '') return nameToBytes(root);
  const sep = root.endsWith('/') ? '' : '/';
  return nameToBytes(`${root}${sep}${rel}`);
}

/**
 * A name for a log line or a terminal: escaped bytes as `\xNN` (never U+FFFD), control characters
 * as `\n`, `\t`, `\xNN`, and a backslash doubled so the form is unambiguous.
 */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\\\u0000-\u001f\u007f]/.test(name) && !hasEscapes(name)) return name;
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0xdc80 && u <= 0xdcff && !(i > 0 && isHigh(name.charCodeAt(i - 1)))) out += `\\x${(u - 0xdc00).toString(16)}`;
    else if (u === 0x5c) out += '\\\\';
    else if (u === 0x0a) out += '\\n';
    else if (u === 0x09) out += '\\t';
    else if (u === 0x0d) out += '\\r';
    else if (u < 0x20 || u === 0x7f) out += `\\x${u.toString(16).padStart(2, '0')}`;
    else out += name[i];
  }
  return out;
}

function isHigh(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}
