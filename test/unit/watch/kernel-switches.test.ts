import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventSwitches } from '../../../src/config/types.js';
import type { PathState } from '../../../src/core/types.js';
import { KERNEL_SWITCH_TABLE, kernelAllowed, type KernelKind } from '../../../src/watch/switches.js';

const NONE: EventSwitches = { delete: false, createFolder: false, createFile: false, closeWrite: false, moveFrom: false, moveTo: false, attrib: false, modify: false };
const STOCK: EventSwitches = { ...NONE, delete: true, createFolder: true, closeWrite: true, moveFrom: true, moveTo: true };
const SWITCHES = Object.keys(NONE) as (keyof EventSwitches)[];
const CONTENT: (keyof EventSwitches)[] = ['closeWrite', 'modify', 'createFile', 'moveTo'];

/** The tssersync column of reference/sersync-confxml.md: which single switch lets each cell through. */
const EXPECTED: Record<KernelKind, Record<PathState, (keyof EventSwitches)[]>> = {
  create: { file: ['createFile'], dir: ['createFolder'], missing: [] },
  create_link: { file: CONTENT, dir: ['createFolder'], missing: [] },
  close_write: { file: ['closeWrite'], dir: [], missing: [] },
  modify: { file: ['modify'], dir: [], missing: [] },
  attrib: { file: ['attrib'], dir: ['attrib'], missing: [] },
  delete: { file: [], dir: [], missing: ['delete'] },
  moved_from: { file: [], dir: [], missing: ['moveFrom'] },
  moved_to: { file: ['moveTo'], dir: ['moveTo'], missing: [] },
};

test('kernel switch table: every cell is let through by exactly the expected switches', () => {
  for (const kind of Object.keys(EXPECTED) as KernelKind[]) {
    for (const state of ['file', 'dir', 'missing'] as PathState[]) {
      const through = SWITCHES.filter((s) => kernelAllowed({ ...NONE, [s]: true }, kind, state));
      assert.deepEqual(through.sort(), [...EXPECTED[kind][state]].sort(), `${kind}/${state}`);
      assert.ok(KERNEL_SWITCH_TABLE[kind][state].why.length > 10, `${kind}/${state} says why`);
    }
  }
});

test('kernel switch table: with the stock switches a new file goes at close, a symlink or hard link at create', () => {
  assert.equal(kernelAllowed(STOCK, 'create', 'file'), false, 'createFile is off: wait for close_write');
  assert.equal(kernelAllowed(STOCK, 'close_write', 'file'), true);
  assert.equal(kernelAllowed(STOCK, 'modify', 'file'), false);
  assert.equal(kernelAllowed(STOCK, 'create_link', 'file'), true, 'a symlink raises IN_CREATE only');
  assert.equal(kernelAllowed(STOCK, 'create', 'dir'), true);
  assert.equal(kernelAllowed(STOCK, 'delete', 'missing'), true);
  assert.equal(kernelAllowed(STOCK, 'attrib', 'file'), false);
  assert.equal(kernelAllowed(STOCK, 'close_write', 'missing'), false, 'gone again: its delete decides');
});
