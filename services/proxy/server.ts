/**
 * The proxy (kube-proxy's role) for one node: informers over Services and EndpointSlices
 * (lib/client, over NATS), and on every change a sync, rate-limited by minSyncPeriod
 * (sync.ts), that renders the whole ruleset (rules.ts) and applies what changed as one
 * nftables transaction (nftables.ts) in a table only the proxy writes. The first sync
 * replaces the table whole, so nothing of an earlier run (a crash) survives. Metrics
 * under upstream's names on /metrics (default 127.0.0.1:10249, the `kube-proxy` job).
 */
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiClient, componentUserAgent, connectNats, ENDPOINT_SLICES, Resources, SharedInformerFactory, type KubeObject, type SharedInformer } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress, type HealthServer } from '../../lib/metrics/mod.js';
import { disableRouteLocalnet, enableRouteLocalnet } from './localnet.js';
import { ProxyMetrics } from './metrics.js';
import { deleteTableTransaction, diffTransaction, fullTransaction, nftApply, tableExists } from './nftables.js';
import { assembleRuleset, serviceRules, SERVICE_NAME_LABEL, type RulesConfig, type Ruleset, type ServiceRules } from './rules.js';
import { SyncRunner } from './sync.js';

/** upstream's --metrics-bind-address port */
export const DEFAULT_PROXY_METRICS_PORT = 10249;
export const DEFAULT_PROXY_TABLE = 'flotilla-proxy';
export const DEFAULT_MIN_SYNC_PERIOD_MS = 1000;
export const DEFAULT_SYNC_PERIOD_MS = 30_000;
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
/** set by the EndpointSlice controller: when the change that made this slice version happened */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface StartProxyOptions {
  natsUrl: string;
  /** the node whose local endpoints traffic policy Local picks (default: this host's name, as the kubelet's) */
  nodeName?: string;
  /** the nftables table (family ip) the proxy owns (default flotilla-proxy) */
  table?: string;
  clusterCIDR?: string;
  serviceCIDR?: string;
  /** NodePorts answer on 127.0.0.1 too (default true) */
  localhostNodePorts?: boolean;
  minSyncPeriodMs?: number;
  syncPeriodMs?: number;
  /** /metrics port (default 10249; 0 = any free port) */
  metricsPort?: number;
  /** remove the table when stopped (flotilla up: nothing of the cluster stays after it) */
  cleanupOnStop?: boolean;
  /**
   * the node lives in this network namespace (/run/netns/NAME: a second node on one machine):
   * the table and route_localnet go there, while the proxy itself stays in this one, on NATS
   */
  netns?: string;
  log?: (line: string) => void;
  /** after each sync that applied a transaction: the slices (namespace/name → resourceVersion) it holds */
  onSynced?: (info: { full: boolean; durationMs: number; slices: ReadonlyMap<string, string> }) => void;
}

export interface RunningProxy {
  readonly metricsUrl: string;
  readonly table: string;
  hasSynced(): boolean;
  /** resolves after the next successful sync that starts after this call */
  synced(): Promise<void>;
  stop(): Promise<void>;
}

function dropUnread<T extends KubeObject>(obj: T): T {
  if (obj.metadata) delete obj.metadata.managedFields;
  return obj;
}

/** Removes the proxy's table and the route_localnet it set (`flotilla proxy --cleanup`). */
export async function cleanupProxy(table = DEFAULT_PROXY_TABLE, clusterCIDR?: string, netns?: string): Promise<void> {
  await nftApply(deleteTableTransaction(table), undefined, netns);
  if (clusterCIDR) disableRouteLocalnet(clusterCIDR, netns);
}

