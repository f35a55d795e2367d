/** `-r` on a terminal: one status line, rewritten in place, until the full sync has landed. */
import type { Engine } from './engine.js';

export async function showFullSyncProgress(engine: Engine): Promise<void> {
  const started = Date.now();
  const line = () => {
    const pending = engine.channels.reduce((n, c) => n + c.changes.size + c.changes.inFlightCount, 0);
    const busy = engine.channels.reduce((n, c) => n + c.busy, 0);
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    process.stderr.write(`\rfull sync: ${busy} rsync job(s) running, ${pending} path(s) pending, ${secs}s `);
  };
  const timer = setInterval(line, 500);
  try {
    await engine.idle();
  } finally {
    clearInterval(timer);
    process.stderr.write(`\rfull sync done in ${((Date.now() - started) / 1000).toFixed(1)}s${' '.repeat(30)}\n`);
  }
}
