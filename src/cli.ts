#!/usr/bin/env node
/**
 * Command line: parse arguments, pick the mode, map errors to exit codes. Nothing else: the
 * engine does the work, src/daemon.ts detaches, src/log.ts prints.
 */
import './tiering.js'; // first: V8's tiering before any other module runs (see the file)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, ExitCode, TssersyncError } from './errors.js';
import type { Config } from './config/types.js';
import { parseCli, HELP, type Args } from './args.js';
import { loadConfig, describeConfig } from './config/index.js';
import { formatReplayReport } from './replay/replayer.js';
import { Engine } from './engine.js';
import { createLogger, type Logger } from './log.js';
import { daemonize, notifyParentReady, writePidFile, removePidFile } from './daemon.js';
import { showFullSyncProgress, logProgress, SourceCounter, TOTALS_FILE } from './progress.js';
import { adoptLegacyState } from './replay/legacy-state.js';
import type { Emit } from './events.js';
import { StatusService } from './status/service.js';
import { runStatus } from './status/command.js';
import type { MetricsServer } from './metrics/server.js';
import { AlertHooks } from './hooks/alerts.js';
import { runDoctor } from './doctor/index.js';
import { findExecutable } from './sync/which.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** rsync must be there before anything starts: looked up as spawn would look it up, without a spawn. */
function requireRsync(config: Config): void {
  if (findExecutable(config.rsync.binary) === undefined) {
    throw new EnvironmentError(`rsync is not installed (looked for "${config.rsync.binary}"): install it, e.g. apt-get install rsync`);
  }
}

async function load(args: Args): Promise<Config> {
  const overrides = { ...(args.threads !== undefined ? { threads: args.threads } : {}), ...(args.debug ? { debug: true } : {}) };
  const config = await loadConfig(args.config, overrides);
  return {
    ...config,
    ...(args.pidFile ? { pidFile: args.pidFile } : {}),
    ...(args.logFile ? { logFile: args.logFile } : {}),
    ...(args.retryLogFile ? { failLog: { ...config.failLog, path: args.retryLogFile } } : {}),
  };
}

/** State left in the shared dir by earlier versions: this config takes what is for its roots. */
async function adoptLegacy(config: Config, emit: Emit): Promise<void> {
  if (config.legacyStateDir === undefined) return;
  const pluginRoots = (config.definedPlugins ?? config.plugins).flatMap((p) => ('watch' in p && p.watch ? [p.watch] : []));
  const roots = [...config.roots.map((r) => r.path), ...pluginRoots];
  await adoptLegacyState({ legacyDir: config.legacyStateDir, stateDir: config.stateDir, roots, replayLog: config.failLog.path, emit });
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseCli(argv);
  if (args === 'help') return (console.log(HELP), ExitCode.ok);
  if (args === 'version') return (console.log(version()), ExitCode.ok);

  if (args.command === 'status') return runStatus(await load(args), args.json);
  if (args.command === 'doctor') return runDoctor(args.config, args.threads !== undefined ? { threads: args.threads } : {});

  if (args.check) {
    const config = await load(args);
    console.log(describeConfig(config));
    console.log(`\n${args.config}: OK`);
    return ExitCode.ok;
  }

  if (args.retryLog) {
    const config = await load(args);
    requireRsync(config);
    const logger = createLogger({ console: true, debug: config.debug });
    await adoptLegacy(config, logger.emit);
    const engine = new Engine(config, { emit: logger.emit });
    const result = await engine.replayNow({ operator: true });
    console.log(formatReplayReport({ replayed: [...result.replayed], left: [...result.left] }));
    const alerts = await new AlertHooks(config, { emit: logger.emit }).replayNow();
    if (alerts.replayed + alerts.left > 0) console.log(`alerts: ${alerts.replayed} replayed, ${alerts.left} still failing`);
    if (result.corrupt > 0) console.log(`${result.corrupt} corrupt line(s) were skipped and moved to ${engine.replayLog.path}.corrupt`);
    await logger.close();
    return result.left.length > 0 || alerts.left > 0 ? ExitCode.failure : ExitCode.ok;
  }

  const config = await load(args);
  if (!args.plugin) requireRsync(config);

  if (args.daemon && !args.daemonChild && !args.foreground) {
    const pid = await daemonize(argv, config);
    console.log(`tssersync running in the background (pid ${pid}); log: ${config.logFile}; pid file: ${config.pidFile}`);
    return ExitCode.ok;
  }
  return runForeground(args, config);
}

