/**
 * One attempt at a SyncRequest against one remote: the rsync run(s) and which paths did not land.
 * Retry, queueing and events live in lane.ts; this file decides how the paths are sent.
 */
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { buildRsyncArgv, redactArgv } from './argv.js';
import { byParent, missingTops, runFallbackDelete, splitMissing } from './delete.js';
import { runRsync } from './runner.js';
import type { RsyncProgress } from './stats.js';
import type { OutcomeClass, RsyncOutcome, SyncRequest } from './types.js';

/** How this remote takes deletes: the fast form, the filter fallback, or not yet known. */
export type DeleteForm = 'fast' | 'fallback' | 'unknown';

export interface AttemptContext {
  readonly remote: RemoteConfig;
  readonly rsync: RsyncSettings;
  readonly signal: AbortSignal;
  /** The delete form; `probe`: ask the remote if it is not known yet (else answer 'unknown'). */
  readonly deleteForm: (probe: boolean) => Promise<DeleteForm>;
  /** The fast form was rejected mid-job (exit 2): switch this remote to the fallback. */
  readonly rejectFastForm: () => void;
  /** Called with the main argv before it runs (for job-start events). */
  readonly onArgv: (argv: readonly string[]) => void;
  /** A full sync's progress lines. */
  readonly onProgress?: (p: RsyncProgress) => void;
}

export interface AttemptResult {
  /** The outcome to report: the first failing run's, else the main run's. */
  readonly outcome: RsyncOutcome;
  /** Requested paths that did not land; empty = all landed. */
  readonly failed: readonly string[];
}

/** Paths of one run that did not land, from its outcome. */
export function failedOf(outcome: RsyncOutcome, sent: readonly string[]): readonly string[] {
  switch (outcome.class) {
    case 'done':
      return [];
    case 'partial':
      // rsync named the failures: only those; otherwise it could not tell and all are suspect.
      return outcome.failedPaths.length > 0 ? outcome.failedPaths : sent;
    case 'retry':
    case 'fatal':
      return sent;
  }
}

export async function attempt(req: SyncRequest, paths: readonly string[], ctx: AttemptContext): Promise<AttemptResult> {
  const { remote, rsync, signal } = ctx;
  const remotePath = remote.mode === 'ssh' && remote.module.startsWith('/') ? remote.module : undefined;
  const common = { signal, ...(remotePath ? { remotePath } : {}) };
  if (req.full) {
    const argv = buildRsyncArgv({ remote, rsync, action: 'tree', full: true, excludes: req.excludes ?? [], deleteMissing: false, ignoreTimes: false });
    ctx.onArgv(redactArgv(argv));
    const outcome = await runRsync(argv, { cwd: req.root, ...common, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) });
    return { outcome, failed: failedOf(outcome, paths) };
  }
  const ignoreTimes = req.action === 'path';
  const { present, missing } = await splitMissing(req.root, paths);
  const tops = await missingTops(req.root, missing);
  /** Failed stdin entries back to the requested paths they stand for. */
  const expand = (sent: readonly string[]): string[] => sent.flatMap((p) => tops.get(p) ?? [p]);
  // With nothing missing the probe can wait; a known fast form still covers a path that
  // vanishes between the lstat above and the run.
  const form: DeleteForm = await ctx.deleteForm(missing.length > 0);
  if (form === 'fast') {
    const argv = buildRsyncArgv({ remote, rsync, action: req.action, deleteMissing: true, ignoreTimes });
    ctx.onArgv(redactArgv(argv));
    const stdinPaths = [...present, ...tops.keys()];
    const outcome = await runRsync(argv, { cwd: req.root, stdinPaths, ...common });
    if (outcome.exitCode !== 2) return { outcome, failed: expand(failedOf(outcome, stdinPaths)) };
    // rsync #910: this receiver passed the probe but chokes on a real delete: fall back below.
    ctx.rejectFastForm();
  }
  const results: AttemptResult[] = [];
  if (present.length > 0) {
    const argv = buildRsyncArgv({ remote, rsync, action: req.action, deleteMissing: false, ignoreTimes });
    ctx.onArgv(redactArgv(argv));
    const outcome = await runRsync(argv, { cwd: req.root, stdinPaths: present, ...common });
    results.push({ outcome, failed: failedOf(outcome, present) });
  }
  for (const [parent, names] of byParent(tops.keys())) {
    const outcome = await runFallbackDelete(remote, rsync, req.root, parent, names, { signal, onArgv: ctx.onArgv });
    // The filter run names no paths we sent on stdin: a failure fails its whole group.
    results.push({ outcome, failed: outcome.class === 'done' ? [] : expand(names.map((n) => (parent ? `${parent}/${n}` : n))) });
  }
  return combine(results);
}

const SEVERITY: Record<OutcomeClass, number> = { done: 0, partial: 1, retry: 2, fatal: 3 };

function combine(results: readonly AttemptResult[]): AttemptResult {
  const failed = results.flatMap((r) => r.failed);
  const worst = results.reduce<AttemptResult | undefined>((w, r) => (!w || SEVERITY[r.outcome.class] > SEVERITY[w.outcome.class] ? r : w), undefined);
  return { outcome: worst?.outcome ?? emptyOutcome(), failed };
}

function emptyOutcome(): RsyncOutcome {
  return { exitCode: 0, signal: null, class: 'done', meaning: 'nothing to send', stderrTail: '', durationMs: 0, failedPaths: [], spawnError: undefined };
}
