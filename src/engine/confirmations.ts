/**
 * Tracks which remotes confirmed each path of a root, so hooks fire once a path has landed on
 * all of them (`<hooks when="all">`, the default) or on the first (`any`). Bounded: past `cap`
 * paths awaiting other remotes, the oldest are released to the hooks anyway (a dead remote must
 * not grow memory forever; its paths are in the replay log and fire again when replayed).
 */
export class Confirmations {
  readonly #waiting = new Map<string, Set<string>>();

  constructor(
    private readonly remotes: readonly string[],
    private readonly when: 'all' | 'any',
    private readonly cap = 100_000,
  ) {}

  /** Record that `remote` has `paths`; returns the paths now ready for the hooks. */
  confirm(remote: string, paths: readonly string[]): string[] {
    if (this.when === 'any' || this.remotes.length <= 1) return [...paths];
    const ready: string[] = [];
    for (const p of paths) {
      const set = this.#waiting.get(p) ?? new Set<string>();
      set.add(remote);
      if (this.remotes.every((r) => set.has(r))) {
        this.#waiting.delete(p);
        ready.push(p);
      } else {
        this.#waiting.delete(p); // re-insert: Map order = oldest first
        this.#waiting.set(p, set);
      }
    }
    while (this.#waiting.size > this.cap) {
      const oldest = this.#waiting.keys().next().value as string;
      this.#waiting.delete(oldest);
      ready.push(oldest);
    }
    return ready;
  }
}
