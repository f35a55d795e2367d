/** Operator text for rsync failures, built in one place: what failed, then the telling detail. */
import type { RsyncOutcome } from './types.js';

/** stderr lines that name the cause, best first: a daemon's own refusal, then anything error-like. */
const TELLING: readonly RegExp[] = [/^@ERROR/, /auth failed|unknown module|connection refused|permission denied|refused|timed out|no space left/i, /error|failed/i];

export function causeLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !/^rsync error: .* \(code \d+\) at /.test(l));
  for (const re of TELLING) {
    const hit = lines.find((l) => re.test(l));
    if (hit) return hit.length > 300 ? `${hit.slice(0, 300)}…` : hit;
  }
  return undefined;
}

/**
 * `rsync to 127.0.0.1::backup failed with exit code 10 (error in socket I/O): rsync: failed to
 * connect to 127.0.0.1 (127.0.0.1): Connection refused (111) [2 of 5 paths]`
 */
export function failureText(remoteId: string, o: RsyncOutcome, failed?: number, total?: number): string {
  const how =
    o.spawnError !== undefined
      ? `could not run (${o.meaning}: ${o.spawnError})`
      : o.exitCode !== null
        ? `failed with exit code ${o.exitCode} (${o.meaning})`
        : `was killed by ${o.signal ?? 'a signal'}`;
  const cause = causeLine(o.stderrTail);
  const count = failed !== undefined && total !== undefined && failed !== total ? ` [${failed} of ${total} paths]` : '';
  return `rsync to ${remoteId} ${how}${cause ? `: ${cause}` : ''}${count}`;
}
