import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyExit, effectiveExit, EXIT_TABLE, heldForOperator } from '../../../src/sync/exit-codes.js';

/** Every row of rsync-facts.md's table: code → class. */
const EXPECTED: ReadonlyArray<[number, string, RegExp]> = [
  [0, 'done', /success/],
  [1, 'fatal', /syntax or usage/],
  [2, 'fatal', /protocol incompatibility/],
  [3, 'retry', /selecting input\/output/],
  [4, 'fatal', /not supported/],
  [5, 'retry', /client-server protocol/],
  [6, 'retry', /log file/],
  [10, 'retry', /socket I\/O/],
  [11, 'retry', /file I\/O/],
  [12, 'retry', /protocol data stream/],
  [13, 'retry', /program diagnostics/],
  [14, 'retry', /IPC/],
  [20, 'retry', /SIGUSR1 or SIGINT/],
  [21, 'retry', /waitpid/],
  [22, 'retry', /core memory/],
  [23, 'partial', /partial transfer due to error/],
  [24, 'done', /vanished/],
  [25, 'fatal', /max-delete/],
  [30, 'retry', /timeout in data/],
  [35, 'retry', /daemon connection/],
  [255, 'retry', /ssh or remote shell/],
];

for (const [code, cls, meaning] of EXPECTED) {
  test(`exit ${code} is ${cls}`, () => {
    const r = classifyExit(code, null);
    assert.equal(r.class, cls);
    assert.match(r.meaning, meaning);
  });
}

test('the table has exactly the documented rows', () => {
  assert.deepEqual(Object.keys(EXIT_TABLE).map(Number).sort((a, b) => a - b), EXPECTED.map(([c]) => c));
});

test('surprising rows carry a reason', () => {
  for (const code of [1, 2, 4, 5, 23, 24, 25]) assert.ok(EXIT_TABLE[code]?.reason, `exit ${code} needs a reason`);
});

test('an unknown code retries (nothing lost, the retry budget bounds it)', () => {
  assert.deepEqual(classifyExit(99, null), { class: 'retry', meaning: 'unknown exit code' });
  assert.equal(classifyExit(-1, null).class, 'retry');
});

test('a killed rsync retries and says by what', () => {
  assert.deepEqual(classifyExit(null, 'SIGTERM'), { class: 'retry', meaning: 'killed by SIGTERM' });
  assert.equal(classifyExit(null, null).class, 'retry');
});

test('a daemon receiver stopped by --max-delete makes the client exit 0: the stderr message makes it 25', () => {
  const stderr = 'Deletions stopped due to --max-delete limit (3 skipped)\n';
  assert.equal(effectiveExit(0, stderr), 25);
  assert.equal(classifyExit(effectiveExit(0, stderr), null).class, 'fatal');
  assert.equal(effectiveExit(0, ''), 0);
  assert.equal(effectiveExit(25, stderr), 25);
  assert.equal(effectiveExit(23, stderr), 23, 'a worse code is kept');
  assert.equal(effectiveExit(0, 'a file named Deletions stopped due to --max-delete limit'), 0, 'only a line of its own counts');
});

test('held for the operator is a column of the table: only the --max-delete stop (25)', () => {
  const held = Object.entries(EXIT_TABLE).filter(([, row]) => row.heldForOperator).map(([code]) => Number(code));
  assert.deepEqual(held, [25]);
  assert.equal(heldForOperator(25), true);
  assert.equal(heldForOperator(effectiveExit(0, 'Deletions stopped due to --max-delete limit (1 skipped)\n')), true);
  for (const code of [0, 5, 10, 23, 24, 99, null]) assert.equal(heldForOperator(code), false, String(code));
});
