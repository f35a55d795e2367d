/**
 * Replays records: groups them (group.ts), hands each group to `run` (the engine's rsync lane or
 * hook), and accounts for every record: replayed, or left with its new cause and attempts + 1.
 * No file system here: the caller reads and rewrites the log around this.
 */
import { errorText } from './fs-durable.js';
import { groupRecords, recordKey, type ReplayGroup } from './group.js';
import type { ReplayRecord } from './types.js';

export type { ReplayGroup } from './group.js';
export { formatReplayReport } from './report.js';

export interface GroupResult {
  /** Group paths that still fail; paths not in the group are ignored. */
  readonly failed: readonly string[];
  readonly exitCode: number | null;
  readonly message: string;
}

export interface ReplayResult {
  /** Records that landed, one per distinct (remote, root, action, path). */
  replayed: ReplayRecord[];
  /** Records still failing, one per distinct key, with the new cause. */
  left: ReplayRecord[];
}

export async function replayRecords(
  records: readonly ReplayRecord[],
  run: (group: ReplayGroup) => Promise<GroupResult>,
  now: () => Date,
): Promise<ReplayResult> {
  const plan = groupRecords(records);
  const results = new Array<GroupResult>(plan.groups.length);

  // One remote never waits for another; within a remote, groups go one after the other (the
  // lane has its own concurrency and a dead remote would only fail them all at once).
  const byRemote = new Map<string, number[]>();
  plan.groups.forEach((g, i) => byRemote.set(g.remote, [...(byRemote.get(g.remote) ?? []), i]));
  await Promise.all(
    [...byRemote.values()].map(async (idx) => {
      for (const i of idx) {
        const g = plan.groups[i]!;
        results[i] = await run(g).catch((err: unknown) => ({ failed: g.paths, exitCode: null, message: errorText(err) }));
      }
    }),
  );

  const time = now().toISOString();
  const failedSets = results.map((r) => new Set(r.failed));
  const replayed = new Map<string, ReplayRecord>();
  const left = new Map<string, ReplayRecord>();
  records.forEach((r, i) => {
    const c = plan.carrier[i]!;
    const k = recordKey(r);
    if (!failedSets[c.group]!.has(c.path)) {
      if (!replayed.has(k)) replayed.set(k, r);
      return;
    }
    const res = results[c.group]!;
    const prev = left.get(k);
    const since = [prev?.since, r.since ?? r.time].filter((s): s is string => s !== undefined).sort()[0]!;
    const attempts = Math.max(prev ? prev.attempts : 0, r.attempts + 1);
    left.set(k, { ...r, time, exitCode: res.exitCode, message: res.message || 'failed (no message)', attempts, since });
  });
  return { replayed: [...replayed.values()], left: [...left.values()] };
}
