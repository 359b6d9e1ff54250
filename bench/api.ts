/**
 * The foundation benchmark: `node dist/bench/api.js [--pods 10000] [...]` (see --help
 * and bench/README.md). It starts its own nats-server and an apiserver process, then
 * measures, in one run, the raw JetStream KV write rate beside the apiserver's create,
 * get, list and watch-delivery rates over NATS and over HTTP, and prints a table, a
 * summary line comparing NATS-API creates with raw KV puts, and BENCH_JSON lines.
 * Nothing here asserts on speed.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ApiClient, connectNats } from '../lib/client/mod.js';
import { KvStore } from '../lib/store/kvstore.js';
import { startCluster, type Cluster } from '../test/cluster.js';
import { cpuPerOpUs, sampleCpu } from './cpu.js';
import { HttpDriver, NatsDriver, type ApiDriver } from './drivers.js';
import { ETCD_BINARY, ETCD_INSTALL, EtcdServer, etcdPutPhase } from './etcd.js';
import { HttpJsonClient } from './httpclient.js';
import { batchCreatePhase, createPhase, getPhase, kvWritePhase, listPhase, watchPhase } from './phases.js';
import { benchPod } from './pods.js';
import { formatNumber, formatTable, jsonLine, type PhaseResult } from './stats.js';

const USAGE = `usage: node dist/bench/api.js [options]
  --pods N              pods created per create phase and listed (default 10000)
  --gets N              random gets per transport (default 10000)
  --serial N            one-at-a-time creates / KV puts for unloaded latency (default 500)
  --list-repeats N      full lists per list phase (default 3)
  --page N              page size of paged lists (default 500; NATS replies must stay under 1 MB)
  --watch-pods N        pods created then updated under a watch (default 2000)
  --batch N             pods per batchCreate request (default 500)
  --batch-in-flight N   batchCreate requests in flight (default 4)
  --nats-concurrency N  NATS requests in flight (default 256)
  --http-concurrency N  HTTP requests in flight, over that many keep-alive connections (default 64)
  --kv-window N         raw KV writes in flight, and etcd puts in flight (default 1000)
  --watch-concurrency N writes in flight in the watch phases, both transports (default 64)
  --transports LIST     which of kv,etcd,nats,http to measure (default all four; etcd is
                        Debian's etcd-server, started on loopback with a temporary folder)
  --duration S          stop starting new ops after S seconds in the get and serial phases
  --profile DIR         write a V8 CPU profile of the apiserver into DIR
  --keep-data           leave the temporary data folder in place`;

function parse() {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string', default: '10000' },
      gets: { type: 'string', default: '10000' },
      serial: { type: 'string', default: '500' },
      'list-repeats': { type: 'string', default: '3' },
      page: { type: 'string', default: '500' },
      'watch-pods': { type: 'string', default: '2000' },
      batch: { type: 'string', default: '500' },
      'batch-in-flight': { type: 'string', default: '4' },
      'nats-concurrency': { type: 'string', default: '256' },
      'http-concurrency': { type: 'string', default: '64' },
      'kv-window': { type: 'string', default: '1000' },
      'watch-concurrency': { type: 'string', default: '64' },
      transports: { type: 'string', default: 'kv,etcd,nats,http' },
      duration: { type: 'string' },
      profile: { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number): number => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min) {
      console.error(`--${name} must be an integer >= ${min}, not "${values[name]}"\n${USAGE}`);
      process.exit(2);
    }
    return v;
  };
  return {
    pods: int('pods', 1),
    gets: int('gets', 0),
    serial: int('serial', 0),
    listRepeats: int('list-repeats', 0),
    page: int('page', 1),
    watchPods: int('watch-pods', 0),
    batch: int('batch', 1),
    batchInFlight: int('batch-in-flight', 1),
    natsConcurrency: int('nats-concurrency', 1),
    httpConcurrency: int('http-concurrency', 1),
    kvWindow: int('kv-window', 1),
    watchConcurrency: int('watch-concurrency', 1),
    transports: new Set(values.transports!.split(',').map((t) => t.trim())),
    duration: values.duration !== undefined ? Number(values.duration) : undefined,
    profile: values.profile,
    keepData: values['keep-data']!,
  };
}

const began = performance.now();
const results: PhaseResult[] = [];

function stamp(): string {
  return `[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s]`;
}

/** The processes whose CPU time each phase records. */
const pids: Record<string, number | undefined> = { client: process.pid };

