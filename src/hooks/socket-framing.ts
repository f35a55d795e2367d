/**
 * The socket plugin's wire format (pure; documented in docs/plugins.md):
 *
 *   one line per path, UTF-8, ended by "\n".
 *   - a path without "\n" or "\r" is sent as is:            /site/img/a b.png
 *   - a path with either is sent as a JSON string literal:  "/site/new\nline.txt"
 *
 * Absolute paths start with "/", so a line starting with `"` is unambiguous: a reader that
 * expects plain paths keeps working for every ordinary name, and every name round-trips.
 */

export function frameLine(absolute: string): string {
  return /[\r\n]/.test(absolute) || absolute.startsWith('"') ? `${JSON.stringify(absolute)}\n` : `${absolute}\n`;
}

/** The inverse of frameLine for one line without its "\n" (for consumers and tests). */
export function parseLine(line: string): string {
  return line.startsWith('"') ? (JSON.parse(line) as string) : line;
}
