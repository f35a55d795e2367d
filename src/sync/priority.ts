/**
 * The application comes first: rsync children run at a lower CPU and I/O priority, so a burst the
 * application writes is slowed as little as possible by its own replication.
 *
 * Node's spawn has no priority option, and setting it after spawn races the child's first reads.
 * So the child is started through coreutils' `nice` and util-linux' `ionice`, as argv words (no
 * shell): `nice -n 10 ionice -c2 -n7 rsync …`. Both exec the next word, so the pid we hold is
 * rsync's own once it runs. Everything here is pure but findPriorityTools(), which looks in PATH
 * once, when a lane starts.
 *
 * Never the idle I/O class by default: under a sustained write load an idle-class reader gets no
 * disk time at all, and replication would starve without bound.
 */
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
