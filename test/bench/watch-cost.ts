/**
 * What the storm's events cost before the engine sees them: the watcher child alone (its reads,
 * decoding and the IPC channel, the parent only receiving), then the same with the parent's
 * Watcher (resolve: an lstat per path, filters, switches). Set against tssersync's whole node
 * CPU in the same storm (`npm run bench -- --scenarios storm --profile DIR`), the rest is the
 * engine's: change set, planner, lanes, send plans, rsync runs, status.
 *
 * One storm (test/bench/writers.ts: 2,000 mixed operations on a 1,000-file tree) per round, the
 * two stages alternating; CPU of this process (the parent) and of the watcher child from the
 * writer's start until 1 s after its end, medians.
 *
 * Usage (a measurement: under the bench lock):
 *   TMPDIR=/mnt/jfs flock /work/bench.lock node --import tsx test/bench/watch-cost.ts [ROUNDS]
 */
import '../../src/tiering.js';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WatchChild } from '../../src/watch/child-handle.js';
import { Watcher } from '../../src/watch/watcher.js';
import { DEFAULT_EVENTS } from '../../src/config/defaults.js';
import type { ChildOptions } from '../../src/watch/protocol.js';
import { tempDir } from '../support/tree.js';
import { writeStorm, writeStormTree } from './writers.js';

const ROUNDS = Number(process.argv[2] ?? 5);

/**
 * The writer runs in a process of its own (this file with `--write`), so that this process's CPU
 * is the watcher's parent side only.
 */
function writer(step: 'prepare' | 'storm', dir: string, work: string): void {
  execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--write', step, dir, work], { stdio: 'inherit' });
}

async function writerMain(step: string, dir: string, work: string): Promise<void> {
  const seed = await readFile(join(work, 'seed'));
  if (step === 'prepare') {
    const state = await writeStormTree(dir, seed, 1000);
    await writeFile(join(work, 'state.json'), JSON.stringify([...state]));
  } else {
    const state = new Map<string, number>(JSON.parse(await readFile(join(work, 'state.json'), 'utf8')) as [string, number][]);
    await writeStorm(dir, seed, state, 2000);
  }
}

/**
 * CPU (ms) of the node children of this process: the run time of each of their threads from
 * /proc/PID/task/TID/schedstat, in nanoseconds (utime+stime come in 10 ms ticks, coarser than the
 * differences measured here).
 */
async function childrenMs(): Promise<number> {
  let ns = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (Number(f[1]) !== process.pid || !text.includes('(node)')) continue;
    for (const tid of await readdir(`/proc/${name}/task`).catch(() => [] as string[])) {
      const sched = await readFile(`/proc/${name}/task/${tid}/schedstat`, 'utf8').catch(() => '0');
      ns += Number(sched.split(' ')[0]);
    }
  }
  return ns / 1e6;
}

const ownMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Sample {
  parent: number;
  child: number;
  events: number;
}

async function storm(stage: 'child' | 'resolve', work: string): Promise<Sample> {
  const dir = await tempDir('tss-watch-cost-');
  writer('prepare', dir.path, work);
  let events = 0;
  let stop: () => Promise<void>;
  if (stage === 'child') {
    const options: ChildOptions = { backend: 'inotify', excludes: [], switches: DEFAULT_EVENTS, unwatchedPollMs: 5000 };
    const child = new WatchChild(dir.path, options, { onEvents: (e) => void (events += e.length), onError: () => {}, onExit: () => {}, onGap: () => {}, onWarning: () => {} });
    await child.ready();
    stop = () => child.stop();
  } else {
    const w = new Watcher({ roots: [dir.path], excludes: [], switches: DEFAULT_EVENTS, emit: () => {}, onChanges: (c) => void (events += c.length), onGap: () => {}, backend: 'inotify' });
    await w.start();
    stop = () => w.stop();
  }
  await new Promise((r) => setTimeout(r, 500));
  const p0 = ownMs();
  const c0 = await childrenMs();
  writer('storm', dir.path, work);
  await new Promise((r) => setTimeout(r, 1000));
  const sample = { parent: ownMs() - p0, child: (await childrenMs()) - c0, events };
  await stop();
  await dir.cleanup();
  return sample;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const work = await tempDir('tss-watch-cost-work-');
  await writeFile(join(work.path, 'seed'), randomBytes(8 << 20));
  const rows: Record<string, Sample[]> = { child: [], resolve: [] };
  await storm('child', work.path); // warm the file system and the page cache, not counted
  for (let i = 0; i < ROUNDS; i++) {
    for (const stage of ['child', 'resolve'] as const) rows[stage]!.push(await storm(stage, work.path));
  }
  await work.cleanup();
  for (const [stage, s] of Object.entries(rows)) {
    console.log(
      `${stage.padEnd(8)} parent median ${median(s.map((x) => x.parent)).toFixed(0)} ms, child median ${median(s.map((x) => x.child)).toFixed(0)} ms, ${stage === 'child' ? 'events' : 'changes'} ${median(s.map((x) => x.events))}` +
        `  (parent ${s.map((x) => x.parent.toFixed(0)).join(' ')}; child ${s.map((x) => x.child.toFixed(0)).join(' ')})`,
    );
  }
}

const w = process.argv.indexOf('--write');
(w >= 0 ? writerMain(process.argv[w + 1]!, process.argv[w + 2]!, process.argv[w + 3]!) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
