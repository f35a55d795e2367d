import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameToBytes } from '../../../../src/core/names.js';
import { IN_CLOSE_WRITE, IN_CREATE, IN_ISDIR, IN_MOVED_FROM, IN_MOVED_TO, IN_Q_OVERFLOW } from '../../../../src/watch/inotify/constants.js';
import { decodeEvents, encodeEvent } from '../../../../src/watch/inotify/decode.js';

/**
 * Captured from the kernel on this machine: a watch on a temp dir (IN_MODIFY, IN_CLOSE_WRITE,
 * IN_MOVED_FROM/TO, IN_CREATE, IN_DELETE), then a file named "caf\xe9" written, `mkdir d`,
 * `mv d e`, `rmdir e`, and one read(2) of 4096+ bytes.
 */
const CAPTURED = Buffer.from(
  '01000000000100000000000010000000636166e9000000000000000000000000' +
    '01000000020000000000000010000000636166e9000000000000000000000000' +
    '01000000080000000000000010000000636166e9000000000000000000000000' +
    '0100000000010040000000001000000064000000000000000000000000000000' +
    '0100000040000040c84d00001000000064000000000000000000000000000000' +
    '0100000080000040c84d00001000000065000000000000000000000000000000' +
    '0100000000020040000000001000000065000000000000000000000000000000',
  'hex',
);

test('decode: a captured kernel buffer gives wd, mask, cookie and the name bytes exactly', () => {
  const evs = decodeEvents(CAPTURED);
  assert.deepEqual(evs.map((e) => [e.wd, e.mask, e.cookie, e.name]), [
    [1, IN_CREATE, 0, 'caf\udce9'],
    [1, 0x2, 0, 'caf\udce9'],
    [1, IN_CLOSE_WRITE, 0, 'caf\udce9'],
    [1, IN_CREATE | IN_ISDIR, 0, 'd'],
    [1, IN_MOVED_FROM | IN_ISDIR, 0x4dc8, 'd'],
    [1, IN_MOVED_TO | IN_ISDIR, 0x4dc8, 'e'],
    [1, 0x200 | IN_ISDIR, 0, 'e'],
  ]);
  assert.deepEqual(nameToBytes(evs[0]!.name), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
});

test('decode: cookies pair a move, IN_ISDIR is kept, overflow is wd -1 without a name', () => {
  const buf = Buffer.concat([
    encodeEvent(3, IN_MOVED_FROM | IN_ISDIR, 0xdeadbeef, Buffer.from('old')),
    encodeEvent(7, IN_MOVED_TO | IN_ISDIR, 0xdeadbeef, Buffer.from('new')),
    encodeEvent(-1, IN_Q_OVERFLOW, 0),
    encodeEvent(2, IN_CREATE, 0, Buffer.from('x'.repeat(255))),
  ]);
  const evs = decodeEvents(buf);
  assert.deepEqual(evs.map((e) => ({ ...e, name: e.name.length > 10 ? `${e.name.length}` : e.name })), [
    { wd: 3, mask: IN_MOVED_FROM | IN_ISDIR, cookie: 0xdeadbeef, name: 'old' },
    { wd: 7, mask: IN_MOVED_TO | IN_ISDIR, cookie: 0xdeadbeef, name: 'new' },
    { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: '' },
    { wd: 2, mask: IN_CREATE, cookie: 0, name: '255' },
  ]);
  assert.ok(evs[0]!.mask & IN_ISDIR);
});

test('decode: names with every byte value 1-255 except "/" round-trip, alone and in runs', () => {
  const names: Buffer[] = [];
  for (let b = 1; b < 256; b++) if (b !== 0x2f) names.push(Buffer.from([b]), Buffer.from([0x61, b, b, 0x7a]));
  const all = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1).filter((b) => b !== 0x2f));
  names.push(all.subarray(0, 200), all.subarray(54), Buffer.from('日本語'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3])); // GBK 你好
  const evs = decodeEvents(Buffer.concat(names.map((n, i) => encodeEvent(i + 1, IN_CREATE, 0, n))));
  assert.equal(evs.length, names.length);
  evs.forEach((e, i) => {
    assert.equal(e.wd, i + 1);
    assert.deepEqual(nameToBytes(e.name), names[i], `name #${i}`);
  });
});

test('decode: a length past the end and a truncated tail are not misread', () => {
  const one = encodeEvent(1, IN_CREATE, 0, Buffer.from('a'));
  assert.equal(decodeEvents(Buffer.concat([one, one.subarray(0, 20)])).length, 1);
  assert.equal(decodeEvents(Buffer.concat([one, one]), one.length + 10).length, 1, 'only the bytes read count');
  assert.deepEqual(decodeEvents(Buffer.alloc(0)), []);
});
