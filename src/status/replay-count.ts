/**
 * Counts the replay log per root × remote and says so as a `replay-log` event. Read from the file
 * (not tracked from events) so it stays true when `tssersync --retry-log` runs in another process.
 * Read-only and lock-free: the log is only ever appended to or replaced by rename, so a read sees
 * a whole file; a torn last line is skipped.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Emit, EngineEvent, ReplayLogCount } from '../events.js';

/** Re-read this long after the last event that may have changed the log: a burst of failures is one read. */
const DEBOUNCE_MS = 300;
/** And this often regardless (another process may have replayed it). */
const EVERY_MS = 30_000;

export async function countReplayLog(file: string): Promise<ReplayLogCount[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const by = new Map<string, { root: string; remote: string; records: number; oldestMs: number }>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let r: { root?: unknown; remote?: unknown; time?: unknown; since?: unknown };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue;
    }
    if (typeof r.root !== 'string' || typeof r.remote !== 'string') continue;
    const t = Date.parse(typeof r.since === 'string' ? r.since : typeof r.time === 'string' ? r.time : '');
    const key = `${r.root}\0${r.remote}`;
    const c = by.get(key) ?? { root: r.root, remote: r.remote, records: 0, oldestMs: Number.isFinite(t) ? t : Date.now() };
    c.records++;
    if (Number.isFinite(t)) c.oldestMs = Math.min(c.oldestMs, t);
    by.set(key, c);
  }
  return [...by.values()];
}

/** Does this event mean the replay log may have changed? */
function touchesLog(e: EngineEvent): boolean {
  return (e.type === 'job-failed' && !e.willRetry) || e.type === 'replay' || (e.type === 'hook' && e.level === 'error') || e.type === 'started';
}

export class ReplayCounter {
  #timer: NodeJS.Timeout | undefined;
  readonly #every: NodeJS.Timeout;
  #reading = false;
  #again = false;
  /** The file as last counted: an unchanged file (size, mtime, inode) is not read again. */
  #seen = '';

  constructor(
    private readonly file: string,
    private readonly emit: Emit,
  ) {
    this.#every = setInterval(() => this.poke(0), EVERY_MS).unref();
    this.poke(0);
  }

  see(e: EngineEvent): void {
    if (touchesLog(e)) this.poke(DEBOUNCE_MS);
  }

  poke(delayMs: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#read();
    }, delayMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#every);
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #read(): Promise<void> {
    if (this.#reading) return void (this.#again = true);
    this.#reading = true;
    try {
      const st = await stat(this.file).catch(() => undefined);
      const key = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none';
      if (key === this.#seen) return;
      const channels = await countReplayLog(this.file);
      this.#seen = key;
      const n = channels.reduce((s, c) => s + c.records, 0);
      this.emit({ type: 'replay-log', level: 'debug', message: `replay log ${this.file}: ${n} record(s)`, channels });
    } catch (err) {
      this.emit({ type: 'info', level: 'warn', message: `status: cannot read the replay log ${this.file}: ${err instanceof Error ? err.message : String(err)}` });
    } finally {
      this.#reading = false;
      if (this.#again) {
        this.#again = false;
        this.poke(DEBOUNCE_MS);
      }
    }
  }
}
