/**
 * The socket plugin: each changed absolute path under the watch root goes to `deshost ip:port`
 * over one persistent TCP connection, one line per path (socket-framing.ts).
 *
 *    idle ──deliver──► connecting ──connect──► connected ──close/error──► waiting ──backoff──┐
 *      ▲                   ▲                                                                 │
 *      └── nothing left ───┴─────────────────────────────────────────────────────────────────┘
 *
 * Delivery is at-least-once. A write that TCP accepted can still be lost when the listener dies
 * before reading it, and the protocol has no acknowledgement; so lines written in the last
 * RESEND_WINDOW_MS before a connection drops are sent again, in order, on the next connection.
 * A reader may see a line twice around a restart, never miss one.
 *
 * Lines wait in a bounded buffer (bufferLimit) while the listener is away; what does not fit is
 * reported as failed at once, so it goes to the replay log instead of vanishing.
 */
import { connect, type Socket } from 'node:net';
import type { SocketPluginConfig } from '../config/types.js';
import type { Emit } from '../events.js';
import { throwIfFailed } from './failure.js';
import { itemsUnder } from './scope.js';
import { frameBytes } from './socket-framing.js';
import type { Hook, LandedBatch, LandedItem } from './types.js';

export const RESEND_WINDOW_MS = 2000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
/** Lines per write: large enough for throughput, small enough to requeue cheaply. */
const CHUNK_BYTES = 64 * 1024;

interface Entry {
  readonly line: Buffer;
  readonly item: LandedItem;
  /** Called once when first flushed (undefined) or abandoned (a reason). Absent for resends. */
  done: ((err?: string) => void) | undefined;
  at: number;
}

type State = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

export class SocketHook implements Hook {
  #state: State = 'idle';
  #sock: Socket | undefined;
  #buffer: Entry[] = [];
  #inflight: Entry[] = [];
  #recent: Entry[] = [];
  #backoff = BACKOFF_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #outage = false;

  constructor(
    readonly name: string,
    private readonly cfg: SocketPluginConfig,
    private readonly deps: { emit: Emit },
  ) {}

  async deliver(batch: LandedBatch): Promise<void> {
    const items = itemsUnder(batch, this.cfg.watch);
    if (items.length === 0) return;
    if (this.#state === 'closed') throwIfFailed(this.name, items.length, items, ['the hook is closed']);
    const room = Math.max(0, this.cfg.bufferLimit - this.#buffer.length);
    const accepted = items.slice(0, room);
    const dropped = items.slice(room);
    const causes: string[] = dropped.length > 0 ? [`buffer full (${this.cfg.bufferLimit} lines waiting for ${this.#where()})`] : [];
    const failed: LandedItem[] = [...dropped];
    const flushed = accepted.map(
      (item) =>
        new Promise<void>((resolve) => {
          const done = (err?: string) => {
            if (err) (failed.push(item), causes.push(err));
            resolve();
          };
          this.#buffer.push({ line: frameBytes(item.absolute), item, at: 0, done });
        }),
    );
    this.#pump();
    await Promise.all(flushed);
    throwIfFailed(this.name, items.length, failed, causes);
  }

  #where(): string {
    return `${this.cfg.host}:${this.cfg.port}`;
  }

  #pump(): void {
    switch (this.#state) {
      case 'idle':
        return this.#connect();
      case 'connected':
        return this.#write();
      case 'connecting':
      case 'waiting':
      case 'closed':
        return;
    }
  }

  #connect(): void {
    this.#state = 'connecting';
    const sock = connect({ host: this.cfg.host, port: this.cfg.port });
    this.#sock = sock;
    sock.setNoDelay(true);
    sock.resume(); // the listener has nothing to say; drain whatever it sends
    sock.on('connect', () => {
      this.#state = 'connected';
      this.#backoff = BACKOFF_MIN_MS;
      if (this.#outage) {
        this.#outage = false;
        this.deps.emit({ type: 'hook', level: 'info', message: `${this.name}: connected again to ${this.#where()}`, hook: this.name, ok: true });
      }
      this.#write();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.#outage && this.#state !== 'closed') {
        this.#outage = true;
        this.deps.emit({ type: 'hook', level: 'warn', message: `${this.name}: ${this.#where()} ${err.code ?? err.message}; buffering and reconnecting`, hook: this.name, ok: false });
      }
    });
    sock.on('close', () => this.#dropped(sock));
  }

  #dropped(sock: Socket): void {
    if (this.#sock !== sock || this.#state === 'closed') return;
    this.#sock = undefined;
    const cutoff = Date.now() - RESEND_WINDOW_MS;
    // Possibly unread by the listener: send again, before anything newer, in the original order.
    const again = [...this.#recent.filter((e) => e.at >= cutoff), ...this.#inflight];
    this.#recent = [];
    this.#inflight = [];
    this.#buffer.unshift(...again);
    if (this.#buffer.length === 0) {
      this.#state = 'idle';
      return;
    }
    this.#state = 'waiting';
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === 'waiting') this.#connect();
    }, this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
  }

  #write(): void {
    const sock = this.#sock;
    if (this.#state !== 'connected' || !sock || this.#inflight.length > 0 || this.#buffer.length === 0) return;
    let bytes = 0;
    let n = 0;
    while (n < this.#buffer.length && (n === 0 || bytes < CHUNK_BYTES)) bytes += this.#buffer[n++]!.line.length;
    const chunk = this.#buffer.splice(0, n);
    this.#inflight = chunk;
    sock.write(Buffer.concat(chunk.map((e) => e.line)), (err) => {
      if (err || this.#sock !== sock) return; // 'close' requeues the in-flight lines
      const now = Date.now();
      this.#inflight = [];
      for (const e of chunk) {
        e.at = now;
        const done = e.done;
        e.done = undefined;
        done?.();
      }
      const cutoff = now - RESEND_WINDOW_MS;
      this.#recent = [...this.#recent.filter((e) => e.at >= cutoff), ...chunk].slice(-this.cfg.bufferLimit);
      this.#write();
    });
  }

  /** Lines not yet flushed are reported as failed to their deliveries (so they reach the replay log). */
  async close(): Promise<void> {
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    const left = [...this.#inflight, ...this.#buffer];
    this.#inflight = [];
    this.#buffer = [];
    this.#recent = [];
    for (const e of left) e.done?.('the hook closed before the line was sent');
    const sock = this.#sock;
    this.#sock = undefined;
    // Everything reported as sent is already in the kernel; it goes out before the FIN.
    sock?.destroy();
  }
}