async function runForeground(args: Args, first: Config): Promise<number> {
  // A signal that arrives while starting (a reload or stop sent during a restart) would take the
  // default action and end the process without a word: kept here, acted on once the handlers
  // below are in place (the model test's SIGHUP right after a restart killed the daemon).
  const early: NodeJS.Signals[] = [];
  const remember = (s: NodeJS.Signals) => void early.push(s);
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, remember);
  const toTerminal = !args.daemonChild;
  let logger: Logger = createLogger({ console: toTerminal, file: args.daemonChild || args.daemon || args.logFile ? first.logFile : undefined, debug: first.debug });
  // The one stream: the logger and the status model are both sinks of it (-m runs serve no status).
  const status: StatusService | undefined = args.plugin ? undefined : new StatusService(first, (e) => emit(e));
  let alerts: AlertHooks | undefined;
  const counter = status ? new SourceCounter((e) => emit(e), join(first.stateDir, TOTALS_FILE)) : undefined;
  const emit: Emit = (e) => {
    logger.emit(e);
    status?.see(e);
    alerts?.see(e);
    counter?.see(e);
  };
  const startAlerts = async (c: Config) => {
    await alerts?.close();
    alerts = status ? new AlertHooks(c, { emit }) : undefined;
    if (alerts?.enabled) void alerts.replayNow().catch(() => {});
  };
  await startAlerts(first);
  const makeEngine = (config: Config, fullSync: boolean) =>
    new Engine(config, { emit, fullSync, ...(args.plugin ? { pluginOnly: args.plugin } : {}) });
  let config = first;
  await adoptLegacy(config, logger.emit);
  let engine = makeEngine(config, args.fullSync);
  await engine.start();
  await status?.listen().catch((err: unknown) => {
    emit({ type: 'info', level: 'warn', message: `status is not served: ${err instanceof Error ? err.message : String(err)}` });
  });
  let metrics: MetricsServer | undefined;
  const serveMetrics = async (c: Config) => {
    if (!status || (metrics && c.metrics && metrics.settings.host === c.metrics.host && metrics.settings.port === c.metrics.port)) return;
    await metrics?.close();
    metrics = undefined;
    if (!c.metrics) return;
    // Loaded only when metrics are on: prom-client was a tenth of every start-up's module loading.
    const { MetricsServer } = await import('./metrics/server.js');
    const m = new MetricsServer(c.metrics, () => status.report());
    try {
      await m.listen();
      metrics = m;
      emit({ type: 'info', level: 'info', message: `metrics on ${m.address}/metrics, health on ${m.address}/healthz` });
    } catch (err) {
      emit({ type: 'info', level: 'error', message: `metrics are not served: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
  await serveMetrics(config);
  const writesPid = args.daemonChild || args.daemon || args.pidFile !== undefined;
  if (writesPid) await writePidFile(config.pidFile);
  if (args.daemonChild) notifyParentReady();
  const onTerminal = process.stderr.isTTY && !args.daemonChild;
  if (status && args.fullSync && onTerminal) void showFullSyncProgress(engine, () => status.report());
  const stopProgressLog = status && !onTerminal ? logProgress(() => status.report(), emit) : undefined;

  let busy = Promise.resolve();
  const serially = (fn: () => Promise<void>) => (busy = busy.then(fn, fn));
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) =>
      serially(async () => {
        await engine.stop(signal);
        if (writesPid) await removePidFile(config.pidFile);
        stopProgressLog?.();
        counter?.close();
        await status?.close();
        await metrics?.close();
        await alerts?.close();
        logger.emit({ type: 'info', level: 'info', message: 'stopped' });
        await logger.close();
        resolve(ExitCode.ok);
      });
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
    const reload = () =>
      void serially(async () => {
        let next: Config;
        try {
          next = await load(args);
        } catch (err) {
          logger.emit({ type: 'info', level: 'error', message: `SIGHUP: the new config was rejected, the running one stays: ${err instanceof Error ? err.message : String(err)}` });
          return;
        }
        logger.emit({ type: 'info', level: 'info', message: `SIGHUP: reloading ${args.config}` });
        await engine.stop('reload');
        config = next;
        engine = makeEngine(config, false);
        status?.reload(config);
        await engine.start();
        await serveMetrics(config);
        await startAlerts(config);
      });
    process.on('SIGHUP', reload);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(s, remember);
    for (const s of early) {
      if (s === 'SIGHUP') reload();
      else void shutdown(s);
    }
  });
}

function report(err: unknown): number {
  if (err instanceof TssersyncError) {
    console.error(`tssersync: ${err.message}`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  console.error(`tssersync: unexpected error: ${e?.message ?? String(err)}${process.env.TSSERSYNC_DEBUG ? `\n${e?.stack}` : ''}`);
  return ExitCode.failure;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Open handles (timers, sockets) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err) => {
    const code = report(err);
    process.exit(code);
  },
);

