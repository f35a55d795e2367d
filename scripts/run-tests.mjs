#!/usr/bin/env node
// Runs the test suite with node's test runner. Node 20 does not expand globs and passes a run
// that found no test, so the files are listed here and a run that executed none fails.
// Usage: node scripts/run-tests.mjs [file-or-dir ...]   (default: test/unit test/integration test/e2e test/model)
//
// Most test files spend their time waiting (timers, daemons, settle windows), so two runners go
// side by side: one takes the heavy files (50,000-file trees, kernel queue overflows, the model
// seeds, the fault scenarios) one after the other, the other everything else. At most one heavy
// file runs at a time, so two of them never compete for the disk. TSSERSYNC_TEST_SERIAL=1 runs
// everything in one runner, one file at a time.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const targets = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const roots = targets.length ? targets : ['test/unit', 'test/integration', 'test/e2e', 'test/model'];
const HEAVY = /watch-gaps|watch-inotify|test\/model\/|faults\.test|package\.test/;

function collect(p) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((n) => {
      const q = join(p, n);
      return statSync(q).isDirectory() ? collect(q) : n.endsWith('.test.ts') ? [q] : [];
    });
}

const files = roots.flatMap(collect);
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')}`);
  process.exit(1);
}

const serial = process.env.TSSERSYNC_TEST_SERIAL === '1';
const heavy = serial ? [] : files.filter((f) => HEAVY.test(f));
const light = files.filter((f) => !heavy.includes(f));
const groups = [light, heavy].filter((g) => g.length > 0);

const counts = {};
function runGroup(group) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-timeout=300000', ...passthrough, ...group],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TSSERSYNC_TEST: '1' } },
    );
    let tail = '';
    child.stdout.on('data', (buf) => {
      process.stdout.write(buf);
      tail += buf.toString('utf8');
      const lines = tail.split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/.exec(line);
        if (m) counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[2]);
      }
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const codes = await Promise.all(groups.map(runGroup));
const tests = counts.tests ?? 0;
const pass = counts.pass ?? 0;
const fail = (counts.fail ?? 0) + (counts.cancelled ?? 0);
console.log(`${pass} passed, ${fail} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
if (tests === 0) {
  console.error('the test run executed no test: failing');
  process.exit(1);
}
process.exit(codes.find((c) => c !== 0) ?? 0);