/** Runs one phase, showing it as one progress line: its name when it starts, its figures when it ends. */
async function phase(transport: string, name: string, run: () => Promise<PhaseResult>): Promise<PhaseResult> {
  process.stdout.write(`${stamp()} ${transport.padEnd(4)} ${name} ... `);
  let r: PhaseResult;
  const cpuBefore = sampleCpu(pids);
  try {
    r = await run();
  } catch (e) {
    process.stdout.write(`FAILED: ${(e as Error).message}\n`);
    throw e;
  }
  r.cpuUsPerOp = cpuPerOpUs(cpuBefore, sampleCpu(pids), r.ops);
  const lat = r.p50Ms !== null ? `, p50 ${formatNumber(r.p50Ms)} ms, p99 ${formatNumber(r.p99Ms)} ms` : '';
  const err = r.errors ? `, ${r.errors} ERRORS (first: ${String(r.extra?.firstError ?? '?')})` : '';
  process.stdout.write(`${r.ops} ops in ${formatNumber(r.seconds)} s = ${formatNumber(r.opsPerSec)}/s${lat}${err}\n`);
  results.push(r);
  return r;
}

function find(transport: string, prefix: string): PhaseResult | undefined {
  return results.find((r) => r.transport === transport && r.phase.startsWith(prefix) && !r.phase.includes('serial'));
}

async function apiPhases(d: ApiDriver, o: ReturnType<typeof parse>, nats?: ApiClient): Promise<void> {
  const t = d.transport;
  // unmeasured: the apiserver's code for this transport gets compiled before it is timed
  const warmup = Math.min(o.pods, 1000);
  await d.createNamespace(`bench-${t}-warmup`);
  const w = await createPhase(d, `bench-${t}-warmup`, warmup, d.concurrency);
  console.log(`${stamp()} ${t.padEnd(4)} warm-up: ${w.ops} creates, not measured${w.errors ? ` (${w.errors} errors: ${String(w.extra?.firstError)})` : ''}`);
  if (o.serial) {
    await d.createNamespace(`bench-${t}-serial`);
    await phase(t, `create ${o.serial} pods one at a time`, () => createPhase(d, `bench-${t}-serial`, o.serial, 1, o.duration));
  }
  const ns = `bench-${t}`;
  await d.createNamespace(ns);
  await phase(t, `create ${o.pods} pods, ${d.concurrency} in flight`, () => createPhase(d, ns, o.pods, d.concurrency));
  if (nats) {
    await d.createNamespace('bench-batch');
    await phase(t, `batchCreate ${o.pods} pods, ${o.batch} per batch`, () => batchCreatePhase(nats, 'bench-batch', o.pods, o.batch, o.batchInFlight));
  }
  if (o.gets) await phase(t, `get ${o.gets} random pods`, () => getPhase(d, ns, o.pods, o.gets, o.duration));
  if (o.listRepeats) {
    // one NATS message must stay under the server's max_payload (1 MB), so NATS lists page
    if (t === 'http') await phase(t, `list ${o.pods} pods unpaged x${o.listRepeats}`, () => listPhase(d, ns, o.pods, 0, o.listRepeats));
    await phase(t, `list ${o.pods} pods in pages of ${o.page} x${o.listRepeats}`, () => listPhase(d, ns, o.pods, o.page, o.listRepeats));
  }
  if (o.watchPods) {
    await phase(t, `watch ${o.watchPods} creates + ${o.watchPods} updates, ${o.watchConcurrency} in flight`, () =>
      watchPhase(d, `bench-${t}-watch`, o.watchPods, o.watchConcurrency),
    );
  }
}

/** The store peer: the same puts as the raw KV phase, into an etcd of this run's own. */
async function etcdPhases(o: ReturnType<typeof parse>): Promise<void> {
  if (!existsSync(ETCD_BINARY)) {
    console.log(`${stamp()} etcd not measured: ${ETCD_BINARY} is missing (install it with: ${ETCD_INSTALL})`);
    return;
  }
  const etcd = await EtcdServer.start();
  pids.etcd = etcd.pid;
  try {
    console.log(`${stamp()} etcd (own process, pid ${etcd.pid}) at ${etcd.endpoint}, fsync on every commit as etcd always does`);
    await etcdPutPhase(etcd, Math.min(o.pods, 1000), o.kvWindow, 'warmup');
    await phase('etcd', `put ${o.pods} pod-sized values, ${o.kvWindow} in flight`, () => etcdPutPhase(etcd, o.pods, o.kvWindow, 'put'));
    if (o.serial) await phase('etcd', `put ${o.serial} values one at a time`, () => etcdPutPhase(etcd, o.serial, 1, 'serial', o.duration));
  } finally {
    delete pids.etcd;
    await etcd.stop();
  }
}

