/**
 * The logging sink: turns EngineEvents into winston records. Readable lines on a terminal, JSON
 * lines in the log file. The only module that imports winston (STYLE 9).
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
  return {
    emit(event: EngineEvent) {
      const { level, message, ...fields } = event;
      logger.log(level, message, fields);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (transports.length === 0) return resolve();
        logger.on('finish', () => setTimeout(resolve, 50));
        logger.end();
      }),
  };
}
