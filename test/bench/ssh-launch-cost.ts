/**
 * What starting one small job costs over ssh: a lane's one-path job of a new 50 KB file to a real
 * sshd on 127.0.0.1, three ways: an ssh connection of its own per run with the priority through the
 * launchers (`nice` and `ionice`: TSSERSYNC_PRIORITY_LAUNCHER=1; how ssh remotes ran until the
 * eleventh session), an ssh connection of its own with the priority on rsync's process group
 * (src/sync/priority.ts), and a shared ssh connection (src/sync/ssh-control.ts; both are the default
 * since). ROUNDS rounds (default 20) after one not counted, the forms alternating; prints the median
 * wall time of `lane.run` and the mean CPU of the reaped children (rsync with the ssh it forked, and
 * the launchers: 10 ms ticks, so only the mean over many runs means much; not counted there: a
 * shared connection's master, detached, sshd and the receiving rsync), and the busy CPU of the whole
 * machine over the run (/proc/stat: everything, both ends included; on a quiet machine).
 *
 * Usage (a measurement: under the bench lock): flock /work/bench.lock node --import tsx test/bench/ssh-launch-cost.ts [ROUNDS]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RemoteConfig, RsyncSettings } from '../../src/config/types.js';
import { Lane } from '../../src/sync/lane.js';
import { DEFAULT_PRIORITY } from '../../src/sync/priority.js';
import { startSshd } from '../support/sshd.js';
import { tempDir } from '../support/tree.js';
import { cpuTimes } from '../../src/sync/machine-load.js';
import { reapedChildrenMs } from './cpu.js';

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20);
  const sshd = await startSshd();
  const src = await tempDir('tss-ssh-launch-');
  const dst = await tempDir('tss-ssh-launch-dst-');
  const remote = (own: boolean): RemoteConfig => ({ id: `${sshd.user}@127.0.0.1:${dst.path}`, host: '127.0.0.1', module: dst.path, mode: 'ssh', port: sshd.port, user: sshd.user, passwordFile: undefined, sshOptions: [...sshd.sshOptions, ...(own ? ['-o', 'ControlMaster=no'] : [])] });
  const rsync: RsyncSettings = { commonParams: ['-artuz'], timeoutSeconds: 100, binary: 'rsync', maxDelete: undefined, priority: DEFAULT_PRIORITY };
  // [TSSERSYNC_PRIORITY_LAUNCHER, an ssh connection of its own per run (-o ControlMaster=no)]
  const forms: Record<string, readonly [string | undefined, boolean]> = {
    'own ssh, nice + ionice': ['1', true],
    'own ssh, group priority': [undefined, true],
    'shared ssh (default)': [undefined, false],
  };
  const times = new Map<string, number[]>();
  const cpu = new Map<string, number>();
  /** Busy CPU of the whole machine during the run (/proc/stat): both ends, the master, sshd, this process. */
  const machine = new Map<string, number>();
  // One lane per form, each resolving its priority at construction (the env switch); round 0 is a
  // warm-up, not counted: each lane's first job also probes the remote (--delete-missing-args).
  let argv0 = '';
  const lanes = new Map<string, Lane>();
  for (const [name, [env, own]] of Object.entries(forms)) {
    if (env) process.env['TSSERSYNC_PRIORITY_LAUNCHER'] = env;
    else delete process.env['TSSERSYNC_PRIORITY_LAUNCHER'];
    lanes.set(name, new Lane({ remote: remote(own), rsync, concurrency: 1, retries: 0, emit: (e) => (e.type === 'job-start' && e.argv ? (argv0 = e.argv[0] ?? '') : undefined), debug: true }));
  }
  delete process.env['TSSERSYNC_PRIORITY_LAUNCHER'];
  try {
    for (let round = 0; round <= rounds; round++) {
      for (const [name, [env]] of Object.entries(forms)) {
        const lane = lanes.get(name)!;
        const f = `f${round}-${name.replace(/\W+/g, '-')}.bin`;
        await writeFile(join(src.path, f), randomBytes(50 * 1024));
        const c0 = await reapedChildrenMs();
        const m0 = cpuTimes();
        const t0 = performance.now();
        const r = await lane.run({ root: src.path, action: 'path', paths: [f] });
        const ms = performance.now() - t0;
        const m1 = cpuTimes();
        if (!r.ok) throw new Error(`${name}: the job failed: ${JSON.stringify(r.outcome)}`);
        if ((env === '1') !== /nice$/.test(argv0)) throw new Error(`${name}: started as ${argv0}`);
        if (round > 0) {
          cpu.set(name, (cpu.get(name) ?? 0) + (await reapedChildrenMs()) - c0);
          machine.set(name, (machine.get(name) ?? 0) + m1.busy - m0.busy);
          times.set(name, [...(times.get(name) ?? []), ms]);
        }
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  } finally {
    for (const lane of lanes.values()) await lane.stop('drain');
    await sshd.stop();
    await src.cleanup();
    await dst.cleanup();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`one new 50 KB file, a lane's path job over ssh to 127.0.0.1 (-artuz): lane.run (median of ${rounds}), the CPU of rsync, ssh and the launchers (mean; a shared connection's master is not a child: not counted, nor is sshd), and the busy CPU of the whole machine during the run (/proc/stat, mean: both ends, the master, sshd, this process):`);
  for (const [name, xs] of times) console.log(`  ${name.padEnd(24)} ${median(xs).toFixed(1)} ms, CPU ${((cpu.get(name) ?? 0) / rounds).toFixed(1)} ms, machine ${((machine.get(name) ?? 0) / rounds).toFixed(1)} ms`);
}

await main();
