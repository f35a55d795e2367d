/**
 * The logging sink: turns EngineEvents into winston records. Readable lines on a terminal, JSON
 * lines in the log file. The only module that imports winston (STYLE 9).
 *
 * Names are bytes: a message or field holding a name that is not valid UTF-8 carries its escapes
 * (src/core/names.ts); written as is, a terminal or the UTF-8 file would show U+FFFD and the byte
 * would be lost to the operator. Every string is passed through logText on its way out, so such
 * a byte reads `\xNN` (`caf\xe9.txt`) and a control character in a name cannot break a line.
 */
import winston from 'winston';
import type { EngineEvent, Emit, Level } from './events.js';

export interface LogOptions {
  /** Write readable lines to stderr. */
  readonly console: boolean;
  /** Append JSON lines here. */
  readonly file?: string;
  readonly debug: boolean;
}

export interface Logger {
  readonly emit: Emit;
  close(): Promise<void>;
}

const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(opts: LogOptions): Logger {
  const transports: winston.transport[] = [];
  if (opts.console) {
    transports.push(
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          // argv words JSON-quoted: a name with a space or newline stays one readable word.
          winston.format.printf((i) => `${String(i.timestamp)} ${i.level.padEnd(5)} ${String(i.message)}${Array.isArray(i['argv']) ? ` argv: ${i['argv'].map((w) => JSON.stringify(w)).join(' ')}` : ''}`),
        ),
      }),
    );
  }
  if (opts.file) {
    transports.push(
      new winston.transports.File({
        filename: opts.file,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      }),
    );
  }
  const logger = winston.createLogger({ level: opts.debug ? 'debug' : 'info', levels: RANK, transports });
  const most = opts.debug ? RANK.debug : RANK.info;
  return {
    emit(event: EngineEvent) {
      // Dropped before any formatting: debug events (queue counts, job argv) are frequent in a burst.
      if (RANK[event.level] > most || transports.length === 0) return;
      const { level, message, ...fields } = event;
      logger.log(level, logText(message), logFields(fields));
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (transports.length === 0) return resolve();
        logger.on('finish', () => setTimeout(resolve, 50));
        logger.end();
      }),
  };
}

/**
 * A string fit for one log line: a byte escape (U+DC80-U+DCFF, alone) as `\xNN`, any other lone
 * surrogate as `\uXXXX`, and control characters other than tab as `\n`, `\r`, `\xNN`. Text
 * without them is returned unchanged (the common case costs one regex test).
 */
export function logText(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u0008\u000a-\u001f\u007f\ud800-\udfff]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (u >= 0xdc80 && u <= 0xdcff) out += `\\x${(u - 0xdc00).toString(16)}`;
    else if (u >= 0xd800 && u <= 0xdfff) out += `\\u${u.toString(16)}`;
    else if (u === 0x0a) out += '\\n';
    else if (u === 0x0d) out += '\\r';
    else if ((u < 0x20 && u !== 0x09) || u === 0x7f) out += `\\x${u.toString(16).padStart(2, '0')}`;
    else out += s[i];
  }
  return out;
}

function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

function logFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = typeof v === 'string' ? logText(v) : Array.isArray(v) ? v.map((w: unknown) => (typeof w === 'string' ? logText(w) : w)) : v;
  }
  return out;
}
