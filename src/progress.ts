/**
 * Real progress for full syncs (-r, crontab, a root's reconcile):
 * - SourceCounter: when a full sync of a root starts, counts its entries and file bytes locally,
 *   alongside (rsync keeps its incremental recursion, so its own total only grows as it goes),
 *   and says so as `source-count` events; rsync's `--info=progress2` gives what is done
 *   (`progress` events from the lane). The status model puts the two together.
 * - On a terminal (`-r`): one line, rewritten in place, until the full sync has landed.
 * - Not on a terminal: a log line every 10 s while a full sync runs.
 */
import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './replay/fs-durable.js';
import type { Emit, EngineEvent } from './events.js';
import type { ChannelStatus } from './status/model.js';
import { walkTree } from './walk.js';
import type { StatusReport } from './status/report.js';
import { bytes, seconds } from './status/report.js';

const SLASH = Buffer.from('/');
/**
 * Files whose size the count adds up, at most: an lstat each (about 7 µs of CPU: 0.7 s per 100,000
 * files, beside every full sync, measured with -r of 1,000,000 files, where it was by then most of
 * the count). Past it the bytes total is unknown (null in status) and only entries are counted
 * (walk.ts: no lstat, no object per entry); the entries are what the percentage and ETA use.
 */
export const SIZED_FILES = 10_000;
/** Files stat'ed between two turns of the event loop. */
const STAT_YIELD = 2000;
/** `source-count` events at most this often while a count runs. */
const COUNT_REPORT_MS = 1000;
/** A count this recent is reused by the next full sync of the root (a second remote's, say). */
const COUNT_REUSE_MS = 60_000;
/**
 * A root's entries as the last full sync that landed checked them (rsync's own final count, which
 * also leaves out the excludes), remembered in the state dir: the next full sync within this long
 * takes it as its total instead of walking the tree again (0.6 s of CPU per million entries and
 * ~18 µs per directory, against rsync for the same disk, on every crontab or reconcile full sync).
 */
export const KNOWN_TOTAL_MS = 24 * 3600_000;
/** The state dir's file of remembered totals. */
export const TOTALS_FILE = 'source-totals.json';

type Totals = Record<string, { entries: number; at: number }>;
/** Not on a terminal: one progress line per running full sync this often. */
export const PROGRESS_LOG_MS = 10_000;

export class SourceCounter {
  readonly #counting = new Set<string>();
  readonly #countedAt = new Map<string, number>();
  /** Per (root, remote) while its full sync runs: the entries rsync has checked so far. */
  readonly #checked = new Map<string, number>();
  readonly #totals: Promise<Totals>;
  #closed = false;

  /** `stateFile`: where the totals of landed full syncs are remembered (none: every full sync counts). */
  constructor(
    private readonly emit: Emit,
    private readonly stateFile?: string,
  ) {
    this.#totals = stateFile ? readTotals(stateFile) : Promise.resolve({});
  }

  see = (e: EngineEvent): void => {
    if (e.type === 'full-sync') {
      const key = `${e.root}\0${e.remote}`;
      if (e.phase === 'start') {
        this.#checked.set(key, 0);
        this.count(e.root);
      } else {
        const checked = this.#checked.get(key);
        this.#checked.delete(key);
        if (e.phase === 'done' && checked) void this.#remember(e.root, checked);
      }
    } else if (e.type === 'progress' && this.#checked.has(`${e.root}\0${e.remote}`)) {
      this.#checked.set(`${e.root}\0${e.remote}`, e.files);
    }
  };

