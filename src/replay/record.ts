/**
 * One replay record ⇄ one line of JSON. JSON.stringify escapes newlines, quotes and control
 * characters, so any file name is one line; a line is never interpreted as anything but data
 * (Sersync's fail log was a shell script; this one is not).
 */
import type { ReplayRecord } from './types.js';

/** Identity of a record (dedupe, merges): the same failure logged twice is one piece of work. */
export function recordKey(r: ReplayRecord): string {
  return JSON.stringify([r.remote, r.root, r.action, r.path]);
}

export function recordLine(r: ReplayRecord): string {
  // Fixed key order keeps the file diffable; `since` only when it differs from `time`.
  const o: Record<string, unknown> = {
    time: r.time,
    root: r.root,
    remote: r.remote,
    path: r.path,
    action: r.action,
    exitCode: r.exitCode,
    message: r.message,
    attempts: r.attempts,
  };
  if (r.since !== undefined && r.since !== r.time) o.since = r.since;
  return `${JSON.stringify(o)}\n`;
}

/** Parse one line; the error says which field is wrong, for the "skipped a corrupt line" report. */
export function parseRecordLine(line: string): { ok: true; record: ReplayRecord } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  const bad = (field: string, expected: string) => ({ ok: false as const, error: `field "${field}": expected ${expected}, got ${JSON.stringify(o[field]) ?? 'nothing'}` });
  for (const f of ['time', 'root', 'remote', 'path', 'message'] as const) if (typeof o[f] !== 'string') return bad(f, 'a string');
  if (o.root === '' || o.remote === '') return bad(o.root === '' ? 'root' : 'remote', 'a non-empty string');
  if (o.action !== 'path' && o.action !== 'tree') return bad('action', '"path" or "tree"');
  if (o.exitCode !== null && !Number.isInteger(o.exitCode)) return bad('exitCode', 'an integer or null');
  if (!Number.isInteger(o.attempts) || (o.attempts as number) < 0) return bad('attempts', 'a non-negative integer');
  if (o.since !== undefined && typeof o.since !== 'string') return bad('since', 'a string');
  const record: ReplayRecord = {
    time: o.time as string,
    root: o.root as string,
    remote: o.remote as string,
    path: o.path as string,
    action: o.action,
    exitCode: o.exitCode as number | null,
    message: o.message as string,
    attempts: o.attempts as number,
    ...(typeof o.since === 'string' ? { since: o.since } : {}),
  };
  return { ok: true, record };
}
