/** The seeds of renames (src/sync/rename.ts): which run, with which argv, and which get none. Pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteConfig, RsyncSettings } from '../../../src/config/types.js';
import { planSeeds, RULES_FILE, SEED_MIN_BYTES, type SeedTarget } from '../../../src/sync/rename.js';

const remote: RemoteConfig = { id: 'h::m', host: '127.0.0.1', module: 'm', mode: 'daemon', port: 873, user: 'u', passwordFile: '/p', sshOptions: [] };
const rsync: RsyncSettings = { commonParams: ['-artz'], timeoutSeconds: 20, binary: 'rsync', maxDelete: undefined };
const dir = (from: string, to: string): SeedTarget => ({ rename: { from, to }, kind: 'dir' });

test('a directory: one run from ./NEW/ into DEST/NEW/, linked from the old path relative to the new one', () => {
  const { seeds, skipped } = planSeeds({ remote, rsync, targets: [dir('photos', '2026/photos-renamed')] });
  assert.deepEqual(skipped, []);
  assert.equal(seeds.length, 1);
  const argv = seeds[0]!.argv;
  assert.ok(argv.includes('--link-dest=../../photos'), argv.join(' '));
  assert.ok(argv.includes('--mkpath'));
  assert.ok(!argv.includes('--delete'), 'the job deletes, not the seed');
  assert.deepEqual(argv.slice(-2), ['./2026/photos-renamed/', 'u@127.0.0.1::m/2026/photos-renamed/']);
});

test('directories moved together under their own names share one run, the names on stdin (any bytes)', () => {
  const { seeds } = planSeeds({ remote, rsync, targets: [dir('a/one', 'b/one'), dir('a/caf\udce9', 'b/caf\udce9'), dir('a/-x', 'b/-x'), dir('c/z', 'b/z')] });
  assert.equal(seeds.length, 2);
  const group = seeds.find((s) => s.renames.length === 3)!;
  assert.deepEqual(group.stdinPaths, ['one', 'caf\udce9', '-x']);
  assert.ok(group.argv.includes('--files-from=-') && group.argv.includes('--link-dest=../a'), group.argv.join(' '));
  assert.deepEqual(group.argv.slice(-2), ['./b/', 'u@127.0.0.1::m/b/']);
});

test('excludes: anchored globs dropped below the root, walked entries re-anchored at the seed root', () => {
  const { seeds } = planSeeds({ remote, rsync, targets: [dir('d', 'e')], globs: ['- *.tmp', '- /info'], excluded: ['e/sub/y.bak1', 'other/z'] });
  const rules = seeds[0]!.rules!.toString('latin1').split('\0').filter(Boolean);
  assert.deepEqual(rules, ['- *.tmp', '- /sub/y.bak1']);
  assert.ok(seeds[0]!.argv.includes('--filter=merge -'));
  const group = planSeeds({ remote, rsync, targets: [dir('a/x', 'b/x'), dir('a/y', 'b/y')], globs: ['- *.tmp'] }).seeds[0]!;
  assert.equal(group.rulesInFile, true, 'stdin carries the names: the rules go in a file');
  assert.ok(group.argv.includes(`--filter=merge ${RULES_FILE}`));
});

test('files: large ones in the same directory get a fuzzy basis, same name elsewhere a link; small ones and others none', () => {
  const big = SEED_MIN_BYTES;
  const { seeds, skipped } = planSeeds({
    remote,
    rsync,
    targets: [
      { rename: { from: 'd/dump.sql', to: 'd/dump-1.sql' }, kind: 'file', size: big },
      { rename: { from: 'a/f.iso', to: 'b/f.iso' }, kind: 'file', size: big },
      { rename: { from: 'a/f2.iso', to: 'b/g.iso' }, kind: 'file', size: big },
      { rename: { from: '.doc.swp', to: 'doc' }, kind: 'file', size: 10 },
    ],
  });
  assert.equal(seeds.length, 2);
  assert.ok(seeds[0]!.argv.includes('--fuzzy'));
  assert.deepEqual(seeds[0]!.argv.slice(-2), ['./d/dump-1.sql', 'u@127.0.0.1::m/d/']);
  assert.ok(seeds[1]!.argv.includes('--link-dest=../a'));
  assert.deepEqual(skipped.map((s) => s.rename.to), ['b/g.iso', 'doc'], 'an atomic save of a small file costs no extra rsync');
});

test("no seed with the user's own --link-dest/--copy-dest/--compare-dest or filter options, or a non-UTF-8 argv name", () => {
  for (const w of ['--link-dest=/snap', '--copy-dest=x', '--compare-dest', '--exclude=*.o', '--filter=- x', '-F', '--cvs-exclude']) {
    const r = planSeeds({ remote, rsync: { ...rsync, commonParams: ['-artz', w] }, targets: [dir('a', 'b')] });
    assert.equal(r.seeds.length, 0, w);
    assert.equal(r.skipped.length, 1, w);
  }
  assert.equal(planSeeds({ remote, rsync, targets: [dir('caf\udce9', 'x')] }).seeds.length, 0);
  assert.equal(planSeeds({ remote, rsync, targets: [dir('a', '../b')] }).seeds.length, 0);
});
