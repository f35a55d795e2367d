/**
 * The watcher's own process, started with child_process.fork by watcher.ts; the roots to watch are
 * its argv. It exists because spawning many processes in the process that holds a parcel
 * subscription kills the subscription ("Unable to poll: Interrupted system call", upstream issue
 * #253), and tssersync spawns rsync all the time. It only subscribes and forwards: filtering, lstat
 * and every decision happen in the parent. It exits when the parent goes away.
 */
import watcher from '@parcel/watcher';
import type { ChildMessage, RawEvent } from './protocol.js';

function send(msg: ChildMessage): void {
  if (!process.connected || !process.send) return;
  try {
    process.send(msg);
  } catch {
    // The channel closed under us: the disconnect handler ends the process.
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function watchRoot(root: string): Promise<void> {
  try {
    await watcher.subscribe(
      root,
      (err, events) => {
        // A throw here would become an uncaughtException inside the native callback: never let one out.
        try {
          if (err) send({ type: 'error', root, message: errorText(err) });
          if (events.length > 0) {
            const raw: RawEvent[] = events.map((e) => ({ path: e.path, type: e.type }));
            send({ type: 'events', root, events: raw });
          }
        } catch (e) {
          send({ type: 'error', root, message: `watcher callback failed: ${errorText(e)}` });
        }
      },
      // watchman, when installed, would be picked by default: inotify is the backend the facts hold for.
      process.platform === 'linux' ? { backend: 'inotify' } : {},
    );
    send({ type: 'ready', root });
  } catch (err) {
    send({ type: 'error', root, message: errorText(err) });
  }
}

process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => {
  for (const root of process.argv.slice(2)) send({ type: 'error', root, message: `watcher process failed: ${errorText(err)}` });
  process.exit(1);
});
for (const root of process.argv.slice(2)) void watchRoot(root);
