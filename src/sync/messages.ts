/**
 * Operator text for rsync outcomes, built in one place: what failed, then the telling line of
 * stderr. Job events, remote-health events and replay records all read it from here.
 */
import type { RsyncOutcome } from './types.js';

/** stderr lines that name the cause, best first: a daemon's own refusal, then the usual suspects, then anything error-like. */
const TELLING: readonly RegExp[] = [
  /^@ERROR/,
  /auth failed|unknown module|connection refused|refused|no route|timed out|no space left|permission denied|read-only/i,
  /error|failed/i,
];

/** rsync's closing summary names only the exit code, already said in front: never the cause. */
const SUMMARY = /^rsync error: .* \(code \d+\) at /;

/**
 * ssh saying a shared connection could not be used (ssh-control.ts): it then connected on its own,
 * so never the cause ("Session open refused by peer" would outrank the real error line).
 */
const SSH_SHARING = /^(mux_client_\w+: |muxclient: |ControlSocket .* already exists, disabling multiplexing|Control socket connect\()/;

/** The most telling line of rsync's stderr (at most 300 characters), or the first line when none looks telling. */
export function causeLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !SUMMARY.test(l) && !SSH_SHARING.test(l));
  const hit = TELLING.map((re) => lines.find((l) => re.test(l))).find((l) => l !== undefined) ?? lines[0];
  return hit !== undefined && hit.length > 300 ? `${hit.slice(0, 300)}…` : hit;
}

/**
 * `rsync to 127.0.0.1::backup failed with exit code 10 (error in socket I/O): rsync: failed to
 * connect to 127.0.0.1 (127.0.0.1): Connection refused (111) [2 of 5 paths]`. Without a remote
 * (`remoteId` undefined: a replay record, which names its remote itself) it reads `rsync failed with…`.
 */
export function failureText(remoteId: string | undefined, o: RsyncOutcome, failed?: number, total?: number): string {
  const how =
    o.spawnError !== undefined
      ? `could not run (${o.meaning}: ${o.spawnError})`
      : o.exitCode !== null
        ? `failed with exit code ${o.exitCode} (${o.meaning})`
        : `was killed by ${o.signal ?? 'a signal'}`;
  const cause = causeLine(o.stderrTail);
  const count = failed !== undefined && total !== undefined && failed !== total ? ` [${failed} of ${total} paths]` : '';
  return `rsync${remoteId !== undefined ? ` to ${remoteId}` : ''} ${how}${cause ? `: ${cause}` : ''}${count}`;
}

/** The outcome alone, for replay records and events that name the remote already. */
export function outcomeText(o: RsyncOutcome): string {
  return failureText(undefined, o);
}
