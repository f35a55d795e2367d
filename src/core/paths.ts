/** Pure helpers over root-relative POSIX paths ("" is the root itself). */

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** True when `anc` is a strict ancestor of `path` ("" is the ancestor of everything but itself). */
export function isAncestor(anc: string, path: string): boolean {
  if (anc === path) return false;
  return anc === '' || (path.length > anc.length && path.startsWith(anc) && path[anc.length] === '/');
}

/** Strict ancestors of `path`, nearest first, ending with "". */
export function* ancestors(path: string): Generator<string> {
  let p = path;
  while (p !== '') {
    p = parentOf(p);
    yield p;
  }
}
