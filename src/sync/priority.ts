/**
 * The application comes first: rsync children run at a lower CPU and I/O priority, so a burst the
 * application writes is slowed as little as possible by its own replication.
 *
 * Node's spawn has no priority option. Two ways, chosen per remote by the lane:
 * - **Set on the running rsync** (`Renice`): right after spawn returns (it returns once rsync has
 *   exec'd), `setpriority` and `ioprio_set` (a system call through koffi, src/libc.ts). A client
 *   talking to an rsync daemon is one process (it forks nothing): set on its pid (os.setPriority).
 *   Over ssh rsync forks ssh at once, maybe before the priority is set: rsync is started as the
 *   leader of a process group of its own and the priority is set on the group (PRIO_PGRP,
 *   IOPRIO_WHO_PGRP), which holds ssh if it was forked already, and ssh inherits it if not. The
 *   file list comes on stdin, written after this, so everything rsync reads or sends runs at the
 *   lowered priority; what runs before is its own start-up. No extra exec: the launchers below
 *   cost ~5 ms of every run's latency (two execs; docs/benchmarks.md, "Tenth session").
 * - **Launcher words** (wherever the system calls are not there, or TSSERSYNC_PRIORITY_LAUNCHER=1):
 *   the child is started through coreutils' `nice` and util-linux' `ionice`, as argv words (no
 *   shell): `nice -n 10 ionice -c2 -n7 rsync …`. Both exec the next word, so the pid we hold is
 *   rsync's own once it runs.
 *
 * Everything here is pure but findPriorityTools() (PATH, once per lane), reniceSupported() and
 * applyRenice() (system calls).
 *
 * Never the idle I/O class by default: under a sustained write load an idle-class reader gets no
 * disk time at all, and replication would starve without bound.
 */
import { getPriority, setPriority } from 'node:os';
import { lastErrno, libcFunc } from '../libc.js';
import { findExecutable } from './which.js';

/** `best-effort:N` (class 2, level 0-7) or `idle` (class 3). */
export type IoClass = { readonly kind: 'best-effort'; readonly level: number } | { readonly kind: 'idle' };

export interface Priority {
  /** `nice` increment, 1-19; 0 = not changed. @default 10 */
  readonly nice: number;
  /** I/O scheduling class; undefined = not changed. @default best-effort:7 */
  readonly ionice: IoClass | undefined;
}

export const DEFAULT_PRIORITY: Priority = { nice: 10, ionice: { kind: 'best-effort', level: 7 } };
export const NO_PRIORITY: Priority = { nice: 0, ionice: undefined };

/** Where `nice` and `ionice` are (undefined: not installed). */
export interface PriorityTools {
  readonly nice: string | undefined;
  readonly ionice: string | undefined;
}

/** Parse `<priority ionice="…">`: undefined when the text is not a class we take. */
export function parseIoClass(text: string): IoClass | undefined | 'off' {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'none') return 'off';
  if (t === 'idle') return { kind: 'idle' };
  const m = /^best-effort(?::([0-7]))?$/.exec(t);
  if (m) return { kind: 'best-effort', level: m[1] === undefined ? 4 : Number(m[1]) };
  return undefined;
}

export function ioClassText(c: IoClass | undefined): string {
  if (!c) return 'off';
  return c.kind === 'idle' ? 'idle' : `best-effort:${c.level}`;
}

/**
 * The words to put before rsync's argv, for the tools that exist. A missing tool drops only its
 * own part (the caller says so once).
 */
export function priorityPrefix(p: Priority, tools: PriorityTools): string[] {
  const out: string[] = [];
  if (p.nice > 0 && tools.nice) out.push(tools.nice, '-n', String(p.nice));
  if (p.ionice && tools.ionice) {
    out.push(tools.ionice, ...(p.ionice.kind === 'idle' ? ['-c3'] : ['-c2', `-n${p.ionice.level}`]));
  }
  return out;
}

/** `argv` (rsync first) started through the priority tools. */
export function withPriority(argv: readonly string[], p: Priority | undefined, tools: PriorityTools | undefined): string[] {
  if (!p || !tools) return [...argv];
  return [...priorityPrefix(p, tools), ...argv];
}

/** `nice` and `ionice` in PATH (coreutils and util-linux: present wherever rsync runs on Linux). */
export function findPriorityTools(env: NodeJS.ProcessEnv = process.env): PriorityTools {
  return { nice: findExecutable('nice', env), ionice: findExecutable('ionice', env) };
}

/** What of `p` cannot be applied with `tools`, as an operator sentence; undefined when all can. */
export function missingToolText(p: Priority, tools: PriorityTools): string | undefined {
  const lost: string[] = [];
  if (p.nice > 0 && !tools.nice) lost.push(`\`nice\` is not installed: rsync runs at normal CPU priority`);
  if (p.ionice && !tools.ionice) lost.push(`\`ionice\` (util-linux) is not installed: rsync runs at normal I/O priority${p.nice > 0 && tools.nice ? `, nice ${p.nice} only` : ''}`);
  return lost.length ? lost.join('; ') : undefined;
}

// --- set on the running rsync ---------------------------------------------------------------

