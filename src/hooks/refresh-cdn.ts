/**
 * The refreshCDN plugin: after a batch lands, purge the public URLs of its paths under the
 * plugin's watch root, through the legacy request (`<cdninfo>`), the generic purge (`<purge>`),
 * or both. Only the URLs whose request failed are retried.
 */
import PQueue from 'p-queue';
import type { RefreshCdnPluginConfig } from '../config/types.js';
import type { Emit } from '../events.js';
import { cdnTargets } from './cdn-urls.js';
import { errorText, throwIfFailed } from './failure.js';
import { PurgeSender, purgeGroups } from './generic-cdn.js';
import { sendLegacy } from './legacy-cdn.js';
import { itemsUnder } from './scope.js';
import { resolveSecret } from './secret.js';
import type { Hook, LandedBatch, LandedItem } from './types.js';

/** Legacy requests in flight at once: one TCP connection per URL, as the old API expects. */
const LEGACY_CONCURRENCY = 4;
const LEGACY_TIMEOUT_MS = 30_000;

export class RefreshCdnHook implements Hook {
  readonly #sender: PurgeSender | undefined;
  readonly #legacyQueue = new PQueue({ concurrency: LEGACY_CONCURRENCY });

  constructor(
    readonly name: string,
    private readonly cfg: RefreshCdnPluginConfig,
    private readonly deps: { emit: Emit; env: NodeJS.ProcessEnv },
  ) {
    this.#sender = cfg.generic ? new PurgeSender(cfg.generic) : undefined;
  }

  async deliver(batch: LandedBatch): Promise<void> {
    const items = itemsUnder(batch, this.cfg.watch);
    const targets = cdnTargets(items, this.cfg);
    if (targets.length === 0) return;
    const failed = new Set<LandedItem>();
    const causes: string[] = [];
    const fail = (group: ReadonlyArray<{ item: LandedItem }>, err: unknown) => {
      for (const t of group) failed.add(t.item);
      causes.push(errorText(err));
    };
    // Secrets first: a missing one fails the whole batch with a message naming where it should be.
    const legacyPassword = this.cfg.legacy ? await resolveSecret(this.cfg.legacy.password, this.name, this.deps.env) : undefined;
    const genericSecret = this.cfg.generic?.secret ? await resolveSecret(this.cfg.generic.secret, this.name, this.deps.env) : undefined;
    const work: Promise<void>[] = [];
    if (this.cfg.legacy && legacyPassword !== undefined) {
      const ep = this.cfg.legacy;
      for (const t of targets) {
        work.push(this.#legacyQueue.add(() => sendLegacy(ep, legacyPassword, t.target.url, t.target.dir, LEGACY_TIMEOUT_MS)).catch((err) => fail([t], err)));
      }
    }
    if (this.cfg.generic && this.#sender) {
      for (const group of purgeGroups(this.cfg.generic, targets)) {
        work.push(this.#sender.send(group.map((g) => g.target.url), genericSecret).catch((err) => fail(group, err)));
      }
    }
    await Promise.all(work);
    throwIfFailed(this.name, items.length, [...failed], causes);
  }

  /** Requests in flight end within their timeout; the runner decides what to do with them. */
  async close(): Promise<void> {}
}
