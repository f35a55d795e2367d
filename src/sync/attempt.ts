/**
 * One attempt at a SyncRequest against one remote: the rsync run(s) and which paths did not land.
 * Retry, queueing and events live in lane.ts; this file decides how the paths are sent.
 */
import { lstatSync, type Stats } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { RemoteConfig, RsyncSettings } from '../config/types.js';
import { isExactName, pathBytes } from '../core/names.js';
import { ancestors } from '../core/paths.js';
import type { Rename } from '../core/types.js';
import { buildRsyncArgv, excludeRules, redactArgv, refusedChecksum, type ArgvInput, type ForceForm } from './argv.js';
import { byParent, missingTops, runFallbackDelete, splitMissing } from './delete.js';
import { appearedDuring, excludedBelow, planExcludes, splitExcluded, withExcludeRules, withRulesFile, withRulesFiles } from './excludes.js';
import { partRules, partZeroRules, planParts, type FullSyncSplit, type PartPlan } from './full-parts.js';
import { planSeeds, RULES_FILE, type Seed, type SeedTarget } from './rename.js';
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
  /** How forced sends bypass the quick check on this remote (argv.ts FORCE_OPTION); unset: --checksum. */
  readonly forceForm?: () => ForceForm;
  /** The remote refused --checksum (exit 4, rsyncd.conf `refuse options`): use --ignore-times from now on. */
  readonly rejectChecksum?: () => void;
  /** Called with the main argv before it runs (for job-start events). */
  readonly onArgv: (argv: readonly string[]) => void;
  /** A full sync's progress lines. */
  readonly onProgress?: (p: RsyncProgress) => void;
  /** How a full sync may be cut into runs at once (full-parts.ts); unset = one run. */
  readonly fullSplit?: FullSyncSplit;
  /** A full sync runs in parts: the plan, before the runs start. */
  readonly onParts?: (plan: PartPlan) => void;
  /** A rename's seed ran (rename.ts), or was not applicable (`outcome` undefined, `why` says). */
  readonly onSeed?: (rename: Rename, result: { outcome: RsyncOutcome; argv: readonly string[] } | { why: string }) => void;
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
  if (!req.full && !paths.every(isExactName)) return viaExactAncestors(req, paths, ctx);
  const { remote, rsync, signal } = ctx;
  const remotePath = remote.mode === 'ssh' && remote.module.startsWith('/') ? remote.module : undefined;
  const common = { signal, ...(remotePath ? { remotePath } : {}), ...(rsync.renice ? { renice: rsync.renice } : {}) };
  // One exclude model (excludes.ts): the real-time filter applies to every route that reaches here.
  const live = rsync.excludes ?? [];
  if (req.full) {
    const excluded = await excludedBelow(req.root, [''], live);
    const plan = await planParts(req.root, rsync, ctx.fullSplit);
    const progress = partProgress(1 + (plan?.parts.length ?? 0), ctx.onProgress);
    const full = (rulesFile: string | undefined, partRulesFile: string | undefined, onProgress: ((p: RsyncProgress) => void) | undefined) => async (): Promise<AttemptResult> => {
      const argv = buildRsyncArgv({ remote, rsync, action: 'tree', full: true, excludes: req.excludes ?? [], deleteMissing: false, ignoreTimes: req.ignoreTimes ?? false, ...(rulesFile ? { rulesFile } : {}), ...(partRulesFile ? { partRulesFile } : {}) });
      ctx.onArgv(redactArgv(argv));
      const outcome = await runRsync(argv, { cwd: req.root, ...common, ...(onProgress ? { onProgress } : {}) });
      return { outcome, failed: failedOf(outcome, paths) };
    };
    if (!plan) return retractLate(req, [''], excluded, paths, await withExcludeRules(live, excluded, (rules) => full(rules, undefined, progress[0])()), ctx);
    ctx.onParts?.(plan);
    const { globs } = planExcludes(live);
    // Part 0: the whole root but the other parts' units; parts 1…K-1: only their units. Each part's
    // own rules come after every other filter (the excludes still apply inside its units), and
    // start with a rule that lets what is below the units through at once (full-parts.ts).
    const sets = [excludeRules(excluded, globs), partZeroRules(plan.others), ...plan.parts.map(partRules)];
    const res = await withRulesFiles(sets, async ([excludes, ...own]) => {
      const rest = excluded.length > 0 || globs.length > 0 ? excludes : undefined;
      const runs = own.map((file, i) => full(rest, file, progress[i]));
      const results = await Promise.all(runs.map((run) => run()));
      // A daemon module's `max connections` turned a part away: once the others are done, one at a
      // time. The daemon's process for the last connection may hold its slot a moment after our
      // rsync exited, so a refusal again is waited out (50 ms, doubling, about 6 s in all).
      for (let i = 0; i < runs.length; i++) {
        for (let wait = 50; connectionsFull(results[i]!.outcome) && wait <= 3200 && !ctx.signal.aborted; wait *= 2) {
          results[i] = await runs[i]!();
          if (connectionsFull(results[i]!.outcome)) await delay(wait, undefined, { signal: ctx.signal }).catch(() => {});
        }
      }
      // A directory above the units is set by several parts. Where the remote has a file (or a
      // link) in its place, each of them replaces it, and one that lstat'ed the file just before
      // another part put the directory there fails to unlink a directory ("could not make way for
      // new directory", exit 23). Alone, the part finds the directory in place: a part that did not
      // fully land runs once more after the others, before the outcome counts.
      for (let i = 0; i < runs.length && !ctx.signal.aborted; i++) if (results[i]!.outcome.class === 'partial') results[i] = await runs[i]!();
      return combineParts(results);
    });
    return retractLate(req, [''], excluded, paths, res, ctx);
  }
  // Excluded paths are done without rsync: never sent, and never deleted on a remote.
  const { kept } = await splitExcluded(req.root, paths, live);
  const ignoreTimes = req.ignoreTimes ?? req.action === 'path';
  const { present, missing } = await splitMissing(req.root, kept);
  const trees = req.action === 'tree' ? present : [];
  const excluded = await excludedBelow(req.root, trees, live);
  // After the walk: an excluded entry a seed sends is retracted with the job's (retractLate).
  if (req.renames && req.renames.length > 0) await seedRenames(req.root, req.renames, present, excluded, ctx);
  // A path job does not recurse and its paths are filtered already: no rules to give rsync.
  const res = trees.length === 0 ? await send(req, present, missing, ignoreTimes, undefined, ctx) : await withExcludeRules(live, excluded, (rulesFile) => send(req, present, missing, ignoreTimes, rulesFile, ctx));
  return retractLate(req, trees, excluded, trees, res, ctx);
}

