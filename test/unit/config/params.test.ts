import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenParam, splitParams, withoutUpdate } from '../../../src/config/index.js';

test('splitParams splits like a command line, but nothing is ever interpreted', () => {
  const cases: [string, string[]][] = [
    ['-artuz', ['-artuz']],
    ['  -a   -z\t--sockopts=TCP_NODELAY  ', ['-a', '-z', '--sockopts=TCP_NODELAY']],
    ['', []],
    [`--exclude='*.tmp' --exclude "a b"`, ['--exclude=*.tmp', '--exclude', 'a b']],
    [`'$(rm -rf /)' \`id\` ';' a;b`, ['$(rm -rf /)', '`id`', ';', 'a;b']],
    [`"say \\"hi\\"" 'it''s' a\\ b`, ['say "hi"', 'its', 'a b']],
    [`'' ""`, ['', '']],
    ['--chmod=Du+rwx,Fgo-w', ['--chmod=Du+rwx,Fgo-w']],
    ['ünï cødé', ['ünï', 'cødé']],
  ];
  for (const [input, want] of cases) assert.deepEqual(splitParams(input), want, input);
  assert.throws(() => splitParams(`-a 'open`), /unterminated ' quote/);
  assert.throws(() => splitParams(`-a "open`), /unterminated " quote/);
});

test('forbiddenParam: what the engine needs for itself is refused, ordinary options pass', () => {
  const ok = [
    ['-artuz'],
    ['-a', '-z', '--sockopts=TCP_NODELAY', '--contimeout=5', '--bwlimit=10m'],
    ['-a', '--exclude', '*.tmp', '--chmod', 'D755'],
    ['-aB', '1024'],
    ['-aT/tmp/x'],
    ['-f', '- *.bak'],
    ['--delay-updates', '--partial-dir=.rsync-partial'],
    ['-vvh', '--info=progress2'],
    ['--no-iconv', '--modify-window=-1'],
  ];
  for (const words of ok) assert.equal(forbiddenParam(words), undefined, words.join(' '));
  const bad: [string[], RegExp][] = [
    [['-artuz', '--delete'], /--delete is not allowed/],
    [['--delete-after'], /deletes/],
    [['--del'], /--del is not allowed/],
    [['-artunz'], /-n is --dry-run/],
    [['-a0'], /--from0/],
    [['-a', '--iconv=utf8,latin1'], /--iconv is not allowed: it rewrites names/],
    [['-a', '--iconv', '.'], /--iconv is not allowed/],
    [['-avze', 'ssh'], /-e is --rsh/],
    [['--rsh=ssh -p 22'], /ssh mode/],
    [['--files-from=/x'], /file list/],
    [['--from0'], /file list/],
    [['--remove-source-files'], /delete the watched files/],
    [['--dry-run'], /nothing would be replicated/],
    [['--list-only'], /nothing would be replicated/],
    [['--daemon'], /not a client/],
    [['--server'], /not a client/],
    [['--password-file=/etc/p'], /<auth/],
    [['--port=874'], /userDefinedPort/],
    [['--timeout=10'], /<timeout/],
    [['--max-delete=10'], /maxDelete/],
    [['--no-relative'], /-R/],
    [['--exclude-from=-'], /--exclude-from is not allowed/],
    [['--write-batch=x'], /batch/],
    [['-a', '/etc'], /"\/etc" is not an option/],
    [['-a', 'ip::module'], /not an option/],
    [['--exclude', 'x', 'y'], /"y" is not an option/],
  ];
  for (const [words, why] of bad) assert.match(forbiddenParam(words) ?? '(allowed)', why, words.join(' '));
});

test('withoutUpdate: -u / --update are dropped (a file restored with an older mtime must replicate)', () => {
  const cases: Array<[string[], string[], boolean]> = [
    [['-artuz'], ['-artz'], true],
    [['-u'], [], true],
    [['-a', '--update', '--bwlimit', '100'], ['-a', '--bwlimit', '100'], true],
    [['-a', '--exclude', '-u'], ['-a', '--exclude', '-u'], false],
    [['-auB', '1024'], ['-aB', '1024'], true],
    [['-aBu'], ['-aBu'], false],
    [['-az', '--sockopts=TCP_NODELAY'], ['-az', '--sockopts=TCP_NODELAY'], false],
  ];
  for (const [input, words, dropped] of cases) assert.deepEqual(withoutUpdate(input), { words, dropped }, input.join(' '));
});

test('forbiddenParam: --ignore-errors is refused (with --delete it deletes the remote copy of what cannot be read)', () => {
  assert.match(forbiddenParam(['-artuz', '--ignore-errors']) ?? '', /--ignore-errors is not allowed: .*could not read/);
});
