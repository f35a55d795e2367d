import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import { defaultBackend } from '../../../src/watch/watcher.js';

const file = (head: string): string =>
  `<head version="2.5">\n${head}\n<sersync><localpath watch="/srv/www"><remote ip="10.0.0.2" name="www"/></localpath></sersync>\n</head>\n`;

test('<tssersync><watcher backend>: parcel or inotify; absent = the platform default', () => {
  assert.equal(parseConfig(file('<tssersync><watcher backend="parcel"/></tssersync>'), 'c.xml').watcherBackend, 'parcel');
  assert.equal(parseConfig(file('<tssersync><watcher backend="inotify"/></tssersync>'), 'c.xml').watcherBackend, 'inotify');
  assert.equal(parseConfig(file(''), 'c.xml').watcherBackend, undefined);
  assert.equal(defaultBackend(), process.platform === 'linux' ? 'inotify' : 'parcel');
});

test('<watcher backend> with another value is a config error naming the line and the choices', () => {
  assert.throws(
    () => parseConfig(file('<tssersync>\n<watcher backend="fanotify"/></tssersync>'), 'c.xml'),
    (e: unknown) => e instanceof ConfigError && /:3:/.test(e.message) && /inotify/.test(e.message) && /parcel/.test(e.message) && /fanotify/.test(e.message),
  );
});
