/**
 * kube-state-metrics' role: informers over the API (lib/client, over NATS) for pods,
 * nodes and the workload kinds, and a /metrics that renders upstream's kube_* series
 * from their caches beside the process's own metrics. It announces the endpoint as the
 * `kube-state-metrics` scrape job. Read-only: it writes nothing to the API.
 */
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, componentUserAgent, connectNats, SharedInformerFactory, type KubeObject, type SharedInformer } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress, type HealthServer } from '../../lib/metrics/mod.js';
import { RESOURCE_FAMILIES } from './families.js';
import { storesFor } from './store.js';

/** upstream's port of the object metrics */
export const DEFAULT_KUBE_STATE_METRICS_PORT = 8080;

export interface StartKubeStateMetricsOptions {
  natsUrl: string;
  /** HTTP port of /metrics, /healthz, /readyz (default 8080; 0 = any free port) */
  port?: number;
}

export interface RunningKubeStateMetrics {
  readonly metricsUrl: string;
  hasSynced(): boolean;
  stop(): Promise<void>;
}

function dropUnread<T extends KubeObject>(obj: T): T {
  if (obj.metadata) {
    delete obj.metadata.managedFields;
    delete obj.metadata.annotations;
  }
  return obj;
}

export async function startKubeStateMetrics(opts: StartKubeStateMetricsOptions): Promise<RunningKubeStateMetrics> {
  const registry = newRegistry('kube-state-metrics');
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `kube-state-metrics/${hostname()}` });
  const client = new ApiClient(nc, { registry, userAgent: componentUserAgent('kube-state-metrics') });
  // no family reads managed fields or annotations: at 100,000 pods they are most of the cache
  const informers = new SharedInformerFactory(client, { transform: dropUnread });
  const watched: SharedInformer<KubeObject>[] = [];
  const stores = storesFor(RESOURCE_FAMILIES, (r) => {
    const inf = informers.forResource<KubeObject>(r.gvr);
    watched.push(inf);
    return inf;
  });
  const hasSynced = () => watched.every((i) => i.hasSynced());
  let http: HealthServer;
  try {
    http = await serveMetrics(registry, opts.port ?? DEFAULT_KUBE_STATE_METRICS_PORT, hasSynced, '127.0.0.1', function* () {
      for (const s of stores) yield* s.render();
    });
  } catch (e) {
    client.close();
    await nc.close();
    throw e;
  }
  informers.start();
  const announced = announceTargets(nc, () => [{ job: 'kube-state-metrics', address: targetAddress(http.url) }]);
  return {
    metricsUrl: `${http.url}/metrics`,
    hasSynced,
    async stop() {
      announced.stop();
      await informers.stop();
      await http.stop();
      client.close();
      await nc.close();
    },
  };
}
