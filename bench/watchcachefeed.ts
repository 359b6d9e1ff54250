/**
 * What the in-process watch-cache benchmarks (watchcache.ts, ringheap.ts) feed a WatchCache:
 * objects shaped as the scheduler benchmark's pods and Scheduled Events are stored, and a
 * stand-in store whose entries the caller pushes in, so no nats-server is involved.
 */
import type { KvStore, StoreEntry } from '../lib/store/kvstore.js';
import { boundPod } from '../services/apiserver/handler.js';
import { WatchCache } from '../services/apiserver/watchcache.js';

/** a timestamp `s` seconds after pod i's creation, at second precision as metadata keeps it */
export function benchTime(i: number, s: number): string {
  return new Date(Date.UTC(2026, 11, 5, 5, 0, 0) + i * 7 + s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function benchPodName(i: number): string {
  return `pod-${i.toString(36).padStart(5, '0')}`;
}

/** pod i as the apiserver stores its create: defaulted, with the bench client's managed fields */
export function pendingPod(i: number): any {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: benchPodName(i),
      generateName: 'pod-',
      namespace: 'namespace-1',
      uid: crypto.randomUUID(),
      creationTimestamp: benchTime(i, 0),
      managedFields: [
        { manager: 'scheduler-perf', operation: 'Update', apiVersion: 'v1', time: benchTime(i, 0), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:generateName': {} }, 'f:spec': { 'f:containers': { 'k:{"name":"pause"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } }, 'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:cpu': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } } } } } } },
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

/** pod i bound to one of `nodes` nodes, as pods/binding builds it (handler.ts boundPod), without a resourceVersion as stored */
export function benchBoundPod(pod: any, i: number, nodes: number): any {
  const next = boundPod(pod, `node-${(i * 7919) % nodes}`, benchTime(i, 1));
  delete next.metadata.resourceVersion;
  return next;
}

/** pod i's Scheduled Event (stored as core/v1), naming the pod's revision and one of `nodes` nodes */
export function scheduledEvent(i: number, podRev: number, nodes: number): any {
  const name = benchPodName(i);
  const t = new Date(Date.UTC(2026, 11, 5, 5, 0, 1) + i * 7).toISOString();
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: `${name}.${(0x180e0000 + i).toString(16)}`, namespace: 'namespace-1', uid: crypto.randomUUID(), creationTimestamp: t.replace(/\.\d+Z$/, 'Z') },
    involvedObject: { kind: 'Pod', namespace: 'namespace-1', name, uid: crypto.randomUUID(), apiVersion: 'v1', resourceVersion: String(podRev) },
    reason: 'Scheduled',
    message: `Successfully assigned namespace-1/${name} to node-${(i * 7919) % nodes}`,
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

/** a started WatchCache with a ring of `ring` events, and the function that hands it a store entry */
export async function fedWatchCache(ring: number): Promise<{ cache: WatchCache; feed: (e: StoreEntry) => void }> {
  let feed: ((e: StoreEntry) => void) | undefined;
  const store = {
    watch: async (h: { onEntry: (e: StoreEntry) => void; onSynced: (rev: number) => void }) => {
      feed = h.onEntry;
      queueMicrotask(() => h.onSynced(0));
      return { stop: () => {} };
    },
    currentRevision: async () => 0,
  } as unknown as KvStore;
  const cache = new WatchCache(store, ring);
  await cache.start();
  return { cache, feed: (e) => feed!(e) };
}