  /**
   * Count `root` now, unless a count of it runs or ran within COUNT_REUSE_MS; or take the total of
   * a full sync of it that landed within KNOWN_TOTAL_MS (said as `estimated`: the tree may have
   * changed since).
   */
  count(root: string): void {
    if (this.#closed || this.#counting.has(root) || Date.now() - (this.#countedAt.get(root) ?? -Infinity) < COUNT_REUSE_MS) return;
    this.#counting.add(root);
    void (async () => {
      const known = (await this.#totals)[root];
      // A small root is counted anyway: cheap, and it gives the bytes total too.
      if (known && Date.now() - known.at < KNOWN_TOTAL_MS && known.entries > SIZED_FILES) {
        if (this.#closed) return;
        this.emit({
          type: 'source-count',
          level: 'debug',
          message: `${root}: ${known.entries} entries, as the full sync of ${new Date(known.at).toISOString()} checked them`,
          root,
          files: known.entries,
          bytes: 0,
          complete: true,
          bytesCounted: false,
          estimated: true,
        });
        return;
      }
      await this.#count(root);
    })().finally(() => {
      this.#counting.delete(root);
      this.#countedAt.set(root, Date.now());
    });
  }

  /** A landed full sync's count of `root`, for the next full syncs (best effort: progress only). */
  async #remember(root: string, entries: number): Promise<void> {
    if (!this.stateFile) return;
    try {
      const totals = await this.#totals;
      totals[root] = { entries, at: Date.now() };
      await writeFileAtomic(this.stateFile, `${JSON.stringify(totals)}\n`);
    } catch {
      // the next full sync counts again
    }
  }

  close(): void {
    this.#closed = true;
  }

  async #count(root: string): Promise<void> {
    let files = 1; // the root itself, as rsync counts "."
    let size = 0;
    let last = Date.now();
    let sized = 0;
    let unsized = false;
    const say = (complete: boolean) =>
      this.emit({
        type: 'source-count',
        level: 'debug',
        message: `${root}: ${files} entries${unsized ? '' : `, ${size} bytes`}${complete ? '' : ' so far'}`,
        root,
        files,
        bytes: size,
        complete,
        ...(unsized ? { bytesCounted: false } : {}),
      });
    // Names as bytes: a name that is not UTF-8 must still be found (core/names.ts). walk.ts lists
    // with getdents64 and hands over only the directories and the first SIZED_FILES file names.
    await walkTree(
      Buffer.from(root),
      async (dir, e) => {
        files += e.count;
        // lstatSync: the count of 100,000 files took 7.7 s of CPU through fs/promises (a promise, a
        // thread-pool round trip and, for a vanished file, an Error each), 0.58 s this way. Past
        // SIZED_FILES the bytes are not counted: the entries are what progress and ETA need.
        for (const name of e.files) {
          if (++sized % STAT_YIELD === 0) await new Promise((r) => setImmediate(r));
          try {
            size += lstatSync(Buffer.concat([dir, SLASH, name]), { throwIfNoEntry: false })?.size ?? 0;
          } catch {
            // unreadable: counted, without a size
          }
        }
        if (e.regular > e.files.length) unsized = true;
        if (Date.now() - last >= COUNT_REPORT_MS) {
          last = Date.now();
          say(false);
        }
      },
      { fileNames: SIZED_FILES, stop: () => this.#closed },
    );
    if (!this.#closed) say(true);
  }
}

async function readTotals(file: string): Promise<Totals> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    const out: Totals = {};
    if (parsed && typeof parsed === 'object') {
      for (const [root, v] of Object.entries(parsed as Record<string, unknown>)) {
        const t = v as { entries?: unknown; at?: unknown };
        if (typeof t?.entries === 'number' && typeof t.at === 'number') out[root] = { entries: t.entries, at: t.at };
      }
    }
    return out;
  } catch {
    return {}; // none yet, or unreadable: count
  }
}

/** `full sync /srv → backup::www: 1,234 of 5,000 entries (24%), 120.0 MB sent of 300.0 MB, 12.0 MB/s, ETA 1m05s` */
export function progressLine(c: ChannelStatus): string {
  const p = c.progress;
  const head = `full sync ${c.root} → ${c.remote}`;
  if (!p) return `${head}: starting`;
  const of = p.filesTotal !== null ? ` of ${p.filesTotal}${p.counting ? '+' : ''}` : '';
  const pct = p.filesTotal ? ` (${Math.min(100, Math.floor((100 * p.files) / p.filesTotal))}%)` : '';
  const sent = `${bytes(p.bytes)} sent${p.bytesTotal !== null ? ` of ${bytes(p.bytesTotal)}` : ''}`;
  const eta = p.etaSeconds !== null ? `, ETA ${seconds(p.etaSeconds)}` : p.counting ? ', counting' : '';
  return `${head}: ${p.files}${of} entries${pct}, ${sent}, ${bytes(p.bytesPerSecond)}/s${eta}`;
}

/** Not on a terminal: a log line every 10 s for each full sync that is running. */
export function logProgress(report: () => StatusReport, emit: Emit): () => void {
  const timer = setInterval(() => {
    for (const c of report().channels) {
      if (c.state === 'full-sync') emit({ type: 'info', level: 'info', message: progressLine(c) });
    }
  }, PROGRESS_LOG_MS).unref();
  return () => clearInterval(timer);
}

/** `-r` on a terminal: one status line, rewritten in place, until the full sync has landed. */
export async function showFullSyncProgress(engine: { idle(): Promise<void> }, report: () => StatusReport): Promise<void> {
  const started = Date.now();
  const line = () => {
    const full = report().channels.filter((c) => c.state === 'full-sync');
    const text = full.length === 0 ? 'full sync: waiting for rsync' : full.map(progressLine).join(' | ');
    const cols = process.stderr.columns || 120;
    process.stderr.write(`\r${text.slice(0, cols - 1).padEnd(Math.min(cols - 1, text.length + 10))}`);
  };
  const timer = setInterval(line, 500);
  try {
    await engine.idle();
  } finally {
    clearInterval(timer);
    process.stderr.write(`\rfull sync done in ${((Date.now() - started) / 1000).toFixed(1)}s${' '.repeat(30)}\n`);
  }
}
