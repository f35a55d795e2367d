/**
 * One exclude model, per route: what each kind of job hands rsync when the real-time <filter> has
 * excludes. A recorder stands in for rsync (test/fixtures/sync/rsync-recorder.mjs) and writes down
 * argv, the merged rule files and the stdin list; the source is a real temp tree.
 *
 * Every route reaches rsync through one of these job kinds: a path job (live events, replay,
 * --retry-log, the pending file, catch-up of a file), a tree job (new, moved-in or renamed
 * directories, burst reconciles, catch-up of a directory), a full sync (-r, <crontab>, the periodic
 * reconcile, catch-up of a changed root), and the delete fallback.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Pattern, RemoteConfig, RsyncSettings } from '../../../src/config/types.js';
import { nameFromBytes, nameToBytes, pathBytes } from '../../../src/core/names.js';
import { attempt, type DeleteForm } from '../../../src/sync/attempt.js';
import { excludedBelow, splitExcluded } from '../../../src/sync/excludes.js';
import type { SyncRequest } from '../../../src/sync/types.js';
import { tempDir } from '../../support/tree.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/sync/rsync-recorder.mjs', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Without the `s` flag parseConfig adds, no exclude has an rsync glob: every one is walked. */
const pattern = (source: string, flags = ''): Pattern => ({ source, regex: new RegExp(`^(?:${source})$`, flags) });
/** Sersync's stock excludes, plus one no glob could express (a lookahead) and one for non-UTF-8 bytes. */
const EXCLUDES = ['(.*)\\.svn', '(.*)\\.gz', '^info/*', '^(?!keep).*\\.log', '(.*)[\\udc80-\\udcff]'].map((src) => pattern(src));
const LATIN = nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])); // excluded by the last pattern

const remote: RemoteConfig = { id: 'h::m', host: 'h', module: 'm', mode: 'daemon', port: undefined, user: undefined, passwordFile: undefined, sshOptions: [] };

interface Run { argv: string[]; rules: string[]; list: string[] }

