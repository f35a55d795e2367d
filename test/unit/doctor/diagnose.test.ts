import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteConfig } from '../../../src/config/types.js';
import type { RsyncOutcome } from '../../../src/sync/types.js';
import { diagnoseWrite, formatFinding } from '../../../src/doctor/diagnose.js';

const daemon: RemoteConfig = { id: 'u@10.0.0.2::www', host: '10.0.0.2', module: 'www', mode: 'daemon', port: 8873, user: 'u', passwordFile: '/etc/rsync.pas', sshOptions: [] };
const ssh: RemoteConfig = { id: 'm@h:/srv/w', host: 'h', module: '/srv/w', mode: 'ssh', port: 2222, user: 'm', passwordFile: undefined, sshOptions: [] };
const out = (exitCode: number, stderrTail: string): RsyncOutcome => ({ exitCode, signal: null, class: 'fatal', meaning: 'x', stderrTail, durationMs: 1, failedPaths: [], spawnError: undefined });

test('each rsync failure the doctor meets has its own line and fix', () => {
  const cases: [RemoteConfig, RsyncOutcome, RegExp][] = [
    [daemon, out(5, '@ERROR: auth failed on module www\nrsync error: error starting client-server protocol (code 5) at main.c(1850)'), /refused the login of u .* fix: check <auth users/],
    [daemon, out(5, '@ERROR: Unknown module \'www\''), /no module "www"/],
    [daemon, out(5, 'ERROR: module is read only'), /read-only.* fix: set "read only = no"/],
    [daemon, out(10, 'rsync: failed to connect to 10.0.0.2 (10.0.0.2): Connection refused (111)'), /does not answer on the rsync daemon port 8873/],
    [ssh, out(255, 'Host key verification failed.\r\nrsync: connection unexpectedly closed'), /host key of h is not known.*ssh-keyscan -p 2222 h >> ~\/\.ssh\/known_hosts/],
    [ssh, out(255, 'm@h: Permission denied (publickey).'), /ssh refused the login of m .*ssh-copy-id -p 2222 m@h/],
    [ssh, out(255, 'ssh: Could not resolve hostname h: Name or service not known'), /does not resolve/],
    [daemon, out(12, 'rsync: odd protocol error here'), /writing a scratch file failed with exit code 12 .*odd protocol error/],
  ];
  for (const [remote, o, re] of cases) assert.match(formatFinding(diagnoseWrite(remote, o)), re, o.stderrTail);
  assert.match(formatFinding(diagnoseWrite(daemon, { ...out(0, ''), exitCode: null, spawnError: 'spawn rsync ENOENT' })), /^FAIL remote .*: rsync could not run.* — fix: install rsync/);
});
