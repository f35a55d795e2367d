/**
 * Replays the replay log: on start, on the `<failLog>` timer, while a remote is failing, when a
 * remote answers again, and on `--retry-log`. One replay at a time (a second request joins the
 * running one). Rsync records go to their remote's lane, hook records to their hook; what lands
 * is removed, what still fails stays with its new cause (results.ts writes the failures).
 */
import type { Config } from '../config/types.js';
import type { Emit } from '../events.js';
import { createHook, hookNames } from '../hooks/index.js';
import type { Hook } from '../hooks/types.js';
import type { ReplayLog } from '../replay/log.js';
import { replayRecords, type GroupResult, type ReplayGroup } from '../replay/replayer.js';
import { parseTarget } from '../replay/target.js';
import type { ReplayRecord } from '../replay/types.js';
import { errorText } from '../errors.js';
import { heldForOperator } from '../sync/exit-codes.js';
import { outcomeText } from '../sync/messages.js';
import { landedBatch } from './landed.js';
import { remotesOf, type Wiring } from './wiring.js';

export interface ReplayResult {
  readonly replayed: readonly ReplayRecord[];
  readonly left: readonly ReplayRecord[];
  readonly corrupt: number;
}

export interface ReplayControllerDeps {
  readonly config: Config;
  readonly log: ReplayLog;
  readonly emit: Emit;
  readonly hooks: readonly Hook[];
  /** Lanes by remote; the root's channels (a replayed hook batch names their remotes, as when it first landed); the records this mode replays. */
  readonly wiring: Pick<Wiring, 'lanes' | 'channels' | 'owns'>;
  /** A replayed rsync group ended: `landed` reached `remote`; `ok` means all of the group did. */
  readonly onReplayed: (root: string, remote: string, landed: readonly string[], ok: boolean) => void;
}

export class ReplayController {
  #running: Promise<ReplayResult> | undefined;
  /** Hooks built on demand for records left by `-m NAME` (see #standbyHook). */
  readonly #standby: Hook[] = [];

  constructor(private readonly d: ReplayControllerDeps) {}

  /**
   * `operator`: an explicit `--retry-log`, which also replays what a safety guard held back
   * (deletes stopped by maxDelete); automatic replays leave those for an operator to look at.
   */
  replayNow(opts: { operator?: boolean } = {}): Promise<ReplayResult> {
    this.#running ??= this.#replay(opts.operator === true).finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Fire and forget (timers, health): a failing replay is already reported by its events. */
  kick(): void {
    void this.replayNow().catch(() => {});
  }

  async close(): Promise<void> {
    await Promise.all(this.#standby.map((h) => h.close().catch(() => {})));
  }

  async #replay(operator: boolean): Promise<ReplayResult> {
    const { log, emit } = this.d;
    const { records: all, corrupt, mark } = await log.read();
    for (const c of corrupt) {
      emit({ type: 'replay', level: 'warn', message: `replay log ${log.path}:${c.line}: skipped a corrupt line (${c.error})`, records: 0 });
    }
    const mine = all.filter((r) => this.d.wiring.owns(r));
    const waiting = operator ? 0 : mine.filter((r) => heldForOperator(r.exitCode)).length;
    const due = (r: ReplayRecord): boolean => this.d.wiring.owns(r) && (operator || !heldForOperator(r.exitCode));
    const held = all.filter((r) => !due(r));
    const records = all.filter(due);
    if (waiting > 0) {
      emit({ type: 'replay', level: 'debug', message: `${waiting} record(s) held for the operator are left out (tssersync --retry-log sends them)`, records: 0, held: waiting });
    }
    if (records.length === 0) return { replayed: [], left: held, corrupt: corrupt.length };
    const result = await replayRecords(records, (g) => this.#replayGroup(g), () => new Date());
    await log.rewrite([...held, ...result.left], mark);
    emit({
      type: 'replay',
      level: result.left.length > 0 ? 'warn' : 'info',
      message: `replayed ${result.replayed.length} record(s), ${result.left.length} still failing`,
      records: records.length,
      left: result.left.length,
    });
    return { replayed: result.replayed, left: result.left, corrupt: corrupt.length };
  }

  async #replayGroup(g: ReplayGroup): Promise<GroupResult> {
    const target = parseTarget(g.remote);
    if (target.kind === 'hook') {
      const hook = this.d.hooks.find((h) => h.name === target.hook) ?? this.#standbyHook(target.hook);
      if (!hook) return { failed: g.paths, exitCode: null, message: `hook ${target.hook} is not defined in the config` };
      try {
        await hook.deliver(await landedBatch(g.root, remotesOf(this.d.wiring, g.root), g.paths));
        return { failed: [], exitCode: 0, message: 'ok' };
      } catch (err) {
        return { failed: g.paths, exitCode: null, message: errorText(err) };
      }
    }
    const lane = this.d.wiring.lanes.get(target.remote);
    if (!lane) return { failed: g.paths, exitCode: null, message: `remote ${target.remote} is not in the config` };
    const full = g.action === 'tree' && g.paths.includes('');
    const res = await lane.run(
      full ? { root: g.root, action: 'tree', paths: [''], full: true, excludes: this.d.config.crontab.excludes } : { root: g.root, action: g.action, paths: g.paths },
    );
    if (res.ok) {
      this.d.onReplayed(g.root, target.remote, g.paths, true);
      return { failed: [], exitCode: 0, message: 'ok' };
    }
    const failedSet = new Set(res.failedPaths);
    this.d.onReplayed(g.root, target.remote, g.paths.filter((p) => !failedSet.has(p)), false);
    return { failed: res.failedPaths, exitCode: res.outcome.exitCode, message: outcomeText(res.outcome) };
  }

  /**
   * A hook record left by `-m NAME` (the plugin is defined but not started in <sersync>): built on
   * demand, named as `-m` names it, so `--retry-log` can deliver it.
   */
  #standbyHook(name: string): Hook | undefined {
    const defined = this.d.config.definedPlugins ?? [];
    for (const kind of new Set(defined.map((p) => p.kind))) {
      const ofKind = defined.filter((p) => p.kind === kind);
      const i = hookNames(ofKind).indexOf(name);
      if (i < 0) continue;
      const hook = createHook(ofKind[i]!, { emit: this.d.emit, name });
      this.#standby.push(hook);
      return hook;
    }
    return undefined;
  }
}
