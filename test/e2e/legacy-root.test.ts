/**
 * Watch roots given through a symlink, and roots whose own name is not UTF-8.
 *
 * - A root that is a symlink to its directory (/data -> /mnt/disk1/data) was refused by the inotify
 *   backend (its root watch had IN_DONT_FOLLOW: "cannot watch …: ENOTDIR"), and the safety probe
 *   lstat'ed it, called it "not a directory" and halted replication. Both backends now watch the
 *   target and replicate it: the full sync, new files and directories, deletes.
 * - A config declared ISO-8859-1 is read as Latin-1 text, so a root named in Latin-1 bytes was
 *   reported as "does not exist" while the directory was right there. The error now names the
 *   directory as it exists (a bash $'…' word) and the fix: a UTF-8 symlink to it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathBytes } from '../../src/core/names.js';
import { runCli, sersyncXml, startCli } from '../support/cli.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, treeDiff, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const LATIN1_DIR = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: not UTF-8

test('a watch root named in Latin-1 bytes: one line naming the directory as it exists, and the fix', async () => {
  const daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-legacy-root-');
  cleanups.push(t.cleanup);
  const legacy = Buffer.concat([Buffer.from(`${t.path}/`), LATIN1_DIR]);
  await mkdir(legacy);
  const state = join(t.path, 'state');
  await mkdir(state);
  // The config as a Sersync user writes it: ISO-8859-1 declared, the root's bytes as they are.
  const [head, tail] = sersyncXml({ src: '@ROOT@', state, daemon }).split('@ROOT@') as [string, string];
  assert.match(head, /encoding="ISO-8859-1"/);
  const conf = join(t.path, 'confxml.xml');
  await writeFile(conf, Buffer.concat([Buffer.from(head, 'latin1'), legacy, Buffer.from(tail, 'latin1')]));
  const r = await runCli(['--check', '-o', conf]);
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stderr, /confxml\.xml:\d+ <localpath>: the watch root .* is named in Latin-1 or another legacy encoding \(the directory \$'[^']*\/caf\\xe9' exists\).*UTF-8 symlink.*ln -s \$'[^']*\/caf\\xe9'/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  // A root that really is missing still says so.
  await rm(legacy, { recursive: true });
  assert.match((await runCli(['--check', '-o', conf])).stderr, /does not exist: create it/);
});

for (const backend of ['inotify', 'parcel'] as const) {
  test(`${backend}: a root given as a symlink to its directory replicates (full sync, new file and directory, delete), names as bytes`, async () => {
    const daemon = await startRsyncDaemon();
    cleanups.push(() => daemon.stop());
    const t = await tempDir('tss-link-root-');
    cleanups.push(t.cleanup);
    // inotify: the target's own name in Latin-1, the fix the error above gives. @parcel/watcher takes
    // paths as JS strings, so only a UTF-8 target can be named to it.
    const target = Buffer.concat([Buffer.from(`${t.path}/`), backend === 'inotify' ? LATIN1_DIR : Buffer.from('real-data')]);
    await mkdir(Buffer.concat([target, Buffer.from('/old')]), { recursive: true });
    await writeFile(Buffer.concat([target, Buffer.from('/old/gone.txt')]), 'deleted later');
    await writeFile(Buffer.concat([target, Buffer.from('/before.txt')]), 'there before the start');
    const link = join(t.path, 'data');
    await symlink(target, link);
    const state = join(t.path, 'state');
    await mkdir(state);
    const conf = join(t.path, 'confxml.xml');
    await writeFile(conf, sersyncXml({ src: link, state, daemon, tssersync: `<watcher backend="${backend}"/>` }));
    const run = startCli(['-r', '-o', conf]);
    cleanups.push(async () => void run.child.kill('SIGKILL'));
    const dst = daemon.modules['backup']!;
    await waitFor(() => /watching \d+ root/.test(run.output()) || run.child.exitCode !== null || undefined, 20000, 'the watcher');
    assert.equal(run.child.exitCode, null, run.output());
    await waitFor(async () => (await readFile(join(dst, 'before.txt'), 'utf8').catch(() => '')) === 'there before the start' || undefined, 20000, `the full sync (output: ${run.output()})`);
    const gbk = 'new/\udcd6\udcd0.txt'; // "中" in GBK: not UTF-8
    await mkdir(join(link, 'new'));
    await writeFile(pathBytes(link, gbk), 'a GBK name under the link');
    await writeFile(join(link, 'top.txt'), 'a new file at the top');
    await rm(join(link, 'old', 'gone.txt'));
    await waitFor(async () => ((await treeDiff(link, dst)).length === 0 ? true : undefined), 20000, `the live changes (output: ${run.output()})`);
    assert.equal(await readFile(pathBytes(dst, gbk), 'utf8'), 'a GBK name under the link');
    assert.equal(await stat(join(dst, 'old', 'gone.txt')).catch(() => undefined), undefined, 'the delete replicated');
    assert.doesNotMatch(run.output(), /halted|not a directory|cannot watch/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });
}

test('a symlinked root swapped to another directory while running (a deploy: current -> releases/N): the remote follows the new target', async () => {
  const daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-swap-root-');
  cleanups.push(t.cleanup);
  for (const [rel, body] of [['rel1/a/one.txt', 'release 1'], ['rel1/shared.txt', 'one'], ['rel2/b/two.txt', 'release 2'], ['rel2/shared.txt', 'two']] as const) {
    await mkdir(join(t.path, rel, '..'), { recursive: true });
    await writeFile(join(t.path, rel), body);
  }
  const current = join(t.path, 'current');
  await symlink(join(t.path, 'rel1'), current);
  const state = join(t.path, 'state');
  await mkdir(state);
  const conf = join(t.path, 'confxml.xml');
  await writeFile(conf, sersyncXml({ src: current, state, daemon }));
  const run = startCli(['-r', '-o', conf]);
  cleanups.push(async () => void run.child.kill('SIGKILL'));
  const dst = daemon.modules['backup']!;
  const equal = async () => ((await treeDiff(current, dst)).length === 0 ? true : undefined);
  await waitFor(() => /watching \d+ root/.test(run.output()) || undefined, 20000, 'the watcher');
  await waitFor(equal, 20000, 'release 1');
  // The atomic swap a deploy makes: a new link renamed over the old one.
  await symlink(join(t.path, 'rel2'), `${current}.new`);
  await rename(`${current}.new`, current);
  await waitFor(equal, 20000, `release 2 after the swap (output: ${run.output()})`);
  assert.equal(await stat(join(dst, 'a')).catch(() => undefined), undefined, 'release 1 is gone from the remote');
  await writeFile(join(t.path, 'rel2', 'b', 'later.txt'), 'written after the swap');
  await waitFor(async () => (await readFile(join(dst, 'b', 'later.txt'), 'utf8').catch(() => '')) === 'written after the swap' || undefined, 20000, 'a change in the new target');
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);
});
