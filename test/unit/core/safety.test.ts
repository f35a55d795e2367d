import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJobs, rootEmpty, rootMissing } from '../../../src/core/safety.js';

const ok = { exists: true, isDir: true, empty: false };
const empty = { exists: true, isDir: true, empty: true };
const gone = { exists: false, isDir: false, empty: true };
const full = { root: '/r', remoteId: 'h::m', action: 'tree' as const, paths: [''] };
const file = { root: '/r', remoteId: 'h::m', action: 'path' as const, paths: ['a'] };

test('safety predicates', () => {
  assert.equal(rootMissing(gone), true);
  assert.equal(rootMissing({ exists: true, isDir: false, empty: true }), true);
  assert.equal(rootMissing(ok), false);
  assert.equal(rootEmpty(empty), true);
  assert.equal(rootEmpty(ok), false);
  assert.equal(rootEmpty(gone), false, 'missing is its own check');
});

test('checkJobs names the check that fired', () => {
  assert.equal(checkJobs('/r', [file], gone)?.check, 'rootMissing');
  assert.equal(checkJobs('/r', [file, full], empty)?.check, 'rootEmpty');
  assert.equal(checkJobs('/r', [file], empty)?.check, 'rootEmpty', 'path deletes into an emptied root wait too');
  assert.equal(checkJobs('/r', [full], ok), undefined);
  assert.equal(checkJobs('/r', [], gone), undefined, 'no job, no halt');
});
