import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wire, remotesOf } from '../../../src/engine/wiring.js';
import { hookTarget } from '../../../src/replay/target.js';
import type { ReplayRecord } from '../../../src/replay/types.js';
import { makeConfig } from '../../support/config.js';
import type { PluginConfig, RemoteConfig } from '../../../src/config/types.js';

const remote = (id: string): RemoteConfig => ({ id, host: '127.0.0.1', module: id, mode: 'daemon', port: 873, user: undefined, passwordFile: undefined, sshOptions: [] }) as RemoteConfig;
const command = (watch?: string): PluginConfig => ({ kind: 'command', prefix: ['/bin/true'], suffix: [], ignoreError: true, include: [], concurrency: 1, timeoutMs: 1000, ...(watch ? { watch } : {}) }) as PluginConfig;
const opts = { emit: () => {}, onResult: async () => {}, onHalt: () => {} };
const rec = (remote: string): ReplayRecord => ({ time: 't', root: '/r1', remote, path: 'p', action: 'path', exitCode: 10, message: 'm', attempts: 1 });

test('daemon mode: a channel per root and remote, one lane per remote, every record is its own', () => {
  const config = makeConfig('/state', [
    { path: '/r1', remotes: [remote('a'), remote('b')] },
    { path: '/r2', remotes: [remote('a')] },
  ]);
  const w = wire(config, opts);
  try {
    assert.equal(w.mode, 'daemon');
    assert.deepEqual(w.channels.map((c) => `${c.root}>${c.remoteId}`), ['/r1>a', '/r1>b', '/r2>a']);
    assert.deepEqual([...w.lanes.keys()], ['a', 'b']);
    assert.equal(w.channels[0]!.deps.lane, w.channels[2]!.deps.lane, 'one lane per remote, shared by its roots');
    assert.deepEqual(remotesOf(w, '/r1'), ['a', 'b']);
    assert.equal(w.run, undefined);
    assert.equal(w.syncs, true);
    assert.equal(w.owns(rec('a')) && w.owns(rec(hookTarget('command'))), true);
  } finally {
    for (const ch of w.channels) ch.stop();
  }
});

test('plugin mode (-m): no lanes, a channel per plugin watch root, own state files, only hook records', () => {
  const config = makeConfig('/state', [{ path: '/r1', remotes: [remote('a')] }], { plugins: [], definedPlugins: [command('/site'), command()] });
  const w = wire(config, { ...opts, pluginOnly: 'command' });
  try {
    assert.equal(w.mode, 'plugin');
    assert.equal(w.lanes.size, 0);
    assert.deepEqual(w.channels.map((c) => `${c.root}>${c.remoteId}`), ['/site>plugin:command', '/r1>plugin:command']);
    assert.equal(w.plugins.length, 2, 'the named plugin runs even though <sersync> does not start it');
    assert.equal(w.run, 'm-command');
    assert.equal(w.syncs, false);
    assert.equal(w.owns(rec('a')), false);
    assert.equal(w.owns(rec(hookTarget('command'))), true);
  } finally {
    for (const ch of w.channels) ch.stop();
  }
});
