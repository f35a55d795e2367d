/**
 * Safety checks: named predicates that run on the plan before any effect (STYLE 6). When one is
 * true, the channel halts with a named status and a one-line message, and the job never runs.
 */
import type { RsyncJob } from './types.js';

/** What the edge saw of a watch root just before dispatching jobs. */
export interface RootState {
  readonly exists: boolean;
  readonly isDir: boolean;
  readonly empty: boolean;
}

export type SafetyHalt = { readonly check: 'rootMissing' | 'rootEmpty'; readonly message: string };

/** A missing root makes every path look deleted: nothing may run until it is back. */
export function rootMissing(state: RootState): boolean {
  return !state.exists || !state.isDir;
}

/**
 * With nothing in the root, every job is a delete: that is how an unmounted disk (its mount point
 * is an empty directory) or an `rm -rf root/*` by mistake looks. Deletes wait until the root has
 * content again; the cost is that deleting the very last file of a root waits too.
 */
export function rootEmpty(state: RootState): boolean {
  return state.exists && state.isDir && state.empty;
}

export function checkJobs(root: string, jobs: readonly RsyncJob[], state: RootState): SafetyHalt | undefined {
  if (jobs.length === 0) return undefined;
  if (rootMissing(state)) {
    return { check: 'rootMissing', message: `watch root ${root} is missing or not a directory (unmounted?): replication and deletes for it are halted until it is back` };
  }
  if (rootEmpty(state)) {
    return { check: 'rootEmpty', message: `watch root ${root} is empty (unmounted or wiped?): deletes for it are halted until it has content again; nothing is deleted on the remotes` };
  }
  return undefined;
}
