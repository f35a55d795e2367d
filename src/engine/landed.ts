/**
 * Hook confirmation: paths that landed on a remote go through the root's Confirmations (all
 * remotes, or any) and then, as a LandedBatch, to the hook runner. Each path is lstat'ed when it
 * is handed over, so a hook knows whether it now names a file, a directory or a delete.
 */
import { lstat } from 'node:fs/promises';
import { isGone } from '../core/gone.js';
import { join } from 'node:path';
import { pathBytes } from '../core/names.js';
import { HookRunner, type HookRunnerOptions } from '../hooks/runner.js';
import type { LandedBatch, LandedItem } from '../hooks/types.js';
import { remotesOf, type Wiring } from './wiring.js';

export interface LandingOptions extends HookRunnerOptions {
  readonly wiring: Pick<Wiring, 'channels' | 'confirmations'>;
}

export class Landing {
  /** No hooks, no runner: landed paths need no confirmation then. */
  readonly #runner: HookRunner | undefined;
  readonly #o: LandingOptions;

  constructor(o: LandingOptions) {
    this.#o = o;
    this.#runner = o.hooks.length > 0 ? new HookRunner(o) : undefined;
  }

  /** Resolves when every batch handed to the hooks was delivered or given up. */
  async drain(): Promise<void> {
    await this.#runner?.drain();
  }

  async close(): Promise<void> {
    await this.#runner?.close().catch(() => {});
  }

  /** `paths` of `root` reached `remote`. */
  landed(root: string, remote: string, paths: readonly string[]): void {
    const runner = this.#runner;
    if (!runner || paths.length === 0) return;
    const ready = this.#o.wiring.confirmations.get(root)?.confirm(remote, paths) ?? [];
    if (ready.length === 0) return;
    void landedBatch(root, remotesOf(this.#o.wiring, root), ready).then((b) => runner.submit(b));
  }
}

export async function landedBatch(root: string, remotes: readonly string[], paths: readonly string[]): Promise<LandedBatch> {
  const items: LandedItem[] = await Promise.all(
    paths.map(async (path) => {
      const absolute = path === '' ? root : join(root, path);
      // The exact bytes: a non-UTF-8 name as a string would lstat another (absent) file. Only a gone
      // entry is reported to the hooks as deleted; one we cannot stat (EACCES…) as changed.
      const st = await lstat(pathBytes(root, path)).catch((err: unknown) => (isGone(err) ? undefined : ('unreadable' as const)));
      return { path, absolute, state: !st ? ('missing' as const) : st === 'unreadable' || !st.isDirectory() ? ('file' as const) : ('dir' as const) };
    }),
  );
  return { root, remotes, items, time: Date.now() };
}
