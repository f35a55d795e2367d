/** The pending-changes file format: shape, location and validation (no side effects). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Action } from '../core/types.js';
import { errnoCode, errorText } from './fs-durable.js';

export interface PendingSnapshot {
  /** ISO time of the save. */
  readonly savedAt: string;
  readonly lanes: readonly {
    readonly remote: string;
    readonly root: string;
    readonly entries: readonly { readonly path: string; readonly action: Action }[];
  }[];
}

/**
 * Where the engine keeps the snapshot inside its state dir (markRunning checks it too). `run`
 * names a run that is not the replication daemon (`m-NAME` for `-m NAME`): it keeps files of its
 * own, so a plugin-only run never overwrites the daemon's pending changes or stop time.
 */
export const PENDING_FILE = 'pending.json';
export const pendingPath = (stateDir: string, run?: string) => join(stateDir, run ? `pending.${run}.json` : PENDING_FILE);

/** Bumped when the format changes; an unknown version is treated as corrupt (= full sync). */
export const PENDING_VERSION = 1;

export type PendingRead = { kind: 'missing' } | { kind: 'ok'; snapshot: PendingSnapshot } | { kind: 'corrupt'; error: string };

/** Read and validate without side effects. */
export async function readPending(file: string): Promise<PendingRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', error: `unreadable: ${errorText(err)}` };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { kind: 'corrupt', error: `not JSON (${errorText(err)})` };
  }
  const error = shapeError(v);
  if (error) return { kind: 'corrupt', error };
  const o = v as { savedAt: string; lanes: PendingSnapshot['lanes'] };
  return { kind: 'ok', snapshot: { savedAt: o.savedAt, lanes: o.lanes } };
}

function shapeError(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (o.version !== PENDING_VERSION) return `unknown version ${JSON.stringify(o.version)} (expected ${PENDING_VERSION})`;
  if (typeof o.savedAt !== 'string') return 'savedAt: expected a string';
  if (!Array.isArray(o.lanes)) return 'lanes: expected an array';
  for (const [i, l] of o.lanes.entries()) {
    if (typeof l !== 'object' || l === null || typeof l.remote !== 'string' || typeof l.root !== 'string' || !Array.isArray(l.entries)) {
      return `lanes[${i}]: expected { remote, root, entries[] }`;
    }
    for (const [j, e] of (l.entries as unknown[]).entries()) {
      const ok = typeof e === 'object' && e !== null && 'path' in e && typeof e.path === 'string' && 'action' in e && (e.action === 'path' || e.action === 'tree');
      if (!ok) return `lanes[${i}].entries[${j}]: expected { path: string, action: "path" | "tree" }`;
    }
  }
  return undefined;
}

