/**
 * How a hook says "some of this batch did not get through". The runner retries only `failed`,
 * so a purge of 500 URLs where one request failed does not resend the other 499, and a socket
 * buffer overflow hands exactly the dropped paths to the replay log.
 */
import { HookError } from '../errors.js';
import type { LandedBatch, LandedItem } from './types.js';

export class PartialDeliveryError extends HookError {
  readonly failed: readonly LandedItem[];
  constructor(hook: string, message: string, failed: readonly LandedItem[]) {
    super(hook, message);
    this.failed = failed;
  }
}

/** The part of `batch` still to deliver after `err`: the failed items, or all of it. */
export function remainder(batch: LandedBatch, err: unknown): LandedBatch {
  return err instanceof PartialDeliveryError ? { ...batch, items: err.failed } : batch;
}

/** Throws a PartialDeliveryError when some items failed; `causes` are distinct one-line reasons. */
export function throwIfFailed(hook: string, total: number, failed: readonly LandedItem[], causes: readonly string[]): void {
  if (failed.length === 0) return;
  const distinct = [...new Set(causes)];
  const shown = distinct.slice(0, 3).join('; ') + (distinct.length > 3 ? `; and ${distinct.length - 3} more` : '');
  throw new PartialDeliveryError(hook, `${failed.length} of ${total} path(s) failed: ${shown}`, failed);
}

/** One-line text of anything thrown (one definition, in src/errors.ts). */
export { errorText } from '../errors.js';