/** What to set on a running rsync: its absolute nice value and I/O priority (undefined: leave). */
export interface Renice {
  readonly nice: number | undefined;
  /** The `ioprio_set` value: class << 13 | level. */
  readonly ioprio: number | undefined;
  /**
   * Set on rsync's process group, rsync started as its leader (ssh remotes): rsync forks ssh at
   * once, maybe before the priority is set; whichever comes first, ssh is in the group (forked
   * before: set with it; after: it inherits rsync's).
   */
  readonly group?: boolean;
}

/** `ioprio_set` numbers (glibc has no wrapper): the generic table (arm64) and x86's. */
const IOPRIO_SET: Partial<Record<string, number>> = { x64: 251, ia32: 289, arm64: 30 };
const IOPRIO_GET: Partial<Record<string, number>> = { x64: 252, ia32: 290, arm64: 31 };
const IOPRIO_WHO_PROCESS = 1;
const IOPRIO_WHO_PGRP = 2;
/** setpriority's `which` (sys/resource.h). */
const PRIO_PGRP = 1;
const ESRCH = 3;
const IOPRIO_CLASS_SHIFT = 13;

/** The kernel's value for an I/O class (include/uapi/linux/ioprio.h). */
export function ioprioValue(c: IoClass): number {
  return c.kind === 'idle' ? 3 << IOPRIO_CLASS_SHIFT : (2 << IOPRIO_CLASS_SHIFT) | c.level;
}

/**
 * The values to set for `p` on a child of a process at nice `ownNice`: `nice -n N` adds N to the
 * niceness it inherits (at most 19), and so does this; the I/O class is absolute, as ionice's.
 */
export function reniceFor(p: Priority, ownNice: number, group = false): Renice {
  return { nice: p.nice > 0 ? Math.min(19, ownNice + p.nice) : undefined, ioprio: p.ionice ? ioprioValue(p.ionice) : undefined, ...(group ? { group } : {}) };
}

type Syscall = (n: number, ...typed: unknown[]) => number;
let syscall: Syscall | null | undefined;
type SetPriority = (which: number, who: number, prio: number) => number;
let setGroupPriority: SetPriority | null | undefined;

/** libc's setpriority (os.setPriority sets one process only, never a group). */
function setPriorityFn(): SetPriority | undefined {
  if (setGroupPriority === undefined) setGroupPriority = libcFunc<SetPriority>('int setpriority(int which, unsigned int who, int prio)') ?? null;
  return setGroupPriority ?? undefined;
}

function syscallFn(): Syscall | undefined {
  if (syscall === undefined) syscall = libcFunc<Syscall>('long syscall(long number, ...)') ?? null;
  return syscall ?? undefined;
}

/**
 * Whether `p` can be set on a running rsync here: Linux, and where it asks for an I/O class, a
 * working `ioprio_get` (koffi loads, the architecture's number is known, no seccomp filter refuses it).
 */
export function reniceSupported(p: Priority, group = false): boolean {
  if (process.platform !== 'linux') return false;
  if (group && p.nice > 0 && !setPriorityFn()) return false;
  if (!p.ionice) return true;
  const n = IOPRIO_GET[process.arch];
  const call = syscallFn();
  if (n === undefined || IOPRIO_SET[process.arch] === undefined || !call) return false;
  try {
    return call(n, 'int', IOPRIO_WHO_PROCESS, 'int', 0) >= 0;
  } catch {
    return false;
  }
}

/**
 * Sets `r` on process `pid` (a child of ours, just spawned). Returns what failed, as an operator
 * sentence; a child that already exited (ESRCH) is no failure.
 */
export function applyRenice(pid: number, r: Renice): string | undefined {
  const failed: string[] = [];
  if (r.nice !== undefined && r.group) {
    const set = setPriorityFn();
    // A group with no process left (rsync and ssh both exited) is ESRCH: no failure either.
    if (!set) failed.push(`nice ${r.nice}: setpriority is not available`);
    else if (set(PRIO_PGRP, pid, r.nice) !== 0 && lastErrno() !== ESRCH) failed.push(`nice ${r.nice}: setpriority of process group ${pid} failed (errno ${lastErrno()})`);
  } else if (r.nice !== undefined) {
    try {
      setPriority(pid, r.nice);
    } catch (err) {
      // os.setPriority throws a SystemError: its `code` is ERR_SYSTEM_ERROR, the errno is in `info`.
      const code = (err as { info?: { code?: string } }).info?.code ?? (err as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH') failed.push(`nice ${r.nice}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (r.ioprio !== undefined) {
    const n = IOPRIO_SET[process.arch];
    const call = syscallFn();
    const ok = n !== undefined && call !== undefined && call(n, 'int', r.group ? IOPRIO_WHO_PGRP : IOPRIO_WHO_PROCESS, 'int', pid, 'int', r.ioprio) === 0;
    if (!ok && lastErrno() !== ESRCH) failed.push(`I/O priority: ioprio_set failed (errno ${lastErrno()})`);
  }
  return failed.length ? `could not lower rsync's priority: ${failed.join('; ')}` : undefined;
}

/** This process's own nice value (the one its children inherit). */
export function ownNice(): number {
  return getPriority();
}
