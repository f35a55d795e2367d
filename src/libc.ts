/**
 * libc functions through koffi, loaded on first use: the engine's few system calls that node has no
 * binding for (getdents64 in walk.ts, memfd_create and fallocate in sync/output-file.ts). koffi is
 * the FFI the inotify backend already ships, prebuilt for linux x64/arm64: nothing is compiled on
 * the user's machine. Where it cannot load (another platform, no binary, no such symbol) `libcFunc`
 * returns undefined and each caller does without.
 */
import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');
type Lib = ReturnType<Koffi['load']>;

let loaded: { koffi: Koffi; lib: Lib } | null | undefined;

function load(): { koffi: Koffi; lib: Lib } | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== 'linux') return loaded;
  try {
    // createRequire: koffi is loaded only when first needed, not with every module that imports this one.
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    let lib: Lib;
    try {
      lib = koffi.load('libc.so.6');
    } catch {
      // musl and others: the symbols are already in the process.
      lib = koffi.load(null);
    }
    loaded = { koffi, lib };
  } catch {
    // no koffi binary for this platform
  }
  return loaded;
}

/** A libc function by its C prototype, or undefined where koffi or the symbol is missing. */
export function libcFunc<F>(prototype: string): F | undefined {
  const l = load();
  if (!l) return undefined;
  try {
    return l.lib.func(prototype) as F;
  } catch {
    return undefined;
  }
}

/** errno of the last call made through koffi. */
export function lastErrno(): number {
  return load()?.koffi.errno() ?? 0;
}
