/**
 * A SIGHUP (or SIGTERM) that arrives while tssersync is still starting must not end it with the
 * signal's default action: it is acted on once the daemon runs. Found by the model test (a reload
 * right after a restart killed the daemon without a word: seed 1384784930).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli, sersyncXml } from '../support/cli.js';
import { startRsyncDaemon } from '../support/rsyncd.js';
import { tempDir, waitFor } from '../support/tree.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function setup() {
  const daemon = await startRsyncDaemon();
  cleanups.push(() => daemon.stop());
  const t = await tempDir('tss-early-signal-');
  cleanups.push(t.cleanup);
  const src = join(t.path, 'src');
  const state = join(t.path, 'state');
  await mkdir(src);
  await mkdir(state);
  const conf = join(t.path, 'confxml.xml');
  await writeFile(conf, sersyncXml({ src, state, daemon }));
  return { src, state, conf, dst: daemon.modules['backup']! };
}

/** Start, and signal as soon as the engine took its run marker (it is still starting then). */
async function startAndSignal(conf: string, state: string, signal: NodeJS.Signals) {
  const run = startCli(['-o', conf]);
  cleanups.push(async () => void run.child.kill('SIGKILL'));
  while (!existsSync(join(state, 'running'))) {
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  run.child.kill(signal);
  return run;
}

test('a SIGHUP while starting is a reload once started, not the end of the process', async () => {
  const { src, state, conf, dst } = await setup();
  const run = await startAndSignal(conf, state, 'SIGHUP');
  await waitFor(() => /SIGHUP: reloading/.test(run.output()) || run.child.signalCode !== null || undefined, 20000, 'the reload');
  assert.equal(run.child.signalCode, null, `killed by the early SIGHUP\n${run.output()}`);
  await waitFor(() => /watching \d+ root/.test(run.output().split('SIGHUP: reloading')[1] ?? ''), 20000, 'the reloaded engine');
  await writeFile(join(src, 'f'), 'after the reload');
  await waitFor(async () => (await readFile(join(dst, 'f'), 'utf8').catch(() => '')) === 'after the reload', 20000, 'a file after the reload');
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.output());
});

test('a SIGTERM while starting stops cleanly once started (exit 0, pending saved)', async () => {
  const { state, conf } = await setup();
  const run = await startAndSignal(conf, state, 'SIGTERM');
  assert.equal(await run.exited, 0, run.output());
  assert.match(run.output(), /stopping \(SIGTERM\)/);
  assert.ok(existsSync(join(state, 'pending.json')), 'the pending file of a clean stop');
  assert.ok(!existsSync(join(state, 'running')), 'the run marker removed');
});
