import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RsyncSettings } from '../../../src/config/types.js';
import { nameFromBytes } from '../../../src/core/names.js';
import { autoParts, dealUnits, MAX_UNITS_PER_PART, partRules, partZeroRules, whyNotSplit, type Unit } from '../../../src/sync/full-parts.js';
import { buildRsyncArgv } from '../../../src/sync/argv.js';
import { Rng } from '../../model/rng.js';

const rsync: RsyncSettings = { commonParams: ['-artuz'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined };
const rules = (b: Buffer): string[] => b.toString('latin1').split('\0').slice(0, -1);

test('dealUnits: every unit in exactly one part, part 0 the rest; largest first to the lightest part', () => {
  const units: Unit[] = [
    { path: 'a', weight: 100 },
    { path: 'b', weight: 60 },
    { path: 'c', weight: 50 },
    { path: 'd', weight: 10 },
  ];
  const plan = dealUnits(units, 2)!;
  // a → part 0; b → part 1; c → part 1 (60 < 100); d → part 0 (100 < 110).
  assert.deepEqual(plan.parts, [['b', 'c']]);
  assert.deepEqual(plan.others, ['b', 'c']);
  assert.equal(plan.estimate, 220);
});

test('dealUnits: no split with fewer than two units or parts; never more parts than units', () => {
  assert.equal(dealUnits([{ path: 'a', weight: 5 }], 4), undefined);
  assert.equal(dealUnits([{ path: 'a', weight: 5 }, { path: 'b', weight: 5 }], 1), undefined);
  assert.equal(dealUnits([], 3), undefined);
  const plan = dealUnits([{ path: 'a', weight: 5 }, { path: 'b', weight: 5 }], 8)!;
  assert.equal(plan.parts.length, 1);
});

test('dealUnits (seeded): a partition of the units, balanced within the largest unit, parts ≥ 1 capped', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rng = new Rng(seed);
    const n = rng.int(2, 300);
    const units: Unit[] = Array.from({ length: n }, (_, i) => ({ path: `u${i}`, weight: rng.int(1, rng.chance(0.1) ? 100_000 : 1000) }));
    const parts = rng.int(2, 6);
    const cap = rng.chance(0.5) ? MAX_UNITS_PER_PART : rng.int(1, 10);
    const plan = dealUnits(units, parts, cap)!;
    assert.ok(plan, `seed ${seed}`);
    const others = new Set(plan.others);
    assert.equal(others.size, plan.others.length, `seed ${seed}: a unit in two parts`);
    assert.ok(plan.parts.length <= parts - 1 && plan.parts.every((p) => p.length >= 1 && p.length <= cap), `seed ${seed}: part sizes`);
    // Part 0 holds the rest; with no cap reached, LPT keeps every part within the largest unit of the lightest.
    const w = new Map(units.map((u) => [u.path, u.weight]));
    const loads = [units.filter((u) => !others.has(u.path)).reduce((a, u) => a + u.weight, 0), ...plan.parts.map((p) => p.reduce((a, x) => a + w.get(x)!, 0))];
    assert.equal(loads.reduce((a, b) => a + b, 0), plan.estimate);
    if (plan.parts.every((p) => p.length < cap) && plan.parts.length === Math.min(parts, n) - 1) {
      const max = Math.max(...units.map((u) => u.weight));
      assert.ok(Math.max(...loads) - Math.min(...loads) <= max, `seed ${seed}: loads ${loads.join(', ')}`);
    }
  }
});

test('partRules: what is below the units at once, the directories above, each unit, then the rest of each level above excluded; names as their bytes, wildcards escaped', () => {
  const gbk = nameFromBytes(Buffer.from([0xc4, 0xe3, 0xba, 0xc3]));
  const text = rules(partRules(['a/b/u1', 'a/u2', `x*y/${gbk}`, 'top', 'back\\slash']));
  const raw = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]).toString('latin1');
  assert.deepEqual(text, [
    '+ /*/*/*/**',
    '+ /a/', '+ /x\\*y/', '+ /a/b/',
    '+ /a/b/u1', '+ /a/u2', `+ /x\\*y/${raw}`, '+ /top', '+ /back\\slash',
    '- /a/*', '- /x\\*y/*', '- /a/b/*',
    '- /*',
  ]);
  assert.deepEqual(rules(partRules(['u'])), ['+ /*/**', '+ /u', '- /*']);
});

test('partZeroRules: what is below the deepest unit at once, then each other part\'s unit excluded, of either type', () => {
  assert.deepEqual(rules(partZeroRules(['t01', 'x*y', 'a/b'])), ['+ /*/*/**', '- /t01', '- /x\\*y', '- /a/b']);
  assert.deepEqual(rules(partZeroRules(['t01'])), ['+ /*/**', '- /t01']);
});

test('whyNotSplit: options whose meaning is per run keep a full sync one run', () => {
  assert.equal(whyNotSplit(rsync), undefined);
  assert.equal(whyNotSplit({ ...rsync, commonParams: ['-artuz', '--exclude=*.tmp', '--exclude-from=/etc/x', '-C', '--partial', '--chmod=Du+w'] }), undefined);
  for (const w of ['--delete-excluded', '--include=*.jpg', '--include-from=/x', '--filter=+ a', '--files-from=/x', '--prune-empty-dirs', '--hard-links', '--bwlimit=100', '--max-delete=5', '-aH', '-H', '-avm', '-f', '-F', '-azF']) {
    assert.ok(whyNotSplit({ ...rsync, commonParams: ['-artuz', w] }), w);
  }
  assert.ok(whyNotSplit({ ...rsync, maxDelete: 100 }));
});

test('autoParts: the least of the lane concurrency, the cores and 4; at least 1', () => {
  assert.equal(autoParts(10, 2), 2);
  assert.equal(autoParts(1, 16), 1);
  assert.equal(autoParts(10, 32), 4);
  assert.equal(autoParts(0, 0), 1);
});

test('argv: a part reads its rules after every other filter option (the user\'s and the crontab\'s still apply inside its units)', () => {
  const remote = { id: 'r', host: '127.0.0.1', module: 'backup', mode: 'daemon', port: 8873, user: undefined, passwordFile: undefined, sshOptions: [] } as const;
  const argv = buildRsyncArgv({ remote, rsync: { ...rsync, commonParams: ['-artuz', '--exclude=*.bak'] }, action: 'tree', full: true, excludes: ['*.tmp'], deleteMissing: false, ignoreTimes: false, rulesFile: '/t/excluded', partRulesFile: '/t/part' });
  const at = (w: string) => argv.indexOf(w);
  assert.ok(at('--filter=merge /t/excluded') < at('--exclude=*.bak'));
  assert.ok(at('--exclude=*.bak') < at('--exclude=*.tmp'));
  assert.ok(at('--exclude=*.tmp') < at('--filter=merge /t/part'));
  assert.deepEqual(argv.slice(at('--filter=merge /t/part') - 1, at('--filter=merge /t/part') + 2), ['--from0', '--filter=merge /t/part', '--no-from0']);
  assert.ok(at('--filter=merge /t/part') < at('./'));
});
