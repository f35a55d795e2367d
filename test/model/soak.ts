/**
 * `npm run soak -- --minutes N`: random seeds of the model test for as long as asked; every failure
 * is printed in full (seed, parameters, operations, differences) and counted.
 * `npm run soak -- --seed S [--steps K]` reruns one seed (what a failure report says to run).
 * Options: --safe-names (leave out the non-UTF-8 name class), --no-excludes, --no-faults, --keep (keep
 * the temp dirs of a failed run), --converge-ms N.
 */
import { parseArgs } from 'node:util';
import { ALL_CLASSES } from './names.js';
import { runModel, SAFE_CLASSES } from './run.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seed: { type: 'string' },
    steps: { type: 'string' },
    'safe-names': { type: 'boolean', default: false },
    'no-excludes': { type: 'boolean', default: false },
    'no-faults': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'converge-ms': { type: 'string' },
  },
});
const opts = {
  ...(values.steps ? { steps: Number(values.steps) } : {}),
  classes: values['safe-names'] ? SAFE_CLASSES : ALL_CLASSES,
  excludes: !values['no-excludes'],
  faults: !values['no-faults'],
  keep: values.keep,
  ...(values['converge-ms'] ? { convergeMs: Number(values['converge-ms']) } : {}),
};

async function main(): Promise<number> {
  if (values.seed !== undefined) {
    const r = await runModel({ seed: Number(values.seed), ...opts });
    console.log(r.report);
    return r.ok ? 0 : 1;
  }
  const until = Date.now() + Number(values.minutes ?? '5') * 60_000;
  let runs = 0;
  const failed: number[] = [];
  while (Date.now() < until) {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const r = await runModel({ seed, ...opts });
    runs++;
    console.log(r.ok ? `ok   ${r.report}` : r.report);
    if (!r.ok) failed.push(seed);
  }
  console.log(`soak: ${runs} run(s), ${failed.length} failed${failed.length ? `: seeds ${failed.join(', ')}` : ''}`);
  return failed.length > 0 ? 1 : 0;
}

// `npm run soak | head` must not kill a run halfway (its daemons and temp dirs would be left behind).
process.stdout.on('error', () => {});
main().then((code) => process.exit(code));
