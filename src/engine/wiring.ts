/**
 * The two ways the pipeline is wired. A mode is data the engine reads, not branches through it:
 *
 * - `daemon`: one channel per (root, remote), one Lane (rsync) per remote, hooks after a path
 *   landed on every remote (or any, `<hooks when>`).
 * - `plugin` (Sersync's `-m NAME`): no rsync. One channel per plugin watch root on a stand-in lane
 *   where a change "lands" as soon as it settles; only that plugin runs; the run keeps state files
 *   of its own and replays only hook records.
 */
import type { Config, PluginConfig, PluginName } from '../config/types.js';
import type { ReplayRecord } from '../replay/types.js';
import { parseTarget } from '../replay/target.js';
import { Lane, type LaneOptions } from '../sync/lane.js';
import type { RsyncOutcome } from '../sync/types.js';
import { probeRoot } from '../watch/root-state.js';
import { Channel, type ChannelDeps, type LanePort } from './channel.js';
import { Confirmations } from './confirmations.js';

export interface WiringOptions extends Pick<LaneOptions, 'emit' | 'retryDelayMs' | 'forceDeleteFallback'> {
  readonly pluginOnly?: PluginName | undefined;
  readonly onResult: ChannelDeps['onResult'];
  readonly onHalt: ChannelDeps['onHalt'];
}

export interface Wiring {
  readonly mode: 'daemon' | 'plugin';
  readonly channels: readonly Channel[];
  /** rsync lanes by remote id (none in plugin mode). */
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly confirmations: ReadonlyMap<string, Confirmations>;
  /** The plugins this run starts. */
  readonly plugins: readonly PluginConfig[];
  /** Names this run's state files apart (pendingPath, run marker); undefined = the daemon's. */
  readonly run: string | undefined;
  /** Runs rsync controllers: catch-up after a clean stop, crontab and reconcile full syncs. */
  readonly syncs: boolean;
  /** The replay records this run replays; the others are left as they are. */
  owns(record: ReplayRecord): boolean;
}

/** The remote ids of a root's channels (a landed batch names them). */
export function remotesOf(w: Pick<Wiring, 'channels'>, root: string): string[] {
  return w.channels.filter((c) => c.root === root).map((c) => c.remoteId);
}

export function wire(config: Config, o: WiringOptions): Wiring {
  return o.pluginOnly ? pluginWiring(config, o, o.pluginOnly) : daemonWiring(config, o);
}

function channelDeps(config: Config, o: WiringOptions): Omit<ChannelDeps, 'root' | 'remoteId' | 'lane'> {
  return {
    limits: { settleMs: config.settleMs, maxDelayMs: config.maxDelayMs, maxBatch: 5000 },
    fullSyncExcludes: config.crontab.excludes,
    probeRoot,
    now: () => Date.now(),
    onResult: o.onResult,
    onHalt: o.onHalt,
    emit: o.emit,
  };
}

function daemonWiring(config: Config, o: WiringOptions): Wiring {
  const common = channelDeps(config, o);
  const channels: Channel[] = [];
  const lanes = new Map<string, Lane>();
  const confirmations = new Map<string, Confirmations>();
  for (const root of config.roots) {
    for (const remote of root.remotes) {
      let lane = lanes.get(remote.id);
      if (!lane) {
        lane = new Lane({
          remote,
          // One exclude model: every rsync run applies the real-time <filter> (src/sync/excludes.ts).
          rsync: { ...config.rsync, excludes: config.excludes },
          concurrency: config.threads,
          retries: config.retries,
          emit: o.emit,
          debug: config.debug,
          retryDelayMs: o.retryDelayMs,
          forceDeleteFallback: o.forceDeleteFallback,
        });
        lanes.set(remote.id, lane);
      }
      channels.push(new Channel({ ...common, root: root.path, remoteId: remote.id, lane }));
    }
    confirmations.set(root.path, new Confirmations(root.remotes.map((r) => r.id), config.hookWhen));
  }
  // A replay log shared with another config (the same <failLog path>) holds its records too: they
  // are left exactly as they are (replaying them here would rewrite their cause with "not in the config").
  const roots = new Set(config.roots.map((r) => r.path));
  return { mode: 'daemon', channels, lanes, confirmations, plugins: config.plugins, run: undefined, syncs: true, owns: (r) => roots.has(r.root) };
}

function pluginWiring(config: Config, o: WiringOptions, name: PluginName): Wiring {
  const common = channelDeps(config, o);
  // Sersync's -m runs the named plugin whether or not the file starts it.
  const plugins = (config.definedPlugins ?? config.plugins).filter((p) => p.kind === name);
  const lane: LanePort = { pending: 0, concurrency: 64, run: async () => ({ ok: true, outcome: okOutcome() }) };
  const channels: Channel[] = [];
  const confirmations = new Map<string, Confirmations>();
  for (const p of plugins) {
    const watch = 'watch' in p && p.watch ? p.watch : config.roots[0]?.path;
    if (!watch) continue;
    if (channels.some((c) => c.root === watch)) continue;
    channels.push(new Channel({ ...common, root: watch, remoteId: `plugin:${p.kind}`, lane }));
    confirmations.set(watch, new Confirmations([`plugin:${p.kind}`], 'any'));
  }
  return {
    mode: 'plugin',
    channels,
    lanes: new Map(),
    confirmations,
    plugins,
    run: `m-${name}`,
    syncs: false,
    // Only hook records: replaying rsync records here would overwrite their cause with "not in the config".
    owns: (r) => parseTarget(r.remote).kind === 'hook',
  };
}

function okOutcome(): RsyncOutcome {
  return { exitCode: 0, signal: null, class: 'done', meaning: 'success', stderrTail: '', durationMs: 0, failedPaths: [], spawnError: undefined };
}
