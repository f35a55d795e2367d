/**
 * The watcher's own process, started with child_process.fork by child-handle.ts: argv[2] is the
 * JSON ChildOptions, the roots to watch follow. It exists because spawning many processes in the
 * process that holds a parcel subscription kills the subscription ("Unable to poll: Interrupted
 * system call", upstream issue #253), and tssersync spawns rsync all the time; the inotify backend
 * reads its descriptor with blocking reads on the thread pool, which suits a process that does
 * nothing else. It only watches and forwards: lstat, filtering of events and every decision happen
 * in the parent. It exits when the parent goes away.
 */
// First: V8's tiering for code that handles bursts, as in the CLI (tiering.ts says why and what it saves here).
import '../tiering.js';
import { realpath } from 'node:fs/promises';
import type { Pattern } from '../config/types.js';
import { errorText } from '../errors.js';
import type { BackendName, ChildMessage, ChildOptions, RawEvent } from './protocol.js';

/** How often the child checks that its parent is still there (see parentGone below). */
const PARENT_POLL_MS = 500;

function send(msg: ChildMessage): void {
  if (!process.connected || !process.send) return;
  try {
    process.send(msg);
  } catch {
    // The channel closed under us: the disconnect handler ends the process.
  }
}

async function watchWithParcel(root: string): Promise<void> {
  const { default: watcher } = await import('@parcel/watcher');
  // @parcel/watcher does not follow a root that is a symlink (its inotify watch has IN_DONT_FOLLOW:
  // "Not a directory"): it watches the target, and its paths are given back under the root as
  // configured. A target whose path is not UTF-8 cannot be named to it (JS strings): then the root
  // as given, and its error.
  const real = await realpath(root).catch(() => root);
  const watched = real.includes('\ufffd') ? root : real;
  const back = watched === root ? (p: string) => p : (p: string) => (p === watched ? root : p.startsWith(`${watched}/`) ? `${root}${p.slice(watched.length)}` : p);
  await watcher.subscribe(
    watched,
    (err, events) => {
      // A throw here would become an uncaughtException inside the native callback: never let one out.
      try {
        if (err) send({ type: 'error', root, message: errorText(err) });
        if (events.length > 0) {
          const raw: RawEvent[] = events.map((e) => ({ path: back(e.path), type: e.type }));
          send({ type: 'events', root, events: raw });
        }
      } catch (e) {
        send({ type: 'error', root, message: `watcher callback failed: ${errorText(e)}` });
      }
    },
    // watchman, when installed, would be picked by default: inotify is the backend the facts hold for.
    process.platform === 'linux' ? { backend: 'inotify' } : {},
  );
  send({ type: 'ready', root, backend: 'parcel' });
}

/** Our own inotify backend; rejects when koffi cannot be loaded (then the caller falls back). */
/** Live inotify watches, stopped before the process exits (see InotifyWatch.stop). */
const live: { stop(): void }[] = [];

function exit(code: number): never {
  for (const w of live) w.stop();
  process.exit(code);
}

async function loadInotifyBackend(): Promise<{ create: (root: string) => Promise<number> }> {
  const [{ loadInotify }, { InotifyWatch }] = await Promise.all([import('./inotify/syscalls.js'), import('./inotify/backend.js')]);
  const sys = loadInotify();
  return {
    async create(root) {
      const w = new InotifyWatch({ root, excludes, switches: options.switches, unwatchedPollMs: options.unwatchedPollMs }, sys, {
        events: (events) => send({ type: 'events', root, events }),
        gap: (dir, reason) => send({ type: 'gap', root, dir, reason }),
        warn: (message) => send({ type: 'warning', root, message }),
        fatal: (message) => send({ type: 'error', root, message }),
      });
      live.push(w);
      await w.start();
      return w.watches;
    },
  };
}

async function main(roots: readonly string[]): Promise<void> {
  let backend: BackendName = options.backend;
  let inotify: Awaited<ReturnType<typeof loadInotifyBackend>> | undefined;
  if (backend === 'inotify') {
    try {
      inotify = await loadInotifyBackend();
    } catch (err) {
      backend = 'parcel';
      for (const root of roots) send({ type: 'warning', root, message: `the inotify backend cannot load (${errorText(err)}): falling back to @parcel/watcher` });
    }
  }
  await Promise.all(
    roots.map(async (root) => {
      try {
        if (inotify) {
          const watches = await inotify.create(root);
          send({ type: 'ready', root, backend, watches });
        } else await watchWithParcel(root);
      } catch (err) {
        send({ type: 'error', root, message: errorText(err) });
      }
    }),
  );
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const excludes: Pattern[] = (options.excludes ?? []).map((p) => ({ source: p.source, regex: new RegExp(p.source, p.flags) }));

process.on('disconnect', () => exit(0));
// 'disconnect' alone is not enough. A parent that died while this module was still loading (the
// CLI killed just after the fork) closed the channel before the listener above existed: the event
// was emitted to nobody and the child lived on under pid 1. So: check once now, then poll without
// the parent's cooperation (a SIGKILLed parent sends nothing; the kernel reparents us).
const parentPid = process.ppid;
const parentGone = (): boolean => !process.connected || process.ppid !== parentPid;
if (parentGone()) exit(0);
setInterval(() => {
  if (parentGone()) exit(0);
}, PARENT_POLL_MS).unref();
process.on('uncaughtException', (err) => {
  for (const root of process.argv.slice(3)) send({ type: 'error', root, message: `watcher process failed: ${errorText(err)}` });
  exit(1);
});
void main(process.argv.slice(3));
