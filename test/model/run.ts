/**
 * One seeded model run: random operations on real roots while the CLI (a subprocess) replicates
 * them to real rsync daemons, faults in between; then the remotes must equal the source minus the
 * excludes, and the replay log must be empty. See test/model/model.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../support/cli.js';
import { startRsyncDaemon, type RsyncDaemon } from '../support/rsyncd.js';
import { ALL_CLASSES, type NameClass } from './names.js';
import { KEEP, randomOp, type World } from './ops.js';
import { Rng } from './rng.js';
import { diffTrees, EXCLUDES, expectedTree, walk } from './walk.js';

export interface ModelOptions {
  readonly seed: number;
  /** Operations after the start (a few more come before it, for the initial full sync). @default 80 */
  readonly steps?: number;
  readonly classes?: readonly NameClass[];
  /** Random `<filter>` excludes. @default true */
  readonly excludes?: boolean;
  /** Daemon stops, SIGKILL, SIGTERM and SIGHUP between steps. @default true */
  readonly faults?: boolean;
  /** How long the remotes may take to converge once the writers stopped. @default 90000 */
  readonly convergeMs?: number;
  /** Keep the temp dirs of a failed run (their path is in the report). */
  readonly keep?: boolean;
}

export interface ModelResult {
  readonly ok: boolean;
  /** Everything needed to reproduce and understand a failure: seed, parameters, operations, differences. */
  readonly report: string;
  readonly ops: readonly string[];
  readonly warnings: number;
  readonly ms: number;
}

/** Every class but non-UTF-8 bytes: to tell a byte-name failure from any other. */
export const SAFE_CLASSES: readonly NameClass[] = ALL_CLASSES.filter((c) => c !== 'nonUtf8');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pids whose parent is `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const n of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(n)) continue;
    const stat = await readFile(`/proc/${n}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(n));
  }
  return out;
}

/**
 * Stop a remote the way a host does (systemctl stop, a reboot): the daemon AND its per-connection
 * children. Killing only the listener leaves a receiver that may finish writing an older copy
 * after a newer one landed through the restarted daemon — a race of the test, not of tssersync.
 */
