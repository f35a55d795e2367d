/**
 * The replay log: an append-only JSON-lines file, one record per failed path and remote.
 *
 *   append ──► [lock] open O_APPEND 0600 → write lines → fsync → close   (resolves = durable)
 *   read   ──► [lock] read whole file → records + corrupt lines + a mark of what was read
 *   rewrite(keep, consumed) ──► [lock] re-read; if the file still starts with exactly the bytes
 *       that were read: new file = keep + whatever was appended after them; else (another process
 *       rewrote it meanwhile): new file = current file + the kept records it lacks.
 *       Written to a temp file, fsync'd, renamed over the log, directory fsync'd.
 *
 * Why "consumed" instead of an exclusive lock held across read → replay → rewrite: a replay runs
 * rsync and may take minutes; holding the lock that long would block the daemon's appends (and
 * with them a lane) behind a slow remote. So the lock is only held for each step, and rewrite
 * carries over every byte appended after the consumed prefix. The prefix is checked by hash, so a
 * rewrite never drops lines it did not read; a mismatch falls back to a merge that can only
 * duplicate (replaying a record twice is harmless) and never loses.
 *
 * Corrupt lines (a torn write after a crash, a hand edit) are reported by read() and skipped; a
 * rewrite moves the ones it consumed to `<log>.corrupt` for the operator instead of dropping them.
 */
import { constants as fsc } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { StateFileError } from '../errors.js';
import { FILE_MODE, ensureDir, errnoCode, errorText, fsyncDir, writeFileAtomic } from './fs-durable.js';
import { FileLock, type LockOptions } from './lock.js';
import { parseRecordLine, recordKey, recordLine } from './record.js';
import type { ReplayRecord } from './types.js';

export interface CorruptLine {
  /** 1-based line number in the file as read. */
  readonly line: number;
  readonly text: string;
  readonly error: string;
}

/** What a read() saw, to hand back to rewrite(): the first `lines` non-blank lines, `bytes` long. */
export interface ReadMark {
  readonly lines: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface ReplayLogContent {
  records: ReplayRecord[];
  corrupt: CorruptLine[];
  mark: ReadMark;
}

export interface RewriteResult {
  /** Records written from `keep` (after the merge dropped ones already present). */
  readonly kept: number;
  /** Non-blank lines appended by others after the read and carried over. */
  readonly carried: number;
  /** The log was rewritten by someone else since the read: merged instead of replaced. */
  readonly conflict: boolean;
  /** Corrupt lines moved to `<log>.corrupt`. */
  readonly movedCorrupt: number;
}

interface Line {
  readonly number: number;
  readonly text: string;
  /** Byte offset just past the line and its newline (or the end of the file). */
  readonly next: number;
}

/** Non-blank lines with their byte ends; JSON escapes newlines, so a raw 0x0A always ends a line. */
function scanLines(buf: Buffer): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (let number = 1; start < buf.length; number++) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl === -1 ? buf.length : nl;
    const next = nl === -1 ? buf.length : nl + 1;
    const text = buf.toString('utf8', start, end);
    if (text.trim() !== '') out.push({ number, text, next });
    start = next;
  }
  return out;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function parse(buf: Buffer): ReplayLogContent {
  const records: ReplayRecord[] = [];
  const corrupt: CorruptLine[] = [];
  const lines = scanLines(buf);
  for (const l of lines) {
    const p = parseRecordLine(l.text);
    if (p.ok) records.push(p.record);
    else corrupt.push({ line: l.number, text: l.text, error: l.next === buf.length && buf.at(-1) !== 0x0a ? `truncated last line: ${p.error}` : p.error });
  }
  return { records, corrupt, mark: { lines: lines.length, bytes: buf.length, sha256: sha256(buf) } };
}

/**
 * Open for append, never through a symlink and never a file someone else owns: a failLog path in
 * a shared directory like /tmp (Sersync's default) must not let another user aim our writes.
 */
async function openPrivateAppend(file: string): Promise<FileHandle> {
  const fh = await open(file, fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT | fsc.O_NOFOLLOW, FILE_MODE).catch((err: unknown) => {
    const why = errnoCode(err) === 'ELOOP' ? 'it is a symbolic link' : errorText(err);
    throw new StateFileError(file, `cannot open for append: ${why}`);
  });
  const st = await fh.stat();
  const uid = process.getuid?.();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) {
    await fh.close();
    throw new StateFileError(file, `refusing to write: ${st.isFile() ? `owned by uid ${st.uid}, not by us (uid ${uid})` : 'not a regular file'}`);
  }
  if ((st.mode & 0o777) !== FILE_MODE) await fh.chmod(FILE_MODE);
  return fh;
}

