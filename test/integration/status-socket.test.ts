/** The status socket on a real unix socket: owner-only by default, a configured group can read, one server per state dir. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StatusSocket, askStatus, resolveGroup } from '../../src/status/socket.js';
import type { StatusReport } from '../../src/status/report.js';
import { tempDir } from '../support/tree.js';

const report = { version: 1, pid: process.pid, current: true } as unknown as StatusReport;

test('owner-only 0600 by default; group="<gid>" makes it 0660 with that group; the answer is the report', async () => {
  const dir = await tempDir('tss-sock-');
  try {
    const a = new StatusSocket(join(dir.path, 'a.sock'), () => report);
    await a.listen(undefined);
    assert.equal((await stat(a.path)).mode & 0o777, 0o600);
    assert.deepEqual(await askStatus(a.path), { kind: 'report', report });
    await a.close();
    assert.deepEqual((await askStatus(a.path)).kind, 'not-running');

    const gid = process.getgid!();
    const b = new StatusSocket(join(dir.path, 'b.sock'), () => report);
    await b.listen(String(gid));
    const st = await stat(b.path);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, gid);
    await b.close();
  } finally {
    await dir.cleanup();
  }
});

test('a stale socket file is replaced; a live one is refused (another daemon on the same state dir)', async () => {
  const dir = await tempDir('tss-sock-');
  try {
    const path = join(dir.path, 'status.sock');
    await writeFile(path, '');
    const a = new StatusSocket(path, () => report);
    await a.listen(undefined);
    const b = new StatusSocket(path, () => report);
    await assert.rejects(b.listen(undefined), /another tssersync already serves its status here/);
    assert.equal((await askStatus(path)).kind, 'report', 'the first one still answers');
    await a.close();
  } finally {
    await dir.cleanup();
  }
});

test('an unknown group name is a clear error', async () => {
  await assert.rejects(resolveGroup('no-such-group-tss'), /no such group in \/etc\/group; create it \(groupadd no-such-group-tss\)/);
  assert.equal(await resolveGroup('0'), 0);
  assert.equal(await resolveGroup('root'), 0);
});
