/** A real Watcher on a real temp dir, recording what it reports, for the watch layer's tests. */
import { realpath } from 'node:fs/promises';
import type { EventSwitches, Pattern } from '../../src/config/types.js';
import type { Change } from '../../src/core/types.js';
import type { EngineEvent } from '../../src/events.js';
import type { BackendName } from '../../src/watch/protocol.js';
import { Watcher, type WatchTuning } from '../../src/watch/watcher.js';
import { tempDir, waitFor } from './tree.js';

export const ALL_SWITCHES_ON: EventSwitches = {
  delete: true, createFolder: true, createFile: true, closeWrite: true, moveFrom: true, moveTo: true, attrib: true, modify: true,
};

/** As the config compiles an exclude: a full-string match. */
export function fullMatch(source: string): Pattern {
  return { source, regex: new RegExp(`^(?:${source})$`, 's') };
}

export interface WatchHarness {
  readonly root: string;
  readonly watcher: Watcher;
  readonly changes: Change[];
  readonly gaps: { dir: string; reason: string }[];
  readonly rootStates: boolean[];
  readonly events: EngineEvent[];
  /** Resolves with the first change matching, waiting up to `timeoutMs`. */
  change(pred: (c: Change) => boolean, what: string, timeoutMs?: number): Promise<Change>;
  gap(pred: (g: { dir: string; reason: string }) => boolean, what: string, timeoutMs?: number): Promise<{ dir: string; reason: string }>;
  cleanup(): Promise<void>;
}

/** Every watcher backend: the watch suites run once per backend. */
export const BACKENDS: readonly BackendName[] = ['inotify', 'parcel'];

export interface HarnessOptions {
  /** @default the platform's default (inotify on Linux) */
  backend?: BackendName;
  excludes?: readonly Pattern[];
  switches?: EventSwitches;
  tuning?: Partial<WatchTuning>;
  /** Run before the watcher starts (pre-existing tree). */
  setup?: (root: string) => Promise<void>;
}

export async function watchHarness(o: HarnessOptions = {}): Promise<WatchHarness> {
  const dir = await tempDir('tss-watch-');
  const root = await realpath(dir.path);
  await o.setup?.(root);
  const changes: Change[] = [];
  const gaps: { dir: string; reason: string }[] = [];
  const rootStates: boolean[] = [];
  const events: EngineEvent[] = [];
  const watcher = new Watcher({
    roots: [root],
    excludes: o.excludes ?? [],
    switches: o.switches ?? ALL_SWITCHES_ON,
    emit: (e) => events.push(e),
    onChanges: (cs) => changes.push(...cs),
    onGap: (r, d, reason) => {
      if (r === root) gaps.push({ dir: d, reason });
    },
    onRootState: (r, present) => {
      if (r === root) rootStates.push(present);
    },
    tuning: { rewatchDebounceMs: 100, rootPollMs: 200, restartMinMs: 50, ...o.tuning },
    ...(o.backend ? { backend: o.backend } : {}),
  });
  try {
    await watcher.start();
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
  if (o.backend && watcher.backendOf(root) !== o.backend) {
    await watcher.stop();
    await dir.cleanup();
    throw new Error(`asked for the ${o.backend} backend, got ${watcher.backendOf(root)}`);
  }
  return {
    root,
    watcher,
    changes,
    gaps,
    rootStates,
    events,
    change: (pred, what, timeoutMs = 10_000) => waitFor(() => changes.find(pred), timeoutMs, what),
    gap: (pred, what, timeoutMs = 10_000) => waitFor(() => gaps.find(pred), timeoutMs, what),
    async cleanup() {
      await watcher.stop();
      await dir.cleanup();
    },
  };
}
