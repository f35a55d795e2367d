import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The core is pure (DESIGN invariant 6): it never touches the file system, processes, the clock or the logger.
test('src/core imports nothing with effects and never reads the clock', () => {
  const dir = join(import.meta.dirname, '../../../src/core');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    const imports = [...src.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
    for (const i of imports) assert.ok(i.startsWith('./'), `${f} imports ${i}`);
    assert.ok(!/Date\.now|new Date\(|performance\.now|setTimeout|setInterval|process\./.test(src), `${f} reads the clock or process`);
  }
});