/**
 * Before the job's own send: let the receiver build each renamed path that is still there from its
 * old copy (rename.ts). Best effort, one at a time; a failure only means the send moves the bytes.
 */
async function seedRenames(root: string, renames: readonly Rename[], present: readonly string[], excluded: readonly string[], ctx: AttemptContext): Promise<void> {
  const here = new Set(present);
  // Sent by this job: listed, or below a listed tree. Nothing excluded is seeded.
  const covered = (to: string): boolean => here.has(to) || [...ancestors(to)].some((a) => here.has(a));
  const out = (to: string): boolean => excluded.some((x) => x === to || to.startsWith(`${x}/`));
  const targets: SeedTarget[] = [];
  for (const rename of renames) {
    if (!covered(rename.to) || out(rename.to)) continue;
    // lstatSync: ~10 µs against 50-75 µs through fs/promises (send-plan.ts); a storm's tree job
    // carries a hundred renames and more (14 ms of the CLI's main thread in a storm's profile).
    const st = lstatOrUndefined(pathBytes(root, rename.to));
    if (st?.isDirectory()) targets.push({ rename, kind: 'dir' });
    else if (st?.isFile()) targets.push({ rename, kind: 'file', size: st.size });
  }
  const { seeds, skipped } = planSeeds({ remote: ctx.remote, rsync: ctx.rsync, targets, excluded, globs: planExcludes(ctx.rsync.excludes ?? []).globs });
  for (const s of skipped) ctx.onSeed?.(s.rename, { why: s.why });
  for (const seed of seeds) {
    if (ctx.signal.aborted) return;
    const outcome = await runSeed(seed, (argv, stdin) => runRsync(argv, { cwd: root, signal: ctx.signal, ...stdin, ...(ctx.rsync.renice ? { renice: ctx.rsync.renice } : {}) }));
    for (const r of seed.renames) ctx.onSeed?.(r, { outcome, argv: redactArgv(seed.argv) });
  }
}

