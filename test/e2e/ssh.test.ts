/**
 * The CLI with an ssh remote (a real sshd on 127.0.0.1): `-r` and live changes arrive, the rsync
 * runs share one ssh connection (src/sync/ssh-control.ts), and when tssersync stops, that
 * connection ends and its private socket directory is removed: nothing is left running.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli, writeXml } from '../support/cli.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { startSshd, type Sshd } from '../support/sshd.js';
import { tempDir, waitFor, waitForSameTree } from '../support/tree.js';

let daemon: RsyncDaemon;
let sshd: Sshd;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  daemon = await startRsyncDaemon({ modules: ['backup'] });
  cleanups.push(() => daemon.stop());
  sshd = await startSshd();
  cleanups.push(() => sshd.stop());
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Processes whose command line mentions `text` (a shared connection's master names its socket). */
async function processesMentioning(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) out.push(Number(name));
  }
  return out;
}

test('ssh remote: -r and live changes over one shared ssh connection, which ends with tssersync (its socket directory removed)', async () => {
  const src = await tempDir('tss-e2e-ssh-src-');
  const dst = await tempDir('tss-e2e-ssh-dst-');
  const state = await tempDir('tss-e2e-ssh-state-');
  // The CLI's TMPDIR: where its private socket directory is made, so this test can find it.
  const tmp = await tempDir('tss-e2e-ssh-tmp-');
  cleanups.push(src.cleanup, dst.cleanup, state.cleanup, tmp.cleanup);
  await mkdir(join(src.path, 'before/tree'), { recursive: true });
  await writeFile(join(src.path, 'before/tree/file'), 'existed before start');
  const ssh = `\n      <remote ip="127.0.0.1" name="${dst.path}" ssh="true" user="${sshd.user}" port="${sshd.port}" sshOptions="${sshd.sshOptions.join(' ')}"/>`;
  const conf = await writeXml(join(state.path, 'confxml.xml'), { src: src.path, state: state.path, daemon, extraRemotes: ssh });
  const run = startCli(['-r', '-o', conf], { TMPDIR: tmp.path });
  let dir = '';
  try {
    await waitForSameTree(src.path, dst.path, 20000);
    for (let i = 0; i < 3; i++) {
      await writeFile(join(src.path, `live-${i}.txt`), `change ${i}`);
      await waitForSameTree(src.path, dst.path, 20000);
    }
    const dirs = (await readdir(tmp.path)).filter((n) => n.startsWith('tssersync-ssh-'));
    assert.equal(dirs.length, 1, `socket directories: ${dirs.join(', ')}`);
    dir = join(tmp.path, dirs[0]!);
    assert.equal((await readdir(dir)).length, 1, 'one connection for the one ssh remote');
    assert.ok((await processesMentioning(dir)).length >= 1, 'its master runs');
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.output());
  await waitFor(async () => ((await processesMentioning(dir)).length === 0 ? true : undefined), 5000, 'the shared connection ended');
  assert.deepEqual((await readdir(tmp.path)).filter((n) => n.startsWith('tssersync-ssh-')), [], 'the socket directory is removed');
});
