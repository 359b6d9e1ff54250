/**
 * The scheduler process's per-pod work in one process, without NATS or an apiserver: a real
 * Scheduler (informers, queue, cache, WASM core, binder, event recorder) over an API client
 * stand-in whose watches are fed watch frames as the apiserver sends them to the scheduler
 * (SchedulingBasic's pods, without managedFields, up to 96 KiB a frame), decoded by the real
 * Watch, and whose batch writes are encoded and answered at once. Each bound pod comes back
 * as its MODIFIED event, as the binding's watch event does. Prints CPU µs per pod over the
 * measured pods; `--cpu-prof` on node profiles it without the other processes' noise.
 * `--spread` runs TopologySpreading's shape instead: nodes dealt into three zones, the
 * measured pods labelled and spread over the zones (maxSkew 5, DoNotSchedule). `--rate N`
 * creates N pods a second instead of as many as the scheduler takes, so its cycles are as
 * small as in the scheduler benchmark, where the apiserver sets the pace.
 *
 *   node dist/bench/schedpipe.js [--nodes 5000] [--warm 5000] [--pods 50000] [--spread] [--rate N] [--window FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../lib/client/client.js';
import type { ApiRequest, BindItem } from '../lib/client/protocol.js';
import { Watch } from '../lib/client/watch.js';
import { defaultSchedulerConfiguration } from '../services/scheduler/config.js';
import { defaultCoreKind } from '../services/scheduler/core/mod.js';
import { SchedulerMetrics } from '../services/scheduler/metrics.js';
import { inTreeRegistry } from '../services/scheduler/plugins/registry.js';
import { Scheduler } from '../services/scheduler/scheduler.js';
import { boundPod } from '../services/apiserver/handler.js';
import { pendingPod } from './watchcachefeed.js';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '5000' }, warm: { type: 'string', default: '5000' }, pods: { type: 'string', default: '50000' }, spread: { type: 'boolean', default: false }, rate: { type: 'string' }, window: { type: 'string' } },
});
const NODES = Number(values.nodes);
const WARM = Number(values.warm);
const PODS = Number(values.pods);
const FRAME_BYTES = 96 * 1024;
const FRAME_EVENTS = 512;
const SPREAD = values.spread!;
/** pods created per second (default: as fast as the scheduler takes them) */
const RATE = values.rate ? Number(values.rate) : undefined;
const ZONE_KEY = 'topology.kubernetes.io/zone';
const ZONES = ['moon-1', 'moon-2', 'moon-3'];

let rv = 100;
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function node(i: number): Node {
  const name = `scheduler-perf-${i.toString(36).padStart(5, '0')}`;
  const capacity = { pods: '110', cpu: '4', memory: '32Gi' };
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: {
      name,
      uid: crypto.randomUUID(),
      resourceVersion: String(rv++),
      creationTimestamp: stamp(Date.now()),
      ...(SPREAD ? { labels: { [ZONE_KEY]: ZONES[i % ZONES.length] } } : {}),
    },
    spec: {},
    status: { capacity, allocatable: capacity, conditions: [{ status: 'True', type: 'Ready' }], phase: 'Running' },
  } as Node;
}

/** pod i as the apiserver sends its create to the scheduler: without managedFields, with a resourceVersion */
function pending(i: number): any {
  const p = pendingPod(i);
  delete p.metadata.managedFields;
  if (SPREAD && i >= WARM) {
    p.metadata.labels = { color: 'blue' };
    p.spec.topologySpreadConstraints = [
      { maxSkew: 5, topologyKey: ZONE_KEY, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color: 'blue' } } },
    ];
  }
  p.metadata.resourceVersion = String(rv++);
  return p;
}

/** the pod as the binding stores it, with the binding's resourceVersion */
function bound(p: any, nodeName: string): any {
  const b = boundPod(p, nodeName, stamp(Date.now()));
  b.metadata.resourceVersion = String(rv++);
  return b;
}

/** A watch fed frames by the bench: the real Watch decodes them as a NATS message's json(). */
class FedWatch {
  readonly watch: Watch<any>;
  private queued: string[] = [];
  private bytes = 0;

  constructor(client: ApiClient, req: ApiRequest) {
    this.watch = new Watch(client, req, 'flotilla.api.watch', () => {}, { omitManagedFields: true });
    this.deliver(JSON.stringify({ control: 'ctl', managedFieldsOmitted: true }));
  }

  private deliver(text: string): void {
    const data = new TextEncoder().encode(text);
    const msg = { data, headers: undefined, json: () => JSON.parse(new TextDecoder().decode(data)) };
    (this.watch as any).onMsg(msg);
  }

