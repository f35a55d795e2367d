/**
 * The three inotify system calls, through koffi (an FFI that ships prebuilt binaries: nothing is
 * compiled on the user's machine). Importing this module fails when koffi or its binary for this
 * platform is missing; the watcher child then falls back to @parcel/watcher with a warning.
 * Paths go in as NUL-terminated byte buffers, so a name that is not UTF-8 reaches the kernel as is.
 */
import koffi from 'koffi';
import { IN_CLOEXEC } from './constants.js';

export type AddResult = { readonly wd: number; readonly errno?: undefined } | { readonly wd?: undefined; readonly errno: number };

export interface InotifyCalls {
  /** A new inotify descriptor (blocking reads: the watcher child reads it on the libuv thread pool). */
  init(): number;
  addWatch(fd: number, path: Uint8Array, mask: number): AddResult;
  rmWatch(fd: number, wd: number): void;
}

// Not src/libc.ts's lazy loader: this module's static import of koffi is what fails, and falls
// back, where koffi cannot load (test/fixtures/watch/no-koffi.mjs hides it from ESM resolution).
function libc(): ReturnType<typeof koffi.load> {
  try {
    return koffi.load('libc.so.6');
  } catch {
    // musl and others: the symbols are already in the process.
    return koffi.load(null);
  }
}

export function loadInotify(): InotifyCalls {
  const lib = libc();
  const init1 = lib.func('int inotify_init1(int flags)') as (flags: number) => number;
  const add = lib.func('int inotify_add_watch(int fd, const uint8_t *path, uint32_t mask)') as (fd: number, path: Uint8Array, mask: number) => number;
  const rm = lib.func('int inotify_rm_watch(int fd, int wd)') as (fd: number, wd: number) => number;
  const NUL = new Uint8Array([0]);
  return {
    init() {
      const fd = init1(IN_CLOEXEC);
      if (fd < 0) {
        const e = koffi.errno();
        throw new Error(`inotify_init1 failed: errno ${e}${e === 24 ? ' (EMFILE: fs.inotify.max_user_instances is reached; raise it with sysctl)' : ''}`);
      }
      return fd;
    },
    addWatch(fd, path, mask) {
      const wd = add(fd, Buffer.concat([path, NUL]), mask >>> 0);
      return wd >= 0 ? { wd } : { errno: koffi.errno() };
    },
    rmWatch(fd, wd) {
      rm(fd, wd);
    },
  };
}
