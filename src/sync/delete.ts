/**
 * Remote deletes of paths missing locally. The fast form is `--delete-missing-args --force` in the
 * normal job; some receivers reject it (rsync issue #910: "invalid file mode … protocol
 * incompatibility"), so each remote is probed once and, where it fails, deletes go through a
 * filter-based rsync per parent directory instead.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { isGone } from '../core/gone.js';
import { pathBytes } from '../core/names.js';
import { buildDeleteFallbackArgv, buildRsyncArgv, deleteFallbackRules, redactArgv } from './argv.js';
import { runRsync } from './runner.js';
import type { RsyncOutcome } from './types.js';

export type ProbeAnswer = 'supported' | 'unsupported' | 'unknown';

/**
 * Sends a delete of a name that exists nowhere: harmless, and it exercises exactly the receiver
 * code that #910 broke. `unknown` means the remote could not be asked (down, auth): ask again later.
 */
export async function probeDeleteMissingArgsDetailed(
  remote: RemoteConfig,
  rsync: RsyncSettings,
  signal?: AbortSignal,
): Promise<{ answer: ProbeAnswer; outcome: RsyncOutcome }> {
  const name = `.tssersync-probe-${randomBytes(8).toString('hex')}`;
  const argv = buildRsyncArgv({ remote, rsync, action: 'path', deleteMissing: true, ignoreTimes: false });
  const outcome = await runRsync(argv, { cwd: tmpdir(), stdinPaths: [name], ...(signal ? { signal } : {}), ...(rsync.renice ? { renice: rsync.renice } : {}) });
  if (outcome.exitCode === 0) return { answer: 'supported', outcome };
  const rejected = outcome.exitCode === 1 || outcome.exitCode === 2 || outcome.exitCode === 4 || /invalid file mode|protocol incompatibility|unknown option/i.test(outcome.stderrTail);
  return { answer: rejected ? 'unsupported' : 'unknown', outcome };
}

/** True if the receiver accepts `--delete-missing-args`; false if it rejects it or cannot be asked. */
export async function probeDeleteMissingArgs(remote: RemoteConfig, rsync: RsyncSettings): Promise<boolean> {
  return (await probeDeleteMissingArgsDetailed(remote, rsync)).answer === 'supported';
}

/** Paths stat'ed between two turns of the event loop. */
const STAT_YIELD = 512;

/**
 * Splits paths by whether they exist locally (lstat: a dangling symlink exists). Only a gone path
 * (ENOENT, ENOTDIR: core/gone.ts) is missing; one that cannot be stat'ed for another reason
 * (EACCES, EIO…) counts as present, so rsync reports it as a failure and it is never deleted.
 */
export async function splitMissing(root: string, paths: readonly string[]): Promise<{ present: string[]; missing: string[] }> {
  const present: string[] = [];
  const missing: string[] = [];
  // lstatSync: about 10 µs of CPU a path against 50-75 µs through fs/promises (the thread pool, and
  // an Error with a stack per missing path), and every job path passes here (issue 11 profile).
  // A turn of the event loop every STAT_YIELD paths keeps a large job from blocking it for long.
  for (let i = 0; i < paths.length; i++) {
    if (i > 0 && i % STAT_YIELD === 0) await new Promise((r) => setImmediate(r));
    const p = paths[i]!;
    let exists: boolean;
    try {
      exists = lstatSync(pathBytes(root, p), { throwIfNoEntry: false }) !== undefined;
    } catch (err) {
      exists = !isGone(err);
    }
    (exists ? present : missing).push(p);
  }
  return { present, missing };
}

/**
 * Maps each missing path to what must be deleted for it: the path itself, or, when its parent is
 * missing too, its highest missing ancestor below the root. That ancestor is missing locally, so
 * deleting it is what the disk says; and neither form deletes reliably below a missing parent
 * (rsync 3.5.0 skips `--delete-missing-args` of `a/b/f` when `a/b` is gone: "file has vanished",
 * exit 24, and the remote keeps `a/b/f`), while the filter form needs an existing parent.
 */
export async function missingTops(root: string, missing: readonly string[]): Promise<Map<string, string[]>> {
  const tops = new Map<string, string[]>();
  const known = new Map<string, boolean>();
  // "Stops the climb": a directory, or something we cannot see into (never delete above it). A
  // non-directory where a directory was (rm -rf d; echo > d) does not stop it: d is the top, and
  // being present it is sent, which replaces the remote directory.
  const exists = async (rel: string): Promise<boolean> => {
    let v = known.get(rel);
    if (v === undefined) {
      v = rel === '' || (await lstat(pathBytes(root, rel)).then((st) => st.isDirectory(), (err: unknown) => !isGone(err)));
      known.set(rel, v);
    }
    return v;
  };
  for (const path of missing) {
    let top = path;
    for (;;) {
      const slash = top.lastIndexOf('/');
      const parent = slash < 0 ? '' : top.slice(0, slash);
      if (await exists(parent)) break;
      top = parent;
    }
    tops.set(top, [...(tops.get(top) ?? []), path]);
  }
  return tops;
}

/** Tops grouped by parent directory: one filter-form rsync per parent. */
export function byParent(tops: Iterable<string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const top of tops) {
    const slash = top.lastIndexOf('/');
    const parent = slash < 0 ? '' : top.slice(0, slash);
    groups.set(parent, [...(groups.get(parent) ?? []), top.slice(slash + 1)]);
  }
  return groups;
}

/**
 * Runs the filter-form delete for one parent directory. `retract`: delete the named entries on the
 * receiver although they exist in the source (excluded entries a run may have sent; excludes.ts).
 */
export function runFallbackDelete(
  remote: RemoteConfig,
  rsync: RsyncSettings,
  root: string,
  parent: string,
  names: readonly string[],
  opts: { signal?: AbortSignal; onArgv?: (argv: readonly string[]) => void; mode?: 'delete' | 'retract' } = {},
): Promise<RsyncOutcome> {
  const argv = buildDeleteFallbackArgv({ remote, rsync, parent });
  opts.onArgv?.(redactArgv(argv));
  return runRsync(argv, { cwd: root, stdinBytes: deleteFallbackRules(parent, names, opts.mode), ...(opts.signal ? { signal: opts.signal } : {}), ...(rsync.renice ? { renice: rsync.renice } : {}) });
}
