/**
 * Sersync's `<inotify>` switches mapped onto @parcel/watcher's three events, pure.
 *
 * Sersync reacted to eight inotify events; parcel reports only create / update / delete, with no
 * close-write, no move pairing and attribute changes folded into update. So each cell below is
 * "which Sersync switches would have let the underlying inotify events through". The disk state
 * (lstat when the batch arrives) decides over the event word: a path that is missing is a delete
 * whatever the event said, a path that exists is content or a directory to send.
 */
import type { EventSwitches } from '../config/types.js';
import type { PathState } from '../core/types.js';

type Switch = keyof EventSwitches;
export type WatchEvent = 'create' | 'update' | 'delete';

interface Rule {
  /** The event is let through when any of these switches is on. */
  readonly anyOf: readonly Switch[];
  readonly why: string;
}

/** A file's content (or a symlink) to send: what Sersync synced for written, created or moved-in files. */
const FILE_CONTENT: readonly Switch[] = ['closeWrite', 'modify', 'createFile', 'moveTo'];

export const SWITCH_TABLE: Readonly<Record<WatchEvent, Readonly<Record<PathState, Rule>>>> = {
  create: {
    file: { anyOf: FILE_CONTENT, why: 'no close-write in parcel: a new file is what closeWrite/modify would sync; createFile itself; a file moved in (moveTo) also arrives as create' },
    dir: { anyOf: ['createFolder'], why: 'createFolder off meant new directories were ignored (a directory moved in also arrives as create: parcel cannot tell it apart, so createFolder governs both)' },
    missing: { anyOf: ['delete', 'moveFrom'], why: 'gone again by the time we look: replicating it means propagating a delete' },
  },
  update: {
    file: { anyOf: [...FILE_CONTENT, 'attrib'], why: 'a write (closeWrite/modify), an attribute change (attrib), or delete+create in one window, e.g. a rename over it (moveTo, createFile)' },
    dir: { anyOf: ['createFolder', 'attrib'], why: 'a directory attribute change (attrib), or a directory that replaced something in one window (createFolder)' },
    missing: { anyOf: ['delete', 'moveFrom'], why: 'the path is gone: a delete, or a move out' },
  },
  delete: {
    file: { anyOf: FILE_CONTENT, why: 'deleted then recreated before we looked: the file exists, so it is new content' },
    dir: { anyOf: ['createFolder'], why: 'deleted then recreated as a directory before we looked: a new directory' },
    missing: { anyOf: ['delete', 'moveFrom'], why: 'a delete (delete) or a move out of the tree (moveFrom)' },
  },
};

/** Whether Sersync's switches let this observation through. */
export function allowed(switches: EventSwitches, event: WatchEvent, state: PathState): boolean {
  return SWITCH_TABLE[event][state].anyOf.some((s) => switches[s]);
}