function lstatOrUndefined(abs: Buffer): Stats | undefined {
  try {
    return lstatSync(abs, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** A seed's argv and stdin, its rules in a 0600 temp file when stdin carries names. */
function runSeed<T>(seed: Seed, fn: (argv: string[], stdin: { stdinPaths?: readonly string[]; stdinBytes?: Buffer }) => Promise<T>): Promise<T> {
  if (!seed.rulesInFile || !seed.rules) return fn(seed.argv, seed.stdinPaths ? { stdinPaths: seed.stdinPaths } : seed.rules ? { stdinBytes: seed.rules } : {});
  return withRulesFile(seed.rules, (file) => fn(seed.argv.map((w) => w.replace(RULES_FILE, file)), seed.stdinPaths ? { stdinPaths: seed.stdinPaths } : {}));
}

/**
 * An excluded entry created inside a tree after the walk and before rsync read its directory was
 * sent without a rule to stop it. Found by walking again once rsync is done: each such entry is
 * deleted from the receiver again (`retract`), so the remote ends as the source minus the excludes.
 * Entries the first walk saw are never touched (their remote copies stay). If the retraction
 * fails, the trees fail with it and are sent again.
 */
async function retractLate(req: SyncRequest, trees: readonly string[], before: readonly string[], owners: readonly string[], res: AttemptResult, ctx: AttemptContext): Promise<AttemptResult> {
  // A run that did not get through sent nothing to retract; its retry walks again.
  if (res.outcome.class === 'retry' || res.outcome.class === 'fatal') return res;
  const late = await appearedDuring(req.root, trees, ctx.rsync.excludes ?? [], before);
  if (late.length === 0) return res;
  const results: AttemptResult[] = [res];
  for (const [parent, names] of byParent(late)) {
    const outcome = await runFallbackDelete(ctx.remote, ctx.rsync, req.root, parent, names, { signal: ctx.signal, onArgv: ctx.onArgv, mode: 'retract' });
    results.push({ outcome, failed: outcome.class === 'done' ? [] : owners.filter((t) => t === '' || parent === t || parent.startsWith(`${t}/`)) });
  }
  const out = combine(results);
  return { outcome: out.outcome, failed: [...new Set(out.failed)] };
}

async function send(req: SyncRequest, present: string[], missing: string[], ignoreTimes: boolean, rulesFile: string | undefined, ctx: AttemptContext): Promise<AttemptResult> {
  const { remote, rsync, signal } = ctx;
  const remotePath = remote.mode === 'ssh' && remote.module.startsWith('/') ? remote.module : undefined;
  const common = { signal, ...(remotePath ? { remotePath } : {}), ...(rsync.renice ? { renice: rsync.renice } : {}) };
  const rules = rulesFile ? { rulesFile } : {};
  const tops = await missingTops(req.root, missing);
  /** Failed stdin entries back to the requested paths they stand for. */
  const expand = (sent: readonly string[]): string[] => sent.flatMap((p) => tops.get(p) ?? [p]);
  // With nothing missing the probe can wait; a known fast form still covers a path that
  // vanishes between the lstat above and the run.
  const form: DeleteForm = await ctx.deleteForm(missing.length > 0);
  /** One run of this send; a forced one again with --ignore-times if the daemon refuses --checksum (it does so before any transfer). */
  const run = async (input: Omit<ArgvInput, 'remote' | 'rsync' | 'ignoreTimes' | 'forceForm'>, stdinPaths: readonly string[]): Promise<RsyncOutcome> => {
    const once = async (forceForm: ForceForm | undefined): Promise<RsyncOutcome> => {
      const argv = buildRsyncArgv({ remote, rsync, ignoreTimes, ...(forceForm ? { forceForm } : {}), ...input });
      ctx.onArgv(redactArgv(argv));
      return runRsync(argv, { cwd: req.root, stdinPaths, ...common });
    };
    const forceForm = ignoreTimes ? (ctx.forceForm?.() ?? 'checksum') : undefined;
    const outcome = await once(forceForm);
    if (forceForm !== 'checksum' || !refusedChecksum(outcome.exitCode, outcome.stderrTail)) return outcome;
    ctx.rejectChecksum?.();
    return once('ignore-times');
  };
  if (form === 'fast') {
    const stdinPaths = [...present, ...tops.keys()];
    const outcome = await run({ action: req.action, deleteMissing: true, ...rules }, stdinPaths);
    if (outcome.exitCode !== 2) return { outcome, failed: expand(failedOf(outcome, stdinPaths)) };
    // rsync #910: this receiver passed the probe but chokes on a real delete: fall back below.
    ctx.rejectFastForm();
  }
  const results: AttemptResult[] = [];
  // A top that exists is a non-directory standing where a directory was: it is sent, not deleted.
  const { present: replaced, missing: deletes } = await splitMissing(req.root, [...tops.keys()]);
  const send = [...present, ...replaced];
  if (send.length > 0) {
    const outcome = await run({ action: req.action, deleteMissing: false, ...rules }, send);
    results.push({ outcome, failed: expand(failedOf(outcome, send)) });
  }
  for (const [parent, names] of byParent(deletes)) {
    const outcome = await runFallbackDelete(remote, rsync, req.root, parent, names, { signal, onArgv: ctx.onArgv });
    // The filter run names no paths we sent on stdin: a failure fails its whole group.
    results.push({ outcome, failed: outcome.class === 'done' ? [] : expand(names.map((n) => (parent ? `${parent}/${n}` : n))) });
  }
  return combine(results);
}

/**
 * A name that came through a lossy decoding (U+FFFD for bytes nobody knows any more) cannot be
 * given to rsync: as a path it names nothing, and the fast delete form would call that "deleted"
 * and report it landed while the real file was never sent. Such a path is sent as its nearest
 * exact ancestor directory, as a tree (the root: a full sync), and fails or lands with it.
 */
async function viaExactAncestors(req: SyncRequest, paths: readonly string[], ctx: AttemptContext): Promise<AttemptResult> {
  const exact = paths.filter(isExactName);
  const owners = new Map<string, string[]>();
  for (const p of paths) {
    if (isExactName(p)) continue;
    let a = p;
    do a = a.includes('/') ? a.slice(0, a.lastIndexOf('/')) : '';
    while (a !== '' && !isExactName(a));
    owners.set(a, [...(owners.get(a) ?? []), p]);
  }
  const results: AttemptResult[] = [];
  if (exact.length > 0) results.push(await attempt({ ...req, paths: exact }, exact, ctx));
  const trees = [...owners.keys()];
  const treeReq: SyncRequest = owners.has('') ? { root: req.root, action: 'tree', paths: [''], full: true } : { root: req.root, action: 'tree', paths: trees };
  const r = await attempt(treeReq, treeReq.paths, ctx);
  results.push({ outcome: r.outcome, failed: r.failed.flatMap((t) => (t === '' ? paths.filter((p) => !isExactName(p)) : (owners.get(t) ?? []))) });
  return combine(results);
}

const SEVERITY: Record<OutcomeClass, number> = { done: 0, partial: 1, retry: 2, fatal: 3 };

function combine(results: readonly AttemptResult[]): AttemptResult {
  const failed = results.flatMap((r) => r.failed);
  const worst = results.reduce<AttemptResult | undefined>((w, r) => (!w || SEVERITY[r.outcome.class] > SEVERITY[w.outcome.class] ? r : w), undefined);
  return { outcome: worst?.outcome ?? emptyOutcome(), failed };
}

/**
 * The runs of a full sync in parts as one: the worst outcome, with the bytes of all and the
 * duration of the longest (they ran at once).
 */
function combineParts(results: readonly AttemptResult[]): AttemptResult {
  const { outcome, failed } = combine(results);
  const sent = results.map((r) => r.outcome.bytesSent).filter((b): b is number => b !== undefined);
  const durationMs = Math.max(...results.map((r) => r.outcome.durationMs));
  return { outcome: { ...outcome, durationMs, ...(sent.length > 0 ? { bytesSent: sent.reduce((a, b) => a + b, 0) } : {}) }, failed: [...new Set(failed)] };
}

/** The daemon refused the connection for its module's `max connections` (rsyncd.conf). */
function connectionsFull(o: RsyncOutcome): boolean {
  return o.class !== 'done' && /max connections \(\d+\) reached/.test(o.stderrTail);
}

/** One progress callback per run; each reports the sum of the latest of all. */
function partProgress(runs: number, onProgress: ((p: RsyncProgress) => void) | undefined): (((p: RsyncProgress) => void) | undefined)[] {
  if (!onProgress) return new Array(runs).fill(undefined);
  if (runs === 1) return [onProgress];
  const latest: RsyncProgress[] = Array.from({ length: runs }, () => ({ bytes: 0, checked: 0 }));
  return latest.map((_, i) => (p: RsyncProgress) => {
    latest[i] = p;
    onProgress({ bytes: latest.reduce((a, q) => a + q.bytes, 0), checked: latest.reduce((a, q) => a + q.checked, 0) });
  });
}

function emptyOutcome(): RsyncOutcome {
  return { exitCode: 0, signal: null, class: 'done', meaning: 'nothing to send', stderrTail: '', durationMs: 0, failedPaths: [], spawnError: undefined };
}
