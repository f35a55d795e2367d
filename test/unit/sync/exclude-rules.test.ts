/** Which <filter> regexes have an exact rsync rule (Sersync's stock shapes), and which are walked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { literalOf, rsyncRuleFor } from '../../../src/sync/exclude-rules.js';

test('stock and similar shapes translate to one rsync rule', () => {
  const cases: Array<[string, string]> = [
    ['(.*)\\.svn', '- *.svn'],
    ['(.*)\\.gz', '- *.gz'],
    ['.*\\.gz', '- *.gz'],
    ['^(.*)\\.tmp$', '- *.tmp'],
    ['(.*)~', '- *~'],
    ['(.*)\\*x', '- *\\*x'],
    ['(.*)back\\\\slash', '- *back\\\\slash'],
    ['(.*)\\udce9', '- *\udce9'],
    ['^info/*', '- /info'],
    ['^static/*', '- /static'],
    ['4913', '- /4913'],
    ['^cache$', '- /cache'],
    ['we\\[ird\\]', '- /we\\[ird]'],
    ['back\\\\slash', '- /back\\slash'],
  ];
  for (const [src, rule] of cases) assert.equal(rsyncRuleFor(src), rule, src);
});

test('anything else is walked: no rsync glob selects exactly the same entries', () => {
  for (const src of ['(.*)', '.*', '^(?!keep).*\\.log', '(.*)\\.(gz|bz2)', '(.*)/cache', 'a/b', '^a/b/*', '(.*)[0-9]', 'x.y', '(.*)\\.gz|tmp', 'a+', '\\d+', '(.*)\\.gz(.*)', '^info/.*', '\\w']) {
    assert.equal(rsyncRuleFor(src), undefined, src);
  }
  assert.equal(literalOf('a\\.b'), 'a.b');
  assert.equal(literalOf('a\\nb'), undefined, 'an escape other than a plain character is not a literal');
});
