/**
 * The one typed configuration the rest of tssersync reads. Sersync's XML (and its quirks) is
 * translated into this shape in src/config/ and nowhere else.
 */
import type { Priority, Renice } from '../sync/priority.js';

/** Where rsync sends: an rsync daemon module (`host::module`) or an ssh path (`host:path`). */
export interface RemoteConfig {
  /** Stable display name and replay-log key, e.g. `127.0.0.1::tongbu1` or `backup@10.0.0.2:/srv/www`. */
  readonly id: string;
  readonly host: string;
  /** Daemon module name, or the destination path in ssh mode. */
  readonly module: string;
  readonly mode: 'daemon' | 'ssh';
  /** Daemon mode: rsync daemon port (`--port`). Ssh mode: ssh port (`ssh -p`). Undefined = default. */
  readonly port: number | undefined;
  /** Daemon user (`user@host::module`) or ssh login user. */
  readonly user: string | undefined;
  /** Daemon mode: `--password-file`. Checked to exist and be mode 0600 (not group/other readable). */
  readonly passwordFile: string | undefined;
  /** Ssh mode: extra ssh argv words after `ssh` (e.g. `-i key -o StrictHostKeyChecking=no`). */
  readonly sshOptions: readonly string[];
  /** Line of the `<remote>` element in the config file, for messages. */
  readonly line?: number;
}

export interface WatchRoot {
  /** Absolute path of the watched directory, no trailing slash. */
  readonly path: string;
  readonly remotes: readonly RemoteConfig[];
  /** Line of the `<localpath>` element in the config file, for messages. */
  readonly line?: number;
}

/** Sersync's `<inotify>` switches. A switch is on only when its attribute is exactly "true". */
export interface EventSwitches {
  readonly delete: boolean;
  readonly createFolder: boolean;
  readonly createFile: boolean;
  readonly closeWrite: boolean;
  readonly moveFrom: boolean;
  readonly moveTo: boolean;
  readonly attrib: boolean;
  readonly modify: boolean;
}

/** A compiled full-match regex, with its source kept for messages. */
export interface Pattern {
  readonly source: string;
  readonly regex: RegExp;
}

export interface RsyncSettings {
  /** `commonParams@params`, split into argv words (no shell). */
  readonly commonParams: readonly string[];
  /** `--timeout=N` seconds of I/O silence, when set. */
  readonly timeoutSeconds: number | undefined;
  /** Path to the rsync binary. @default "rsync" */
  readonly binary: string;
  /** `--max-delete=N` per job, when set. Hitting it (exit 25) is reported, not retried forever. */
  readonly maxDelete: number | undefined;
  /** CPU and I/O priority of rsync children (`<tssersync><priority>`). @default nice 10, best-effort:7 */
  readonly priority?: Priority;
  /**
   * `<tssersync><fullSync parts minEntries/>`: a full sync of a large tree runs as up to `parts`
   * rsyncs at once over disjoint parts of the root (src/sync/full-parts.ts). @default auto: the
   * lane's concurrency, the cores, and 4, whichever is least; minEntries 10000
   */
  readonly fullSync?: { readonly parts: number | 'auto'; readonly minEntries: number };
  /** Words started before `binary` (`nice -n 10 ionice -c2 -n7`), resolved by the lane at start. */
  readonly launcher?: readonly string[];
  /** Or the priority set on each rsync once it runs (src/sync/priority.ts), resolved by the lane at start. */
  readonly renice?: Renice;
  /**
   * ssh remotes: the directory of this process's shared ssh connections (src/sync/ssh-control.ts),
   * resolved by the lane at start; undefined: every rsync run starts its own ssh connection.
   */
  readonly sshControl?: string;
  /**
   * The real-time excludes (`Config.excludes`), applied by every rsync run on every route
   * (src/sync/excludes.ts): one exclude model. @default none
   */
  readonly excludes?: readonly Pattern[];
}

export type HookWhen = 'all' | 'any';

/**
 * What a plugin receives: landed `batches` (Sersync's behaviour), health `alerts`
 * (src/hooks/alerts.ts), or `both`. @default "batches"
 */
export type HookEvents = 'batches' | 'alerts' | 'both';

export interface CommandPluginConfig {
  readonly kind: 'command';
  /** `<param events>`: alerts run `prefix EVENT SUBJECT MESSAGE` (never a shell). @default "batches" */
  readonly events?: HookEvents;
  readonly prefix: readonly string[];
  readonly suffix: readonly string[];
  readonly ignoreError: boolean;
  /** Full-match regexes on the absolute path; empty = every path. */
  readonly include: readonly Pattern[];
  /** @default 4 */
  readonly concurrency: number;
  /** @default 60000 */
  readonly timeoutMs: number;
}

export interface SocketPluginConfig {
  readonly kind: 'socket';
  readonly watch: string;
  readonly host: string;
  readonly port: number;
  /** Lines kept while the listener is away. @default 100000 */
  readonly bufferLimit: number;
}

