/**
 * `tssersync status -o FILE [--json]`: ask the running daemon of that config and print its answer.
 * Exit 0 every remote current, 1 degraded, 5 no daemon runs for that config: a code of its own, so a
 * check can tell it from 2 (bad command line), 3 (invalid config) and 4 (environment); Nagios reads
 * any code past 3 as UNKNOWN.
 */
import type { Config } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { formatReport } from './report.js';
import { askStatus, statusSocketPath } from './socket.js';

export const STATUS_EXIT = { current: 0, degraded: 1, notRunning: 5 } as const;

export async function runStatus(config: Config, json: boolean, out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  const path = statusSocketPath(config.stateDir);
  const answer = await askStatus(path);
  if (answer.kind === 'not-running') {
    if (json) out(JSON.stringify({ version: 1, running: false, config: config.file, socket: path }));
    err(`tssersync: not running for ${config.file} (${answer.why}); start it with tssersync -d -o ${config.file}`);
    return STATUS_EXIT.notRunning;
  }
  const r = answer.report;
  if (r.config !== config.file) err(`tssersync: note: the daemon on ${path} runs ${r.config}, not ${config.file} (they share a state dir)`);
  out(json ? JSON.stringify(r, null, 2) : formatReport(r));
  return r.current ? ExitCode.ok : STATUS_EXIT.degraded;
}
