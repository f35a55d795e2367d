/**
 * The globs that stand for <filter> regexes select exactly what the regex does: for each
 * translatable pattern, a real rsync run with the glob leaves out exactly the entries that
 * isExcluded (the watcher's own function) excludes, on a tree of awkward names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pattern } from '../../src/config/types.js';
import { displayName, nameFromBytes, pathBytes } from '../../src/core/names.js';
import { excludeRules } from '../../src/sync/argv.js';
import { rsyncRulesFor } from '../../src/sync/exclude-rules.js';
import { isExcluded } from '../../src/watch/filter.js';
import { snapshotBytes, tempDir } from '../support/tree.js';

const latin = (s: string): string => nameFromBytes(Buffer.from(s, 'latin1'));
const FILES = [
  'a.gz', '.gz', 'gz', 'b.gz ', 'nested/a.gz', 'nested/deep/c.gz', 'new\nline.gz', 'd\nx/y.gz', 'd\nx/keep',
  'x.gz.d/inner', 'x.svn/f', 'nested/.svn/entries', 'info', 'sub/info', 'static/s.css', 'sub/static/t',
  'cache', 'sub/cache', '4913', 'sub/4913', 'st*ar.gz', 'q?uestion', 'back\\slash', latin('caf\xe9.gz'), latin('\xff/\xe9'),
  'keep.txt', 'sub/keep~', 'top~',
];
const PATTERNS = ['(.*)\\.gz|^info/*|4913', '(.*)\\.(gz|svn)', '^(info|cache)/*', '(.*)(~|\\.gz)', '(.*)\\.gz', '(.*)\\.svn', '^info/*', '^static/*', '4913', '(.*)~', 'cache', '(.*)\\udce9', 'back\\\\slash', 'st\\*ar\\.gz'];

test('each translated glob leaves out exactly what its regex excludes (real rsync, awkward names)', async () => {
  const t = await tempDir('tss-xrules-');
  try {
    const src = join(t.path, 'src');
    await mkdir(src);
    for (const f of FILES) {
      const parts = f.split('/');
      for (let i = 1; i < parts.length; i++) await mkdir(pathBytes(src, parts.slice(0, i).join('/')), { recursive: true });
      await writeFile(pathBytes(src, f), f);
    }
    const all = await snapshotBytes(src);
    for (const [i, source] of PATTERNS.entries()) {
      const rule = rsyncRulesFor(source);
      assert.ok(rule, `${source} translates`);
      const p: Pattern = { source, regex: new RegExp(`^(?:${source})$`, 's') };
      const rules = join(t.path, `rules${i}`);
      await writeFile(rules, excludeRules([], rule));
      const dst = join(t.path, `dst${i}`);
      const r = spawnSync('rsync', ['-a', '--from0', `--filter=merge ${rules}`, './', `${dst}/`], { cwd: src });
      assert.equal(r.status, 0, r.stderr.toString());
      const want = [...all.entries()].filter(([rel, e]) => !isExcluded([p], rel, e.type === 'dir')).map(([rel]) => rel).sort();
      const got = [...(await snapshotBytes(dst)).keys()].sort();
      assert.deepEqual(got.map(displayName), want.map(displayName), `${source} as ${rule.join(', ')}`);
    }
  } finally {
    await t.cleanup();
  }
});
