/**
 * File names drawn from hostile classes, as bytes (a Linux name is any bytes but `/` and NUL).
 * `nonUtf8` is a class of its own so a run can leave it out where the byte-exact watcher and
 * rsync stdin are not there yet.
 */
import type { Rng } from './rng.js';

export type NameClass = 'plain' | 'hostile' | 'long' | 'nonUtf8' | 'excludeBait';
export const ALL_CLASSES: readonly NameClass[] = ['plain', 'hostile', 'long', 'nonUtf8', 'excludeBait'];

const HOSTILE: readonly string[] = [
  'with space', 'new\nline', 'tab\there', 'dq"uote', "sq'uote", 'back`tick`', '$(touch PWNED)', 'semi;colon',
  'pipe|x', 'star*q?[br]', '-leading-dash', '--delete', 'ünïcödé', '日本語', '🚀', 'back\\slash', ' lead', 'trail ', '#hash', '%25',
];
/** Byte strings that are not UTF-8: Latin-1, GBK, Big5, Shift-JIS, and broken sequences. */
const NON_UTF8: readonly number[][] = [
  [0x63, 0x61, 0x66, 0xe9], // caf\xe9 (Latin-1)
  [0xc4, 0xe3, 0xba, 0xc3], // 你好 in GBK
  [0xa4, 0xa4, 0xa4, 0xe5], // 中文 in Big5
  [0x83, 0x65, 0x83, 0x58], // テス in Shift-JIS
  [0xff],
  [0xfe, 0xff, 0x41],
  [0xe2, 0x82], // truncated sequence
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xc0, 0xaf], // overlong '/'
];
/** Names some of the model's excludes match (see EXCLUDES in walk.ts). */
const BAIT: readonly string[] = ['x.tmp', 'cache', '.svn', 'notes~', 'build.tmp'];

function plain(rng: Rng): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = rng.int(1, 8); i > 0; i--) s += abc[rng.int(0, abc.length - 1)];
  return s;
}

/** One name component of `cls`, never `.`/`..`, never empty, at most 255 bytes. */
export function nameOf(cls: NameClass, rng: Rng): Buffer {
  switch (cls) {
    case 'plain':
      return Buffer.from(plain(rng));
    case 'hostile':
      return Buffer.from(`${rng.pick(HOSTILE)}${rng.chance(0.5) ? plain(rng) : ''}`);
    case 'long': {
      // Exactly 255 bytes, sometimes with multi-byte characters inside (the limit is in bytes).
      const head = Buffer.from(rng.chance(0.5) ? 'é日' : 'L');
      return Buffer.concat([head, Buffer.alloc(255 - head.length, 0x6c)]);
    }
    case 'nonUtf8':
      return Buffer.concat([Buffer.from(rng.pick(NON_UTF8)), Buffer.from(plain(rng))]);
    case 'excludeBait':
      return Buffer.from(rng.pick(BAIT));
  }
}

/** Shown in the operation list: printable ASCII as is, every other byte as \xNN. */
export function show(b: Buffer): string {
  let s = '';
  for (const x of b) s += x >= 0x20 && x < 0x7f && x !== 0x5c ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`;
  // 255-byte names would drown the report: a run of one character is shown as `l{250}`.
  return s.replace(/(.)\1{8,}/g, (run, c: string) => `${c}{${run.length}}`);
}
