import { test } from 'node:test';
import assert from 'node:assert/strict';
import { causeOf } from '../../../src/engine/outcome-text.js';

test('causeOf picks the telling line of rsync stderr', () => {
  assert.equal(causeOf('@ERROR: auth failed on module backup\nrsync error: error starting client-server protocol (code 5)'), '@ERROR: auth failed on module backup');
  assert.equal(
    causeOf('rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)\nrsync error: error in socket I/O (code 10)'),
    'rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)',
  );
  assert.equal(causeOf('  \n'), undefined);
  assert.equal(causeOf('something odd'), 'something odd');
});