async function setup(excludes: readonly Pattern[] = EXCLUDES): Promise<{ root: string; runs: () => Promise<Run[]>; go: (req: SyncRequest, form?: DeleteForm) => Promise<readonly string[]> }> {
  const t = await tempDir('tss-excl-');
  cleanups.push(t.cleanup);
  const root = join(t.path, 'root');
  const files = ['keep.txt', 'a.gz', 'info/x', 'keep.log', 'other.log', 'd/ok', 'd/b.gz', 'd/.svn/entries', 'd/e/c.gz', 'd/e/fine', `d/${LATIN}`, 'd/e/sub.svn/f'];
  for (const f of files) {
    await mkdir(join(root, f, '..'), { recursive: true });
    await writeFile(pathBytes(root, f), f);
  }
  const bin = join(t.path, 'rsync.mjs');
  await copyFile(FIXTURE, bin);
  const rsync: RsyncSettings = { commonParams: ['-artz', '--exclude=*.tmp'], timeoutSeconds: undefined, binary: bin, maxDelete: undefined, excludes };
  const runs = async () => (await readFile(join(t.path, 'rsync.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run);
  const go = async (req: SyncRequest, form: DeleteForm = 'fast') => {
    const res = await attempt(req, req.paths, { remote, rsync, signal: new AbortController().signal, deleteForm: async () => form, rejectFastForm: () => {}, onArgv: () => {} });
    return res.failed;
  };
  return { root, runs, go };
}

/** How the recorder shows a name: its bytes, one char each. */
const latin1 = (s: string): string => nameToBytes(s).toString('latin1');

test('path jobs (live, replay, --retry-log, pending, catch-up of a file): excluded paths are not sent, and not deleted', async () => {
  const s = await setup();
  const failed = await s.go({ root: s.root, action: 'path', paths: ['keep.txt', 'a.gz', 'info', 'info/x', 'other.log', 'keep.log', 'gone.gz', 'gone.txt', `d/${LATIN}`, 'd/e/sub.svn/f'] });
  assert.deepEqual(failed, []);
  const [run] = await s.runs();
  assert.deepEqual(run!.list, ['./keep.txt', './keep.log', './gone.txt'], 'gone.gz is missing but excluded: no delete is sent for it');
  assert.ok(run!.argv.includes('--delete-missing-args'));
  assert.deepEqual(run!.rules, [], 'a path job does not recurse: no rules needed');
});

test('tree jobs (new/moved-in/renamed dirs, bursts, catch-up of a dir): one anchored rule per excluded entry, none below an excluded dir', async () => {
  const s = await setup();
  await s.go({ root: s.root, action: 'tree', paths: ['d'] });
  const [run] = await s.runs();
  assert.deepEqual(run!.list, ['./d']);
  assert.deepEqual([...run!.rules].sort(), ['- /d/.svn', '- /d/b.gz', '- /d/e/c.gz', '- /d/e/sub.svn', `- /d/${latin1(LATIN)}`].sort());
  assert.deepEqual(run!.argv.slice(0, 6), ['--from0', run!.argv[1], '--no-from0', '--info=stats1', '--modify-window=-1', '-artz'], 'our rules first, before any user include');
  assert.match(run!.argv[1]!, /^--filter=merge \//);
  assert.ok(run!.argv.includes('--exclude=*.tmp'), "the user's own exclude applies too");
});

test('full syncs (-r, <crontab>, the periodic reconcile): the live excludes as rules, and <crontabfilter> globs, and the user\'s', async () => {
  const s = await setup();
  await s.go({ root: s.root, action: 'tree', paths: [''], full: true, excludes: ['*.php'] });
  const [run] = await s.runs();
  assert.deepEqual(
    [...run!.rules].sort(),
    ['- /a.gz', '- /info', '- /other.log', '- /d/.svn', '- /d/b.gz', '- /d/e/c.gz', '- /d/e/sub.svn', `- /d/${latin1(LATIN)}`].sort(),
  );
  assert.ok(run!.argv.includes('--exclude=*.php') && run!.argv.includes('--exclude=*.tmp') && run!.argv.includes('--delete'));
  assert.deepEqual(run!.list, []);
});

test('the delete fallback: missing paths as rules on stdin; an excluded missing path is left alone', async () => {
  const s = await setup();
  await s.go({ root: s.root, action: 'path', paths: ['d/gone', 'd/gone.gz', 'keep.txt'] }, 'fallback');
  const runs = await s.runs();
  const del = runs.find((r) => r.argv.includes('--filter=merge -'))!;
  assert.deepEqual(del.rules, ['+ /gone', '+ /gone/***', '- *']);
  assert.deepEqual(del.argv.slice(-2), ['./d/', 'h::m/d/']);
});

test('no excludes: no walk, no rules file', async () => {
  assert.deepEqual(await excludedBelow('/nonexistent', [''], []), []);
  assert.deepEqual(await splitExcluded('/nonexistent', ['a.gz'], []), { kept: ['a.gz'], excluded: [] });
});

test('a pattern that only matches the directory form excludes a directory, not a file of that name', async () => {
  const s = await setup();
  await mkdir(join(s.root, 'cache'));
  await writeFile(join(s.root, 'd', 'cache'), 'a file');
  const dirOnly = [pattern('(.*)cache/')]; // Sersync's start-up form of a root-level directory: `cache/`
  assert.deepEqual(await splitExcluded(s.root, ['cache', 'd/cache'], dirOnly), { kept: ['d/cache'], excluded: ['cache'] });
  assert.deepEqual(await excludedBelow(s.root, [''], dirOnly), ['cache']);
});

test("with parseConfig's flags the stock shapes go to rsync as globs, and only the rest is walked", async () => {
  const asParsed = ['(.*)\\.svn', '(.*)\\.gz', '^info/*', '^(?!keep).*\\.log', '(.*)[\\udc80-\\udcff]'].map((src) => pattern(src, 's'));
  const s = await setup(asParsed);
  await s.go({ root: s.root, action: 'tree', paths: ['d'] });
  await s.go({ root: s.root, action: 'tree', paths: [''], full: true });
  const [tree, full] = await s.runs();
  const globs = ['- *.svn', '- *.gz', '- /info'];
  assert.deepEqual(tree!.rules, [...globs, `- /d/${latin1(LATIN)}`]);
  assert.deepEqual(full!.rules.slice(0, 3), globs);
  assert.deepEqual(full!.rules.slice(3).sort(), ['- /other.log', `- /d/${latin1(LATIN)}`].sort(), 'the walk enters no glob-excluded directory');
  await s.go({ root: s.root, action: 'path', paths: ['keep.txt'] });
  assert.equal((await s.runs())[2]!.argv.some((w) => w.startsWith('--filter=merge')), false, 'a path job gets no rules file');
});
