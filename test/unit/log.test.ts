/** Log lines show names escaped: a non-UTF-8 byte as \xNN, never U+FFFD; one event is one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nameFromBytes } from '../../src/core/names.js';
import { createLogger, logText } from '../../src/log.js';
import { tempDir } from '../support/tree.js';

test('logText: byte escapes as \\xNN, control characters escaped, astral characters and plain text unchanged', () => {
  const latin = nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]));
  assert.equal(logText(`sent /r/${latin}`), 'sent /r/caf\\xe9.txt');
  assert.equal(logText('new\nline\r\x01\ttab'), 'new\\nline\\r\\x01\ttab');
  assert.equal(logText('ü 日 🚀 back\\slash'), 'ü 日 🚀 back\\slash');
  assert.equal(logText('lone \ud800 high'), 'lone \\ud800 high');
});

test('the JSON log file holds the escaped form: no U+FFFD, and the byte can still be read off', async () => {
  const dir = await tempDir('tss-log-');
  try {
    const file = join(dir.path, 'log.jsonl');
    const logger = createLogger({ console: false, file, debug: true });
    const gbk = nameFromBytes(Buffer.from([0xd6, 0xd0, 0xce, 0xc4]));
    logger.emit({ type: 'watch', level: 'info', message: `reconciling /r/${gbk}`, root: `/r/${gbk}` });
    await logger.close();
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('\ufffd'), text);
    const rec = JSON.parse(text.trim()) as { message: string; root: string };
    assert.equal(rec.message, 'reconciling /r/\\xd6\\xd0\\xce\\xc4');
    assert.equal(rec.root, '/r/\\xd6\\xd0\\xce\\xc4');
  } finally {
    await dir.cleanup();
  }
});
