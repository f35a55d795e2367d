/**
 * Watch descriptor → where that directory is now, pure. Each watched directory holds its parent
 * and its own name (the canonical string of core/names.ts, i.e. its bytes); a path is rebuilt by
 * walking up to the root. So renaming a directory is one re-link, whatever lies below it, and
 * nothing at all is stored per file: memory grows with directories only.
 */

interface DirNode {
  readonly wd: number;
  parent: DirNode | undefined;
  name: string;
  /** Watched subdirectories by name (files are never stored). */
  children: Map<string, DirNode> | undefined;
}

export class DirMap {
  readonly #byWd = new Map<number, DirNode>();
  #root: DirNode | undefined;

  get size(): number {
    return this.#byWd.size;
  }

  get rootWd(): number | undefined {
    return this.#root?.wd;
  }

  setRoot(wd: number): void {
    if (this.#root) throw new Error('the root is already set');
    this.#root = { wd, parent: undefined, name: '', children: undefined };
    this.#byWd.set(wd, this.#root);
  }

  has(wd: number): boolean {
    return this.#byWd.has(wd);
  }

  /**
   * Record `wd` as `name` inside `parentWd`. The kernel hands out the same wd for a directory it
   * already watches: then the directory moved (and we learned its new place first), so it is moved.
   * False when the parent is unknown.
   */
  add(wd: number, parentWd: number, name: string): boolean {
    const parent = this.#byWd.get(parentWd);
    if (!parent) return false;
    const known = this.#byWd.get(wd);
    if (known) {
      if (known === this.#root || this.#isBelow(parent, known)) return false;
      this.#link(known, parent, name);
      return true;
    }
    const node: DirNode = { wd, parent: undefined, name, children: undefined };
    this.#byWd.set(wd, node);
    this.#link(node, parent, name);
    return true;
  }

  /** The path of `wd` relative to the root ("" is the root), or undefined when it is not (any longer) in the tree. */
  pathOf(wd: number): string | undefined {
    let node = this.#byWd.get(wd);
    if (!node) return undefined;
    const names: string[] = [];
    while (node.parent) {
      names.push(node.name);
      node = node.parent;
    }
    if (node !== this.#root) return undefined;
    return names.reverse().join('/');
  }

  /** The path of the entry `name` inside `wd`, or undefined when `wd` is unknown. */
  entryPath(wd: number, name: string): string | undefined {
    const dir = this.pathOf(wd);
    if (dir === undefined) return undefined;
    if (name === '') return dir;
    return dir === '' ? name : `${dir}/${name}`;
  }

  /** The watched subdirectory `name` of `parentWd`. */
  child(parentWd: number, name: string): number | undefined {
    return this.#byWd.get(parentWd)?.children?.get(name)?.wd;
  }

  /** A rename inside the tree: O(1) whatever the size of the subtree. False when either side is unknown. */
  move(wd: number, newParentWd: number, newName: string): boolean {
    const node = this.#byWd.get(wd);
    const parent = this.#byWd.get(newParentWd);
    if (!node || !parent || node === this.#root || this.#isBelow(parent, node)) return false;
    this.#link(node, parent, newName);
    return true;
  }

  /** Forget `wd` and every directory below it; returns their wds (the caller removes the watches). */
  remove(wd: number): number[] {
    const node = this.#byWd.get(wd);
    if (!node) return [];
    this.#unlink(node);
    const out: number[] = [];
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      this.#byWd.delete(n.wd);
      out.push(n.wd);
      if (n.children) for (const c of n.children.values()) stack.push(c);
    }
    if (node === this.#root) this.#root = undefined;
    return out;
  }

  /** Every wd below `wd` (itself included), for a subtree that must be walked (tests, diagnostics). */
  subtree(wd: number): number[] {
    const node = this.#byWd.get(wd);
    if (!node) return [];
    const out: number[] = [];
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      out.push(n.wd);
      if (n.children) for (const c of n.children.values()) stack.push(c);
    }
    return out;
  }

  #link(node: DirNode, parent: DirNode, name: string): void {
    this.#unlink(node);
    // Whatever was recorded under this name is gone: rename(2) replaced it (an empty directory).
    const displaced = parent.children?.get(name);
    if (displaced && displaced !== node) this.remove(displaced.wd);
    node.parent = parent;
    node.name = name;
    (parent.children ??= new Map()).set(name, node);
  }

  #unlink(node: DirNode): void {
    const p = node.parent;
    if (p?.children?.get(node.name) === node) {
      p.children.delete(node.name);
      if (p.children.size === 0) p.children = undefined;
    }
    node.parent = undefined;
  }

  /** Is `maybe` `node` itself or below it? */
  #isBelow(maybe: DirNode, node: DirNode): boolean {
    for (let n: DirNode | undefined = maybe; n; n = n.parent) if (n === node) return true;
    return false;
  }
}
