import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSentFromStdout, progressFromStdout } from '../../../src/sync/stats.js';

test("bytes sent from rsync's stats line, whatever the user's -v / -h / --stats print around it", () => {
  const cases: [string, number | undefined][] = [
    ['\nsent 200,156 bytes  received 35 bytes  400,382.00 bytes/sec\ntotal size is 200,000  speedup is 1.00\n', 200_156],
    ['sent 77 bytes  received 12 bytes  178.00 bytes/sec\n', 77],
    ['sending incremental file list\nsent 1 bytes  received 1 bytes  x\nf\n\nsent 200.16K bytes  received 72 bytes  400.46K bytes/sec\n', 200_160],
    ['sent 1.234.567 bytes  received 9 bytes\n', 1_234_567],
    ['Number of files: 2\nTotal bytes sent: 200,156\n\nsent 200,156 bytes  received 35 bytes  400,382.00 bytes/sec\n', 200_156],
    ['', undefined],
    ['a file named sent 5 bytes\n', undefined],
  ];
  for (const [out, want] of cases) assert.equal(bytesSentFromStdout(out), want, JSON.stringify(out));
});

test('progress2 lines: bytes sent and entries checked, with a user\'s -v names and -h units in between', () => {
  const chunk = '\r        100,000   2%   64.12MB/s    0:00:00 (xfr#1, ir-chk=1049/1051)\nsub/f2\n\r        105.00K   2%   68.89MB/s    0:00:00 (xfr#2, to-chk=38/51)\r';
  assert.deepEqual(progressFromStdout(chunk), { bytes: 105_000, checked: 13 });
  assert.equal(progressFromStdout('sending incremental file list\nf1\n'), undefined);
});
