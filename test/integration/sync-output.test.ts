/**
 * A full sync's stdout in a memory file (src/sync/output-file.ts) instead of a pipe: what the
 * engine reads is exactly the end of what the child wrote, the file stays a few pages however much
 * it prints, and runRsync still reports progress while the child runs and the stats at its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { openOutputFile } from '../../src/sync/output-file.js';
import { runRsync } from '../../src/sync/runner.js';
import type { RsyncProgress } from '../../src/sync/stats.js';
import { waitFor } from '../support/tree.js';

const LINE = (i: number) => `line ${String(i).padStart(8, '0')} ${'x'.repeat(480)}\r`;
const HALF = 20_000;
const expected = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, k) => LINE(from + k)).join(''), 'latin1');

test('the memory file: the tail is exactly the last bytes written, and what lies before it is freed', async (t) => {
  const out = openOutputFile();
  if (!out) return t.skip('no memfd here (koffi or memfd_create missing): runRsync keeps its pipe');
  try {
    // 20,000 lines (10 MB), then wait for a word on stdin, then 20,000 more.
    const script = `const line = (i) => 'line ' + String(i).padStart(8, '0') + ' ' + 'x'.repeat(480) + '\\r';
      const w = (a, b) => { for (let i = a; i < b; i++) require('fs').writeSync(1, line(i)); };
      w(0, ${HALF}); process.stdin.once('data', () => { w(${HALF}, ${2 * HALF}); process.exit(0); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', out.fd, 'inherit'] });
    const exited = new Promise((r) => child.on('exit', r));
    const half = expected(0, HALF).length;
    await waitFor(() => fstatSync(out.fd).size >= half, 20000, 'the first half');
    const first = out.tail(4096);
    assert.equal(first.whole, false);
    assert.deepEqual(first.text, expected(0, HALF).subarray(-4096), 'the tail at the half');
    child.stdin!.end('go');
    await exited;
    const last = out.tail(4096);
    assert.deepEqual(last.text, expected(HALF, 2 * HALF).subarray(-4096), 'the tail at the end');
    const st = fstatSync(out.fd);
    assert.equal(st.size, 2 * half, 'every byte was written');
    assert.ok(st.blocks * 512 <= 64 * 1024, `${st.blocks * 512} bytes held for ${st.size} written`);
  } finally {
    out.close();
  }
});

test('the memory file: a short output comes back whole', async (t) => {
  const out = openOutputFile();
  if (!out) return t.skip('no memfd here');
  try {
    const child = spawn(process.execPath, ['-e', `process.stdout.write('sent 12 bytes  received 3 bytes\\n')`], { stdio: ['ignore', out.fd, 'inherit'] });
    await new Promise((r) => child.on('exit', r));
    const { text, whole } = out.tail(4096);
    assert.equal(whole, true);
    assert.equal(text.toString('latin1'), 'sent 12 bytes  received 3 bytes\n');
  } finally {
    out.close();
  }
});

test('runRsync with progress: the child writes to a memory file, progress arrives while it runs, the stats line at its end', async () => {
  // Stands in for rsync: says where its stdout goes, prints progress2 lines 700 ms apart (past the
  // 500 ms poll), then rsync's closing stats line.
  const script = `
    const fs = require('fs');
    process.stderr.write('stdout=' + fs.readlinkSync('/proc/self/fd/1') + '\\n');
    const line = (n) => '\\r' + String(n * 1000).padStart(15) + ' 50%  1.00MB/s  0:00:01 (xfr#' + n + ', ir-chk=' + (100 - n * 10) + '/100)';
    let n = 1;
    fs.writeSync(1, line(n));
    const t = setInterval(() => {
      n++;
      fs.writeSync(1, line(n));
      if (n === 4) { clearInterval(t); fs.writeSync(1, '\\nsent 4,321 bytes  received 35 bytes  8,712.00 bytes/sec\\n'); }
    }, 700);`;
  const seen: { p: RsyncProgress; at: number }[] = [];
  let exitedAt = 0;
  const started = Date.now();
  const outcome = await runRsync([process.execPath, '-e', script], { cwd: process.cwd(), onProgress: (p) => seen.push({ p, at: Date.now() }) });
  exitedAt = Date.now();
  assert.equal(outcome.exitCode, 0, outcome.stderrTail);
  if (openOutputFile()) assert.match(outcome.stderrTail, /^stdout=\/memfd:/, 'stdout is a memory file, not a pipe');
  assert.equal(outcome.bytesSent, 4321);
  assert.ok(seen.filter((s) => s.at < exitedAt - 100).length >= 2, `progress while it ran: ${JSON.stringify(seen.map((s) => [s.at - started, s.p.checked]))}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.p.checked >= seen[i - 1]!.p.checked, 'never goes back');
  // A poll that finds nothing new printed reports nothing (the final report at exit may repeat the last).
  const polled = seen.slice(0, -1).map((s) => s.p.checked);
  assert.equal(new Set(polled).size, polled.length, `no poll repeats a line: ${JSON.stringify(polled)}`);
  assert.deepEqual(seen.at(-1)!.p, { bytes: 4000, checked: 40 }, 'the last line is reported at the end');
});

test('runRsync without progress keeps stdout a pipe and reads its stats line', async () => {
  const script = `process.stderr.write('stdout=' + require('fs').readlinkSync('/proc/self/fd/1') + '\\n'); process.stdout.write('sent 99 bytes  received 1 bytes\\n');`;
  const outcome = await runRsync([process.execPath, '-e', script], { cwd: process.cwd() });
  assert.match(outcome.stderrTail, /^stdout=(pipe|socket):/, "a pipe (node makes it a socketpair)");
  assert.equal(outcome.bytesSent, 99);
});

test('runRsync whose spawn throws at once: an outcome, not a throw, and the memory file is closed', async () => {
  const { readdirSync } = await import('node:fs');
  const open = () => readdirSync('/proc/self/fd').length;
  const before = open();
  // A NUL byte in an argument makes spawn throw synchronously.
  const outcome = await runRsync([process.execPath, '-e', 'x\0y'], { cwd: process.cwd(), onProgress: () => {} });
  assert.ok(outcome.spawnError, 'the failure is in the outcome');
  assert.equal(outcome.exitCode, null);
  assert.equal(open(), before, 'no descriptor left open');
});
