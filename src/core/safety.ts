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

export type SafetyHalt = { readonly check: 'rootMissing' | 'rootEmptyFullSync'; readonly message: string };

/** A missing root makes every path look deleted: nothing may run until it is back. */
export function rootMissing(state: RootState): boolean {
  return !state.exists || !state.isDir;
}

/**
 * A recursive sync of the whole root with --delete against an empty root would empty the remote:
 * the typical look of an unmounted disk, whose mount point is an empty directory.
 */
export function batchDeletesWholeRoot(job: RsyncJob, state: RootState): boolean {
  return job.action === 'tree' && job.paths.includes('') && state.empty;
}

export function checkJobs(root: string, jobs: readonly RsyncJob[], state: RootState): SafetyHalt | undefined {
  if (rootMissing(state)) {
    return { check: 'rootMissing', message: `watch root ${root} is missing or not a directory (unmounted?): replication and deletes for it are halted until it is back` };
  }
  if (jobs.some((j) => batchDeletesWholeRoot(j, state))) {
    return { check: 'rootEmptyFullSync', message: `watch root ${root} is empty (unmounted?): refusing a full sync that would delete everything on the remote; halted until it has content` };
  }
  return undefined;
}
