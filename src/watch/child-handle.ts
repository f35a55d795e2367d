/**
 * One watcher child process for one root, seen from the parent: fork it, know when it is live,
 * hear its events and its death, stop it. No policy here: watcher.ts decides what to do.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isChildMessage, type BackendName, type ChildOptions, type RawEvent } from './protocol.js';

/** child.ts next to this module, with this module's own extension (.ts under tsx, .js from dist/). */
const CHILD_PATH = fileURLToPath(new URL(`./child${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export interface ChildHandlers {
  onEvents: (events: readonly RawEvent[]) => void;
  /** The subscription reported an error after it was live. */
  onError: (message: string) => void;
  /** The process ended without stop() being called. */
  onExit: (description: string) => void;
  /** The child says something under `dir` may have been missed (overflow, an unwatched directory). */
  onGap: (dir: string, reason: string) => void;
  onWarning: (message: string) => void;
}

export class WatchChild {
  readonly root: string;
  readonly #proc: ChildProcess;
  #stopped = false;
  #retiring = false;
  #exited = false;
  readonly #ready: Promise<void>;
  /** The backend the child runs, known once it is live (inotify may have fallen back to parcel). */
  backend: BackendName | undefined;
  /** The watches the inotify backend holds once it is live (its directories; none for parcel). */
  watches: number | undefined;

  constructor(root: string, options: ChildOptions, handlers: ChildHandlers) {
    this.root = root;
    const env = { ...process.env };
    // Under node:test the child would otherwise believe it is a test file reporting to a runner.
    delete env.NODE_TEST_CONTEXT;
    env.UV_THREADPOOL_SIZE = String(childPoolSize(env.UV_THREADPOOL_SIZE));
    // fork inherits process.execArgv, so `--import tsx` carries over and child.ts runs under tsx.
    // A small young generation: the child allocates little that lives, and V8's default 16 MB
    // semi-spaces were most of its resident memory.
    const execArgv = [...process.execArgv, '--max-semi-space-size=1'];
    this.#proc = fork(CHILD_PATH, [JSON.stringify(options), root], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let live = false;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#proc.on('message', (m: unknown) => {
        if (!isChildMessage(m) || m.root !== root || this.#stopped) return;
        // A retiring child still hands over what it saw, but its errors are no longer anyone's business.
        if (this.#retiring && m.type !== 'events' && m.type !== 'gap') return;
        switch (m.type) {
          case 'ready':
            this.backend = m.backend;
            this.watches = m.watches;
            live = true;
            resolve();
            break;
          case 'events':
            handlers.onEvents(m.events);
            break;
          case 'error':
            if (live) handlers.onError(m.message);
            else reject(new Error(m.message));
            break;
          case 'gap':
            handlers.onGap(m.dir, m.reason);
            break;
          case 'warning':
            handlers.onWarning(m.message);
            break;
        }
      });
      this.#proc.on('error', (err) => {
        if (!live) reject(err);
      });
      this.#proc.on('exit', (code, signal) => {
        this.#exited = true;
        const description = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (!live) reject(new Error(`watcher process ${description} before it was ready`));
        else if (!this.#stopped && !this.#retiring) handlers.onExit(`watcher process ${description}`);
      });
    });
    // A rejection nobody awaited yet must not crash the parent; ready() hands it out.
    this.#ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Resolves when the subscription is live; rejects when subscribing failed or the process died first. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Stop after `graceMs`, still forwarding events meanwhile: parcel holds events in a coalescing
   * window (50 ms, up to 500 ms under load) and a child stopped at once would take with it what
   * happened just before its successor went live.
   */
  async retire(graceMs: number): Promise<void> {
    this.#retiring = true;
    if (graceMs > 0 && !this.#exited) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.#proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await this.stop();
  }

  /** Disconnect (the child exits on its own), SIGKILL if it lingers. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#exited) return;
    const p = this.#proc;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), 2000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      if (p.connected) p.disconnect();
      else p.kill('SIGTERM');
    });
  }
}

/** The watcher child's thread pool when the environment does not say: its read, its four listings, one spare. */
export const CHILD_POOL_DEFAULT = 6;
/** Below this the child cannot work: the blocking read holds one thread, a scan needs at least one more. */
export const CHILD_POOL_MIN = 3;

/**
 * UV_THREADPOOL_SIZE for the watcher child. The inotify backend holds one thread-pool thread in a
 * blocking read of its descriptor and lists new directories on the others; with the operator's
 * UV_THREADPOOL_SIZE=1 (set for the whole service, to save memory) every listing queued behind that
 * read and the watcher never started. A larger setting is kept; a smaller one is raised.
 */
export function childPoolSize(fromEnv: string | undefined): number {
  const n = fromEnv === undefined || fromEnv.trim() === '' ? NaN : Number(fromEnv);
  if (!Number.isInteger(n) || n <= 0) return CHILD_POOL_DEFAULT;
  return Math.max(CHILD_POOL_MIN, n);
}