export async function startProxy(opts: StartProxyOptions): Promise<RunningProxy> {
  const log = opts.log ?? ((l: string) => console.log(`proxy: ${l}`));
  const table = opts.table ?? DEFAULT_PROXY_TABLE;
  const netns = opts.netns;
  const cfg: RulesConfig = {
    nodeName: opts.nodeName ?? hostname().toLowerCase(),
    clusterCIDR: opts.clusterCIDR,
    serviceCIDR: opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR,
    localhostNodePorts: opts.localhostNodePorts ?? true,
  };
  const registry = newRegistry('proxy');
  const metrics = new ProxyMetrics(registry);
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `proxy/${cfg.nodeName}` });
  const client = new ApiClient(nc, { registry, userAgent: componentUserAgent('kube-proxy') });
  const informers = new SharedInformerFactory(client, { transform: dropUnread });
  const services: SharedInformer<Service> = informers.forResource<Service>(Resources.services);
  const slices: SharedInformer<EndpointSlice> = informers.forResource<EndpointSlice>(ENDPOINT_SLICES);
  const BY_SERVICE = 'proxy/service';
  slices.addIndexers({ [BY_SERVICE]: (s) => [s.metadata?.labels?.[SERVICE_NAME_LABEL] ? `${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}` : undefined] });

  let applied: Ruleset | undefined;
  /** namespace/name → the Service's rules and the versions (Service, slices) they were rendered from */
  const rendered = new Map<string, { version: string; rules: ServiceRules }>();
  const syncPeriodMs = opts.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
  let lastTableCheck = Date.now();
  let syncedOnce = false;
  /** synced() callers: a sync answers only those that asked before it started */
  let waiters: Array<() => void> = [];
  /** trigger times of slice changes not yet programmed */
  let triggers: number[] = [];

  const sync = async () => {
    if (!services.hasSynced() || !slices.hasSynced()) return;
    const start = performance.now();
    const answering = waiters;
    waiters = [];
    const pendingTriggers = triggers;
    triggers = [];
    if (cfg.localhostNodePorts && cfg.clusterCIDR) {
      for (const ifname of enableRouteLocalnet(cfg.clusterCIDR, netns)) log(`net.ipv4.conf.${ifname}.route_localnet=1 (NodePorts on 127.0.0.1)`);
    }
    // a table removed behind the proxy's back (nft flush ruleset) is rebuilt whole; checked once a syncPeriod
    if (applied && Date.now() - lastTableCheck >= syncPeriodMs) {
      lastTableCheck = Date.now();
      if (!(await tableExists(table, netns))) applied = undefined;
    }
    const sliceVersions = new Map<string, string>();
    const pieces: ServiceRules[] = [];
    const seen = new Set<string>();
    for (const service of services.store.list()) {
      const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
      const own = slices.store.byIndex(BY_SERVICE, key);
      let version = service.metadata?.resourceVersion ?? '';
      for (const s of own) {
        sliceVersions.set(`${s.metadata?.namespace}/${s.metadata?.name}`, s.metadata?.resourceVersion ?? '');
        version += `/${s.metadata?.resourceVersion}`;
      }
      // a Service is rendered again only when it or one of its slices changed
      let cached = rendered.get(key);
      if (cached?.version !== version) rendered.set(key, (cached = { version, rules: serviceRules(cfg, { service, slices: own }) }));
      pieces.push(cached.rules);
      seen.add(key);
    }
    for (const key of rendered.keys()) if (!seen.has(key)) rendered.delete(key);
    const next = assembleRuleset(cfg, pieces);
    const full = !applied;
    const transaction = full ? fullTransaction(table, next) : diffTransaction(table, applied!, next);
    if (transaction) {
      try {
        await nftApply(transaction, undefined, netns);
      } catch (e) {
        metrics.syncFailures.inc();
        applied = undefined; // the next attempt rebuilds the table whole
        triggers.push(...pendingTriggers);
        waiters.push(...answering);
        throw e;
      }
    }
    applied = next;
    const now = Date.now();
    const durationMs = performance.now() - start;
    if (full) lastTableCheck = Date.now();
    metrics.syncDuration.observe(durationMs / 1000);
    metrics.lastSync.set(now / 1000);
    for (const t of pendingTriggers) metrics.programmingDuration.observe(Math.max(0, now - t) / 1000);
    let ruleCount = 0;
    for (const r of next.chains.values()) ruleCount += r.length;
    metrics.ruleCount.set({ table, chain: 'chains' }, next.chains.size);
    metrics.ruleCount.set({ table, chain: 'rules' }, ruleCount);
    if (!syncedOnce) log(`table ip ${table}${netns ? ` (network namespace ${netns})` : ''} programmed: ${pieces.length} Services, ${next.chains.size} chains, ${ruleCount} rules in ${durationMs.toFixed(0)} ms`);
    syncedOnce = true;
    for (const f of answering) f();
    if (transaction) opts.onSynced?.({ full, durationMs, slices: sliceVersions });
  };

  const runner = new SyncRunner(sync, {
    minSyncPeriodMs: opts.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS,
    syncPeriodMs,
    onError: (e) => log(`sync failed, retrying: ${(e as Error).message}`),
  });
  const changed = () => {
    metrics.lastQueued.set(Date.now() / 1000);
    runner.run();
  };
  const noteTrigger = (s: EndpointSlice) => {
    const t = Date.parse(s.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION] ?? '');
    if (Number.isFinite(t)) triggers.push(t);
  };
  services.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  slices.addEventHandler({
    onAdd: (s, initial) => {
      if (!initial) noteTrigger(s);
      changed();
    },
    onUpdate: (o, s) => {
      if (o.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION] !== s.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION]) noteTrigger(s);
      changed();
    },
    onDelete: changed,
  });

  let http: HealthServer;
  try {
    http = await serveMetrics(registry, opts.metricsPort ?? DEFAULT_PROXY_METRICS_PORT, () => syncedOnce);
  } catch (e) {
    client.close();
    await nc.close();
    throw e;
  }
  informers.start();
  void Promise.all([services.waitForSync(), slices.waitForSync()]).then(() => runner.start());
  const announced = announceTargets(nc, () => [{ job: 'kube-proxy', address: targetAddress(http.url) }]);
  return {
    metricsUrl: `${http.url}/metrics`,
    table,
    hasSynced: () => syncedOnce,
    synced: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async stop() {
      announced.stop();
      await runner.stop();
      await informers.stop();
      await http.stop();
      client.close();
      await nc.close();
      if (opts.cleanupOnStop) await cleanupProxy(table, cfg.clusterCIDR, netns);
    },
  };
}
