/**
 * Sersync's legacy refreshCDN request (ChinaCache's API), byte for byte in form:
 *
 *     HEAD /index.jsp?user=USER&pswd=PASSWD&ok=ok&urls=URL HTTP/1.0
 *     Host: DOMAIN
 *
 * with `&dirs=URL/` for a directory. It is written on a raw TCP connection, not through fetch,
 * because fetch speaks HTTP/1.1 and adds headers of its own; the old API saw exactly this.
 * Unlike Sersync the query values are percent-encoded, and a reply that is not 2xx, or whose
 * `whatsup` field reports an error, is a failure (Sersync only printed the reply).
 */
import { connect } from 'node:net';

export interface LegacyEndpoint {
  readonly domain: string;
  readonly port: number;
  readonly username: string;
}

/** Largest reply kept: the status line and headers are all that matter. */
const MAX_REPLY = 64 * 1024;

export function legacyRequest(ep: LegacyEndpoint, password: string, url: string, dir: boolean): string {
  const q = `user=${encodeURIComponent(ep.username)}&pswd=${encodeURIComponent(password)}&ok=ok&${dir ? 'dirs' : 'urls'}=${encodeURIComponent(url)}`;
  return `HEAD /index.jsp?${q} HTTP/1.0\r\nHost: ${ep.domain}\r\n\r\n`;
}

/** Why a reply is a failure, or undefined for success. */
export function replyProblem(reply: string): string | undefined {
  const status = /^HTTP\/\d(?:\.\d)? (\d{3})([^\r\n]*)/.exec(reply);
  if (!status) return reply.length === 0 ? 'the CDN closed the connection without a reply' : 'the CDN sent a reply that is not HTTP';
  const code = Number(status[1]);
  if (code < 200 || code > 299) return `the CDN replied ${code}${status[2] ?? ''}`;
  // ChinaCache reports the outcome in a `whatsup` field (a header or a body line): anything that
  // reads like an error (wrong password, quota exceeded) is a failure even with a 200.
  const whatsup = /whatsup["']?\s*[:=]\s*["']?([^"'&\r\n]*)/i.exec(reply)?.[1]?.trim();
  if (whatsup && /fail|error|exceed|invalid|denied|wrong|over|limit/i.test(whatsup)) return `the CDN replied whatsup=${whatsup}`;
  return undefined;
}

/** Sends one request; resolves on success, rejects with a one-line reason (never the password). */
export function sendLegacy(ep: LegacyEndpoint, password: string, url: string, dir: boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const where = `${ep.domain}:${ep.port}`;
    const done = (err?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(new Error(`${where}: ${err}`));
      else resolve();
    };
    const sock = connect({ host: ep.domain, port: ep.port });
    const timer = setTimeout(() => done(`no reply within ${timeoutMs} ms`), timeoutMs);
    // HTTP/1.0: the server closes the connection after its reply, which may carry `whatsup` in a body.
    sock.on('connect', () => sock.write(legacyRequest(ep, password, url, dir)));
    sock.on('data', (b: Buffer) => {
      if (size >= MAX_REPLY) return;
      chunks.push(b);
      size += b.length;
    });
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    sock.on('close', () => done(replyProblem(Buffer.concat(chunks).toString('latin1'))));
  });
}
