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

/**
 * The inotify backend's exact kernel events mapped onto Sersync's switches: the tssersync column of
 * reference/sersync-confxml.md, cell by cell. The disk state (lstat when the batch is resolved)
 * still decides: a `close_write` for a path that is gone again sends nothing, because its
 * IN_DELETE is on its way and is governed by `delete`.
 *
 * `create_link` is an IN_CREATE whose entry will never raise IN_CLOSE_WRITE: a symlink, a hard
 * link (a regular file with more than one link), a device, fifo or socket. It is sent under any
 * switch that would send a file's content, so the stock switches (createFile off) still send it.
 */
export type KernelKind = 'create' | 'create_link' | 'close_write' | 'modify' | 'attrib' | 'delete' | 'moved_from' | 'moved_to';

const NOTHING: readonly Switch[] = [];
const GONE_AGAIN = 'gone again when we looked: its IN_DELETE / IN_MOVED_FROM follows and decides';

export const KERNEL_SWITCH_TABLE: Readonly<Record<KernelKind, Readonly<Record<PathState, Rule>>>> = {
  create: {
    file: { anyOf: ['createFile'], why: 'createFile: sync on creation (the content follows with IN_CLOSE_WRITE)' },
    dir: { anyOf: ['createFolder'], why: 'createFolder: a new directory, sent as a whole tree (watched, then listed)' },
    missing: { anyOf: NOTHING, why: GONE_AGAIN },
  },
  create_link: {
    file: { anyOf: FILE_CONTENT, why: 'a symlink or hard link raises IN_CREATE only: sent whenever file content would be' },
    dir: { anyOf: ['createFolder'], why: 'cannot happen (IN_ISDIR is a plain create); kept total' },
    missing: { anyOf: NOTHING, why: GONE_AGAIN },
  },
  close_write: {
    file: { anyOf: ['closeWrite'], why: 'closeWrite: a written file was closed' },
    dir: { anyOf: NOTHING, why: 'a directory is never written; something replaced the file and raises its own event' },
    missing: { anyOf: NOTHING, why: GONE_AGAIN },
  },
  modify: {
    file: { anyOf: ['modify'], why: 'modify: every write' },
    dir: { anyOf: NOTHING, why: 'a directory is never written; something replaced the file and raises its own event' },
    missing: { anyOf: NOTHING, why: GONE_AGAIN },
  },
  attrib: {
    file: { anyOf: ['attrib'], why: 'attrib: sync attributes (Sersync ran a delete command here: a bug)' },
    dir: { anyOf: ['attrib'], why: 'attrib: a directory attribute change' },
    missing: { anyOf: NOTHING, why: GONE_AGAIN },
  },
  delete: {
    file: { anyOf: NOTHING, why: 'recreated before we looked: its IN_CREATE decides' },
    dir: { anyOf: NOTHING, why: 'recreated before we looked: its IN_CREATE decides' },
    missing: { anyOf: ['delete'], why: 'delete: propagate the delete' },
  },
  moved_from: {
    file: { anyOf: NOTHING, why: 'something else stands there now: its own event decides' },
    dir: { anyOf: NOTHING, why: 'something else stands there now: its own event decides' },
    missing: { anyOf: ['moveFrom'], why: 'moveFrom: moved out (or away by a rename) = a delete' },
  },
  moved_to: {
    file: { anyOf: ['moveTo'], why: 'moveTo: moved in (or here by a rename) = sync' },
    dir: { anyOf: ['moveTo'], why: 'moveTo: a directory moved in is synced recursively' },
    missing: { anyOf: NOTHING, why: GONE_AGAIN },
  },
};

/** Whether Sersync's switches let this kernel event through for what the disk holds now. */
export function kernelAllowed(switches: EventSwitches, kind: KernelKind, state: PathState): boolean {
  return KERNEL_SWITCH_TABLE[kind][state].anyOf.some((s) => switches[s]);
}
