import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { toRelative } from '../../../src/watch/resolve.js';
/** toRelative's fast path (a prefix slice) gives what path.relative gives, for canonical and odd paths alike. */
test('toRelative: the prefix fast path agrees with path.relative', () => {
  const root = '/r/o';
  const cases = ['/r/o', '/r/o/a', '/r/o/a/b', '/r/o/a/', '/r/o//a', '/r/o/./a', '/r/o/../x', '/r/o/a/../b', '/r/oo/a', '/r/o/...', '/r/o/.a', '/r/o/a..', '/r', '/x', '/r/o/a/.', '/r/o/\udce9/x'];
  for (const c of cases) {
    const rel = relative(root, c);
    const slow = rel === '' ? '' : rel === '..' || rel.startsWith('../') || rel.startsWith('/') ? undefined : rel;
    assert.equal(toRelative(root, c), slow, c);
  }
});
