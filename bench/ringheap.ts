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
import { partsLength } from '../lib/client/mod.js';
import { encodeStored, objectJson, storedBytes } from '../services/apiserver/objectjson.js';
import { benchBoundPod, fedWatchCache, pendingPod, scheduledEvent } from './watchcachefeed.js';

const { values: opts } = parseArgs({ options: { pods: { type: 'string', default: '33000' }, ring: { type: 'string', default: '100000' } } });
const PODS = Number(opts.pods);
const RING = Number(opts.ring);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const NODES = 5000;

const { cache, feed } = await fedWatchCache(RING);
// a watch frame per pod event (the scheduler's informer), the Event TTL controller's subscription
let frames = 0;
cache.subscribe('pods', 0, (ev) => (frames += partsLength(objectJson(ev.obj))));
cache.subscribe('events', 0, () => {});

let rev = 0;
function write(resource: string, obj: any): any {
  const key = objectKey(resource, 'namespace-1', obj.metadata.name);
  const enc = storedBytes(encodeStored(obj));
  cache.expectWrite(key, enc, obj);
  feed({ key, revision: ++rev, value: enc.bytes, operation: 'PUT' });
  return obj;
}

gc();
const m0 = process.memoryUsage();
const t0 = process.hrtime.bigint();
// a pod is bound a few pods after its create, as a scheduler's queue would
const LAG = 50;
const pending: Array<[number, any]> = [];
for (let i = 0; i < PODS + LAG; i++) {
  if (i < PODS) pending.push([i, write('pods', pendingPod(i))]);
  if (i >= LAG) {
    const [j, pod] = pending.shift()!;
    write('pods', benchBoundPod(pod, j, NODES));
    write('events', scheduledEvent(j, rev, NODES));
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