  push(ev: string): void {
    if (this.queued.length >= FRAME_EVENTS || this.bytes + ev.length > FRAME_BYTES) this.flush();
    this.queued.push(ev);
    this.bytes += ev.length;
  }

  flush(): void {
    if (this.queued.length === 0) return;
    this.deliver(`{"events":[${this.queued.join(',')}]}`);
    this.queued = [];
    this.bytes = 0;
  }
}

/** each pod's ADDED event and its MODIFIED event around the node's name, made before the measured part */
interface Prepared {
  added: string;
  boundHead: string;
  boundTail: string;
}
const prepared = new Map<string, Prepared>();

function prepare(i: number): Prepared {
  const p = pending(i);
  const b = JSON.stringify(bound(p, '\u0000'));
  const at = b.indexOf('\\u0000');
  const prep = { added: `{"type":"ADDED","object":${JSON.stringify(p)}}`, boundHead: `{"type":"MODIFIED","object":${b.slice(0, at)}`, boundTail: `${b.slice(at + 6)}}` };
  prepared.set(`${p.metadata.namespace}/${p.metadata.name}`, prep);
  return prep;
}
let podWatch: FedWatch | undefined;
let boundCount = 0;
const nodes = Array.from({ length: NODES }, (_, i) => node(i));

const client = {
  nc: { request: () => new Promise(() => {}), publish: () => {} },
  requestTimeoutMs: 30_000,
  watchKeepaliveMs: 1e9,
  async list(ref: { resource: string }) {
    return { items: ref.resource === 'nodes' ? nodes : [], metadata: { resourceVersion: String(rv) } };
  },
  watch(ref: { resource: string }, opts: object) {
    const fed = new FedWatch(client as unknown as ApiClient, { verb: 'watch', ...ref, ...opts } as ApiRequest);
    if (ref.resource === 'pods') podWatch = fed;
    return fed.watch;
  },
  async batchBindOutcomes(items: BindItem[]) {
    JSON.stringify({ items });
    for (const it of items) {
      const key = `${it.namespace}/${it.name}`;
      const prep = prepared.get(key)!;
      podWatch!.push(prep.boundHead + it.node + prep.boundTail);
      prepared.delete(key);
      boundCount++;
    }
    setImmediate(() => podWatch!.flush());
    return items.map(() => undefined);
  },
  async batchCreateOutcomes(items: unknown[]) {
    JSON.stringify({ items });
    return items.map(() => undefined);
  },
  async batchPatchOutcomes(items: unknown[]) {
    return items.map(() => undefined);
  },
};

const scheduler = new Scheduler({
  client: client as unknown as ApiClient,
  config: defaultSchedulerConfiguration(),
  metrics: new SchedulerMetrics(),
  identity: 'bench',
  coreKind: defaultCoreKind(),
  registry: inTreeRegistry,
  log: (l) => console.error(l),
});
await scheduler.startInformers();
void scheduler.run();

/** creates `n` pods at the rate the scheduler takes them (at most 2,000 unbound at once), resolving once all are bound */
async function createPods(from: number, n: number): Promise<void> {
  const events: string[] = [];
  for (let i = from; i < from + n; i++) events.push(prepare(i).added);
  await new Promise((r) => setImmediate(r));
  const target = boundCount + n;
  let next = from;
  const t0 = performance.now();
  while (boundCount < target) {
    // at RATE, the pods due by now; else as many as keep 2,000 unbound
    const due = RATE ? from + Math.min(n, Math.floor(((performance.now() - t0) * RATE) / 1000)) : from + n;
    while (next < due && next - from - (boundCount - (target - n)) < 2000) {
      podWatch!.push(events[next++ - from]!);
    }
    podWatch!.flush();
    await new Promise((r) => setTimeout(r, 1));
  }
}

await createPods(0, WARM);
const measured = createPods(WARM, PODS);
const startUs = Number(process.hrtime.bigint() / 1000n);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await measured;
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
// the measured pods on the CPU profile's clock, for bin/cpuprofile-top.js --window
if (values.window) writeFileSync(values.window, JSON.stringify({ workload: 'schedpipe', startUs, endUs: Number(process.hrtime.bigint() / 1000n) }) + '\n');
const mem = process.memoryUsage();
console.log(
  `${PODS} pods on ${NODES} nodes: ${((cpu.user + cpu.system) / PODS).toFixed(1)} µs CPU per pod (user ${(cpu.user / PODS).toFixed(1)}), ${(wall / 1000).toFixed(2)} s, rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`,
);
await scheduler.stop();
process.exit(0);
