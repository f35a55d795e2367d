/** src/sync/which.ts: found as execvp would find it, and a missing rsync is said before anything starts. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findExecutable } from '../../../src/sync/which.js';

test('which: PATH order, executables only, names with a slash as they are', () => {
  const a = mkdtempSync(join(tmpdir(), 'tss-which-'));
  const b = mkdtempSync(join(tmpdir(), 'tss-which-'));
  try {
    writeFileSync(join(a, 'tool'), '');
    chmodSync(join(a, 'tool'), 0o644); // not executable: skipped
    writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(join(b, 'tool'), 0o755);
    assert.equal(findExecutable('tool', { PATH: `${a}:${b}` }), join(b, 'tool'));
    assert.equal(findExecutable('tool', { PATH: a }), undefined);
    assert.equal(findExecutable(join(b, 'tool'), { PATH: '' }), join(b, 'tool'));
    assert.equal(findExecutable(join(a, 'tool'), { PATH: b }), undefined);
    assert.equal(findExecutable('no-such-tool-here', { PATH: `${a}:${b}` }), undefined);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