async function stopRemote(d: RsyncDaemon): Promise<void> {
  const kids = d.pid !== undefined ? await childrenOf(d.pid) : [];
  for (const k of kids) {
    try {
      process.kill(k, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await d.kill();
}

interface Cli {
  child: ReturnType<typeof startCli>['child'];
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Module of root `i` on daemon `k`. The modules are chrooted, as a root-run rsync daemon is by
 * default: without chroot, rsync sanitizes symlink targets (`/x` arrives as `x`) or munges them.
 */
/** Module of root `i` on daemon `k`: the remote id has no port, so two daemons need different names. */
const moduleOf = (k: number, i: number) => `d${k}r${i}`;

function xml(o: { roots: readonly string[]; daemons: readonly RsyncDaemon[]; excludes: readonly string[]; state: string; log: string }): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const d0 = o.daemons[0]!;
  const filter = o.excludes.map((e) => `    <exclude expression="${esc(e)}"/>`).join('\n');
  const localpaths = o.roots
    .map((root, i) => `    <localpath watch="${esc(root)}">\n${o.daemons.map((d, k) => `      <remote ip="127.0.0.1" name="${moduleOf(k, i)}" port="${d.port}"/>`).join('\n')}\n    </localpath>`)
    .join('\n');
  return `<?xml version="1.0" encoding="ISO-8859-1"?>
<head version="2.5">
  <host hostip="localhost" port="8008"></host>
  <debug start="false"/>
  <fileSystem xfs="false"/>
  <filter start="${o.excludes.length > 0}">
${filter}
  </filter>
  <inotify>
    <delete start="true"/>
    <createFolder start="true"/>
    <createFile start="false"/>
    <closeWrite start="true"/>
    <moveFrom start="true"/>
    <moveTo start="true"/>
    <attrib start="false"/>
    <modify start="false"/>
  </inotify>
  <sersync>
${localpaths}
    <rsync>
      <commonParams params="-artuz"/>
      <auth start="true" users="${d0.user}" passwordfile="${d0.passwordFile}"/>
      <userDefinedPort start="false" port="874"/>
      <timeout start="true" time="100"/>
      <ssh start="false"/>
    </rsync>
    <failLog path="${esc(o.log)}" timeToExecute="1"/>
    <crontab start="false" schedule="600"/>
    <plugin start="false" name="command"/>
  </sersync>
  <tssersync>
    <stateDir path="${esc(o.state)}"/>
    <retry count="2"/>
    <!-- Every full sync (-r, catch-up after a kill) in parts, whatever the tree's size (full-parts.ts). -->
    <fullSync minEntries="0"/>
  </tssersync>
</head>
`;
}

async function replayLines(log: string): Promise<string[]> {
  if (!existsSync(log)) return [];
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l.trim() !== '');
}

export async function runModel(o: ModelOptions): Promise<ModelResult> {
  const t0 = Date.now();
  const rng = new Rng(o.seed);
  const steps = o.steps ?? 80;
  const classes = o.classes ?? ALL_CLASSES;
  const threads = rng.int(1, 4);
  const nRoots = rng.int(1, 3);
  const nRemotes = rng.int(1, 2);
  const excludes = o.excludes === false ? [] : EXCLUDES.filter(() => rng.chance(0.4));
  const params = `seed ${o.seed}: ${steps} steps, -n ${threads}, ${nRoots} root(s), ${nRemotes} remote(s), excludes ${JSON.stringify(excludes)}, classes ${classes.join(',')}, faults ${o.faults !== false}`;
  const base = await mkdtemp(join(tmpdir(), 'tss-model-'));
  const roots = Array.from({ length: nRoots }, (_, i) => join(base, `src${i}`));
  const outside = join(base, 'outside');
  const state = join(base, 'state');
  const log = join(state, 'replay.jsonl');
  for (const d of [...roots, outside, state]) await mkdir(d, { recursive: true });
  for (const r of roots) await writeFile(join(r, KEEP.toString()), 'keep\n');
  const ops: string[] = [];
  const daemons: RsyncDaemon[] = [];
  const down = new Map<RsyncDaemon, number>();
  let cli: Cli | undefined;
  let outputs = '';
  let ok = false;
  let problems: string[] = [];
  const conf = join(base, 'confxml.xml');
  const world: World = { rng, roots, outside, classes };

  const startTss = async (fullSync: boolean): Promise<void> => {
    const c = startCli(['-o', conf, ...(fullSync ? ['-r'] : []), '-n', String(threads)]);
    cli = c;
    const deadline = Date.now() + 30_000;
    while (!/watching \d+ root/.test(c.output())) {
      if (Date.now() > deadline || c.child.exitCode !== null) throw new Error(`tssersync did not start:\n${c.output()}`);
      await sleep(20);
    }
  };
  const stopTss = async (signal: NodeJS.Signals): Promise<void> => {
    if (!cli) return;
    const c = cli;
    cli = undefined;
    c.child.kill(signal);
    const code = await c.exited;
    outputs += `--- tssersync output (sent ${signal}; exit code ${code}, signal ${c.child.signalCode}) ---\n${c.output()}\n`;
  };

  try {
    for (let i = 0; i < nRemotes; i++) {
      // A chrooted module (as real daemons run): only root can chroot. A normal user's daemon runs
      // without, and then rsync munges symlinks by default ("/rsyncd-munged/…"): turned off, so
      // links arrive as they are either way.
      daemons.push(await startRsyncDaemon({ modules: roots.map((_, j) => moduleOf(i, j)), moduleExtra: process.getuid?.() === 0 ? ['use chroot = yes'] : ['munge symlinks = no'] }));
    }
    await writeFile(conf, xml({ roots, daemons, excludes, state, log }));
    // Something for the initial full sync (-r) to send.
    for (let i = rng.int(0, 15); i > 0; i--) {
      const line = await randomOp(world);
      if (line) ops.push(`(before start) ${line}`);
    }
    await startTss(true);
    for (let step = 0; step < steps; step++) {
      for (const [d, until] of down) {
        if (step >= until) {
          await d.restart();
          down.delete(d);
          ops.push(`  [fault] remote :${d.port} back`);
        }
      }
      if (o.faults !== false && rng.chance(0.06)) {
        const fault = rng.weighted({ daemonDown: 3, kill9: 2, term: 1, hup: 2 });
        if (fault === 'daemonDown') {
          const up = daemons.filter((d) => !down.has(d));
          if (up.length > 0) {
            const d = rng.pick(up);
            await stopRemote(d);
            down.set(d, step + rng.int(2, 15));
            ops.push(`  [fault] remote :${d.port} stopped`);
          }
        } else if (fault === 'kill9' || fault === 'term') {
          await stopTss(fault === 'kill9' ? 'SIGKILL' : 'SIGTERM');
          ops.push(`  [fault] tssersync ${fault === 'kill9' ? 'SIGKILLed' : 'stopped (SIGTERM)'}`);
          // Changes while it is down must be caught up at the next start.
          for (let i = rng.int(0, 4); i > 0; i--) {
            const line = await randomOp(world);
            if (line) ops.push(`(while stopped) ${line}`);
          }
          await startTss(false);
          ops.push('  [fault] tssersync restarted');
        } else {
          cli?.child.kill('SIGHUP');
          ops.push('  [fault] SIGHUP');
        }
      }
      const line = await randomOp(world);
      if (line) ops.push(line);
      const pause = rng.weighted({ none: 4, short: 4, long: 1 });
      if (pause !== 'none') await sleep(pause === 'short' ? rng.int(1, 40) : rng.int(100, 1500));
    }
    for (const d of down.keys()) {
      await d.restart();
      ops.push(`  [end] remote :${d.port} back`);
    }
    down.clear();

    // The writers stopped: every remote must converge, and the replay log empty, within the bound.
    const deadline = Date.now() + (o.convergeMs ?? 90_000);
    for (;;) {
      problems = [];
      for (const [i, root] of roots.entries()) {
        const want = await expectedTree(root, excludes);
        for (const [k, d] of daemons.entries()) {
          const got = await walk(d.modules[moduleOf(k, i)]!);
          problems.push(...diffTrees(want, got).map((p) => `r${i} on :${d.port}: ${p}`));
        }
      }
      const left = await replayLines(log);
      if (problems.length === 0 && left.length > 0) problems.push(`replay log not empty: ${left.length} record(s), e.g. ${left.slice(0, 3).join(' | ')}`);
      if (problems.length === 0) {
        ok = true;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(500);
    }
    if (cli && (cli.child.exitCode !== null || cli.child.signalCode !== null)) problems.push(`tssersync ended on its own (exit code ${cli.child.exitCode}, signal ${cli.child.signalCode})`);
  } catch (err) {
    problems.push(`model run error: ${(err as Error).stack ?? String(err)}`);
    ok = false;
  } finally {
    await stopTss('SIGTERM').catch(() => {});
    for (const d of daemons) await d.stop().catch(() => {});
    if (ok || !o.keep) await rm(base, { recursive: true, force: true });
  }
  ok = ok && problems.length === 0;
  const warnings = (outputs.match(/\bwarn/gi) ?? []).length;
  const report = ok
    ? `${params}: ok, ${ops.length} operations, ${Date.now() - t0} ms`
    : [
        `MODEL FAILURE — ${params}`,
        `reproduce: npm run soak -- --seed ${o.seed} --steps ${steps}${classes.includes('nonUtf8') ? '' : ' --safe-names'}${o.excludes === false ? ' --no-excludes' : ''}${o.faults === false ? ' --no-faults' : ''}`,
        ...(o.keep ? [`temp dir kept: ${base}`] : []),
        `problems (${problems.length}):`,
        ...problems.slice(0, 40).map((p) => `  ${p}`),
        `operations (${ops.length}):`,
        ...ops.map((l, i) => `  ${String(i + 1).padStart(3)} ${l}`),
        outputs.split('\n').slice(-80).join('\n'),
      ].join('\n');
  return { ok, report, ops, warnings, ms: Date.now() - t0 };
}
