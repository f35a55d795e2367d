/**
 * Health changes → alert events, once per change of state: a remote that fails 500 jobs in an
 * outage raises one `remote-failing` alert when it starts and one clear when it is back. Pure:
 * snapshots and `now` in, events out; the sink (src/status/sink.ts) feeds them back into the
 * EngineEvent stream, where the hooks deliver them (src/hooks/alerts.ts).
 */
import type { AlertKind, EngineEvent } from '../events.js';
import { DEFAULT_THRESHOLDS, problems, type Thresholds } from './health.js';
import type { StatusSnapshot } from './model.js';

export type AlertEvent = Extract<EngineEvent, { type: 'alert' }>;

/**
 * A remote failing, a root halted and a watcher error are logged already by the events they come
 * from: their alerts stay at debug, so an outage is one log line, not two. Lag and replay age have
 * no line of their own.
 */
const OWN_LINE: ReadonlySet<AlertKind> = new Set(['remote-failing', 'root-halted', 'watcher-degraded']);

const CLEARED: Record<AlertKind, (subject: string) => string> = {
  'remote-failing': (s) => `remote ${s} is back`,
  'root-halted': (s) => `replication of ${s} resumed`,
  'replay-old': (s) => `the old replay records for ${s} are gone`,
  'lag-high': (s) => `${s} is current again`,
  'watcher-degraded': (s) => `the watcher of ${s} is healthy again`,
};

export class AlertDetector {
  readonly #active = new Map<string, { kind: AlertKind; subject: string }>();

  /** `active`: alerts already raised (a reload keeps them, so they are not raised twice). */
  constructor(
    private readonly thresholds: Thresholds = DEFAULT_THRESHOLDS,
    active: readonly { kind: AlertKind; subject: string }[] = [],
  ) {
    for (const a of active) this.#active.set(`${a.kind}\0${a.subject}`, a);
  }

  active(): { kind: AlertKind; subject: string }[] {
    return [...this.#active.values()];
  }

  /** The alerts to raise or clear since the last call. */
  check(s: StatusSnapshot, now: number): AlertEvent[] {
    const out: AlertEvent[] = [];
    const seen = new Set<string>();
    for (const p of problems(s, this.thresholds)) {
      if (p.kind === 'replay-left') continue;
      const key = `${p.kind}\0${p.subject}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (this.#active.has(key)) continue;
      this.#active.set(key, { kind: p.kind, subject: p.subject });
      out.push({ type: 'alert', level: OWN_LINE.has(p.kind) ? 'debug' : 'warn', message: p.message, alert: p.kind, subject: p.subject, active: true, at: now });
    }
    for (const [key, a] of this.#active) {
      if (seen.has(key)) continue;
      this.#active.delete(key);
      out.push({ type: 'alert', level: OWN_LINE.has(a.kind) ? 'debug' : 'info', message: CLEARED[a.kind](a.subject), alert: a.kind, subject: a.subject, active: false, at: now });
    }
    return out;
  }
}

/** The word an alert goes out under: `remote-failing` / `remote-back`, `root-halted` / `root-resumed`, … */
export function alertName(e: Pick<AlertEvent, 'alert' | 'active'>): string {
  if (e.active) return e.alert;
  switch (e.alert) {
    case 'remote-failing':
      return 'remote-back';
    case 'root-halted':
      return 'root-resumed';
    case 'replay-old':
      return 'replay-cleared';
    case 'lag-high':
      return 'lag-normal';
    case 'watcher-degraded':
      return 'watcher-healthy';
  }
}
