/**
 * The cluster DNS server assembled: informers over Services, EndpointSlices and Pods feed
 * the zone (records.ts); UDP and TCP listeners (listener.ts) answer from it through the
 * answer cache (answers.ts), forwarding out-of-zone names only when an upstream is given
 * (forwarder.ts); /metrics with CoreDNS's series; and the kube-dns Service and its
 * EndpointSlice (registration.ts). No query ever causes an API request.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { ApiClient, componentUserAgent, connectNats, deletedObject, Resources, SharedInformer } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress, type HealthServer } from '../../lib/metrics/mod.js';
import { Answerer } from './answers.js';
import { Forwarder } from './forwarder.js';
import { listen, type Listeners } from './listener.js';
import { DnsMetrics } from './metrics.js';
import { podRecord, Zone, type PodsMode } from './records.js';
import { DEFAULT_CLUSTER_DNS_IP, registerKubeDns } from './registration.js';

/** CoreDNS's prometheus plugin port */
export const DEFAULT_DNS_METRICS_PORT = 9153;

export interface DnsServerOptions {
  natsUrl: string;
  /** UDP+TCP port (0: a free one) */
  port: number;
  /** addresses to listen on (each gets its own sockets) */
  bindAddresses: string[];
  /** the address pods reach the server at: the EndpointSlice's */
  advertiseAddress: string;
  /** /metrics port on the advertise address (0: a free one) */
  metricsPort?: number;
  clusterDomain?: string;
  /** the kube-dns Service's clusterIP */
  clusterIP?: string;
  upstream?: { host: string; port: number };
  pods?: PodsMode;
  /** write the kube-dns Service and EndpointSlice (default true) */
  register?: boolean;
  log?: (line: string) => void;
}

export interface DnsServer {
  port: number;
  metricsUrl: string;
  zone: Zone;
  hasSynced(): boolean;
  /** resolves once every informer listed */
  synced(): Promise<void>;
  stop(): Promise<void>;
}

/** what the zone keeps of a pod: its name and addresses (at 100,000 pods, not their specs) */
function podTransform(p: Pod): Pod {
  const r = podRecord(p);
  return { metadata: { name: r.name, namespace: r.namespace, resourceVersion: p.metadata?.resourceVersion }, status: { podIPs: r.ips.map((ip) => ({ ip })) } };
}

