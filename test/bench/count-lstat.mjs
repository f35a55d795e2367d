/**
 * Counts tssersync's lstatSync calls by call site, with their time: preloaded into the CLI by the
 * bench (`node --import tsx test/bench/run.ts --scenarios storm --node-args="--import
 * ./test/bench/count-lstat.mjs"`, from the repository: --import takes a URL specifier), it appends
 * one block per CLI process to /tmp/lstat-sites.txt when the process exits. A measuring aid only:
 * the stack walk per call costs more than the call.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const orig = fs.lstatSync;
const counts = new Map();
let total = 0n;
fs.lstatSync = function (p, o) {
  const t0 = process.hrtime.bigint();
  try { return orig.call(this, p, o); } finally {
    total += process.hrtime.bigint() - t0;
    const line = new Error().stack.split('\n')[2]?.trim().replace(/.*\/dist\//, '').replace(/\)$/, '') ?? '?';
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
};
syncBuiltinESMExports();
process.on('exit', () => {
  if (!process.argv.some((a) => a.includes('cli.js'))) return;
  fs.appendFileSync('/tmp/lstat-sites.txt', `pid ${process.pid} total ${Number(total) / 1e6} ms\n` + [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${v} ${k}`).join('\n') + '\n');
});
