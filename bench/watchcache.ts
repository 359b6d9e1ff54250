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
import type { StoreEntry } from '../lib/store/kvstore.js';
import { benchTime, benchBoundPod, fedWatchCache, pendingPod, scheduledEvent } from './watchcachefeed.js';

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

const NODES = 100000;

/** a bench pod bound and Running, with the scheduler's status entry among its managed fields */
function pod(i: number): object {
  const p = benchBoundPod(pendingPod(i), i, NODES);
  p.metadata.managedFields = [
    ...p.metadata.managedFields,
    { manager: 'default-scheduler', operation: 'Update', apiVersion: 'v1', time: benchTime(i, 1), fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"PodScheduled"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} } } } } },
  ];
  return p;
}

/** its Scheduled Event, with the managed fields an events.k8s.io create records */
function event(i: number): object {
  const e = scheduledEvent(i, 3 * i + 1, NODES);
  e.metadata.managedFields = [{ manager: 'default-scheduler', operation: 'Update', apiVersion: 'events.k8s.io/v1', time: e.metadata.creationTimestamp, fieldsType: 'FieldsV1', fieldsV1: { 'f:action': {}, 'f:eventTime': {}, 'f:note': {}, 'f:reason': {}, 'f:regarding': {}, 'f:reportingController': {}, 'f:reportingInstance': {}, 'f:type': {} } }];
  return e;
}

const enc = new TextEncoder();
const { cache, feed } = await fedWatchCache(RING);

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
for (const e of entries) feed(e);
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
