/**
 * Which items of a landed batch a hook handles. A hook with a `watch` root takes only what lies
 * under it (Sersync's plugin `<localpath watch>`); one without (command) takes every root's items.
 */
import type { LandedBatch, LandedItem } from './types.js';

export function itemsUnder(batch: LandedBatch, watch: string | undefined): LandedItem[] {
  if (watch === undefined) return [...batch.items];
  const root = stripSlash(watch);
  return batch.items.filter((i) => i.absolute === root || i.absolute.startsWith(`${root}/`));
}

/** Sersync's relative path: what follows the watch root, with its leading slash (`/img/a.png`). */
export function relativeToWatch(absolute: string, watch: string): string {
  return absolute.slice(stripSlash(watch).length);
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
