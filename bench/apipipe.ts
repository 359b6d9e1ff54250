/**
 * The apiserver's per-pod work under SchedulingBasic's traffic, without a scheduler: a real
 * nats-server and apiserver (child processes, as every benchmark starts them) and one driver
 * process that plays the scheduler's and the scheduler_perf tracker's parts at the API:
 * pods created in batches (the runner's batch size and batches in flight, at most 2,000
 * unbound at once, as the scheduler benchmark's runs hold), two pod watches
 * without managedFields (the scheduler's informer and the tracker), each pending pod bound
 * through the scheduler's own Binder (batchBind) and given its Scheduled Event through the
 * scheduler's own EventRecorder.
 * The driver places pods round robin, so no scheduling decision varies between runs.
 *
 * The scheduler benchmark's figures move ±10% between runs with the scheduler's cycle
 * sizes and the four processes' contention; this one drives the same writes in the same
 * batches every time, so the apiserver's CPU µs per pod is steadier, and a change worth a
 * few percent of it can be told from the noise. It prints, per round, CPU µs per pod of the
 * apiserver, nats-server and this driver, and the rate.
 *
 *   node dist/bench/apipipe.js [--nodes 5000] [--warm 5000] [--pods 20000] [--rounds 3] [--profile DIR]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, EventRecorder, Resources, type StatusError } from '../lib/client/mod.js';
import { Binder } from '../services/scheduler/binding.js';
import { startCluster, type Cluster } from '../test/cluster.js';
import { cpuPerOpUs, sampleCpu } from './cpu.js';
import { until } from './measure.js';
import { makeNode, makePod } from './scheduler-perf/templates.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    warm: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '250' },
    'in-flight': { type: 'string', default: '4' },
    profile: { type: 'string' },
  },
});
const NODES = Number(values.nodes);
const WARM = Number(values.warm);
const PODS = Number(values.pods);
const ROUNDS = Number(values.rounds);
const BATCH = Number(values.batch);
const IN_FLIGHT = Number(values['in-flight']);
/**
 * created pods not yet bound at most, about what the scheduler benchmark's runs hold (the
 * apiserver keeps the created bytes a binding is spliced from for the last 8,192 creates)
 */
const MAX_UNBOUND = 2000;
const NAMESPACE = 'namespace-1';
const POD_TEMPLATE = new URL('../../bench/scheduler-perf/config/templates/pod-default.yaml', import.meta.url).pathname;

function fail(what: string, outcomes: Array<StatusError | undefined>): void {
  const bad = outcomes.filter((o) => o !== undefined);
  if (bad.length) throw new Error(`${bad.length} of ${outcomes.length} ${what} failed; the first: ${bad[0]!.message}`);
}

/** the creators waiting for fewer than MAX_UNBOUND created pods to be unbound */
let backlogWaiters: Array<() => void> = [];
let created = 0;
let bound = 0;
function backlogRoom(): Promise<void> | undefined {
  if (created - bound < MAX_UNBOUND) return undefined;
  return new Promise((r) => backlogWaiters.push(r));
}
function boundOne(): void {
  bound++;
  if (backlogWaiters.length && created - bound < MAX_UNBOUND) {
    const waiters = backlogWaiters;
    backlogWaiters = [];
    for (const w of waiters) w();
  }
}

async function createPods(client: ApiClient, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const room = backlogRoom();
      if (room) {
        await room;
        continue;
      }
      const n = Math.min(BATCH, count - next);
      next += n;
      created += n;
      const items = Array.from({ length: n }, () => ({ ...Resources.pods, namespace: NAMESPACE, body: makePod(POD_TEMPLATE, NAMESPACE, 0, 1) }));
      fail('pod creates', await client.batchCreateOutcomes(items));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

let cluster: Cluster | undefined;
process.once('SIGINT', () => void cluster?.stop().finally(() => process.exit(130)));
try {
  cluster = await startCluster({ profileDir: values.profile });
  const nc = await connectNats(cluster.natsUrl, { name: 'bench-apipipe' });
  const client = new ApiClient(nc, { requestTimeoutMs: 120_000 });
  await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  // named here rather than generated, so that no list is needed to bind to them
  const nodeNames = Array.from({ length: NODES }, (_, i) => `apipipe-node-${i}`);
  const nodes = nodeNames.map((name, i) => {
    const node = makeNode({ opcode: 'createNodes', count: NODES, index: 0 }, i);
    delete node.metadata!.generateName;
    node.metadata!.name = name;
    return node;
  });
  for (let i = 0; i < nodes.length; i += BATCH) fail('node creates', await client.batchCreateOutcomes(nodes.slice(i, i + BATCH).map((body) => ({ ...Resources.nodes, body }))));

  // the scheduler's own binder and event recorder: each pod's Scheduled Event once its binding is in
  const binder = new Binder({ client });
  const recorder = new EventRecorder({ client, reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-apipipe', onError: (e) => console.error(`events: ${(e as Error).message}`) });
  let nextNode = 0;
  const bind = (pod: Pod) => {
    const node = nodeNames[nextNode++ % nodeNames.length]!;
    binder.bind(pod, node).then(
      () => recorder.eventf(pod, undefined, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${pod.metadata!.namespace}/${pod.metadata!.name} to ${node}`),
      (e) => {
        console.error(`binding ${pod.metadata!.name} to ${node}: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  const schedulerWatch = client.watch<Pod>(Resources.pods, { resourceVersion: '0' }, { omitManagedFields: true });
  const trackerWatch = client.watch<Pod>(Resources.pods, { resourceVersion: '0' }, { omitManagedFields: true });
  void (async () => {
    for await (const ev of schedulerWatch) if (ev.type === 'ADDED' && !ev.object.spec?.nodeName) bind(ev.object);
  })();
  void (async () => {
    for await (const ev of trackerWatch) if (ev.type === 'MODIFIED' && ev.object.spec?.nodeName) boundOne();
  })();

  const round = async (count: number) => {
    const target = bound + count;
    await createPods(client, count);
    await until(`${count} pods bound`, () => bound >= target, 300_000, () => `${bound}/${target} bound`);
  };
  await round(WARM);
  const pids = { apiserver: cluster.apiserver.pid, 'nats-server': cluster.nats.process.pid, driver: process.pid };
  const window: { startUs: number; endUs: number } = { startUs: Number(process.hrtime.bigint() / 1000n), endUs: 0 };
  for (let r = 1; r <= ROUNDS; r++) {
    const before = sampleCpu(pids);
    const t0 = performance.now();
    await round(PODS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuPerOpUs(before, sampleCpu(pids), PODS);
    const f = (v: number | null | undefined) => (v == null ? '-' : v.toFixed(1));
    console.log(`round ${r}: ${PODS} pods in ${seconds.toFixed(2)} s (${Math.round(PODS / seconds)} pods/s); CPU us per pod apiserver ${f(cpu.apiserver)}, nats-server ${f(cpu['nats-server'])}, driver ${f(cpu.driver)}`);
  }
  window.endUs = Number(process.hrtime.bigint() / 1000n);
  if (values.profile) writeFileSync(`${values.profile}/measured-window.json`, JSON.stringify({ workload: 'apipipe', ...window }) + '\n');
  schedulerWatch.stop();
  trackerWatch.stop();
  await binder.drain();
  await recorder.stop();
  client.close();
  await nc.drain();
} finally {
  await cluster?.stop();
}
