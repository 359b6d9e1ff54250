/**
 * Composes one apiserver instance: NATS connection, KV store, watch cache, storage,
 * the HTTP front end and the NATS front end. Several instances may run against the same
 * NATS; they share the request load through the queue group.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../lib/client/mod.js';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import '../../lib/schema/kinds/mod.js';
import { isAlreadyExists } from '../../lib/api/errors.js';
import { DEFAULT_BUCKET, KvStore } from '../../lib/store/kvstore.js';
import { ApiHandler } from './handler.js';
import { createHttpServer } from './http.js';
import { findKind } from './kinds.js';
import { ApiServerMetrics } from './metrics.js';
import { announceTargets, targetAddress } from '../../lib/metrics/mod.js';
import { NatsApi } from './nats.js';
import { podLogOpener } from './podlogs.js';
import { ensureSystemPriorityClasses, PriorityAdmission } from './priority.js';
import { DefaultTolerationSecondsAdmission } from './defaulttolerations.js';
import { ObjectStorage } from './storage.js';
import { WatchCache } from './watchcache.js';
import { Aggregator } from './aggregator/aggregator.js';
import { ServiceAllocations } from './serviceips/services.js';
import { startRepair } from './serviceips/repair.js';
import { DEFAULT_EVENT_TTL_MS, EventExpiry } from './eventttl.js';
import { defaultAdvertiseAddress, KubernetesServiceReconciler } from './kubernetesservice.js';
import { DEFAULT_SERVICE_CLUSTER_IP_RANGE, DEFAULT_SERVICE_NODE_PORT_RANGE, NodePortRange, ServiceIPRange } from './serviceips/ranges.js';
import { startTracing, type TracingOptions } from '../../lib/tracing/mod.js';

export interface ApiServerOptions {
  natsUrl: string;
  bucket?: string;
  /** 0 = a random free port */
  httpPort?: number;
  httpHost?: string;
  /** events kept for watches and continued lists from an older resourceVersion (default DEFAULT_WATCH_CACHE_SIZE) */
  watchCacheSize?: number;
  bookmarkIntervalMs?: number;
  /** JetStream replicas for the bucket (cluster mode) */
  replicas?: number;
  /** how often aggregated APIServices are checked for availability besides on changes (default 10 s) */
  apiServiceCheckIntervalMs?: number;
  /** --service-cluster-ip-range: Services' cluster IPs (default 10.96.0.0/12) */
  serviceClusterIPRange?: string;
  /** --service-node-port-range: NodePort and LoadBalancer Services' node ports (default 30000-32767) */
  serviceNodePortRange?: string;
  /**
   * --advertise-address: where the `kubernetes` Service's endpoints send clients (default:
   * the bind address when specific, else the host's default-route address)
   */
  advertiseAddress?: string;
  /** the port the `kubernetes` Service's endpoints name (default: the port it serves on) */
  advertisePort?: number;
  /** the Lease that lists this apiserver in the `kubernetes` endpoints (default 15 s) */
  endpointLeaseSeconds?: number;
  /** --endpoint-reconciler-type: `lease` (default) or `none` (the `kubernetes` Service's endpoints are left alone) */
  endpointReconcilerType?: 'lease' | 'none';
  /** how often Service allocations are reconciled with the Services (default 3 min; also at start) */
  serviceRepairIntervalMs?: number;
  /** --event-ttl: an Event not written for this long is deleted (default 1 h, upstream's) */
  eventTtlMs?: number;
  /** trace pod creates (absent: no tracing; the `apiserver` command always passes it) */
  tracing?: Omit<TracingOptions, 'service' | 'nc'>;
}

export interface ApiServer {
  httpUrl: string;
  nc: NatsConnection;
  cache: WatchCache;
  stop(): Promise<void>;
}

