import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { SocketPluginConfig } from '../../src/config/types.js';
import type { EngineEvent } from '../../src/events.js';
import { PartialDeliveryError } from '../../src/hooks/failure.js';
import { createHook } from '../../src/hooks/index.js';
import { parseLine } from '../../src/hooks/socket-framing.js';
import type { Hook, LandedBatch } from '../../src/hooks/types.js';
import { LineListener } from '../fixtures/hooks/servers.js';
import { freePort } from '../support/net.js';
import { AWKWARD_NAMES, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const plugin = (port: number, bufferLimit = 100_000): SocketPluginConfig => ({ kind: 'socket', watch: '/site', host: '127.0.0.1', port, bufferLimit });
const batch = (rels: readonly string[]): LandedBatch => ({
  root: '/site',
  remotes: ['r'],
  time: Date.now(),
  items: rels.map((p) => ({ path: p, absolute: `/site/${p}`, state: 'file' as const })),
});

async function listener(): Promise<LineListener> {
  const l = new LineListener(await freePort());
  cleanups.push(() => l.stop());
  return l;
}

function hookFor(port: number, bufferLimit?: number, events: EngineEvent[] = []): Hook {
  const h = createHook(plugin(port, bufferLimit), { emit: (e) => events.push(e) });
  cleanups.push(() => h.close());
  return h;
}

/** The hook said it found nobody listening and buffers (its typed event, not a timer). */
const away = (events: readonly EngineEvent[]) => waitFor(() => events.some((e) => e.type === 'hook' && !e.ok && /buffering and reconnecting/.test(e.message)), 5000, 'the hook to find nobody listening');

/** Each distinct line in the order it was first seen (delivery is at-least-once). */
const firstSeen = (lines: readonly string[]) => [...new Set(lines.map(parseLine))];

test('socket: one line per path, awkward names round-trip, paths outside the watch root are not sent', async () => {
  const l = await listener();
  await l.start();
  const hook = hookFor(l.port);
  await hook.deliver({ ...batch(AWKWARD_NAMES), items: [...batch(AWKWARD_NAMES).items, { path: 'x', absolute: '/elsewhere/x', state: 'file' }] });
  await waitFor(() => l.lines.length >= AWKWARD_NAMES.length, 5000, 'lines');
  assert.deepEqual(l.lines.map(parseLine), AWKWARD_NAMES.map((n) => `/site/${n}`));
});

test('socket: the listener stopped and restarted mid-stream loses nothing and keeps the order', async () => {
  const l = await listener();
  await l.start();
  const hook = hookFor(l.port);
  const sent: string[] = [];
  const deliveries: Promise<void>[] = [];
  for (let i = 0; i < 300; i++) {
    const rels = [`f${i}-a`, `f${i}-b`];
    sent.push(...rels.map((r) => `/site/${r}`));
    deliveries.push(hook.deliver(batch(rels)));
    if (i === 100) await l.stop();
    if (i === 200) await l.start();
    // Let the socket's I/O run between deliveries, so they spread over the outage and the restart.
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(deliveries);
  await waitFor(() => new Set(l.lines).size >= sent.length, 10_000, 'every line after the restart');
  assert.deepEqual(firstSeen(l.lines), sent);
});

test('socket: deliver() resolves only once its lines are written; waits while the listener is away', async () => {
  const port = await freePort();
  const events: EngineEvent[] = [];
  const hook = hookFor(port, undefined, events);
  let done = false;
  const p = hook.deliver(batch(['late'])).then(() => (done = true));
  await away(events);
  assert.equal(done, false, 'nothing listens yet');
  const l = new LineListener(port);
  cleanups.push(() => l.stop());
  await l.start();
  await p;
  await waitFor(() => l.lines.includes('/site/late'), 5000, 'the line');
});

test('socket: past bufferLimit the overflow is reported as failed (for the replay log), the rest is sent', async () => {
  const port = await freePort();
  const events: EngineEvent[] = [];
  const hook = hookFor(port, 5, events);
  const p = hook.deliver(batch(['1', '2', '3', '4', '5', '6', '7', '8'])).then(() => undefined, (e: unknown) => e);
  await away(events);
  const l = new LineListener(port);
  cleanups.push(() => l.stop());
  await l.start();
  const err = await p;
  assert.ok(err instanceof PartialDeliveryError, String(err));
  assert.deepEqual(err.failed.map((i) => i.path), ['6', '7', '8']);
  assert.match(err.message, /buffer full \(5 lines/);
  await waitFor(() => l.lines.length >= 5, 5000, 'the buffered lines');
  assert.deepEqual(firstSeen(l.lines), ['1', '2', '3', '4', '5'].map((n) => `/site/${n}`));
});

test('socket: close() with lines still waiting reports them as failed', async () => {
  const events: EngineEvent[] = [];
  const hook = createHook(plugin(await freePort()), { emit: (e) => events.push(e) });
  const p = hook.deliver(batch(['a', 'b'])).then(() => undefined, (e: unknown) => e);
  await away(events);
  await hook.close();
  const err = await p;
  assert.ok(err instanceof PartialDeliveryError);
  assert.deepEqual(err.failed.map((i) => i.path).sort(), ['a', 'b']);
});
