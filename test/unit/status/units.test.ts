import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '../../..');
const units = ['tssersync.service', 'tssersync@.service'];

test('the shipped systemd units: foreground with -r, SIGHUP reload, state dir, hardening that leaves node, rsync and inotify working', () => {
  for (const u of units) {
    const text = readFileSync(join(repo, 'examples', u), 'utf8');
    assert.match(text, /^ExecStart=\/usr\/bin\/tssersync -r --foreground -o /m, u);
    assert.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m, u);
    assert.match(text, /^ProtectSystem=strict$/m, u);
    assert.match(text, /^SystemCallFilter=@system-service$/m, u);
    assert.match(text, /^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$/m, u);
    assert.doesNotMatch(text, /^MemoryDenyWriteExecute=yes/m, `${u}: node's JIT needs W+X memory`);
    assert.doesNotMatch(text, /^PrivateNetwork=yes/m, `${u}: rsync needs the network`);
  }
  assert.match(readFileSync(join(repo, 'examples/tssersync@.service'), 'utf8'), /^StateDirectory=tssersync\/%i$/m, 'one state dir per instance');
});

test('systemd-analyze verify accepts both units (where systemd-analyze exists)', (t) => {
  if (spawnSync('systemd-analyze', ['--version']).status !== 0) return t.skip('no systemd-analyze here');
  const dir = mkdtempSync(join(tmpdir(), 'tss-units-'));
  try {
    for (const u of units) {
      // The binary is not installed here: verify the directives with a program that exists.
      writeFileSync(join(dir, u), readFileSync(join(repo, 'examples', u), 'utf8').replaceAll('/usr/bin/tssersync', '/bin/true'));
    }
    for (const u of ['tssersync.service', 'tssersync@www.service']) {
      // verify exits 0 on unknown keys and bad values: it only says so, on stderr.
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, u)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(`${r.stdout}${r.stderr}`.trim(), '', `${u}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
