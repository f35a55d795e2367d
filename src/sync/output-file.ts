/**
 * Where a full sync's stdout goes: an anonymous memory file (memfd), not a pipe.
 *
 * Why: `--info=progress2` prints a line each time rsync enters a directory, and rsync flushes each
 * one (`--outbuf=B` changes nothing). Through a pipe every line wakes the engine: on 1M files in
 * 20k directories 16,000–18,000 reads, 0.5–1.0 s of engine CPU, taken from rsync and the
 * application on a busy machine (docs/benchmarks.md). Written to memory nothing wakes; the engine
 * reads the last few KiB when it wants them (a progress poll, the exit) and punches out what lies
 * before them, so the file stays a few pages whatever rsync prints (a user's -v lists every name).
 *
 * Linux with koffi only (memfd_create, fallocate through src/libc.ts); elsewhere, or when a call
 * fails, `openOutputFile` returns undefined and the caller keeps its pipe.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { libcFunc } from '../libc.js';

export interface OutputFile {
  /** The descriptor to hand to the child as its stdout. */
  readonly fd: number;
  /** The last `bytes` bytes written so far, and whether they start at the beginning of the output. */
  tail(bytes: number): { readonly text: Buffer; readonly whole: boolean };
  close(): void;
}

const MFD_CLOEXEC = 1;
const FALLOC_FL_KEEP_SIZE = 1;
const FALLOC_FL_PUNCH_HOLE = 2;
/** Punched in whole pages only (a partial page would be zeroed, not freed). */
const PAGE = 4096;

type MemfdCreate = (name: string, flags: number) => number;
type Fallocate = (fd: number, mode: number, offset: number, len: number) => number;

let calls: { memfd: MemfdCreate; fallocate: Fallocate } | null | undefined;

function syscalls(): { memfd: MemfdCreate; fallocate: Fallocate } | null {
  if (calls !== undefined) return calls;
  const memfd = libcFunc<MemfdCreate>('int memfd_create(const char *name, unsigned int flags)');
  // off_t is 64-bit on every platform koffi ships for; musl has no fallocate64 symbol.
  const fallocate = libcFunc<Fallocate>('int fallocate64(int fd, int mode, int64_t offset, int64_t len)') ?? libcFunc<Fallocate>('int fallocate(int fd, int mode, int64_t offset, int64_t len)');
  calls = memfd && fallocate ? { memfd, fallocate } : null;
  return calls;
}

export function openOutputFile(name = 'tssersync-rsync-stdout'): OutputFile | undefined {
  const sys = syscalls();
  if (!sys) return undefined;
  const fd = sys.memfd(name, MFD_CLOEXEC);
  if (fd < 0) return undefined;
  // An old kernel or a filesystem without hole punching: better a pipe than an unbounded file.
  if (sys.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE) !== 0) {
    closeSync(fd);
    return undefined;
  }
  let punched = 0;
  let open = true;
  return {
    fd,
    tail(bytes) {
      const size = fstatSync(fd).size;
      const from = Math.max(0, size - bytes);
      const text = Buffer.allocUnsafe(size - from);
      const n = text.length > 0 ? readSync(fd, text, 0, text.length, from) : 0;
      // What lies before this tail is never read again: free it. Bytes written after `size` are
      // past the hole, so nothing rsync writes meanwhile is lost.
      const upTo = Math.floor(from / PAGE) * PAGE;
      if (upTo > punched && sys.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, punched, upTo - punched) === 0) punched = upTo;
      return { text: text.subarray(0, n), whole: from === 0 };
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
