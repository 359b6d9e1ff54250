/**
 * The watch cache alone, in process: the JS heap its cold objects take, and what a cold
 * read costs. N bench pods and M Events (bound, running; a Scheduled event each) are fed
 * to a WatchCache through a stand-in store, after a ring of R events, so all but the last
 * R are frozen as they would be at a million pods; then each is read once as a list's
 * JSON (`json`) and once as a get (`get`: parsed, and kept parsed among the THAWED).
 *
 *   node --expose-gc dist/bench/watchcache.js [--pods 200000 --events 200000 --ring 1000]
 */
import { parseArgs } from 'node:util';
import { objectKey } from '../lib/store/keys.js';
import type { KvStore, StoreEntry } from '../lib/store/kvstore.js';
import { WatchCache } from '../services/apiserver/watchcache.js';

const { values: opts } = parseArgs({
  options: {
    pods: { type: 'string', default: '200000' },
    events: { type: 'string', default: '200000' },
    ring: { type: 'string', default: '1000' },
  },
});
const PODS = Number(opts.pods);
const EVENTS = Number(opts.events);
const RING = Number(opts.ring);
const MiB = 1024 ** 2;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function pod(i: number): object {
  const t = (s: number) => new Date(Date.UTC(2026, 11, 5, 5, 0, 0) + i * 7 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: `pod-${i.toString(36).padStart(5, '0')}`,
      generateName: 'pod-',
      namespace: 'namespace-1',
      uid: crypto.randomUUID(),
      creationTimestamp: t(0),
      managedFields: [
        { manager: 'scheduler-perf', operation: 'Update', apiVersion: 'v1', time: t(0), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:generateName': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"pause"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } }, 'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:cpu': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } } } } } } },
        { manager: 'default-scheduler', operation: 'Update', apiVersion: 'v1', time: t(1), fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"PodScheduled"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} } } } } },
      ],
    },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: `node-${(i * 7919) % 100000}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: t(1) }], qosClass: 'Guaranteed' },
  };
}

function event(i: number): object {
  const name = `pod-${i.toString(36).padStart(5, '0')}`;
  const t = new Date(Date.UTC(2026, 11, 5, 5, 0, 1) + i * 7).toISOString();
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: {
      name: `${name}.${(0x180e0000 + i).toString(16)}`,
      namespace: 'namespace-1',
      uid: crypto.randomUUID(),
      creationTimestamp: t.replace(/\.\d+Z$/, 'Z'),
      managedFields: [{ manager: 'default-scheduler', operation: 'Update', apiVersion: 'events.k8s.io/v1', time: t.replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: { 'f:action': {}, 'f:eventTime': {}, 'f:note': {}, 'f:reason': {}, 'f:regarding': {}, 'f:reportingController': {}, 'f:reportingInstance': {}, 'f:type': {} } }],
    },
    involvedObject: { kind: 'Pod', namespace: 'namespace-1', name, uid: crypto.randomUUID(), apiVersion: 'v1', resourceVersion: String(3 * i + 1) },
    reason: 'Scheduled',
    message: `Successfully assigned namespace-1/${name} to node-${(i * 7919) % 100000}`,
    source: { component: 'default-scheduler' },
    firstTimestamp: null,
    lastTimestamp: null,
    type: 'Normal',
    eventTime: t.replace('Z', '000Z'),
    action: 'Binding',
    reportingComponent: 'default-scheduler',
    reportingInstance: 'default-scheduler-flotilla',
  };
}

const enc = new TextEncoder();
let feed: ((e: StoreEntry) => void) | undefined;
const store = {
  watch: async (h: { onEntry: (e: StoreEntry) => void; onSynced: (rev: number) => void }) => {
    feed = h.onEntry;
    queueMicrotask(() => h.onSynced(0));
    return { stop: () => {} };
  },
  currentRevision: async () => 0,
} as unknown as KvStore;

const cache = new WatchCache(store, RING);
await cache.start();

gc();
const heap0 = process.memoryUsage().heapUsed;
let rev = 0;
let jsonBytes = 0;
const entries: StoreEntry[] = [];
for (let i = 0; i < Math.max(PODS, EVENTS); i++) {
  for (const [resource, make, n] of [['pods', pod, PODS], ['events', event, EVENTS]] as const) {
    if (i >= n) continue;
    const o = make(i) as { metadata: { name: string } };
    const value = enc.encode(JSON.stringify(o));
    jsonBytes += value.length;
    entries.push({ key: objectKey(resource, 'namespace-1', o.metadata.name), revision: ++rev, value, operation: 'PUT' });
  }
}
const t0 = process.hrtime.bigint();
for (const e of entries) feed!(e);
const fillNs = Number(process.hrtime.bigint() - t0);
entries.length = 0;
gc();
const mem = process.memoryUsage();
const objects = PODS + EVENTS;
const heapMiB = (mem.heapUsed - heap0) / MiB;
console.log(`watch cache: ${PODS} pods + ${EVENTS} events (${(jsonBytes / objects).toFixed(0)} B of JSON each on average), ring ${RING}`);
console.log(`  JS heap ${heapMiB.toFixed(1)} MiB (${((mem.heapUsed - heap0) / objects).toFixed(0)} B per object)`);
console.log(`  fill ${(fillNs / 1e3 / objects).toFixed(1)} us per object (parse, apply, freeze)`);

let t = process.hrtime.bigint();
let chars = 0;
const perResource: string[] = [];
for (const resource of ['pods', 'events']) {
  let n = 0;
  let k = 0;
  for (const c of cache.list(resource)) {
    k += (c.json ?? JSON.stringify(c.obj)).length;
    n++;
  }
  perResource.push(`${resource} ${n} x ${(k / n).toFixed(0)}`);
  chars += k;
}
const jsonNs = Number(process.hrtime.bigint() - t);
t = process.hrtime.bigint();
for (const resource of ['pods', 'events']) {
  for (const c of cache.list(resource)) cache.get(resource, c.namespace, c.name)!.obj.metadata.name;
}
const getNs = Number(process.hrtime.bigint() - t);
console.log(`  cold read ${(jsonNs / 1e3 / objects).toFixed(1)} us per object as JSON (${perResource.join(', ')} chars), ${(getNs / 1e3 / objects).toFixed(1)} us as a get (parsed)`);
cache.stop();
