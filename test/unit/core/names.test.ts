import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayName, hasEscapes, isExactName, nameFromBytes, nameToBytes, pathBytes } from '../../../src/core/names.js';

const rt = (b: Buffer) => nameToBytes(nameFromBytes(b));

test('every single byte value 1-255 round-trips, alone and inside a name', () => {
  for (let v = 1; v <= 255; v++) {
    if (v === 0x2f) continue;
    const alone = Buffer.from([v]);
    assert.deepEqual(rt(alone), alone, `byte ${v}`);
    const inside = Buffer.concat([Buffer.from('a'), alone, Buffer.from('é'), alone]);
    assert.deepEqual(rt(inside), inside, `byte ${v} inside`);
  }
});

test('every pair of high bytes round-trips (truncated and broken sequences, overlongs, surrogates)', () => {
  for (let a = 0x80; a <= 0xff; a++)
    for (let b = 0x80; b <= 0xff; b++) {
      const buf = Buffer.from([a, b, 0x41, a, b, b]);
      assert.deepEqual(rt(buf), buf, `${a} ${b}`);
    }
});

test('seeded random byte strings round-trip', () => {
  let s = 20261201;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
  for (let n = 0; n < 5000; n++) {
    const len = 1 + (rnd() % 40);
    const buf = Buffer.from(Array.from({ length: len }, () => rnd() || 1));
    assert.deepEqual(rt(buf), buf);
  }
});

test('UTF-8 stays readable; GBK, Latin-1 and 0xff are escaped as lone surrogates', () => {
  assert.equal(nameFromBytes(Buffer.from('日本語 file.txt')), '日本語 file.txt');
  assert.equal(nameFromBytes(Buffer.from('😀')), '😀');
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // café.txt in Latin-1
  const s = nameFromBytes(latin1);
  assert.equal(s, 'caf\udce9.txt');
  assert.ok(hasEscapes(s));
  assert.ok(!hasEscapes('café.txt'));
  assert.equal(displayName(s), 'caf\\xe9.txt');
  const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]); // 中文 in GBK
  assert.deepEqual(nameToBytes(nameFromBytes(gbk)), gbk);
  assert.ok(!displayName(nameFromBytes(gbk)).includes('\ufffd'));
});

test('a JSON round trip keeps escaped bytes (replay log, pending file)', () => {
  const s = nameFromBytes(Buffer.from([0xff, 0xfe, 0x41, 0xe9]));
  const back = JSON.parse(JSON.stringify({ path: s })).path as string;
  assert.deepEqual(nameToBytes(back), Buffer.from([0xff, 0xfe, 0x41, 0xe9]));
  assert.match(JSON.stringify(s), /\\udcff/);
});

test('isExactName: U+FFFD and stray surrogates are not exact; escapes and emoji are', () => {
  assert.equal(isExactName('caf\ufffd.txt'), false);
  assert.equal(isExactName('a\ud800b'), false);
  assert.equal(isExactName('a\udc10b'), false);
  assert.equal(isExactName('caf\udce9.txt'), true);
  assert.equal(isExactName('😀 ok'), true);
});

test('displayName escapes control characters and backslashes unambiguously', () => {
  assert.equal(displayName('a\nb\tc\\d'), 'a\\nb\\tc\\\\d');
  assert.equal(displayName('plain name'), 'plain name');
});

test('pathBytes joins root and relative path as bytes', () => {
  assert.deepEqual(pathBytes('/srv/www', 'caf\udce9'), Buffer.concat([Buffer.from('/srv/www/caf'), Buffer.from([0xe9])]));
  assert.deepEqual(pathBytes('/srv/www/', ''), Buffer.from('/srv/www/'));
});
