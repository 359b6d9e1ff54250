/**
 * `npm run bench:proxy` (root): the proxy's nftables syncs at scale, with the real `nft`.
 *
 *  1. Sync time for S Services x E endpoints (default 1,000 and 10,000 x 10): every
 *     Service rendered (rules.ts) into the table's contents (contents.ts) as the proxy's
 *     full sync does, and applied to a table of the bench's own whole (the proxy's
 *     start); then one Service's slice changed (its endpoints' port: an incremental
 *     sync, that Service rendered again and only the touched items diffed), then one
 *     Service added.
 *  2. Endpoint change → rule installed, p50/p99: a real apiserver (child process, over
 *     NATS), --latency-services Services with EndpointSlices, the proxy in this process
 *     (informers, SyncRunner, nft); each sample updates one slice and waits until a
 *     sync that holds that slice's new version has been applied. Run with upstream's
 *     minSyncPeriod (1 s) and with 0.
 *
 * The Services' addresses are in 198.18.0.0/15 (RFC 2544's benchmarking range) and no
 * packet is sent; the table is removed at the end, also on failure. Nothing asserts.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiClient, connectNats, ENDPOINT_SLICES, forEachLimited, Resources } from '../lib/client/mod.js';
import { intFlag } from '../lib/process/flags.js';
import { deleteTableTransaction, diffTransaction, fullTransaction, nftApply } from '../services/proxy/nftables.js';
import { TableContents } from '../services/proxy/contents.js';
import { serviceRules, type RulesConfig, type ServiceWithSlices } from '../services/proxy/rules.js';
import { startProxy } from '../services/proxy/server.js';
import { startCluster } from '../test/cluster.js';
import { summarize } from './stats.js';

const USAGE = 'usage: node dist/bench/proxy.js [--services 1000,10000] [--endpoints 10] [--latency-services 1000] [--samples 60]';
const NS = 'proxy-bench';

/** the i-th address of 198.18.0.0/15 */
function benchIP(i: number): string {
  return `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

function service(i: number): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name: `svc-${i}` }, spec: { type: 'ClusterIP', clusterIP: benchIP(i + 16), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
}

function slice(i: number, endpoints: number, generation = 0): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: NS, name: `svc-${i}-a`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 + (generation % 1000), protocol: 'TCP' }],
    endpoints: Array.from({ length: endpoints }, (_, e) => {
      const n = i * endpoints + e;
      return { addresses: [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'bench-node' };
    }),
  };
}

const CFG: RulesConfig = { nodeName: 'bench-node', clusterCIDR: '10.0.0.0/8', localhostNodePorts: false };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function syncScale(table: string, services: number, endpoints: number): Promise<void> {
  const input: ServiceWithSlices[] = Array.from({ length: services }, (_, i) => ({ service: service(i), slices: [slice(i, endpoints)] }));
  const key = (i: number) => `${NS}/svc-${i}`;
  // as the proxy's full sync: every Service rendered into fresh contents
  const renderAll = () => {
    const c = new TableContents(CFG);
    input.forEach((s, i) => c.set(key(i), serviceRules(CFG, s, c.slots)));
    return c;
  };
  let contents = renderAll();
  const renderMs = await timed(async () => void (contents = renderAll()));
  let full = '';
  const fullTextMs = await timed(async () => void (full = fullTransaction(table, contents.ruleset())));
  const fullMs = await timed(() => nftApply(full, 600_000));
  contents.commit();
  // one Service's slice changed (its endpoints' port): as the proxy does it, only that Service is rendered again
  const changedOne = async (i: number, s: ServiceWithSlices) => {
    let diff = '';
    const computeMs = await timed(async () => {
      contents.set(key(i), serviceRules(CFG, s, contents.slots));
      const c = contents.changes();
      diff = diffTransaction(table, c.prev, c.next);
    });
    const nftMs = await timed(() => nftApply(diff, 600_000));
    contents.commit();
    return { computeMs, nftMs, lines: diff.trim().split('\n').length };
  };
  const mid = services >> 1;
  const changed = await changedOne(mid, { service: service(mid), slices: [slice(mid, endpoints, 1)] });
  const added = await changedOne(services, { service: service(services), slices: [slice(services, endpoints)] });
  console.log(
    `${services} Services x ${endpoints} endpoints (${contents.chainCount} chains, ${contents.ruleCount} rules, ${(full.length / 1048576).toFixed(1)} MiB): ` +
      `render ${renderMs.toFixed(0)} ms + transaction text ${fullTextMs.toFixed(0)} ms; full sync (table replaced) ${(fullMs / 1000).toFixed(2)} s nft; ` +
      `one endpoint changed: ${changed.computeMs.toFixed(1)} ms to compute + ${(changed.nftMs / 1000).toFixed(3)} s nft (${changed.lines} lines); ` +
      `one Service added: ${added.computeMs.toFixed(1)} ms + ${(added.nftMs / 1000).toFixed(3)} s nft`,
  );
}

async function latency(table: string, count: number, endpoints: number, samples: number, minSyncPeriodMs: number): Promise<void> {
  // the Services' addresses come from the benchmarking range too
  const cluster = await startCluster({ apiserverArgs: ['--service-cluster-ip-range', '198.18.0.0/15'] });
  const nc = await connectNats(cluster.natsUrl, { name: 'proxy-bench' });
  const client = new ApiClient(nc);
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  try {
    await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const svcRef = { ...Resources.services, namespace: NS };
    const sliceRef = { ...ENDPOINT_SLICES, namespace: NS };
    await forEachLimited(Array.from({ length: count }, (_, i) => i), 32, async (i) => {
      await client.create(svcRef, service(i));
      await client.create(sliceRef, slice(i, endpoints));
    });
    let waiting: { key: string; rv: bigint; resolve: () => void } | undefined;
    proxy = await startProxy({
      natsUrl: cluster.natsUrl,
      nodeName: 'bench-node',
      table,
      clusterCIDR: '10.0.0.0/8',
      serviceCIDR: '198.18.0.0/15',
      localhostNodePorts: false,
      minSyncPeriodMs,
      metricsPort: 0,
      log: () => {},
      onSynced: ({ slices }) => {
        const w = waiting;
        const rv = w && slices.get(w.key);
        if (w && rv && BigInt(rv) >= w.rv) {
          waiting = undefined;
          w.resolve();
        }
      },
    });
    const t0 = performance.now();
    await proxy.synced();
    const firstMs = performance.now() - t0;
    const lat: number[] = [];
    for (let n = 0; n < samples; n++) {
      const i = (n * 7919) % count;
      const cur = await client.get<EndpointSlice>({ ...sliceRef, name: `svc-${i}-a` });
      const next = slice(i, endpoints, n + 1);
      const installed = new Promise<void>((resolve) => (waiting = { key: `${NS}/svc-${i}-a`, rv: 0n, resolve }));
      const start = performance.now();
      const updated = await client.update<EndpointSlice>({ ...sliceRef, name: `svc-${i}-a` }, { ...next, metadata: { ...next.metadata, resourceVersion: cur.metadata?.resourceVersion } });
      waiting!.rv = BigInt(updated.metadata!.resourceVersion!);
      await installed;
      lat.push(performance.now() - start);
      // changes a quarter second apart: with minSyncPeriod some wait for the next allowed sync, as they would upstream
      await new Promise((r) => setTimeout(r, 250));
    }
    const s = summarize(lat);
    console.log(
      `endpoint change -> rule installed (${count} Services x ${endpoints} endpoints, minSyncPeriod ${minSyncPeriodMs / 1000} s, ${samples} changes 250 ms apart): ` +
        `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (first sync after start ${firstMs.toFixed(0)} ms)`,
    );
  } finally {
    await proxy?.stop();
    client.close();
    await nc.close();
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { services: { type: 'string' }, endpoints: { type: 'string' }, 'latency-services': { type: 'string' }, samples: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('bench:proxy programs nftables: run it as root');
  const scales = (values.services ?? '1000,10000').split(',').map((v) => intFlag(v, '--services', 1, 60_000)!);
  const endpoints = intFlag(values.endpoints, '--endpoints', 1, 1000) ?? 10;
  const latencyServices = intFlag(values['latency-services'], '--latency-services', 1, 60_000) ?? 1000;
  const samples = intFlag(values.samples, '--samples', 1) ?? 60;
  const table = `flt-proxy-bench-${randomBytes(3).toString('hex')}`;
  try {
    for (const s of scales) {
      await syncScale(table, s, endpoints);
      await nftApply(deleteTableTransaction(table), 600_000);
    }
    for (const minSync of [1000, 0]) {
      await latency(table, latencyServices, endpoints, samples, minSync);
      await nftApply(deleteTableTransaction(table), 600_000);
    }
  } finally {
    await nftApply(deleteTableTransaction(table), 600_000).catch((e: Error) => console.error(`removing table ip ${table}: ${e.message}`));
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`bench:proxy: ${e.message}`);
    process.exit(1);
  },
);
