/**
 * The command plugin: `prefix PATH suffix` for each changed absolute path, as an argv. Sersync
 * pasted the path into a `/bin/sh -c` string, so a name with `;` or backticks ran code; here the
 * path is one argv word and no shell is ever involved.
 *
 * Names are bytes, but Node's spawn encodes argv as UTF-8: a path that is not valid UTF-8 (a GBK
 * or Latin-1 name) would reach the command with U+FFFD in it. Such a path goes through GNU xargs
 * instead: `xargs -0 -I PLACEHOLDER -- prefix… PLACEHOLDER suffix…` reads the path's exact bytes,
 * NUL-terminated, on its stdin and execs the configured argv with them (no shell either). Every
 * other path is a plain argv word, as before. With xargs, a failing command's code is xargs' own
 * (123 for 1-125, 124 for 255, 125 killed): the message says so.
 *
 * ignoreError="true" (Sersync's default): a non-zero exit or a timeout is reported and dropped.
 * ignoreError="false": it is a failure, retried and then written to the replay log. A command that
 * cannot be started at all (missing program) is always a failure: it is a setup problem.
 */
import { spawn } from 'node:child_process';
import PQueue from 'p-queue';
import type { CommandPluginConfig } from '../config/types.js';
import { hasEscapes, nameToBytes } from '../core/names.js';
import { HookError } from '../errors.js';
import type { Emit } from '../events.js';
import { throwIfFailed } from './failure.js';
import type { Hook, LandedBatch, LandedItem } from './types.js';

/** After SIGTERM, a command that ignores it gets SIGKILL this much later. */
const KILL_GRACE_MS = 2000;
const STDERR_TAIL = 300;

export interface RunResult {
  readonly ok: boolean;
  /** Started, ran, and failed (exit code, signal, timeout): ignoreError may excuse it. */
  readonly ran: boolean;
  readonly message: string;
}

export function commandArgv(cfg: Pick<CommandPluginConfig, 'prefix' | 'suffix'>, absolute: string): string[] {
  return [...cfg.prefix, absolute, ...cfg.suffix];
}

/** What xargs replaces with the path's bytes; a word no configured argv holds. */
const PLACEHOLDER = '{tssersync-path}';

export interface Invocation {
  readonly argv: readonly string[];
  /** Bytes for the command's stdin (the xargs route), else stdin is /dev/null. */
  readonly stdin?: Buffer;
}

/** The argv for one path: a plain word when it is valid UTF-8, else through xargs (see above). */
export function commandInvocation(cfg: Pick<CommandPluginConfig, 'prefix' | 'suffix'>, absolute: string): Invocation {
  if (!hasEscapes(absolute)) return { argv: commandArgv(cfg, absolute) };
  const words = [...cfg.prefix, ...cfg.suffix];
  let ph = PLACEHOLDER;
  while (words.some((w) => w.includes(ph))) ph = `{${ph}}`;
  return { argv: ['xargs', '-0', '-I', ph, '--', ...cfg.prefix, ph, ...cfg.suffix], stdin: Buffer.concat([nameToBytes(absolute), Buffer.from([0])]) };
}

/** Runs one argv without a shell, killing its process group after `timeoutMs`. */
export function runArgv(argv: readonly string[], timeoutMs: number, stdin?: Buffer): Promise<RunResult> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    if (!file) return resolve({ ok: false, ran: false, message: 'empty command' });
    let stderr = '';
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    // Own process group, so a timeout also stops what the command started (a script's children).
    const child = spawn(file, args, { shell: false, detached: true, stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    if (stdin && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    }
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      killer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, ran: false, message: `cannot run ${file}: ${err.code ?? err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      if (code === 0 && !timedOut) return resolve({ ok: true, ran: true, message: 'ok' });
      const tail = stderr.trim().split('\n').pop() ?? '';
      const via = file === 'xargs' && stdin ? XARGS_CODES[code ?? -1] : undefined;
      const why = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit code ${code}${via ? ` (${via})` : ''}`;
      resolve({ ok: false, ran: true, message: `${file} ${why}${tail ? `: ${tail}` : ''}` });
    });
  });
}

/** GNU xargs' own exit codes, for the message when the xargs route ran the command. */
const XARGS_CODES: Readonly<Record<number, string>> = {
  123: 'from xargs: the command exited with a code from 1 to 125',
  124: 'from xargs: the command exited with 255',
  125: 'from xargs: the command was killed by a signal',
  126: 'from xargs: the command cannot be run',
  127: 'from xargs: the command was not found',
};

export class CommandHook implements Hook {
  readonly #queue: PQueue;

  constructor(
    readonly name: string,
    private readonly cfg: CommandPluginConfig,
    private readonly deps: { emit: Emit },
  ) {
    if (cfg.prefix.length === 0) throw new HookError(name, 'the command plugin needs a prefix (the program to run)');
    // Shared by every batch: the limit is on processes, not on batches.
    this.#queue = new PQueue({ concurrency: Math.max(1, cfg.concurrency) });
  }

  #wanted(item: LandedItem): boolean {
    return this.cfg.include.length === 0 || this.cfg.include.some((p) => p.regex.test(item.absolute));
  }

  async deliver(batch: LandedBatch): Promise<void> {
    const items = batch.items.filter((i) => this.#wanted(i));
    const failed: LandedItem[] = [];
    const causes: string[] = [];
    await Promise.all(
      items.map((item) =>
        this.#queue.add(async () => {
          const how = commandInvocation(this.cfg, item.absolute);
          const r = await runArgv(how.argv, this.cfg.timeoutMs, how.stdin);
          if (r.ok) return;
          if (r.ran && this.cfg.ignoreError) {
            this.deps.emit({ type: 'hook', level: 'warn', message: `${this.name}: ${r.message} (ignored: ignoreError="true")`, hook: this.name, ok: false, paths: 1 });
            return;
          }
          failed.push(item);
          causes.push(r.message);
        }),
      ),
    );
    throwIfFailed(this.name, items.length, failed, causes);
  }

  async close(): Promise<void> {
    await this.#queue.onIdle();
  }
}
