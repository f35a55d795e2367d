/** One-line operator text for an rsync outcome: what failed and the most telling line of stderr. */
import type { RsyncOutcome } from '../sync/types.js';

/** Lines that name the cause, best first: a daemon's refusal, then the usual suspects. */
const TELLING = [/^@ERROR/, /auth failed|unknown module|connection refused|no route|timed out|no space left|permission denied|read-only/i, /error|failed/i];

export function causeOf(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  for (const re of TELLING) {
    const hit = lines.find((l) => re.test(l));
    if (hit) return hit;
  }
  return lines[0];
}

export function outcomeText(o: RsyncOutcome): string {
  if (o.spawnError) return `could not run rsync: ${o.spawnError}`;
  const code = o.exitCode !== null ? `exit code ${o.exitCode} (${o.meaning})` : `signal ${o.signal ?? '?'}`;
  const cause = causeOf(o.stderrTail);
  return cause ? `${code}: ${cause}` : code;
}
