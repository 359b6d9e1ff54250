/**
 * The HTTP endpoint every service but the apiserver serves: /metrics from its registry,
 * /healthz and /livez (the process is up) and /readyz (its caches have synced).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { renderMetrics } from './registry.js';

export interface HealthServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves /metrics, /healthz (the process is up) and /readyz (`ready()`: caches synced) on
 * 127.0.0.1:port (0 = any free port).
 */
export async function serveMetrics(registry: Registry, port: number, ready: () => boolean, host = '127.0.0.1'): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      renderMetrics(registry).then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`rendering metrics failed: ${e.message}\n`);
        },
      );
      return;
    }
    if (url === '/healthz' || url === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (url === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok' : 'caches not synced');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
