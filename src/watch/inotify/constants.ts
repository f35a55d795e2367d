/** inotify(7) numbers, from <sys/inotify.h> (identical on every Linux architecture). */

export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_CLOSE_WRITE = 0x8;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x0100_0000;
export const IN_DONT_FOLLOW = 0x0200_0000;
export const IN_EXCL_UNLINK = 0x0400_0000;
export const IN_ISDIR = 0x4000_0000;

export const IN_NONBLOCK = 0x800;
export const IN_CLOEXEC = 0x8_0000;

/**
 * What every directory watch asks for. No IN_OPEN / IN_ACCESS / IN_CLOSE_NOWRITE: reads are not
 * changes, and each would be one more event per file read. IN_ONLYDIR: a path that became a file
 * between readdir and add_watch is refused instead of watched. IN_DONT_FOLLOW: a symlink to a
 * directory is an entry, never a second way into a tree. IN_EXCL_UNLINK: no events for files
 * already unlinked but still open.
 */
export const DIR_MASK =
  IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE |
  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

/** errno values the backend tells apart. */
export const ENOENT = 2;
export const EACCES = 13;
export const ENOTDIR = 20;
export const ENOSPC = 28;
