/**
 * Builds the hooks for the enabled plugins. Every built-in implements the `Hook` seam
 * (types.ts), the same one a new plugin would implement.
 */
import type { PluginConfig } from '../config/types.js';
import { unreachable } from '../errors.js';
import type { Emit } from '../events.js';
import { CommandHook } from './command.js';
import { HttpHook } from './http.js';
import { RefreshCdnHook } from './refresh-cdn.js';
import { SocketHook } from './socket.js';
import type { Hook } from './types.js';

export interface HookDeps {
  readonly emit: Emit;
  /** Where `secretEnv` / `passwdEnv` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The hook's name in events and replay records (`hook:<name>`). @default the plugin kind */
  readonly name?: string;
}

export function createHook(plugin: PluginConfig, deps: HookDeps): Hook {
  const name = deps.name ?? plugin.kind;
  switch (plugin.kind) {
    case 'command':
      return new CommandHook(name, plugin, deps);
    case 'socket':
      return new SocketHook(name, plugin, deps);
    case 'http':
      return new HttpHook(name, plugin);
    case 'refreshCDN':
      return new RefreshCdnHook(name, plugin, { emit: deps.emit, env: deps.env ?? process.env });
    default:
      return unreachable(plugin);
  }
}

export function createHooks(plugins: readonly PluginConfig[], deps: Omit<HookDeps, 'name'>): Hook[] {
  const names = hookNames(plugins);
  // A plugin with events="alerts" gets no batches: src/hooks/alerts.ts delivers its alerts.
  return plugins.flatMap((p, i) => (wantsBatches(p) ? [createHook(p, { ...deps, name: names[i] })] : []));
}

export function wantsBatches(p: PluginConfig): boolean {
  return !('events' in p) || p.events === undefined || p.events !== 'alerts';
}

/**
 * Replay records name their hook, so names must be unique and survive a reordered config: the
 * plugin kind alone, or with its watch root when several plugins of one kind are enabled
 * (`refreshCDN:/site/a`), or numbered as a last resort.
 */
export function hookNames(plugins: readonly PluginConfig[]): string[] {
  const count = (f: (p: PluginConfig) => boolean) => plugins.filter(f).length;
  const seen = new Map<string, number>();
  return plugins.map((p) => {
    const watch = 'watch' in p ? p.watch : undefined;
    let name: string = p.kind;
    if (count((q) => q.kind === p.kind) > 1 && watch !== undefined) name = `${p.kind}:${watch}`;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}#${n}`;
  });
}

export type { Hook, LandedBatch, LandedItem } from './types.js';
export { HookRunner } from './runner.js';