async function main(): Promise<void> {
  const o = parse();
  let cluster: Cluster | undefined;
  const stopAll = async () => {
    const c = cluster;
    cluster = undefined;
    await c?.stop();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    cluster = await startCluster({ profileDir: o.profile, keepData: o.keepData });
    pids.apiserver = cluster.apiserver.pid;
    pids.nats = cluster.nats.process.pid;
    const nc = await connectNats(cluster.natsUrl, { name: 'bench', waitOnFirstConnect: false });
    const cpus = os.cpus();
    console.log(`flotilla API benchmark`);
    console.log(`  machine: ${cpus.length} CPU cores (${cpus[0]?.model.trim() ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (shared machine: other work skews figures)`);
    console.log(`  node ${process.version}, nats-server ${nc.info?.version ?? '?'} at ${cluster.natsUrl}, apiserver (own process, pid ${cluster.apiserver.pid}) at ${cluster.httpUrl}`);
      console.log(`  ${o.pods} pods per phase; NATS ${o.natsConcurrency} in flight, HTTP ${o.httpConcurrency} in flight, KV window ${o.kvWindow}; data in ${cluster.dataDir}`);

    if (o.transports.has('kv')) {
      // Raw JetStream KV on a bucket of its own, beside the apiserver's; the first
      // writes (unmeasured) warm up the client's code paths as the serial phases do for the API.
      const store = await KvStore.open(nc, { bucket: 'bench_raw' });
      await kvWritePhase(store, 'put', Math.min(o.pods, 1000), o.kvWindow, 'pods.warmup');
      await phase('kv', `put ${o.pods} pod-sized values, ${o.kvWindow} in flight`, () => kvWritePhase(store, 'put', o.pods, o.kvWindow, 'pods.put'));
      await phase('kv', `create ${o.pods} pod-sized values, ${o.kvWindow} in flight`, () => kvWritePhase(store, 'create', o.pods, o.kvWindow, 'pods.create'));
      if (o.serial) await phase('kv', `put ${o.serial} values one at a time`, () => kvWritePhase(store, 'put', o.serial, 1, 'pods.serial', o.duration));
    }

    if (o.transports.has('etcd')) await etcdPhases(o);

    const client = new ApiClient(nc, { requestTimeoutMs: 120_000 });
    const sample = await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-sample' } });
    const stored = await client.create({ group: '', version: 'v1', resource: 'pods', namespace: 'bench-sample' }, benchPod('bench-sample', 0));
    console.log(`  a bench pod is ${JSON.stringify(benchPod('bench-sample', 0)).length} bytes as sent, ${JSON.stringify(stored).length} bytes as the apiserver returns it (namespace ${sample.metadata?.name})`);

    if (o.transports.has('nats')) await apiPhases(new NatsDriver(client, o.natsConcurrency), o, client);
    if (o.transports.has('http')) {
      const http = new HttpJsonClient(cluster.httpUrl, o.httpConcurrency);
      await apiPhases(new HttpDriver(http, o.httpConcurrency), o);
      http.close();
    }
    client.close();
    await nc.drain();

    console.log(`${stamp()} done; stopping the apiserver and nats-server`);
    await stopAll();

    console.log('');
    console.log(formatTable(results));
    console.log('');
    const kvPut = find('kv', 'kv put');
    const natsCreate = find('nats', 'create');
    const batch = find('nats', 'batchCreate');
    const ratio = (a?: PhaseResult) => (a && kvPut ? (a.opsPerSec / kvPut.opsPerSec).toFixed(2) : '-');
    const etcdPut = find('etcd', 'etcd put');
    if (etcdPut && kvPut) {
      console.log(`STORE: raw JetStream KV put ${formatNumber(kvPut.opsPerSec)}/s, etcd 3.4 put ${formatNumber(etcdPut.opsPerSec)}/s (same values, ${o.kvWindow} in flight): KV = ${(kvPut.opsPerSec / etcdPut.opsPerSec).toFixed(2)} x etcd`);
    }
    console.log(
      `SUMMARY: NATS API create ${formatNumber(natsCreate?.opsPerSec ?? null)}/s = ${ratio(natsCreate)} x raw KV put ${formatNumber(kvPut?.opsPerSec ?? null)}/s; ` +
        `batchCreate ${formatNumber(batch?.opsPerSec ?? null)}/s = ${ratio(batch)} x (the aim: >= 0.5)` +
        (etcdPut ? `; etcd 3.4 put ${formatNumber(etcdPut.opsPerSec)}/s in the same run` : ''),
    );
    if (o.profile) console.log(`apiserver CPU profile written to ${o.profile}`);
    console.log('');
    for (const r of results) console.log(jsonLine(r));
  } finally {
    await stopAll();
  }
}

main().catch((e) => {
  console.error(`\nbenchmark failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
