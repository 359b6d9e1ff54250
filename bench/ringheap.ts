/**
 * The bytes the watch cache's ring keeps alive per scheduled pod, in process: P pods are
 * written as the apiserver writes them (create, binding, a Scheduled Event; each through
 * expectWrite with the object kept, as storage.ts does), with a watcher on pods and one on
 * Events, until the ring is full; the JS heap and the external (off-heap) bytes per pod.
 *
 *   node --expose-gc dist/bench/ringheap.js [--pods 33000 --ring 100000]
 */
import { parseArgs } from 'node:util';
import { objectKey } from '../lib/store/keys.js';
import type { KvStore, StoreEntry } from '../lib/store/kvstore.js';
import { WatchCache } from '../services/apiserver/watchcache.js';
import { encodeStored, objectJson, storedBytes } from '../services/apiserver/objectjson.js';

const { values: opts } = parseArgs({ options: { pods: { type: 'string', default: '33000' }, ring: { type: 'string', default: '100000' } } });
const PODS = Number(opts.pods);
const RING = Number(opts.ring);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const ts = (i: number, s: number) => new Date(Date.UTC(2026, 11, 5, 5, 0, 0) + i * 7 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
function created(i: number): any {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: `pod-${i.toString(36).padStart(5, '0')}`,
      generateName: 'pod-',
      namespace: 'namespace-1',
      uid: crypto.randomUUID(),
      creationTimestamp: ts(i, 0),
      managedFields: [
        { manager: 'scheduler-perf', operation: 'Update', apiVersion: 'v1', time: ts(i, 0), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:generateName': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"pause"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } }, 'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:cpu': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } } } } } } },
      ],
    },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } }, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
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
    status: { phase: 'Pending', qosClass: 'Guaranteed' },
  };
}

/** as handler.ts's bind: copies only what changes */
function bound(pod: any, i: number): any {
  const next = { ...pod, metadata: { ...pod.metadata }, spec: { ...pod.spec, nodeName: `node-${(i * 7919) % 5000}` }, status: { ...pod.status, conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ts(i, 1) }] } };
  delete next.metadata.resourceVersion;
  return next;
}

function event(i: number, podRev: number): any {
  const name = `pod-${i.toString(36).padStart(5, '0')}`;
  const t = new Date(Date.UTC(2026, 11, 5, 5, 0, 1) + i * 7).toISOString();
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: `${name}.${(0x180e0000 + i).toString(16)}`, namespace: 'namespace-1', uid: crypto.randomUUID(), creationTimestamp: t.replace(/\.\d+Z$/, 'Z') },
    involvedObject: { kind: 'Pod', namespace: 'namespace-1', name, uid: crypto.randomUUID(), apiVersion: 'v1', resourceVersion: String(podRev) },
    reason: 'Scheduled',
    message: `Successfully assigned namespace-1/${name} to node-${(i * 7919) % 5000}`,
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
// a watch frame per pod event (the scheduler's informer), the Event TTL controller's subscription
let frames = 0;
cache.subscribe('pods', 0, (ev) => (frames += objectJson(ev.obj).length));
cache.subscribe('events', 0, () => {});

let rev = 0;
function write(resource: string, obj: any): any {
  const key = objectKey(resource, 'namespace-1', obj.metadata.name);
  const enc = storedBytes(encodeStored(obj));
  cache.expectWrite(key, enc, obj);
  feed!({ key, revision: ++rev, value: enc.bytes, operation: 'PUT' });
  return obj;
}

gc();
const m0 = process.memoryUsage();
const t0 = process.hrtime.bigint();
// a pod is bound a few pods after its create, as a scheduler's queue would
const LAG = 50;
const pending: Array<[number, any]> = [];
for (let i = 0; i < PODS + LAG; i++) {
  if (i < PODS) pending.push([i, write('pods', created(i))]);
  if (i >= LAG) {
    const [j, pod] = pending.shift()!;
    write('pods', bound(pod, j));
    write('events', event(j, rev));
  }
  // a turn of the event loop per few pods: what watch frames memoise per turn is forgotten
  if (i % 16 === 15) await new Promise((r) => setImmediate(r));
}
const ns = Number(process.hrtime.bigint() - t0);
gc();
const m1 = process.memoryUsage();
const per = (a: number, b: number) => ((b - a) / PODS).toFixed(0);
console.log(`ring ${RING}: ${PODS} pods, ${rev} writes (${(ns / 1e3 / PODS).toFixed(1)} us per pod)`);
console.log(`  per pod: JS heap ${per(m0.heapUsed, m1.heapUsed)} B, external ${per(m0.external, m1.external)} B, arrayBuffers ${per(m0.arrayBuffers, m1.arrayBuffers)} B`);
cache.stop();
