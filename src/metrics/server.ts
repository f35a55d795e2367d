/**
 * `<tssersync><metrics listen="127.0.0.1:9743"/>`: GET /metrics (Prometheus text format) and
 * GET /healthz (200 while running and every remote is up, 503 otherwise, with the reasons).
 * Loopback unless the config says public="true" (checked in src/config/tssersync.ts).
 */
import { createServer, type Server } from 'node:http';
import type { MetricsSettings } from '../config/types.js';
import { EnvironmentError } from '../errors.js';
import type { StatusReport } from '../status/report.js';
import { createRegistry } from './registry.js';

export class MetricsServer {
  #server: Server | undefined;

  constructor(
    readonly settings: MetricsSettings,
    private readonly report: () => StatusReport,
  ) {}

  get address(): string {
    const h = this.settings.host.includes(':') ? `[${this.settings.host}]` : this.settings.host;
    return `http://${h}:${this.settings.port}`;
  }

  async listen(): Promise<void> {
    const registry = createRegistry(this.report);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
        );
      } else if (path === '/healthz') {
        const r = this.report();
        const down = r.remotes.filter((x) => !x.up);
        const ok = r.running && down.length === 0;
        const lines = ok ? ['ok'] : [...(r.running ? [] : ['not running']), ...r.problems.filter((p) => p.kind === 'remote-failing').map((p) => p.message)];
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${lines.join('\n')}\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics or /healthz\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new EnvironmentError(`<metrics listen="${this.settings.host}:${this.settings.port}">: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
      );
      server.listen(this.settings.port, this.settings.host, () => resolve());
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
