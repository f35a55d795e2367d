/**
 * What to do for one observed change. Events are hints; the disk state (lstat at the edge) decides.
 * The table, with reasons:
 *
 *   state    event            action  why
 *   dir      create           tree    a new directory's contents may never be reported (mkdir -p, cp -r, mv in)
 *   dir      update/delete    tree    a directory replaced within one window (delete+create) is reported as update
 *   file     any              path    the file itself; rsync reads its current bytes
 *   missing  any              path    rsync deletes a listed path that is missing locally
 */
import type { Action, Change } from './types.js';

export function actionFor(change: Change): Action {
  return change.state === 'dir' ? 'tree' : 'path';
}