export interface HttpPluginConfig {
  readonly kind: 'http';
  /** `<webhook events>`: alerts are POSTed as JSON to the same URL. @default "batches" */
  readonly events?: HookEvents;
  readonly watch: string | undefined;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** A secret: inline (Sersync compatibility), or from an environment variable or a file. */
export type SecretSource =
  | { readonly from: 'inline'; readonly value: string }
  | { readonly from: 'env'; readonly name: string }
  | { readonly from: 'file'; readonly path: string };

export interface CdnLegacyConfig {
  readonly domain: string;
  readonly port: number;
  readonly username: string;
  readonly password: SecretSource;
}

export interface CdnGenericConfig {
  readonly endpoint: string;
  readonly method: string;
  /** Header values may contain `${secret}`, replaced by the resolved secret. */
  readonly headers: Readonly<Record<string, string>>;
  /** JSON body template; `"${urls}"` is replaced by the JSON array of URLs, `${secret}` by the secret. */
  readonly bodyTemplate: string;
  readonly maxBatch: number;
  /** Requests per second at most. */
  readonly ratePerSecond: number;
  readonly secret: SecretSource | undefined;
}

export interface RefreshCdnPluginConfig {
  readonly kind: 'refreshCDN';
  readonly watch: string;
  readonly baseUrl: string;
  /** When set, URL = base + first capture group of this regex searched in the absolute path + rest. */
  readonly regexUrl: RegExp | undefined;
  readonly legacy: CdnLegacyConfig | undefined;
  readonly generic: CdnGenericConfig | undefined;
}

export type PluginConfig =
  | CommandPluginConfig
  | SocketPluginConfig
  | HttpPluginConfig
  | RefreshCdnPluginConfig;

export type PluginName = PluginConfig['kind'];

export interface Config {
  /** Absolute path of the config file this came from. */
  readonly file: string;
  readonly debug: boolean;
  readonly xfs: boolean;
  /** Real-time excludes (`<filter start="true">`): full-match regexes on Sersync's test strings. */
  readonly excludes: readonly Pattern[];
  readonly events: EventSwitches;
  readonly roots: readonly WatchRoot[];
  readonly rsync: RsyncSettings;
  /** Worker count per remote lane. `-n` wins over the file. @default 10 */
  readonly threads: number;
  readonly failLog: { readonly path: string; readonly intervalMinutes: number };
  /** Periodic full sync: `<crontab start="true" schedule="N">`, minutes. */
  readonly crontab: { readonly enabled: boolean; readonly intervalMinutes: number; readonly excludes: readonly string[] };
  /** Safety full reconcile even without crontab (0 = off). @default 360 */
  readonly reconcileIntervalMinutes: number;
  /** Settle: a path must be quiet this long before its batch goes. @default 30 */
  readonly settleMs: number;
  /** A batch goes at the latest this long after its first change. @default 1000 */
  readonly maxDelayMs: number;
  /** Retries of a failed rsync job before its paths go to the replay log. @default 3 */
  readonly retries: number;
  /** The plugin run after each sync (`<plugin start="true" name="…">`), if any. */
  readonly plugins: readonly PluginConfig[];
  /**
   * Every plugin defined by a head-level `<plugin name="…">` block, started or not: `-m NAME`
   * (plugin-only mode) runs a plugin that `<sersync><plugin start>` does not start.
   */
  readonly definedPlugins?: readonly PluginConfig[];
  /** Hooks fire when `all` remotes confirmed a batch, or on `any`. @default "all" */
  readonly hookWhen: HookWhen;
  readonly pidFile: string;
  readonly logFile: string;
  /** Where pending changes are saved on stop and the dirty marker lives. */
  readonly stateDir: string;
  /**
   * The state dir shared by every config in versions before per-config state (set only when
   * `<stateDir>` is not given): what it holds for this config's roots is adopted at start.
   */
  readonly legacyStateDir?: string;
  /** `<tssersync><watcher backend="…"/>`: absent = inotify on Linux, parcel elsewhere. */
  readonly watcherBackend?: WatcherBackend;
  /** `<tssersync><status …/>`: who may read the status socket, and when a remote counts as behind. */
  readonly status?: StatusSettings;
  /** `<tssersync><metrics listen="…"/>`: Prometheus metrics, off when absent. */
  readonly metrics?: MetricsSettings;
}

export interface StatusSettings {
  /** Group (name or number) allowed to read the status socket; absent = owner only (0600). */
  readonly group: string | undefined;
  /** A remote this far behind is degraded (status exit 1, `lag-high` alert). @default 60 */
  readonly lagSeconds: number;
  /** Replay records older than this raise the `replay-old` alert. @default 600 */
  readonly replayAgeSeconds: number;
}

export interface MetricsSettings {
  readonly host: string;
  readonly port: number;
}

/** The watcher's backend: tssersync's own over Linux inotify, or @parcel/watcher (portable). */
export type WatcherBackend = 'inotify' | 'parcel';
