/**
 * Config side of names and excludes: how a <filter> regex sees a name that is not valid UTF-8,
 * --iconv refused with a located error, and --check saying where each exclude applies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeConfig, parseConfig } from '../../../src/config/index.js';
import { nameFromBytes } from '../../../src/core/names.js';
import { ConfigError } from '../../../src/errors.js';
import { isExcluded } from '../../../src/watch/filter.js';

function conf(opts: { filter?: string; params?: string; crontab?: string } = {}): string {
  return [
    '<head version="2.5">',
    opts.filter ?? '',
    '<sersync>',
    '  <localpath watch="/srv/www"><remote ip="10.0.0.2" name="www"/></localpath>',
    `  <rsync><commonParams params="${opts.params ?? '-artuz'}"/></rsync>`,
    `  ${opts.crontab ?? ''}`,
    '</sersync>',
    '</head>',
  ].join('\n');
}

const bytes = (...parts: Array<string | number[]>): string => nameFromBytes(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));

test('a <filter> regex is compiled with the s flag: "." matches a newline in a name too', () => {
  const ex = parseConfig(conf({ filter: '<filter start="true"><exclude expression="(.*)\\.gz"/></filter>' }), '/etc/c.xml').excludes;
  assert.ok(ex[0]!.regex.flags.includes('s'));
  assert.equal(isExcluded(ex, 'new\nline.gz', false), true);
  assert.equal(isExcluded(ex, 'd\nx/y.gz', false), true);
});

test('a <filter> regex sees each byte that is not UTF-8 as U+DC80+byte: "." matches it, [\\udc80-\\udcff] matches any such byte', () => {
  const filter = [
    '<filter start="true">',
    '  <exclude expression="(.*)\\.gz"/>',
    '  <exclude expression="(.*)[\\udc80-\\udcff](.*)"/>',
    '  <exclude expression="^caf\\u00e9$"/>',
    '</filter>',
  ].join('\n');
  const ex = parseConfig(conf({ filter }), '/etc/c.xml').excludes;
  const latin = bytes('caf', [0xe9]); // Latin-1 "café"
  const utf8 = 'café';
  const gbkGz = bytes('d/', [0xd6, 0xd0], '.gz');
  assert.equal(isExcluded(ex.slice(0, 1), gbkGz, false), true, '"." and ".*" match escaped bytes');
  assert.equal(isExcluded(ex.slice(1, 2), latin, false), true, 'any non-UTF-8 byte');
  assert.equal(isExcluded(ex.slice(1, 2), utf8, false), false, 'a UTF-8 name has no escaped byte');
  assert.equal(isExcluded(ex.slice(2, 3), utf8, false), true, 'a UTF-8 regex matches the UTF-8 name');
  assert.equal(isExcluded(ex.slice(2, 3), latin, false), false, '... and not the same word in Latin-1');
  // A byte sequence that happens to be well-formed UTF-8 reads as that text (GBK C3A9 = "é").
  assert.equal(isExcluded(ex.slice(2, 3), bytes('caf', [0xc3, 0xa9]), false), true);
  // Sersync's test strings: root-level name alone, nested with a leading slash; ancestors count.
  assert.equal(isExcluded(ex.slice(1, 2), bytes([0xff], '/x'), false), true, 'below an excluded directory');
});

test('--iconv in commonParams is a located config error', () => {
  let caught: unknown;
  try {
    parseConfig(conf({ params: '-artuz --iconv=utf8,gbk' }), 'confxml.xml');
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, String(caught));
  assert.equal(caught.line, 5);
  assert.ok((caught.column ?? 0) >= 1);
  assert.equal(caught.element, '<commonParams>');
  assert.match(caught.message, /^confxml\.xml:5:\d+ .*--iconv is not allowed: it rewrites names/);
});

test('--check says, for each exclude, the routes it applies to', () => {
  const filter = '<filter start="true"><exclude expression="(.*)\\.svn"/><exclude expression="^info/*"/><exclude expression="^(?!keep).*\\.log"/></filter>';
  const crontab = '<crontab start="true" schedule="60"><crontabfilter start="true"><exclude expression="*.php"/></crontabfilter></crontab>';
  const text = describeConfig(parseConfig(conf({ filter, crontab, params: "-artz --exclude='*.tmp' -f '- core'" }), '/etc/c.xml'));
  const lines = text.split('\n');
  const line = (what: string) => lines.find((l) => l.includes(what)) ?? assert.fail(`no line for ${what}:\n${text}`);
  for (const re of ['(.*)\\.svn', '^info/*']) {
    assert.match(line(`<filter> ${re}`), /every route: live events, new\/moved-in\/renamed directory trees, -r, <crontab>, the periodic reconcile, burst reconciles, catch-up after a stop, the pending file, replay and --retry-log/);
  }
  assert.match(line('<filter> (.*)\\.svn'), /\(rsync rule "- \*\.svn"\)$/);
  assert.match(line('<filter> ^info/*'), /\(rsync rule "- \/info"\)$/);
  assert.match(line('<filter> ^(?!keep)'), /every route: .*\(no rsync glob: trees are walked for its matches\)$/);
  assert.match(line('<crontabfilter> *.php'), /full syncs only: -r, <crontab>, the periodic reconcile/);
  assert.match(line('commonParams --exclude=*.tmp'), /every rsync run/);
  assert.match(line('commonParams -f - core'), /every rsync run/);
  assert.equal(describeConfig(parseConfig(conf(), '/etc/c.xml')).split('\n').filter((l) => l.startsWith('excludes')).join(), 'excludes: none');
});
