/**
 * An Engine in a process of its own, started by a test under `unshare --user --map-root-user` so it
 * can give its user namespace a small inotify watch limit (/proc/sys/user/max_inotify_watches, per
 * namespace since Linux 5.11) without touching the machine-wide fs.inotify.max_user_watches.
 * argv: the Config as JSON, the watch limit. Prints each EngineEvent as a JSON line; SIGTERM stops.
 */
import { writeFileSync } from 'node:fs';
import type { Config } from '../../src/config/types.js';
import { Engine } from '../../src/engine.js';

const config = JSON.parse(process.argv[2]!) as Config;
writeFileSync('/proc/sys/user/max_inotify_watches', `${Number(process.argv[3])}\n`);
const engine = new Engine(config, { emit: (e) => process.stdout.write(`${JSON.stringify(e)}\n`), retryDelayMs: { min: 50, max: 200 }, fullSync: true });
process.on('SIGTERM', () => {
  void engine.stop('test').finally(() => process.exit(0));
});
await engine.start();
process.stdout.write(`${JSON.stringify({ type: 'test-started' })}\n`);
