/**
 * What starting a child costs the parent's main thread (src/sync/spawn.ts): node's
 * child_process.spawn (libuv forks: the page tables are copied, so it grows with the parent's RSS)
 * against posix_spawn through koffi (vfork-like: nothing copied), at the parent's RSS as it is and
 * with 100 MB more. Each spawn runs /bin/true with stdout and stderr piped, as the runner's do;
 * ROUNDS spawns of each (default 40), one at a time. Prints the median time the spawn call blocks
 * the main thread and the parent's CPU per spawn (process.cpuUsage).
 *
 * Usage (a measurement: under the bench lock): flock /work/bench.lock node --import tsx test/bench/spawn-cost.ts [ROUNDS]
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { spawnChild, type Child } from '../../src/sync/spawn.js';

const rounds = Number(process.argv[2] ?? 40);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Starts one child with `start`, returns how long the call blocked; resolves once it is gone. */
function once(start: () => Child): Promise<number> {
  return new Promise((resolve) => {
    const t = performance.now();
    const c = start();
    const blocked = performance.now() - t;
    c.stdout?.resume();
    c.stderr?.resume();
    c.on('close', () => resolve(blocked));
  });
}

const forms: Record<string, () => Child> = {
  "node's spawn": () => spawn('/bin/true', [], { stdio: ['ignore', 'pipe', 'pipe'] }) as unknown as Child,
  'posix_spawn (spawn.ts)': () => spawnChild('/bin/true', [], { cwd: process.cwd(), env: process.env, stdin: 'ignore', stdout: 'pipe' }),
};

for (const extraMb of [0, 100]) {
  const hold = Buffer.alloc(extraMb * 1024 * 1024, 1);
  for (const [name, start] of Object.entries(forms)) {
    await once(start); // first call: koffi's function setup, not a spawn's cost
    const blocked: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < rounds; i++) blocked.push(await once(start));
    const cpu = process.cpuUsage(cpu0);
    const rss = Math.round(process.memoryUsage().rss / 1e6);
    console.log(`RSS ${rss} MB, ${name.padEnd(24)} blocks ${median(blocked).toFixed(2)} ms (median), parent CPU ${((cpu.user + cpu.system) / 1000 / rounds).toFixed(2)} ms per spawn`);
  }
  hold.fill(2);
}
