/**
 * The generic HTTP purge for modern CDN APIs (Cloudflare, Bunny, …), configured in the XML:
 * endpoint, method, headers, a JSON body template, the largest batch the API accepts and a rate
 * limit. Placeholders, replaced in one pass (so a file named `${secret}` stays a name):
 *
 *   body:     "${urls}" → JSON array of the URLs; ${url} → the one URL (JSON-escaped);
 *             ${secret} → the secret (JSON-escaped)
 *   headers:  ${secret}
 *   endpoint: ${url} → the URL percent-encoded (one URL per request, e.g. Bunny's ?url=);
 *             ${secret} → the secret percent-encoded
 */
import PQueue from 'p-queue';
import type { CdnGenericConfig } from '../config/types.js';
import type { CdnTarget } from './cdn-urls.js';
import { redact } from './secret.js';

export interface PurgeRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** Per request: a reply slower than this is a failure (retried). */
export const PURGE_TIMEOUT_MS = 30_000;

/** The URL groups sent one request each: maxBatch URLs, or one when the endpoint names `${url}`. */
export function purgeGroups<T extends { target: CdnTarget }>(cfg: CdnGenericConfig, targets: readonly T[]): T[][] {
  const size = cfg.endpoint.includes('${url}') ? 1 : Math.max(1, cfg.maxBatch);
  const out: T[][] = [];
  for (let i = 0; i < targets.length; i += size) out.push(targets.slice(i, i + size));
  return out;
}

export function purgeRequest(cfg: CdnGenericConfig, urls: readonly string[], secret: string | undefined): PurgeRequest {
  const s = secret ?? '';
  const json = (v: string) => JSON.stringify(v).slice(1, -1);
  const endpoint = cfg.endpoint.replace(/\$\{(url|secret)\}/g, (_m, k: string) => encodeURIComponent(k === 'url' ? (urls[0] ?? '') : s));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.headers)) headers[k] = v.replace(/\$\{secret\}/g, () => s);
  let body: string | undefined;
  if (cfg.bodyTemplate !== '') {
    body = cfg.bodyTemplate.replace(/"\$\{urls\}"|\$\{(urls|url|secret)\}/g, (m, k: string | undefined) => {
      if (m === '"${urls}"' || k === 'urls') return JSON.stringify(urls);
      return json(k === 'url' ? (urls[0] ?? '') : s);
    });
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  return { url: endpoint, method: cfg.method, headers, body };
}

/** Sends purge requests no faster than the configured rate, shared by every delivery of one hook. */
export class PurgeSender {
  readonly #queue: PQueue;
  constructor(private readonly cfg: CdnGenericConfig) {
    const rate = Math.max(cfg.ratePerSecond, 0.001);
    // Sliding window: the API's own limiter counts any rolling second, not our fixed windows.
    this.#queue =
      rate >= 1
        ? new PQueue({ concurrency: 4, intervalCap: Math.floor(rate), interval: 1000, strict: true })
        : new PQueue({ concurrency: 1, intervalCap: 1, interval: Math.round(1000 / rate), strict: true });
  }

  /** Resolves on a 2xx reply; rejects with a one-line reason that never contains the secret. */
  send(urls: readonly string[], secret: string | undefined): Promise<void> {
    const req = purgeRequest(this.cfg, urls, secret);
    return this.#queue.add(async () => {
      const hide = (t: string) => redact(t, secret ? [secret, encodeURIComponent(secret)] : []);
      const where = `${req.method} ${hide(safeOrigin(req.url))}`;
      let res: Response;
      try {
        // Not followed: a redirect would carry the secret headers to whatever host the reply names.
        res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(PURGE_TIMEOUT_MS) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err instanceof Error ? err.message : String(err));
        throw new Error(`${where}: ${hide(cause)}`);
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) throw new Error(`${where} replied ${res.status}${text ? `: ${hide(oneLine(text))}` : ''}`);
    });
  }

  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }
}

/** Origin and path only: a query string may carry a key. */
function safeOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the purge endpoint';
  }
}

function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}
