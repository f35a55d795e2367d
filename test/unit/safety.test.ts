import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchDeletesWholeRoot, checkJobs, rootMissing } from '../../src/core/safety.js';

const ok = { exists: true, isDir: true, empty: false };
const empty = { exists: true, isDir: true, empty: true };
const gone = { exists: false, isDir: false, empty: true };
const full = { root: '/r', remoteId: 'h::m', action: 'tree' as const, paths: [''] };
const file = { root: '/r', remoteId: 'h::m', action: 'path' as const, paths: ['a'] };

test('safety predicates', () => {
  assert.equal(rootMissing(gone), true);
  assert.equal(rootMissing({ exists: true, isDir: false, empty: true }), true);
  assert.equal(rootMissing(ok), false);
  assert.equal(batchDeletesWholeRoot(full, empty), true);
  assert.equal(batchDeletesWholeRoot(full, ok), false);
  assert.equal(batchDeletesWholeRoot(file, empty), false);
  assert.equal(batchDeletesWholeRoot({ ...full, paths: ['sub'] }, empty), false);
});

test('checkJobs names the check that fired', () => {
  assert.equal(checkJobs('/r', [file], gone)?.check, 'rootMissing');
  assert.equal(checkJobs('/r', [file, full], empty)?.check, 'rootEmptyFullSync');
  assert.equal(checkJobs('/r', [file], empty), undefined);
  assert.equal(checkJobs('/r', [full], ok), undefined);
});
