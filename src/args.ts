/** The command line's grammar: flags in, a typed `Args` out (or a UsageError). Pure. */
import { parseArgs } from 'node:util';
import type { PluginName } from './config/types.js';
import { UsageError } from './errors.js';

export const HELP = `tssersync — live replication over rsync, configured by a Sersync confxml.xml

Usage:
  tssersync [-d] [-r] [-n N] [-o FILE]     watch and replicate (Sersync's command line)
  tssersync --check [-o FILE]              validate the config and print the effective settings
  tssersync --retry-log [FILE] [-o FILE]   replay the failed list now; exit 1 while anything is left
  tssersync -m PLUGIN [-o FILE]            run only one plugin (refreshCDN, command, socket, http), no rsync
  tssersync status [-o FILE] [--json]      ask the running daemon: is every remote current?
  tssersync doctor [-o FILE]               check config, remotes, ssh, limits and state dir before going live

Options:
  -o, --config FILE   config file (default ./confxml.xml)
  -r, --full-sync     full sync of every remote once the watchers are up
  -d, --daemon        detach into the background, with a pid file and a log file
      --foreground    stay in the foreground (systemd); logs to the terminal and the log file
  -n, --threads N     concurrent rsync jobs per remote (overrides the config; default 10)
  -m, --plugin NAME   plugin-only mode
      --debug         log every job's argv and path count
      --pid-file F    pid file (default from the config, <stateDir>/tssersync.pid)
      --log-file F    log file (default from the config, <stateDir>/tssersync.log)
      --json          status: print the daemon's answer as JSON (schema in docs/operations.md)
  -h, --help          this help
      --version       print the version

Exit codes: 0 ok; 1 failure (or --retry-log left records); 2 bad command line;
3 config file invalid; 4 environment (missing root, rsync, password file).
status: 0 every remote current; 1 degraded (lag, failing, halted, replay records); 3 no daemon
runs for that config (or its config is invalid: either way, status unknown). doctor: 0 / 1.
Docs: docs/configuration.md, docs/operations.md`;

const PLUGINS: readonly PluginName[] = ['refreshCDN', 'command', 'socket', 'http'];

export type Command = 'run' | 'status' | 'doctor';
const COMMANDS: readonly Command[] = ['status', 'doctor'];

export interface Args {
  /** `status` / `doctor` subcommands; `run` is Sersync's command line. */
  command: Command;
  json: boolean;
  config: string;
  fullSync: boolean;
  daemon: boolean;
  foreground: boolean;
  threads: number | undefined;
  plugin: PluginName | undefined;
  debug: boolean;
  check: boolean;
  retryLog: boolean;
  retryLogFile: string | undefined;
  pidFile: string | undefined;
  logFile: string | undefined;
  daemonChild: boolean;
}

export function parseCli(argv: readonly string[]): Args | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'o' },
        'full-sync': { type: 'boolean', short: 'r' },
        daemon: { type: 'boolean', short: 'd' },
        foreground: { type: 'boolean' },
        threads: { type: 'string', short: 'n' },
        plugin: { type: 'string', short: 'm' },
        debug: { type: 'boolean' },
        check: { type: 'boolean' },
        'retry-log': { type: 'boolean' },
        'pid-file': { type: 'string' },
        'log-file': { type: 'string' },
        'daemon-child': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)} (see tssersync -h)`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  const positionals = [...parsed.positionals];
  const command: Command = COMMANDS.includes(positionals[0] as Command) && !v['retry-log'] ? (positionals.shift() as Command) : 'run';
  // `--retry-log [FILE]`: the optional value arrives as a positional.
  if (positionals.length > (v['retry-log'] ? 1 : 0)) {
    throw new UsageError(`unexpected argument "${positionals[v['retry-log'] ? 1 : 0]}" (see tssersync -h)`);
  }
  let threads: number | undefined;
  if (v.threads !== undefined) {
    threads = Number(v.threads);
    if (!/^\d+$/.test(v.threads) || threads < 1 || threads > 1000) throw new UsageError(`-n expects a thread count from 1 to 1000, got "${v.threads}"`);
  }
  let plugin: PluginName | undefined;
  if (v.plugin !== undefined) {
    if (!PLUGINS.includes(v.plugin as PluginName)) throw new UsageError(`-m expects one of ${PLUGINS.join(', ')}, got "${v.plugin}"`);
    plugin = v.plugin as PluginName;
  }
  if (v.json && command !== 'status') throw new UsageError('--json goes with tssersync status (see tssersync -h)');
  return {
    command,
    json: v.json ?? false,
    config: v.config ?? 'confxml.xml',
    fullSync: v['full-sync'] ?? false,
    daemon: v.daemon ?? false,
    foreground: v.foreground ?? false,
    threads,
    plugin,
    debug: v.debug ?? false,
    check: v.check ?? false,
    retryLog: v['retry-log'] ?? false,
    retryLogFile: v['retry-log'] ? positionals[0] : undefined,
    pidFile: v['pid-file'],
    logFile: v['log-file'],
    daemonChild: v['daemon-child'] ?? false,
  };
}

