import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInotifyLimits, countDirectories, watchesNeeded } from '../../src/watch/limits.js';
import { daemonRemote, makeConfig } from '../support/config.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor, waitForSameTree } from '../support/tree.js';

const procValue = async (name: string) => Number((await readFile(`/proc/sys/fs/inotify/${name}`, 'utf8')).trim());

test('limits: countDirectories counts the root and every directory, not files or symlinks, up to the cap', async () => {
  const d = await tempDir();
  try {
    for (const p of ['a/b/c', 'a/d', 'e', 'new\nline/$(x)']) await mkdir(join(d.path, p), { recursive: true });
    await writeFile(join(d.path, 'a', 'file'), '');
    await symlink(join(d.path, 'a'), join(d.path, 'link-to-a'));
    assert.equal(await countDirectories(d.path, 1000), 8); // root, a, a/b, a/b/c, a/d, e, new\nline, $(x)
    assert.equal(await countDirectories(d.path, 3), 3);
  } finally {
    await d.cleanup();
  }
});

test('limits: the real kernel limits are read; a small tree is fine', async () => {
  const r = await checkInotifyLimits(10);
  assert.equal(r.watches, await procValue('max_user_watches'));
  assert.equal(r.instances, await procValue('max_user_instances'));
  assert.equal(r.ok, r.watches >= watchesNeeded(10) && r.instances >= 10, r.message);
});

test('limits: a tree beyond the watch limit gets a message saying what to raise and to what', async () => {
  const watches = await procValue('max_user_watches');
  const r = await checkInotifyLimits(watches * 2);
  assert.equal(r.ok, false);
  const m = /sysctl -w fs\.inotify\.max_user_watches=(\d+)/.exec(r.message ?? '');
  assert.ok(m, r.message);
  assert.ok(Number(m[1]) >= watchesNeeded(watches * 2), 'the suggestion covers the tree');
  assert.match(r.message ?? '', /\/etc\/sysctl\.d\/\S+\.conf/);
  assert.match(r.message ?? '', new RegExp(`max_user_watches is ${watches}`));
  assert.doesNotMatch(r.message ?? '', /\n/, 'one line');
  assert.equal(await procValue('max_user_watches'), watches, 'never writes system settings');
});

test('limits: too many roots for the instance limit is reported', async () => {
  const instances = await procValue('max_user_instances');
  const r = await checkInotifyLimits(1, instances);
  assert.equal(r.ok, false);
  assert.match(r.message ?? '', /sysctl -w fs\.inotify\.max_user_instances=\d+/);
});

/** Can this machine give a user namespace its own inotify watch limit (Linux >= 5.11, unshare present)? */
function usernsWatchLimit(): string | undefined {
  const r = spawnSync('unshare', ['--user', '--map-root-user', 'cat', '/proc/sys/user/max_inotify_watches'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `unshare --user is not available here: ${r.error?.message ?? r.stderr.trim()}`;
  return undefined;
}

test('[inotify] ENOSPC on a new directory is reported with the sysctl to raise, and the directory still replicates', { skip: usernsWatchLimit() }, async () => {
  const daemon = await startRsyncDaemon({ modules: ['limits'] });
  const work = await tempDir('tss-enospc-');
  let child: ChildProcess | undefined;
  try {
    const src = join(work.path, 'src');
    const state = join(work.path, 'state');
    for (const d of ['a', 'b']) await mkdir(join(src, d), { recursive: true });
    await mkdir(state);
    await writeFile(join(src, '.keep'), 'k');
    const dst = daemon.modules.limits!;
    const config = makeConfig(state, [{ path: src, remotes: [daemonRemote(daemon, 'limits')] }], { retries: 2 });
    // The root, a and b: three watches, and not one more in this user namespace.
    child = spawn('unshare', ['--user', '--map-root-user', process.execPath, ...process.execArgv, fileURLToPath(new URL('../support/userns-engine.ts', import.meta.url)), JSON.stringify(config), '3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const events: { type: string; message?: string }[] = [];
    let buffered = '';
    child.stdout!.on('data', (b: Buffer) => {
      buffered += b.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) if (l) events.push(JSON.parse(l) as { type: string; message?: string });
    });
    await waitFor(() => events.some((e) => e.type === 'test-started'), 20_000, 'the engine in its user namespace');
    await waitForSameTree(src, dst, 20_000);
    await mkdir(join(src, 'new'));
    const warning = await waitFor(() => events.find((e) => e.type === 'watch-error' && /max_user_watches/.test(e.message ?? '')), 10_000, 'the ENOSPC warning');
    assert.match(warning.message!, /new/);
    assert.match(warning.message!, /sysctl -w fs\.inotify\.max_user_watches=/);
    await waitForSameTree(src, dst, 20_000);
    // Not watched: only the periodic reconcile of that directory can bring this over.
    await writeFile(join(src, 'new', 'later'), 'written into an unwatched directory');
    await waitForSameTree(src, dst, 40_000);
    assert.ok(events.some((e) => e.type === 'watch' && /reconciling .*\/new \(not watched/.test(e.message ?? '')), 'reconciled as polled');
    // An unwatched directory below a directory that is then renamed is still polled at its new
    // path (the list held paths, which went stale and were dropped: silently unwatched).
    await mkdir(join(src, 'a', 'deep'));
    await waitForSameTree(src, dst, 20_000);
    await rename(join(src, 'a'), join(src, 'z'));
    await waitForSameTree(src, dst, 20_000);
    await writeFile(join(src, 'z', 'deep', 'after-rename'), 'written into an unwatched directory whose parent was renamed');
    await waitForSameTree(src, dst, 40_000);
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await daemon.stop();
    await work.cleanup();
  }
});
