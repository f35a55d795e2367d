/**
 * What a full-sync part's filter rules cost rsync, on an unchanged tree (issue 9's `-r` CPU):
 * the same half of the tree named by different rule forms, each run against a real daemon whose
 * module already holds the tree, alternating, medians of client and daemon CPU.
 *
 * Usage (a measurement: under the bench lock), on a tree kept by `npm run bench:scale -- --tree DIR`:
 *   flock /work/bench.lock node --import tsx test/bench/part-rules.ts DIR [RUNS]
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRsyncDaemon } from '../support/rsyncd.js';

const [dir, runsArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: part-rules.ts TREE_DIR [RUNS]');
const RUNS = Number(runsArg ?? 3);
const src = join(dir, 'src');
const recv = join(dir, 'recv');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cpuMs(pid: number | 'self'): Promise<number> {
  const st = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}
async function daemonIdle(pid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim() === '') return;
    await sleep(10);
  }
}
function rsync(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('rsync', args, { cwd: src, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`rsync exit ${c}`))));
  });
}

const daemon = await startRsyncDaemon({ modules: ['full'] });
try {
  await mkdir(recv, { recursive: true });
  await rm(daemon.modules.full!, { recursive: true, force: true });
  await symlink(recv, daemon.modules.full!);
  const auth = [`--port=${daemon.port}`, `--password-file=${daemon.passwordFile}`];
  const dest = `${daemon.user}@127.0.0.1::full/`;
  await rsync(['-a', '--delete', ...auth, './', dest]);
  const tops = (await readdir(src)).sort();
  const mine = tops.filter((_, i) => i % 2 === 1);
  const rulesDir = join(dir, 'rules');
  await mkdir(rulesDir, { recursive: true });
  const forms: Record<string, string[] | undefined> = {
    'whole tree, no rules (bare)': undefined,
    'part 0 today: - /UNIT': mine.map((u) => `- /${u}`),
    'part 0: - /UNIT/ (directory-only)': mine.map((u) => `- /${u}/`),
    'part 0: + /*/** (below the units) then - /UNIT': ['+ /*/**', ...mine.map((u) => `- /${u}`)],
    'part 1 today: + /UNIT/*** then - *': [...mine.map((u) => `+ /${u}/***`), '- *'],
    'part 1: + /UNIT/ then - /*': [...mine.map((u) => `+ /${u}/`), '- /*'],
    'part 1: + /*/** (below the units), + /UNIT/, - /*': ['+ /*/**', ...mine.map((u) => `+ /${u}/`), '- /*'],
  };
  const res = new Map<string, { client: number[]; server: number[] }>();
  for (let r = 0; r < RUNS; r++) {
    for (const [name, rules] of Object.entries(forms)) {
      const extra: string[] = [];
      if (rules) {
        const f = join(rulesDir, `${Object.keys(forms).indexOf(name)}.rules`);
        await writeFile(f, rules.join('\0') + '\0');
        extra.push('--from0', `--filter=merge ${f}`, '--no-from0');
      }
      const [c0, s0] = [await cpuMs('self'), await cpuMs(daemon.pid!)];
      await rsync(['-a', '--delete', ...extra, ...auth, './', dest]);
      await daemonIdle(daemon.pid!);
      const m = res.get(name) ?? { client: [], server: [] };
      m.client.push((await cpuMs('self')) - c0);
      m.server.push((await cpuMs(daemon.pid!)) - s0);
      res.set(name, m);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`tree ${src}: ${tops.length} top-level directories, ${mine.length} named by the rules; ${RUNS} runs each, alternating, medians of CPU`);
  for (const [name, m] of res) console.log(`${name}: client ${(med(m.client) / 1000).toFixed(2)} s + daemon ${(med(m.server) / 1000).toFixed(2)} s (runs: ${m.client.map((c, i) => `${c}+${m.server[i]}`).join(', ')} ms)`);
} finally {
  await daemon.stop();
}
