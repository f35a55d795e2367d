/**
 * Public URLs for changed paths, as Sersync's refreshCDN builds them (pure).
 *
 * - Plain: URL = `sendurl@base` + the path relative to the plugin's watch root (`/img/a.png`).
 * - regexurl: the first capture group of the regex, searched in the absolute path, followed by
 *   the text after the whole match; no match = no URL (Sersync sends nothing either).
 * - A directory gets a trailing slash and is purged as a directory (`dirs=` in the legacy form).
 *
 * One deliberate difference: the path part is percent-encoded per segment (RFC 3986), so a name
 * with a space, `?`, `#` or a newline becomes the URL a browser would request, where Sersync sent
 * raw bytes (and broke the request line). Plain ASCII names give Sersync's exact URL.
 */
import { nameToBytes } from '../core/names.js';
import type { LandedItem } from './types.js';
import { relativeToWatch } from './scope.js';

export interface CdnUrlOptions {
  readonly watch: string;
  readonly baseUrl: string;
  readonly regexUrl: RegExp | undefined;
}

export interface CdnTarget {
  readonly url: string;
  /** A directory: purge everything under it. */
  readonly dir: boolean;
}

export function cdnTarget(item: Pick<LandedItem, 'absolute' | 'state'>, o: CdnUrlOptions): CdnTarget | undefined {
  const dir = item.state === 'dir';
  let tail: string;
  if (o.regexUrl) {
    // A fresh non-global copy: a shared RegExp with the g or y flag would carry lastIndex between calls.
    const m = new RegExp(o.regexUrl.source, o.regexUrl.flags.replace(/[gy]/g, '')).exec(item.absolute);
    if (!m || m[1] === undefined) return undefined;
    tail = m[1] + item.absolute.slice(m.index + m[0].length);
  } else {
    tail = relativeToWatch(item.absolute, o.watch);
  }
  let url = joinUrl(o.baseUrl, encodePath(tail));
  if (dir && !url.endsWith('/')) url += '/';
  return { url, dir };
}

/** URLs for a list of items, without duplicates, in the items' order. */
export function cdnTargets(items: readonly LandedItem[], o: CdnUrlOptions): Array<{ target: CdnTarget; item: LandedItem }> {
  const seen = new Set<string>();
  const out: Array<{ target: CdnTarget; item: LandedItem }> = [];
  for (const item of items) {
    const target = cdnTarget(item, o);
    if (!target || seen.has(target.url)) continue;
    seen.add(target.url);
    out.push({ target, item });
  }
  return out;
}

/**
 * Percent-encodes each `/`-separated segment; the slashes stay. Names are bytes: each segment's
 * exact bytes are encoded (a GBK or Latin-1 name gives the URL of the file as the web server
 * serves it), with encodeURIComponent's unreserved set, so every UTF-8 name gives the same URL as
 * before (encodeURIComponent itself throws on a non-UTF-8 byte's escape).
 */
export function encodePath(path: string): string {
  return path.split('/').map(encodeBytes).join('/');
}

const UNRESERVED = /^[A-Za-z0-9\-_.!~*'()]$/;

function encodeBytes(segment: string): string {
  let out = '';
  for (const b of nameToBytes(segment)) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** base + path, without doubling the slash where a base ends in `/` and the path starts with one. */
function joinUrl(base: string, path: string): string {
  return base.endsWith('/') && path.startsWith('/') ? base + path.slice(1) : base + path;
}
