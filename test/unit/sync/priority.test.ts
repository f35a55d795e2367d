import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PRIORITY, missingToolText, parseIoClass, priorityPrefix, withPriority } from '../../../src/sync/priority.js';

const both = { nice: '/usr/bin/nice', ionice: '/usr/bin/ionice' };

test('the default: nice 10 and best-effort 7 as argv words before rsync, never the idle class', () => {
  assert.deepEqual(withPriority(['rsync', '-a', './', 'h::m/'], DEFAULT_PRIORITY, both), ['/usr/bin/nice', '-n', '10', '/usr/bin/ionice', '-c2', '-n7', 'rsync', '-a', './', 'h::m/']);
  assert.notEqual(DEFAULT_PRIORITY.ionice?.kind, 'idle');
});

test('each part only when asked for and installed', () => {
  assert.deepEqual(priorityPrefix({ nice: 0, ionice: undefined }, both), []);
  assert.deepEqual(priorityPrefix({ nice: 5, ionice: undefined }, both), ['/usr/bin/nice', '-n', '5']);
  assert.deepEqual(priorityPrefix({ nice: 0, ionice: { kind: 'idle' } }, both), ['/usr/bin/ionice', '-c3']);
  assert.deepEqual(priorityPrefix(DEFAULT_PRIORITY, { nice: '/bin/nice', ionice: undefined }), ['/bin/nice', '-n', '10']);
  assert.deepEqual(priorityPrefix(DEFAULT_PRIORITY, { nice: undefined, ionice: undefined }), []);
});

test('a missing tool is said once, in words', () => {
  assert.equal(missingToolText(DEFAULT_PRIORITY, both), undefined);
  assert.match(missingToolText(DEFAULT_PRIORITY, { nice: '/bin/nice', ionice: undefined }) ?? '', /ionice.*not installed.*nice 10 only/);
  assert.equal(missingToolText({ nice: 0, ionice: undefined }, { nice: undefined, ionice: undefined }), undefined);
});

test('ionice classes', () => {
  assert.deepEqual(parseIoClass('best-effort:7'), { kind: 'best-effort', level: 7 });
  assert.deepEqual(parseIoClass('best-effort'), { kind: 'best-effort', level: 4 });
  assert.deepEqual(parseIoClass('IDLE'), { kind: 'idle' });
  assert.equal(parseIoClass('off'), 'off');
  assert.equal(parseIoClass('realtime:0'), undefined);
  assert.equal(parseIoClass('best-effort:8'), undefined);
});
