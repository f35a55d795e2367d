import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pattern } from '../../../src/config/types.js';
import { filterString, filterStrings, isExcluded } from '../../../src/watch/filter.js';

/** As the config compiles an exclude: a full-string match. */
function pattern(source: string): Pattern {
  return { source, regex: new RegExp(`^(?:${source})$`) };
}

const STOCK = ['(.*)\\.svn', '(.*)\\.gz', '^info/*', '^static/*'].map(pattern);

test('filterString: name alone at the root, leading slash when nested', () => {
  const cases: [string, boolean, string][] = [
    ['x.gz', false, 'x.gz'],
    ['info', true, 'info'],
    ['sub/x.gz', false, '/sub/x.gz'],
    ['sub/dir/name', false, '/sub/dir/name'],
    ['sub/dir', true, '/sub/dir'],
  ];
  for (const [rel, isDir, want] of cases) assert.equal(filterString(rel, isDir), want, rel);
});

test('filterStrings: a directory is also tested in its start-up form rel/path/', () => {
  assert.deepEqual(filterStrings('info', true), ['info', 'info/']);
  assert.deepEqual(filterStrings('a/b', true), ['/a/b', 'a/b/']);
  assert.deepEqual(filterStrings('a/b', false), ['/a/b']);
});

test('isExcluded with the stock patterns', () => {
  const cases: [string, boolean, boolean][] = [
    // (.*)\.gz excludes every .gz, at any depth
    ['x.gz', false, true],
    ['deep/er/x.gz', false, true],
    ['x.gzip', false, false],
    ['x.gz.txt', false, false],
    // (.*)\.svn: the directory and everything inside it
    ['.svn', true, true],
    ['src/.svn', true, true],
    ['src/.svn/entries', false, true],
    ['src/.svn/pristine/ab/cd', false, true],
    // ^info/* and ^static/*: the root-level directories, and what is inside them
    ['info', true, true],
    ['info/readme', false, true],
    ['info/sub/deep.txt', false, true],
    ['static', true, true],
    ['static/css/site.css', false, true],
    ['static', false, true], // a file named `static` at the root: `static` matches too
    // not at the root: the leading slash of the nested form does not match ^info
    ['sub/info', true, false],
    ['sub/info/x', false, false],
    ['sub/static/a.css', false, false],
    ['information', true, false],
    ['infos/x', false, false],
    ['a.txt', false, false],
  ];
  for (const [rel, isDir, want] of cases) assert.equal(isExcluded(STOCK, rel, isDir), want, `${rel} (${isDir ? 'dir' : 'file'})`);
});

test('isExcluded: hidden files, backups and 4913 are not dropped', () => {
  for (const rel of ['.hidden', 'a/.env', 'notes.txt~', '4913', 'dir/4913', '.#lock']) {
    assert.equal(isExcluded(STOCK, rel, false), false, rel);
    assert.equal(isExcluded([], rel, false), false, rel);
  }
});

test('isExcluded: no patterns excludes nothing; the root is never excluded', () => {
  assert.equal(isExcluded([], 'info/x', false), false);
  assert.equal(isExcluded([pattern('.*')], '', true), false);
  assert.equal(isExcluded([pattern('.*')], 'anything', false), true);
});

test('isExcluded: a directory-only pattern (trailing slash) matches the start-up form and covers the subtree', () => {
  const p = [pattern('cache/')];
  assert.equal(isExcluded(p, 'cache', true), true);
  assert.equal(isExcluded(p, 'cache/x.bin', false), true);
  assert.equal(isExcluded(p, 'cache', false), false, 'a file named cache is not the directory');
  assert.equal(isExcluded(p, 'sub/cache', true), false, 'start-up form of a nested dir is sub/cache/');
  assert.equal(isExcluded([pattern('sub/cache/')], 'sub/cache/f', false), true);
});

test('isExcluded: nested patterns need the leading slash form', () => {
  const p = [pattern('/logs/.*')];
  assert.equal(isExcluded(p, 'logs/a.log', false), true);
  assert.equal(isExcluded(p, 'logs', true), false);
  assert.equal(isExcluded(p, 'x/logs/a.log', false), false);
});

test('isExcluded: awkward names are matched literally, never interpreted', () => {
  const p = [pattern('(.*)\\.tmp')];
  for (const name of ['$(touch x).tmp', '-leading.tmp', 'dq"uote.tmp', 'back`tick`.tmp', 'semi;rm.tmp', 'ünï/日本.tmp']) {
    assert.equal(isExcluded(p, name, false), true, JSON.stringify(name));
  }
  assert.equal(isExcluded(p, '$(touch x).txt', false), false);
  // A newline is part of the one string tested; whether `.` crosses it is the compiled regex's
  // business (POSIX regcomp, as Sersync used, lets `.` match a newline: the JS `s` flag).
  const dotAll: Pattern[] = [{ source: '(.*)\\.tmp', regex: /^(?:(.*)\.tmp)$/s }];
  assert.equal(isExcluded(dotAll, 'new\nline.tmp', false), true);
  assert.equal(isExcluded(dotAll, 'sub/new\nline.txt', false), false);
});

test('isExcluded: a pattern compiled with the g flag gives the same answer every time', () => {
  const p: Pattern[] = [{ source: '(.*)\\.gz', regex: /^(?:(.*)\.gz)$/g }];
  for (let i = 0; i < 3; i++) assert.equal(isExcluded(p, 'a.gz', false), true);
});