function dropManagedFields<T extends Service | EndpointSlice>(o: T): T {
  if (o.metadata) delete o.metadata.managedFields;
  return o;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`dns: ${line}\n`));
  const clusterIP = opts.clusterIP ?? DEFAULT_CLUSTER_DNS_IP;
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `flotilla-dns/${hostname()}` });
  const registry = newRegistry('coredns');
  const client = new ApiClient(nc, { registry, userAgent: componentUserAgent('coredns') });
  const zone = new Zone({ clusterDomain: opts.clusterDomain, pods: opts.pods, nameServerIP: clusterIP });
  const services = new SharedInformer<Service>(client, Resources.services, { transform: dropManagedFields });
  const slices = new SharedInformer<EndpointSlice>(client, Resources.endpointslices, { transform: dropManagedFields });
  const pods = new SharedInformer<Pod>(client, Resources.pods, { transform: podTransform });
  services.addEventHandler({
    onAdd: (s) => zone.setService(s),
    onUpdate: (_, s) => zone.setService(s),
    onDelete: (o) => {
      const s = deletedObject(o);
      zone.deleteService(s.metadata?.namespace ?? '', s.metadata?.name ?? '');
    },
  });
  slices.addEventHandler({
    onAdd: (s) => zone.setEndpointSlice(s),
    onUpdate: (_, s) => zone.setEndpointSlice(s),
    onDelete: (o) => zone.deleteEndpointSlice(deletedObject(o)),
  });
  const toRecord = (p: Pod) => ({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', ips: (p.status?.podIPs ?? []).map((x) => x.ip!).filter(Boolean) });
  if (zone.pods !== 'disabled') {
    pods.addEventHandler({
      onAdd: (p) => zone.setPod(toRecord(p)),
      onUpdate: (_, p) => zone.setPod(toRecord(p)),
      onDelete: (o) => {
        const p = deletedObject(o);
        zone.deletePod(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
      },
    });
  }
  const informers = zone.pods === 'disabled' ? [services, slices] : [services, slices, pods];
  const hasSynced = () => informers.every((i) => i.hasSynced());
  const answerer = new Answerer({ zone, forwarding: !!opts.upstream });
  const forwarder = opts.upstream ? new Forwarder(opts.upstream) : undefined;
  let listeners: Listeners | undefined;
  let http: HealthServer | undefined;
  const stopInformers = () => Promise.all(informers.map((i) => i.stop()));
  try {
    for (const i of informers) i.start();
    let metrics: DnsMetrics | undefined;
    const servfail = (query: Buffer) => {
      const out = Buffer.alloc(12);
      query.copy(out, 0, 0, 2);
      out.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | 2, 2);
      return out;
    };
    const handle = (query: Buffer, udp: boolean): Buffer | undefined | Promise<Buffer | undefined> => {
      const t0 = performance.now();
      const a = answerer.answer(query, udp);
      if (!a) return undefined;
      metrics?.request(!udp, a.qtype);
      if ('response' in a) {
        metrics?.response(a.rcode, false);
        metrics?.duration(a.qtype, (performance.now() - t0) / 1000);
        return a.response;
      }
      return forwarder!.forward(query).then((r) => {
        const out = r ?? servfail(query);
        metrics?.response(out[3] & 0xf, true);
        metrics?.duration(a.qtype, (performance.now() - t0) / 1000);
        return out;
      });
    };
    listeners = await listen(opts.bindAddresses, opts.port, handle, (e) => log(`socket: ${e.message}`));
    const server = `dns://:${listeners.port}`;
    metrics = new DnsMetrics(registry, server, () => ({ size: answerer.cacheSize, stats: answerer.stats }), () => forwarder?.requests ?? 0);
    const durations = () => metrics!.durationText(server);
    try {
      http = await serveMetrics(registry, opts.metricsPort ?? DEFAULT_DNS_METRICS_PORT, hasSynced, opts.advertiseAddress, durations);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || opts.metricsPort !== undefined) throw e;
      http = await serveMetrics(registry, 0, hasSynced, opts.advertiseAddress, durations);
    }
  } catch (e) {
    await listeners?.close();
    forwarder?.close();
    await stopInformers();
    client.close();
    await nc.close();
    throw e;
  }
  const dnsPort = listeners.port;
  const metricsPort = Number(new URL(http.url).port);
  const announced = announceTargets(nc, () => [{ job: 'coredns', address: targetAddress(http!.url) }]);
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  // the apiserver may not answer yet (it starts beside this service): try until it does
  const register = (attempt: number): void => {
    registerKubeDns(client, { clusterIP, address: opts.advertiseAddress, dnsPort, metricsPort }).then(
      () => log(`registered Service ${'kube-system/kube-dns'} (${clusterIP}) → ${opts.advertiseAddress}:${dnsPort}${attempt > 1 ? ` after ${attempt} attempts` : ''}`),
      (e: Error) => {
        if (stopped) return;
        if (attempt === 1 || attempt % 10 === 0) log(`registering Service kube-system/kube-dns: ${e.message}; trying again every 2 s`);
        retry = setTimeout(() => register(attempt + 1), 2000);
      },
    );
  };
  if (opts.register ?? true) register(1);
  return {
    port: dnsPort,
    metricsUrl: `${http.url}/metrics`,
    zone,
    hasSynced,
    synced: async () => {
      await Promise.all(informers.map((i) => i.waitForSync()));
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      announced.stop();
      await listeners!.close();
      forwarder?.close();
      await http!.stop();
      await stopInformers();
      client.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}
