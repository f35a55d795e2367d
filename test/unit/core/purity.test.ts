import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What makes a core file impure: a static import or re-export of anything but a sibling (either
 * quote style, side-effect imports included), any dynamic `import(…)` or `require(…)`, the clock,
 * timers or `process`.
 */
function offences(src: string): string[] {
  const found: string[] = [];
  const specifiers = [
    ...src.matchAll(/\b(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g),
    ...src.matchAll(/\bimport\s*(['"])([^'"]+)\1/g),
  ].map((m) => m[2]!);
  for (const s of specifiers) if (!s.startsWith('./')) found.push(`imports ${s}`);
  if (/\bimport\s*\(/.test(src)) found.push('uses a dynamic import()');
  if (/\brequire\s*\(/.test(src)) found.push('uses require()');
  if (/Date\.now|new Date\(|performance\.now|setTimeout|setInterval|setImmediate|process\./.test(src)) found.push('reads the clock or process');
  return found;
}

test('the purity check catches every form of import', () => {
  assert.deepEqual(offences(`import { a } from './a.js';\nexport { b } from "./b.js";\nimport type { T } from './t.js';`), []);
  assert.deepEqual(offences(`import { readFile } from 'node:fs/promises';`), ['imports node:fs/promises']);
  assert.deepEqual(offences(`import { readFile } from "node:fs/promises";`), ['imports node:fs/promises']);
  assert.deepEqual(offences(`import {\n  spawn,\n} from "node:child_process";`), ['imports node:child_process']);
  assert.deepEqual(offences(`import 'node:fs';`), ['imports node:fs']);
  assert.deepEqual(offences(`export * from "../sync/lane.js";`), ['imports ../sync/lane.js']);
  assert.deepEqual(offences(`const fs = await import('node:fs');`), ['uses a dynamic import()']);
  assert.deepEqual(offences(`const m = import ("./sibling.js");`), ['uses a dynamic import()']);
  assert.deepEqual(offences(`const fs = require('fs');`), ['uses require()']);
  assert.deepEqual(offences(`const t = Date.now();`), ['reads the clock or process']);
});

// The core is pure (DESIGN invariant 6): it never touches the file system, processes, the clock or the logger.
test('src/core imports nothing with effects and never reads the clock', () => {
  const dir = join(import.meta.dirname, '../../../src/core');
  const files = readdirSync(dir).filter((n) => n.endsWith('.ts'));
  assert.ok(files.length > 0);
  for (const f of files) assert.deepEqual(offences(readFileSync(join(dir, f), 'utf8')), [], f);
});
