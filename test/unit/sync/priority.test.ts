import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import type { RemoteConfig } from '../../../src/config/types.js';
import { resolvePriority } from '../../../src/sync/lane.js';
import { applyRenice, DEFAULT_PRIORITY, ioprioValue, missingToolText, parseIoClass, priorityPrefix, reniceFor, withPriority } from '../../../src/sync/priority.js';

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

test('set on the running rsync: nice is added to the niceness it inherits (at most 19), the I/O class is absolute', () => {
  assert.deepEqual(reniceFor(DEFAULT_PRIORITY, 0), { nice: 10, ioprio: (2 << 13) | 7 });
  assert.deepEqual(reniceFor(DEFAULT_PRIORITY, 5), { nice: 15, ioprio: (2 << 13) | 7 });
  assert.deepEqual(reniceFor(DEFAULT_PRIORITY, 15), { nice: 19, ioprio: (2 << 13) | 7 });
  assert.deepEqual(reniceFor({ nice: 0, ionice: { kind: 'idle' } }, 3), { nice: undefined, ioprio: 3 << 13 });
  assert.deepEqual(reniceFor({ nice: 7, ionice: undefined }, 0), { nice: 7, ioprio: undefined });
  assert.deepEqual(reniceFor({ nice: 7, ionice: undefined }, 0, true), { nice: 7, ioprio: undefined, group: true });
  assert.equal(ioprioValue({ kind: 'best-effort', level: 0 }), 2 << 13);
});

test('the lane sets the priority on rsync itself for a daemon remote, on its process group over ssh (rsync forks ssh at once), launchers only when asked', () => {
  const rsync = { commonParams: ['-a'], timeoutSeconds: undefined, binary: 'rsync', maxDelete: undefined, priority: DEFAULT_PRIORITY };
  const daemon: RemoteConfig = { id: 'h::m', host: 'h', module: 'm', mode: 'daemon', port: undefined, user: undefined, passwordFile: undefined, sshOptions: [] };
  const ssh: RemoteConfig = { ...daemon, id: 'h:/m', mode: 'ssh', module: '/m' };
  const d = resolvePriority(rsync, daemon, () => {});
  assert.equal(d.launcher, undefined);
  assert.deepEqual(d.renice, reniceFor(DEFAULT_PRIORITY, getPriority()));
  assert.equal(d.renice?.group, undefined);
  const s = resolvePriority(rsync, ssh, () => {});
  assert.equal(s.launcher, undefined);
  assert.deepEqual(s.renice, { ...reniceFor(DEFAULT_PRIORITY, getPriority()), group: true });
  process.env['TSSERSYNC_PRIORITY_LAUNCHER'] = '1';
  try {
    for (const r of [daemon, ssh]) {
      const l = resolvePriority(rsync, r, () => {});
      assert.equal(l.renice, undefined);
      assert.ok(l.launcher && l.launcher.length > 0 && /nice$/.test(l.launcher[0]!), `launcher ${l.launcher?.join(' ')}`);
    }
  } finally {
    delete process.env['TSSERSYNC_PRIORITY_LAUNCHER'];
  }
  const off = resolvePriority({ ...rsync, priority: { nice: 0, ionice: undefined } }, ssh, () => {});
  assert.equal(off.renice, undefined);
  assert.equal(off.launcher, undefined);
});

test('a priority set on a process (or a process group) that already exited is no failure', () => {
  const gone = spawnSync('true').pid;
  assert.equal(applyRenice(gone, reniceFor(DEFAULT_PRIORITY, getPriority())), undefined);
  assert.equal(applyRenice(gone, reniceFor(DEFAULT_PRIORITY, getPriority(), true)), undefined);
});
