/**
 * One metrics service (metrics-server's role) assembled: the scrape loop over NATS, the
 * store, and the HTTP server answering metrics.k8s.io/v1beta1 (the apiserver proxies the
 * group here through the APIService it registers) beside /metrics, /healthz, /livez and
 * /readyz (ready once a scrape has stored something).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { errorBodyOf } from './status.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, componentUserAgent, connectNats, Resources, SharedInformer } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, renderMetrics, targetAddress } from '../../lib/metrics/mod.js';
import { MetricsApi } from './api.js';
import { registerApiService } from './registration.js';
import { Scraper } from './scraper.js';
import { MetricsStore } from './store.js';

/** where it listens unless told (metrics-server's old --secure-port default); taken, any free port */
export const DEFAULT_METRICS_PORT = 4443;
/** metrics-server's --metric-resolution default */
export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;
/** the shortest --metric-resolution accepted on the command line (metrics-server recommends no less) */
export const MIN_METRIC_RESOLUTION_MS = 10_000;

export interface MetricsServerOptions {
  natsUrl: string;
  /** 0: any free port */
  port?: number;
  host?: string;
  /** how often every kubelet is scraped (main.ts holds the command line to >= 10 s; tests go lower) */
  resolutionMs?: number;
  /** register Service, EndpointSlice and APIService v1beta1.metrics.k8s.io for this server */
  register?: boolean;
  log?: (line: string) => void;
}

export interface MetricsServer {
  url: string;
  port: number;
  store: MetricsStore;
  scraper: Scraper;
  nc: NatsConnection;
  stop(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`metrics: ${line}\n`));
  const host = opts.host ?? '127.0.0.1';
  const nc = await connectNats(opts.natsUrl, { name: 'flotilla-metrics' });
  const client = new ApiClient(nc, { userAgent: componentUserAgent('metrics-server') });
  const registry = newRegistry('metrics-server');
  const store = new MetricsStore();
  const scraper = new Scraper(nc, store, opts.resolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS, registry, log);
  // what exists: metrics of deleted pods and nodes are not served (as metrics-server's listers)
  // only the names are kept: 100,000 pods cost their keys, not their objects
  const nameOnly = <T extends Pod | Node>(o: T): T => ({ metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion } }) as T;
  const pods = new SharedInformer<Pod>(client, Resources.pods, { transform: nameOnly });
  const nodes = new SharedInformer<Node>(client, Resources.nodes, { transform: nameOnly });
  pods.start();
  nodes.start();
  const api = new MetricsApi(store, client, {
    pod: (namespace, name) => pods.store.getByKey(`${namespace}/${name}`) !== undefined,
    node: (name) => nodes.store.getByKey(name) !== undefined,
  });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain') => {
      res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/healthz' || path === '/livez') return text(200, 'ok');
    if (path === '/readyz') return scraper.cycles > 0 && pods.hasSynced() && nodes.hasSynced() ? text(200, 'ok') : text(503, 'no scrape finished or caches not synced yet');
    if (path === '/metrics') {
      void renderMetrics(registry).then((m) => text(200, m.body, m.contentType));
      return;
    }
    api.handle(req).then(
      (r) => text(r.code, JSON.stringify(r.body), r.contentType ?? 'application/json'),
      (e) => {
        const { code, body } = errorBodyOf(e);
        text(code, JSON.stringify(body), 'application/json');
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
  } catch (e) {
    await pods.stop();
    await nodes.stop();
    client.close();
    await nc.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const announced = announceTargets(nc, () => [{ job: 'metrics-server', address: targetAddress(`http://${host}:${port}`) }]);
  scraper.start();
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  // the apiserver may not answer yet (it starts beside this service): try until it does
  const register = (attempt: number): void => {
    registerApiService(client, host, port).then(
      () => attempt > 1 && log(`registered APIService v1beta1.metrics.k8s.io after ${attempt} attempts`),
      (e: Error) => {
        if (stopped) return;
        if (attempt === 1 || attempt % 10 === 0) log(`registering APIService v1beta1.metrics.k8s.io: ${e.message}; trying again every 2 s`);
        retry = setTimeout(() => register(attempt + 1), 2000);
      },
    );
  };
  if (opts.register) {
    try {
      await registerApiService(client, host, port);
    } catch {
      register(1);
    }
  }
  return {
    url: `http://${host}:${port}`,
    port,
    store,
    scraper,
    nc,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      announced.stop();
      await scraper.stop();
      await pods.stop();
      await nodes.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}
