/**
 * The HTTP endpoint every service but the apiserver serves: /metrics from its registry,
 * /healthz and /livez (the process is up) and /readyz (its caches have synced).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { renderMetrics } from './registry.js';

/**
 * Writes text pieces in writes of about 64 KiB (many small writes cost more than the
 * text), waiting for the socket to drain when its buffer is full: a body of 100 MiB is
 * never held twice in memory.
 */
async function writeChunks(res: ServerResponse, first: string, rest: Iterable<string>): Promise<void> {
  let buf = first;
  for (const piece of rest) {
    buf += piece;
    if (buf.length < 65536) continue;
    const full = !res.write(buf);
    buf = '';
    if (full) {
      if (res.destroyed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
      if (res.destroyed) return;
    }
  }
  res.end(buf);
}

export interface HealthServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves /metrics, /healthz (the process is up) and /readyz (`ready()`: caches synced) on
 * 127.0.0.1:port (0 = any free port). `extra` adds exposition text after the registry's
 * (kube-state-metrics' object series, kept as text rather than as prom-client metrics).
 */
export async function serveMetrics(registry: Registry, port: number, ready: () => boolean, host = '127.0.0.1', extra?: () => Iterable<string>): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      renderMetrics(registry).then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          if (extra) void writeChunks(res, body, extra()).catch(() => res.destroy());
          else res.end(body);
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
  const { url, stop } = await listenHttp(server, port, host);
  return { url, stop };
}

export interface ListeningServer {
  port: number;
  url: string;
  /** closes open connections too, so a stop never waits on a keep-alive client */
  stop(): Promise<void>;
}

/** Listens on host:port (0 = any free port); rejects when the port cannot be had. */
export async function listenHttp(server: Server, port: number, host: string): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://${host}:${actual}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