/** The namespaces upstream's apiserver creates at start. */
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  // bad ranges fail before anything connects
  const ipRange = new ServiceIPRange(opts.serviceClusterIPRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE);
  const portRange = new NodePortRange(opts.serviceNodePortRange ?? DEFAULT_SERVICE_NODE_PORT_RANGE);
  const nc = await connectNats(opts.natsUrl, { name: 'flotilla-apiserver' });
  const store = await KvStore.open(nc, { bucket: opts.bucket ?? DEFAULT_BUCKET, replicas: opts.replicas });
  const cache = new WatchCache(store, opts.watchCacheSize);
  await cache.start();
  const metrics = new ApiServerMetrics();
  const storage = new ObjectStorage(store, cache);
  storage.admission.push(new PriorityAdmission(storage));
  storage.admission.push(new DefaultTolerationSecondsAdmission());
  const serviceAllocations = new ServiceAllocations(store, cache, ipRange, portRange);
  storage.admission.push(serviceAllocations);
  storage.addHook(serviceAllocations);
  const nodes = findKind('', 'v1', 'nodes')!;
  const podLogs = podLogOpener(nc, (name) => storage.get(nodes, '', name, false).catch(() => undefined));
  const tracing = opts.tracing ? await startTracing({ ...opts.tracing, service: 'apiserver', nc }) : undefined;
  const handler = new ApiHandler(storage, { bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, podLogs, tracing });
  const aggregator = new Aggregator(cache, storage, { checkIntervalMs: opts.apiServiceCheckIntervalMs });
  const natsApi = new NatsApi(nc, handler, metrics, () => aggregator.discoveryDocument());
  storage.onChange = (n) => natsApi.publishChange(n);
  natsApi.start();
  await nc.flush(); // subscriptions are live before anyone is told we serve
  await ensureSystemNamespaces(storage);
  await ensureSystemPriorityClasses(storage);
  const repair = startRepair(serviceAllocations, cache, opts.serviceRepairIntervalMs);
  const events = findKind('', 'v1', 'events')!;
  const eventExpiry = new EventExpiry(
    cache,
    async (namespace, name, resourceVersion) => {
      await storage.delete(events, namespace, name, { preconditions: { resourceVersion } }, { warnings: [] });
    },
    { ttlMs: opts.eventTtlMs ?? DEFAULT_EVENT_TTL_MS },
  );
  eventExpiry.start();
  const streaming = { storage, nc, sockets: new Set<Duplex>() };
  aggregator.start();
  const server = createHttpServer({ handler, metrics, ready: () => cache.isSynced, streaming, aggregator });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.httpPort ?? 0, opts.httpHost ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const objectsGauge = setInterval(() => {
    for (const r of ['pods', 'nodes', 'namespaces']) metrics.storageObjects.set({ resource: r }, cache.count(r));
  }, 10_000);
  objectsGauge.unref();
  const httpUrl = `http://${opts.httpHost ?? '127.0.0.1'}:${addr.port}`;
  const advertiseAddress = opts.advertiseAddress ?? defaultAdvertiseAddress(opts.httpHost ?? '127.0.0.1') ?? opts.httpHost ?? '127.0.0.1';
  const kubernetesService = new KubernetesServiceReconciler(storage, {
    clusterIP: ipRange.first,
    advertiseAddress,
    port: opts.advertisePort ?? addr.port,
    leaseSeconds: opts.endpointLeaseSeconds,
    endpointReconcilerType: opts.endpointReconcilerType,
  });
  await kubernetesService.start().catch((e) => console.error(`apiserver: kubernetes service: ${(e as Error).message}`));
  const announced = announceTargets(nc, () => [{ job: 'apiserver', address: targetAddress(httpUrl) }]);
  return {
    httpUrl,
    nc,
    cache,
    async stop() {
      clearInterval(objectsGauge);
      await kubernetesService.stop().catch((e) => console.error(`apiserver: stopping the kubernetes service endpoints: ${(e as Error).message}`));
      repair.stop();
      await repair.done;
      await eventExpiry.stop();
      announced.stop();
      await aggregator.stop();
      await natsApi.stop();
      server.closeAllConnections();
      for (const s of streaming.sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cache.stop();
      await tracing?.shutdown();
      await nc.drain().catch(() => nc.close());
    },
  };
}

async function ensureSystemNamespaces(storage: ObjectStorage): Promise<void> {
  const ns = findKind('', 'v1', 'namespaces');
  if (!ns) return;
  for (const name of SYSTEM_NAMESPACES) {
    if (storage.cache.get(ns.storage, '', name)) continue;
    try {
      await storage.create(ns, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { warnings: [] });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}
