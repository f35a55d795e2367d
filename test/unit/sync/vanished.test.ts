import { test } from 'node:test';
import assert from 'node:assert/strict';
import { racedPaths } from '../../../src/sync/vanished.js';

const END = 'rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]';
const gone = (p: string, why = 'No such file or directory (2)') => `rsync: [sender] link_stat "/src/${p}" failed: ${why}`;

test('racedPaths: paths rsync found gone (ENOENT, ENOTDIR) are a race; anything else is not', () => {
  const cases: [string, string[], string[] | undefined][] = [
    [`${gone('a')}\n${END}\n`, ['a'], ['a']],
    [`${gone('d/x', 'Not a directory (20)')}\n${gone('b')}\n${END}\n`, ['d/x', 'b'], ['d/x', 'b']],
    // Quotes, and rsync's octal escapes for a newline, in the name.
    [`${gone('q"uo\\#012te')}\n${END}\n`, ['q"uo\nte'], ['q"uo\nte']],
    // The ./ our stdin entries carry.
    [`rsync: [sender] link_stat "/src/./a" failed: No such file or directory (2)\n${END}\n`, ['a'], ['a']],
    // A tree whose insides vanished.
    [`${gone('dir/sub/f')}\n${END}\n`, ['dir'], ['dir']],
    // Unreadable is NOT gone: it never turns into a second look (and so never into a delete).
    [`rsync: [sender] link_stat "/src/a" failed: Permission denied (13)\n${END}\n`, ['a'], undefined],
    [`${gone('a')}\nrsync: [sender] opendir "/src/b" failed: Permission denied (13)\n${END}\n`, ['a', 'b'], undefined],
    [`rsync: [sender] link_stat "/src/a" failed: File name too long (36)\n${END}\n`, ['a'], undefined],
    // A failed path that no gone line names: not only a race.
    [`${gone('a')}\n${END}\n`, ['a', 'c'], undefined],
    // Outside the job's root, or no error line at all.
    [`rsync: [sender] link_stat "/elsewhere/a" failed: No such file or directory (2)\n${END}\n`, ['a'], undefined],
    [`${END}\n`, ['a'], undefined],
  ];
  for (const [stderr, failed, want] of cases) assert.deepEqual(racedPaths(stderr, failed, '/src'), want, stderr);
});
