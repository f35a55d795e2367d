/**
 * Notices event bursts large enough to risk lost events (the kernel queue holds 16,384 events by
 * default; @parcel/watcher also drops events under sustained parallel creation). Pure: `now` is
 * an argument. Fires at most once per root per window.
 */
export class BurstDetector {
  readonly #windows = new Map<string, { start: number; count: number; fired: boolean }>();

  constructor(
    private readonly threshold = 8000,
    private readonly windowMs = 2000,
  ) {}

  /** Count `n` events for `root` at `now`; true when this call crosses the threshold. */
  record(root: string, n: number, now: number): boolean {
    let w = this.#windows.get(root);
    if (!w || now - w.start > this.windowMs) {
      w = { start: now, count: 0, fired: false };
      this.#windows.set(root, w);
    }
    w.count += n;
    if (!w.fired && w.count >= this.threshold) {
      w.fired = true;
      return true;
    }
    return false;
  }
}