export class ReplayLog {
  readonly #path: string;
  readonly #lock: FileLock;
  /** The bytes of the latest read(), so rewrite(keep, n) can resolve a plain line count. */
  #lastRead: Buffer | undefined;

  constructor(path: string, opts: LockOptions = {}) {
    this.#path = path;
    this.#lock = new FileLock(path, opts);
  }

  get path(): string {
    return this.#path;
  }

  /** Resolves once every record is on disk (fsync'd); the caller may then forget them. */
  append(records: readonly ReplayRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const data = records.map(recordLine).join('');
    return this.#lock.run(async () => {
      await ensureDir(dirname(this.#path));
      const fh = await openPrivateAppend(this.#path);
      let created = false;
      try {
        const st = await fh.stat();
        created = st.size === 0;
        // A torn last line (crash mid-write) must not swallow the first new record.
        let prefix = '';
        if (st.size > 0) {
          const last = Buffer.alloc(1);
          await fh.read(last, 0, 1, st.size - 1);
          if (last[0] !== 0x0a) prefix = '\n';
        }
        await fh.writeFile(prefix + data);
        await fh.sync();
      } catch (err) {
        throw new StateFileError(this.#path, `cannot append to the replay log: ${errorText(err)}`);
      } finally {
        await fh.close();
      }
      if (created) await fsyncDir(dirname(this.#path));
    });
  }

  /** Everything in the log; a missing file is an empty log, corrupt lines are reported and skipped. */
  read(): Promise<ReplayLogContent> {
    return this.#lock.run(async () => {
      const buf = await this.#readRaw();
      this.#lastRead = buf;
      return parse(buf);
    });
  }

  /**
   * Replace what a read() returned (`consumed`: its mark, or its records + corrupt count, which
   * refers to the latest read) with `keep`, carrying over whatever was appended since.
   * Without `consumed`, everything the latest read saw is replaced.
   */
  rewrite(keep: readonly ReplayRecord[], consumed?: number | ReadMark): Promise<RewriteResult> {
    const mark = this.#resolveMark(consumed);
    return this.#lock.run(async () => {
      const cur = await this.#readRaw();
      const prefixOk = mark !== undefined && cur.length >= mark.bytes && sha256(cur.subarray(0, mark.bytes)) === mark.sha256;
      if (!prefixOk) return this.#merge(cur, keep);
      const tail = cur.subarray(mark.bytes);
      const moved = parse(cur.subarray(0, mark.bytes)).corrupt;
      if (moved.length > 0) await this.#appendCorrupt(moved);
      const tailText = tail.toString('utf8').replace(/^\n+/, '');
      await writeFileAtomic(this.#path, keep.map(recordLine).join('') + tailText);
      return { kept: keep.length, carried: scanLines(tail).length, conflict: false, movedCorrupt: moved.length };
    });
  }

  #resolveMark(consumed: number | ReadMark | undefined): ReadMark | undefined {
    if (typeof consumed === 'object') return consumed;
    const buf = this.#lastRead;
    if (!buf) return consumed === 0 ? { lines: 0, bytes: 0, sha256: sha256(Buffer.alloc(0)) } : undefined;
    const lines = scanLines(buf);
    const n = consumed ?? lines.length;
    if (n > lines.length) return undefined;
    const bytes = n === 0 ? 0 : lines[n - 1]!.next;
    return { lines: n, bytes, sha256: sha256(buf.subarray(0, bytes)) };
  }

  /** Someone else rewrote the log since our read: keep all of it, add what it lacks. */
  async #merge(cur: Buffer, keep: readonly ReplayRecord[]): Promise<RewriteResult> {
    const present = new Set(parse(cur).records.map(recordKey));
    const add = keep.filter((r) => !present.has(recordKey(r)));
    let text = cur.toString('utf8');
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    await writeFileAtomic(this.#path, text + add.map(recordLine).join(''));
    return { kept: add.length, carried: scanLines(cur).length, conflict: true, movedCorrupt: 0 };
  }

  async #appendCorrupt(lines: readonly CorruptLine[]): Promise<void> {
    const file = `${this.#path}.corrupt`;
    const fh = await openPrivateAppend(file);
    try {
      await fh.writeFile(lines.map((l) => `${l.text}\n`).join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsyncDir(dirname(file));
  }

  async #readRaw(): Promise<Buffer> {
    try {
      return await readFile(this.#path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return Buffer.alloc(0);
      throw new StateFileError(this.#path, `cannot read the replay log: ${errorText(err)}`);
    }
  }
}
