/** Build a complete Config in code for engine tests (independent of the XML parser). */
import { join } from 'node:path';
import type { Config, RemoteConfig } from '../../src/config/types.js';
import type { RsyncDaemon } from './rsyncd.js';

export function daemonRemote(d: RsyncDaemon, module = 'backup', over: Partial<RemoteConfig> = {}): RemoteConfig {
  return {
    id: `${d.host}::${module}`,
    host: d.host,
    module,
    mode: 'daemon',
    port: d.port,
    user: d.user,
    passwordFile: d.passwordFile,
    sshOptions: [],
    ...over,
  };
}

export function makeConfig(stateDir: string, roots: Config['roots'], over: Partial<Config> = {}): Config {
  return {
    file: join(stateDir, 'confxml.xml'),
    debug: false,
    xfs: false,
    excludes: [],
    events: { delete: true, createFolder: true, createFile: false, closeWrite: true, moveFrom: true, moveTo: true, attrib: false, modify: false },
    roots,
    // What the engine runs for Sersync's stock -artuz: config/params.ts drops -u (see withoutUpdate).
    // The real-time excludes ride with the rsync settings too (as parseConfig sets them).
    rsync: { commonParams: ['-artz'], timeoutSeconds: 20, binary: 'rsync', maxDelete: undefined, excludes: over.excludes ?? [] },
    threads: 4,
    failLog: { path: join(stateDir, 'replay.jsonl'), intervalMinutes: 60 },
    crontab: { enabled: false, intervalMinutes: 600, excludes: [] },
    reconcileIntervalMinutes: 0,
    settleMs: 30,
    maxDelayMs: 1000,
    retries: 2,
    plugins: [],
    hookWhen: 'all',
    pidFile: join(stateDir, 'tssersync.pid'),
    logFile: join(stateDir, 'tssersync.log'),
    stateDir,
    ...over,
  };
}
