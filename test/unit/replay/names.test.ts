/** Replay records and pending snapshots hold the canonical string of a name's bytes (docs/operations.md). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameFromBytes } from '../../../src/core/names.js';
import { parseRecordLine, recordLine } from '../../../src/replay/record.js';
import { displayPath } from '../../../src/replay/report.js';
import type { ReplayRecord } from '../../../src/replay/types.js';

const rec = (path: string): ReplayRecord => ({ time: 't', root: '/r', remote: 'h::m', path, action: 'path', exitCode: 10, message: 'm', attempts: 1 });

test('a record line round-trips every byte value 1-255 in a name, as ASCII JSON with \\udcXX escapes', () => {
  for (let b = 1; b < 256; b++) {
    if (b === 0x2f) continue;
    const name = nameFromBytes(Buffer.from([0x61, b, 0x7a]));
    const line = recordLine(rec(`d/${name}`));
    // JSON escapes control characters and lone surrogates: one printable-ASCII line (DEL is kept as is).
    assert.ok(b === 0x7f || /^[\x20-\x7e]*\n$/.test(line), `byte ${b}: ${JSON.stringify(line)}`);
    const back = parseRecordLine(line.trimEnd());
    assert.ok(back.ok);
    assert.equal(back.ok && back.record.path, `d/${name}`, `byte ${b}`);
  }
  assert.match(recordLine(rec(nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])))), /"path":"caf\\udce9"/);
});

test('an old line with a plain UTF-8 name still loads as the same name', () => {
  const r = parseRecordLine('{"time":"t","root":"/r","remote":"h::m","path":"ünï/日本.txt","action":"path","exitCode":10,"message":"m","attempts":1}');
  assert.ok(r.ok && r.record.path === 'ünï/日本.txt');
});

test('--retry-log shows a non-UTF-8 name escaped, never as U+FFFD', () => {
  assert.equal(displayPath(nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))), 'caf\\xe9');
  assert.equal(displayPath('plain.txt'), 'plain.txt');
});
