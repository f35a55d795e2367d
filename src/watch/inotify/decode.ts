/**
 * Bytes read from an inotify descriptor → events, pure.
 *
 *   struct inotify_event { int32 wd; uint32 mask; uint32 cookie; uint32 len; char name[len]; }
 *
 * in host byte order (little-endian on every platform koffi ships prebuilt for); `name` is NUL
 * padded to `len`. A read returns whole events only, so a buffer never ends inside one; a
 * truncated tail (which the kernel never produces) is ignored rather than misread.
 */
import { nameFromBytes } from '../../core/names.js';

export interface InotifyEvent {
  /** The watch descriptor; -1 for IN_Q_OVERFLOW. */
  readonly wd: number;
  readonly mask: number;
  /** Pairs IN_MOVED_FROM with IN_MOVED_TO; 0 otherwise. */
  readonly cookie: number;
  /** The entry's name in the canonical form of core/names.ts (bytes, losslessly); "" for the watched directory itself. */
  readonly name: string;
}

export const EVENT_HEADER = 16;

export function decodeEvents(buf: Uint8Array, length = buf.length): InotifyEvent[] {
  const view = new DataView(buf.buffer, buf.byteOffset, Math.min(length, buf.length));
  const out: InotifyEvent[] = [];
  let off = 0;
  while (off + EVENT_HEADER <= view.byteLength) {
    const wd = view.getInt32(off, true);
    const mask = view.getUint32(off + 4, true);
    const cookie = view.getUint32(off + 8, true);
    const len = view.getUint32(off + 12, true);
    const start = off + EVENT_HEADER;
    if (start + len > view.byteLength) break;
    let end = start;
    while (end < start + len && buf[end] !== 0) end++;
    out.push({ wd, mask, cookie, name: nameFromBytes(buf.subarray(start, end)) });
    off = start + len;
  }
  return out;
}

/** The inverse, for tests: one event as the kernel lays it out, the name NUL-padded to a multiple of 16. */
export function encodeEvent(wd: number, mask: number, cookie: number, name: Uint8Array = new Uint8Array()): Buffer {
  const len = name.length === 0 ? 0 : Math.ceil((name.length + 1) / 16) * 16;
  const b = Buffer.alloc(EVENT_HEADER + len);
  b.writeInt32LE(wd, 0);
  b.writeUInt32LE(mask >>> 0, 4);
  b.writeUInt32LE(cookie >>> 0, 8);
  b.writeUInt32LE(len, 12);
  b.set(name, EVENT_HEADER);
  return b;
}
