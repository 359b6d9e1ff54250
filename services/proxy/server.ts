/**
 * The proxy (kube-proxy's role) for one node: informers over Services and EndpointSlices
 * (lib/client, over NATS), and on every change a sync, rate-limited by minSyncPeriod
 * (sync.ts), that renders the Services changed since the last one (rules.ts), updates
 * what the table holds (contents.ts) and applies the difference as one nftables
 * transaction (nftables.ts) in a table only the proxy writes. The first sync (and any
 * after a failure) renders everything and replaces the table whole, so nothing of an
 * earlier run (a crash) survives. Metrics under upstream's names on /metrics (default
 * 127.0.0.1:10249, the `kube-proxy` job).
 */
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiClient, componentUserAgent, connectNats, deletedObject, deletionHandlingKey, ENDPOINT_SLICES, Resources, SharedInformerFactory, type KubeObject, type SharedInformer } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress, type HealthServer } from '../../lib/metrics/mod.js';
import { disableRouteLocalnet, enableRouteLocalnet } from './localnet.js';
import { TableContents } from './contents.js';
import { ProxyMetrics } from './metrics.js';
import { deleteTableTransaction, diffTransaction, fullTransaction, nftApply, tableExists } from './nftables.js';
import { serviceRules, SERVICE_NAME_LABEL, type RulesConfig } from './rules.js';
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
  /** the Service (namespace/name) an EndpointSlice belongs to: its kubernetes.io/service-name label */
  const ownerOf = (s: EndpointSlice) => (s.metadata?.labels?.[SERVICE_NAME_LABEL] ? `${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}` : undefined);
  slices.addIndexers({ [BY_SERVICE]: (s) => [ownerOf(s)] });

  /** what the table holds; undefined: the next sync rebuilds it whole */
  let contents: TableContents | undefined;
  /** Services (namespace/name) whose Service or slices changed since the last sync */
  const dirty = new Set<string>();
  /** slice (namespace/name) → the resourceVersion the table holds, and each Service's slices there */
  const sliceVersions = new Map<string, string>();
  const slicesOf = new Map<string, string[]>();
  const syncPeriodMs = opts.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
  let lastTableCheck = Date.now();
  let syncedOnce = false;
  /** synced() callers: a sync answers only those that asked before it started */
  let waiters: Array<() => void> = [];
  /** trigger times of slice changes not yet programmed */
  let triggers: number[] = [];

  /** Renders Service `key` as the informers hold it now into `into`. */
  const render = (into: TableContents, key: string) => {
    const service = services.store.getByKey(key);
    const own = service ? slices.store.byIndex(BY_SERVICE, key) : [];
    for (const k of slicesOf.get(key) ?? []) sliceVersions.delete(k);
    const keys = own.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`);
    own.forEach((s, i) => sliceVersions.set(keys[i]!, s.metadata?.resourceVersion ?? ''));
    if (keys.length) slicesOf.set(key, keys);
    else slicesOf.delete(key);
    into.set(key, service ? serviceRules(cfg, { service, slices: own }, into.slots) : undefined);
  };

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
    if (contents && Date.now() - lastTableCheck >= syncPeriodMs) {
      lastTableCheck = Date.now();
      if (!(await tableExists(table, netns))) contents = undefined;
    }
    const full = !contents;
    let transaction: string;
    let next: TableContents;
    try {
      if (full) {
        // everything afresh, slots too: the table is replaced whole
        next = new TableContents(cfg);
        sliceVersions.clear();
        slicesOf.clear();
        dirty.clear();
        for (const key of services.store.listKeys()) render(next, key);
        transaction = fullTransaction(table, next.ruleset());
      } else {
        next = contents!;
        const keys = [...dirty];
        dirty.clear();
        for (const key of keys) render(next, key);
        const changes = next.changes();
        transaction = diffTransaction(table, changes.prev, changes.next);
      }
      if (transaction) await nftApply(transaction, undefined, netns);
    } catch (e) {
      metrics.syncFailures.inc();
      contents = undefined; // the next attempt renders everything and rebuilds the table whole
      triggers.push(...pendingTriggers);
      waiters.push(...answering);
      throw e;
    }
    next.commit();
    contents = next;
    const now = Date.now();
    const durationMs = performance.now() - start;
    if (full) lastTableCheck = Date.now();
    metrics.syncDuration.observe(durationMs / 1000);
    metrics.lastSync.set(now / 1000);
    for (const t of pendingTriggers) metrics.programmingDuration.observe(Math.max(0, now - t) / 1000);
    metrics.ruleCount.set({ table, chain: 'chains' }, next.chainCount);
    metrics.ruleCount.set({ table, chain: 'rules' }, next.ruleCount);
    if (!syncedOnce) log(`table ip ${table}${netns ? ` (network namespace ${netns})` : ''} programmed: ${next.serviceCount} Services, ${next.chainCount} chains, ${next.ruleCount} rules in ${durationMs.toFixed(0)} ms`);
    syncedOnce = true;
    for (const f of answering) f();
    if (transaction) opts.onSynced?.({ full, durationMs, slices: sliceVersions });
  };

  const runner = new SyncRunner(sync, {
    minSyncPeriodMs: opts.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS,
    syncPeriodMs,
    onError: (e) => log(`sync failed, retrying: ${(e as Error).message}`),
  });
  const changed = (...keys: Array<string | undefined>) => {
    for (const k of keys) if (k) dirty.add(k);
    metrics.lastQueued.set(Date.now() / 1000);
    runner.run();
  };
  const serviceKey = (o: KubeObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  const noteTrigger = (s: EndpointSlice) => {
    const t = Date.parse(s.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION] ?? '');
    if (Number.isFinite(t)) triggers.push(t);
  };
  services.addEventHandler({
    onAdd: (s) => changed(serviceKey(s)),
    onUpdate: (_, s) => changed(serviceKey(s)),
    onDelete: (s) => changed(deletionHandlingKey(s)),
  });
  slices.addEventHandler({
    onAdd: (s, initial) => {
      if (!initial) noteTrigger(s);
      changed(ownerOf(s));
    },
    onUpdate: (o, s) => {
      if (o.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION] !== s.metadata?.annotations?.[TRIGGER_TIME_ANNOTATION]) noteTrigger(s);
      // a slice relabelled to another Service leaves the first one
      changed(ownerOf(o), ownerOf(s));
    },
    onDelete: (s) => changed(ownerOf(deletedObject(s))),
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
