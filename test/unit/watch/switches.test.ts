import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventSwitches } from '../../../src/config/types.js';
import type { PathState } from '../../../src/core/types.js';
import { allowed, SWITCH_TABLE, type WatchEvent } from '../../../src/watch/switches.js';

const NONE: EventSwitches = { delete: false, createFolder: false, createFile: false, closeWrite: false, moveFrom: false, moveTo: false, attrib: false, modify: false };
const STOCK: EventSwitches = { ...NONE, delete: true, createFolder: true, closeWrite: true, moveFrom: true, moveTo: true };
const SWITCHES = Object.keys(NONE) as (keyof EventSwitches)[];

/** Every cell: exactly which single switch lets it through. */
const EXPECTED: Record<WatchEvent, Record<PathState, (keyof EventSwitches)[]>> = {
  create: {
    file: ['closeWrite', 'modify', 'createFile', 'moveTo'],
    dir: ['createFolder'],
    missing: ['delete', 'moveFrom'],
  },
  update: {
    file: ['closeWrite', 'modify', 'createFile', 'moveTo', 'attrib'],
    dir: ['createFolder', 'attrib'],
    missing: ['delete', 'moveFrom'],
  },
  delete: {
    file: ['closeWrite', 'modify', 'createFile', 'moveTo'],
    dir: ['createFolder'],
    missing: ['delete', 'moveFrom'],
  },
};

const EVENTS: WatchEvent[] = ['create', 'update', 'delete'];
const STATES: PathState[] = ['file', 'dir', 'missing'];

for (const event of EVENTS) {
  for (const state of STATES) {
    test(`switches: ${event} × ${state}`, () => {
      const want = EXPECTED[event][state];
      for (const sw of SWITCHES) {
        assert.equal(allowed({ ...NONE, [sw]: true }, event, state), want.includes(sw), `only ${sw} on`);
        assert.equal(allowed({ ...NONE, ...Object.fromEntries(SWITCHES.map((s) => [s, true])), [sw]: false }, event, state), want.some((w) => w !== sw), `all but ${sw}`);
      }
      assert.equal(allowed(NONE, event, state), false, 'all off');
      assert.ok(SWITCH_TABLE[event][state].why.length > 20, 'every cell carries its reason');
    });
  }
}

test('switches: the stock config lets every cell through', () => {
  for (const event of EVENTS) for (const state of STATES) assert.equal(allowed(STOCK, event, state), true, `${event} × ${state}`);
});

test('switches: delete off suppresses deletes only', () => {
  const sw = { ...STOCK, delete: false, moveFrom: false };
  assert.equal(allowed(sw, 'delete', 'missing'), false);
  assert.equal(allowed(sw, 'update', 'missing'), false);
  assert.equal(allowed(sw, 'create', 'file'), true);
});
