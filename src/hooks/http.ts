/**
 * The http plugin (a webhook): one JSON POST per landed batch to `<webhook url>`:
 *
 *   {"root": "/site", "remotes": ["10.0.0.2::www"], "time": "2025-01-01T00:00:00.000Z",
 *    "items": [{"path": "img/a.png", "absolute": "/site/img/a.png", "kind": "file"}]}
 *
 * `kind` is what the path is on the source now: "file", "dir", or "missing" (deleted). Any reply
 * other than 2xx is a failure, retried and then written to the replay log.
 *
 * Names are bytes. `path` and `absolute` are JSON strings of the canonical form (src/core/names.ts):
 * a UTF-8 name is plain text; a byte that is not UTF-8 is the lone surrogate escape `\udcXX`
 * (XX = the byte). An item whose name holds such a byte also carries `pathBase64` and
 * `absoluteBase64`: the exact bytes, for consumers whose JSON parser replaces lone surrogates.
 */
import type { HttpPluginConfig } from '../config/types.js';
import { hasEscapes, nameToBytes } from '../core/names.js';
import { HookError } from '../errors.js';
import { itemsUnder } from './scope.js';
import type { Hook, LandedBatch } from './types.js';

export interface WebhookBody {
  readonly root: string;
  readonly remotes: readonly string[];
  readonly time: string;
  readonly items: readonly WebhookItem[];
}

export interface WebhookItem {
  readonly path: string;
  readonly absolute: string;
  readonly kind: 'file' | 'dir' | 'missing';
  /** Only for a name that is not valid UTF-8: its exact bytes, base64. */
  readonly pathBase64?: string;
  readonly absoluteBase64?: string;
}

export function webhookBody(batch: LandedBatch, watch: string | undefined): WebhookBody {
  return {
    root: batch.root,
    remotes: batch.remotes,
    time: new Date(batch.time).toISOString(),
    items: itemsUnder(batch, watch).map((i): WebhookItem => ({
      path: i.path,
      absolute: i.absolute,
      kind: i.state,
      ...(hasEscapes(i.absolute) ? { pathBase64: nameToBytes(i.path).toString('base64'), absoluteBase64: nameToBytes(i.absolute).toString('base64') } : {}),
    })),
  };
}

export class HttpHook implements Hook {
  constructor(
    readonly name: string,
    private readonly cfg: HttpPluginConfig,
  ) {}

  async deliver(batch: LandedBatch): Promise<void> {
    const body = webhookBody(batch, this.cfg.watch);
    if (body.items.length === 0) return;
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...this.cfg.headers };
    const where = `POST ${origin(this.cfg.url)}`;
    let res: Response;
    try {
      // A redirect is a failure, not followed: following it would turn the POST into a GET or hand
      // the paths and the Authorization header to whatever host the reply names.
      res = await fetch(this.cfg.url, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(this.cfg.timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no reply within ${this.cfg.timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new HookError(this.name, `${where}: ${why}`);
    }
    // Read the reply so the connection is reused; its text is not logged (it may echo headers).
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new HookError(this.name, `${where} replied ${res.status} ${res.statusText}`.trim());
  }

  async close(): Promise<void> {}
}

/** Scheme, host and path: a webhook URL's query often carries a token. */
function origin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the webhook URL';
  }
}
