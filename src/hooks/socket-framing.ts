/**
 * The socket plugin's wire format (pure; documented in docs/plugins.md):
 *
 *   one line per path, ended by "\n".
 *   - a path without "\n" or "\r" is sent as its exact bytes:  /site/img/a b.png
 *     (UTF-8 for UTF-8 names; a GBK or Latin-1 name goes as the bytes it has on disk)
 *   - a path with either is sent as a JSON string literal:     "/site/new\nline.txt"
 *     (ASCII; a byte that is not UTF-8 appears as the lone surrogate escape \udcXX, XX = the byte,
 *     as Python's surrogateescape reads it; src/core/names.ts)
 *
 * Absolute paths start with "/", so a line starting with `"` is unambiguous: a reader that
 * expects plain paths keeps working for every ordinary name, and every name round-trips.
 */
import { nameFromBytes, nameToBytes } from '../core/names.js';

export function frameLine(absolute: string): string {
  return /[\r\n]/.test(absolute) || absolute.startsWith('"') ? `${JSON.stringify(absolute)}\n` : `${absolute}\n`;
}

/** The inverse of frameLine for one line without its "\n" (for consumers and tests). */
export function parseLine(line: string): string {
  return line.startsWith('"') ? (JSON.parse(line) as string) : line;
}

/** The line as it goes on the wire: the exact bytes of the name (see above). */
export function frameBytes(absolute: string): Buffer {
  return nameToBytes(frameLine(absolute));
}

/** The inverse of frameBytes for one line's bytes without its "\n": the canonical string form. */
export function parseLineBytes(line: Uint8Array): string {
  return parseLine(nameFromBytes(line));
}
