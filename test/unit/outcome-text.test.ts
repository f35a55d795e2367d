import { test } from 'node:test';
import assert from 'node:assert/strict';
import { causeOf } from '../../src/engine/outcome-text.js';

test('causeOf picks the telling line of rsync stderr', () => {
  assert.equal(causeOf('@ERROR: auth failed on module backup\nrsync error: error starting client-server protocol (code 5)'), '@ERROR: auth failed on module backup');
  assert.equal(
    causeOf('rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)\nrsync error: error in socket I/O (code 10)'),
    'rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)',
  );
  assert.equal(causeOf('  \n'), undefined);
  assert.equal(causeOf('something odd'), 'something odd');
});

import { BurstDetector } from '../../src/engine/burst.js';

test('burst detector fires once per window past the threshold', () => {
  const b = new BurstDetector(10, 1000);
  assert.equal(b.record('/r', 6, 0), false);
  assert.equal(b.record('/r', 6, 500), true);
  assert.equal(b.record('/r', 100, 600), false);
  assert.equal(b.record('/other', 9, 600), false);
  assert.equal(b.record('/r', 10, 2000), true);
});
