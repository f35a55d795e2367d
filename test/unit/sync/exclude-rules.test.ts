/** Which <filter> regexes have an exact rsync rule (Sersync's stock shapes), and which are walked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { literalOf, literalsOf, rsyncRuleFor, rsyncRulesFor } from '../../../src/sync/exclude-rules.js';

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
  for (const src of ['(.*)', '.*', '^(?!keep).*\\.log', '(.*)\\.(gz|bz2)+', '(.*)\\.((gz))', '(.*)/cache', '(.*)\\.(?=gz)', '(.*)(a/b|c)', 'a/b', '^a/b/*', '(.*)[0-9]', 'x.y', '(.*)\\.gz|t.p', 'a+', '\\d+', '(.*)\\.gz(.*)', '^info/.*', '\\w']) {
    assert.equal(rsyncRuleFor(src), undefined, src);
  }
  assert.equal(literalOf('a\\.b'), 'a.b');
  assert.equal(literalOf('a\\nb'), undefined, 'an escape other than a plain character is not a literal');
});

test('groups of literal alternatives: one rule per combination (capped)', () => {
  assert.deepEqual(rsyncRulesFor('(.*)\\.(gz|bz2)'), ['- *.gz', '- *.bz2']);
  assert.deepEqual(rsyncRulesFor('(.*)\\.(?:tar\\.)?gz'), undefined, 'a quantified group is not a literal');
  assert.deepEqual(rsyncRulesFor('(.*)(\\.tmp|~)'), ['- *.tmp', '- *~']);
  assert.deepEqual(rsyncRulesFor('^(info|static)/*'), ['- /info', '- /static']);
  assert.deepEqual(rsyncRulesFor('(.*)\\.(a|b)(c|d)'), ['- *.ac', '- *.ad', '- *.bc', '- *.bd']);
  assert.equal(rsyncRuleFor('(.*)\\.(gz|bz2)'), undefined, 'not a single rule');
  assert.deepEqual(literalsOf('x(a|)'), ['xa', 'x']);
  assert.deepEqual(rsyncRulesFor('(.*)\\.gz|^info/*|(.*)\\.gz'), ['- *.gz', '- /info'], 'top-level branches: the union');
  assert.equal(literalsOf('(a|b)(c|d)(e|f)(g|h)(i|j)(k|l)(m|n)'), undefined, 'past 64 combinations: walked');
});
