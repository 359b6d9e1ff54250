import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../lib/client/mod.js';
import '../../lib/schema/kinds/mod.js';
import { KvStore } from '../../lib/store/kvstore.js';
import { sharedNats } from '../../test/harness.js';
import { prng, type Rng } from '../../test/prng.js';
import { DefaultTolerationSecondsAdmission } from './defaulttolerations.js';
import { boundPod } from './handler.js';
import { findKind } from './kinds.js';
import { PriorityAdmission } from './priority.js';
import { ObjectStorage, type WriteContext } from './storage.js';
import { sameJson } from './sharedspecs.js';
import { WatchCache } from './watchcache.js';

const PODS = findKind('', 'v1', 'pods')!;
const CLASSES = findKind('scheduling.k8s.io', 'v1', 'priorityclasses')!;
const NAMESPACES = findKind('', 'v1', 'namespaces')!;

/** what differs between two creates of one body: the uid, the second-precision times */
const normalised = (text: string) => text.replace(/"uid":"[^"]*"/g, '"uid":"U"').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'T');

/** a pod spec from a few templates, varied now and then: most repeat, some do not */
function randomSpec(r: Rng): any {
  const container: any = { name: r.pick(['pause', 'app']), image: r.pick(['registry.k8s.io/pause:3.10', 'nginx']) };
  if (r.chance(0.7)) container.ports = [{ containerPort: r.pick([80, 8080]) }];
  if (r.chance(0.7)) container.resources = { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: r.pick(['500Mi', '0.5Gi']) } };
  if (r.chance(0.05)) container.env = [{ name: 'X', value: r.pick(['ü', '"', '\u2028', '😀']) }];
  if (r.chance(0.03)) container.image = undefined; // invalid: no image
  if (r.chance(0.03)) container.resources = { requests: { cpu: 'lots' } }; // invalid quantity
  const spec: any = { containers: [container] };
  if (r.chance(0.2)) spec.priorityClassName = r.pick(['high', 'low']);
  if (r.chance(0.1)) spec.tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: r.pick([30, 300]) }];
  if (r.chance(0.1)) spec.nodeSelector = { zone: r.pick(['a', 'b']) };
  if (r.chance(0.05)) spec.hostname = `h${r.int(0, 1e6)}`; // a spec that does not repeat
  if (r.chance(0.05)) spec.restartPolicy = r.pick(['Never', 'Sometimes']); // the second is invalid
  if (r.chance(0.05)) spec.activeDeadlineSeconds = r.pick([-0, 0, 30]);
  if (r.chance(0.03)) spec.unknownField = { a: [1, null, 'x'] };
  if (r.chance(0.03)) spec.schedulerName = undefined; // a member JSON drops
  // members in another order now and then: their JSON differs, so must what is shared
  if (r.chance(0.1)) return Object.fromEntries(Object.entries(spec).reverse());
  return spec;
}

/** a body from one of `templates` mostly (as a ReplicaSet's pods), a spec of its own now and then */
function randomBody(r: Rng, templates: any[]): any {
  const metadata: any = r.chance(0.9) ? { generateName: 'pod-' } : { name: `pod-${r.int(0, 1e9)}` };
  if (r.chance(0.3)) metadata.labels = { app: r.pick(['a', 'b']) };
  if (r.chance(0.02)) metadata.labels = { 'bad label': 'x' }; // invalid metadata with a valid spec
  let spec = r.chance(0.85) ? structuredClone(r.pick(templates)) : randomSpec(r);
  // a template's members in another order: another JSON text, so another spec to share
  if (r.chance(0.1)) spec = Object.fromEntries(Object.entries(spec).reverse());
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** An apiserver's storage over a bucket of its own, with the admission plugins a server runs. */
async function storageOver(nc: NatsConnection) {
  const store = await KvStore.open(nc, { bucket: `s${randomUUID().slice(0, 8)}` });
  const cache = new WatchCache(store);
  await cache.start();
  const storage = new ObjectStorage(store, cache);
  storage.admission.push(new PriorityAdmission(storage));
  storage.admission.push(new DefaultTolerationSecondsAdmission());
  const ctx = (): WriteContext => ({ warnings: [], bodyOwned: true, fieldManager: 'bench' });
  await storage.create(NAMESPACES, '', { metadata: { name: 'default' } }, ctx());
  return { store, cache, storage, ctx };
}

type Storage = Awaited<ReturnType<typeof storageOver>>;

const setClass = (s: Storage, name: string, value: number, globalDefault = false) =>
  s.storage.create(CLASSES, '', { metadata: { name }, value, globalDefault }, s.ctx());

async function created(s: Storage, body: any): Promise<{ obj?: any; stored?: string; error?: string }> {
  try {
    const obj = await s.storage.create(PODS, 'default', body, s.ctx());
    const e = await s.store.get(s.storage.key(PODS, 'default', obj.metadata.name));
    return { obj, stored: Buffer.from(e!.value!).toString('utf8') };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('apiserver: pods of one template share their spec', () => {
  let nc: NatsConnection;
  let shared: Storage;
  let plain: Storage;

  before(async () => {
    nc = await connectNats((await sharedNats()).url, { name: 'sharedspecs-test' });
    shared = await storageOver(nc);
    plain = await storageOver(nc);
    plain.storage.specs.find = () => undefined;
  });

  after(async () => {
    shared.cache.stop();
    plain.cache.stop();
    await nc.close();
  });

  it('writes, answers and rejects byte for byte as without sharing, random pods, and changes no sibling', async () => {
    const r = prng(20261206);
    await setClass(shared, 'high', 1000);
    await setClass(plain, 'high', 1000);
    const kept: Array<{ obj: any; json: string }> = [];
    const specs = new Set<object>();
    let sharedCreates = 0;
    const templates = Array.from({ length: 12 }, () => randomSpec(r));
    for (let i = 0; i < 2500; i++) {
      if (i === 1200) {
        // admission makes something else of the same defaulted spec from now on (a pod naming no class gets the default)
        await setClass(shared, 'low', -5, true);
        await setClass(plain, 'low', -5, true);
      }
      const body = randomBody(r, templates);
      // the same name on both sides: the same text
      const names = ['a', 'b', 'c', 'd', 'e'];
      const suffix = `${i.toString(36)}${r.pick(names)}`;
      shared.storage.nameSuffix = () => suffix;
      plain.storage.nameSuffix = () => suffix;
      const a = await created(shared, structuredClone(body));
      const b = await created(plain, structuredClone(body));
      const context = `create ${i}: ${JSON.stringify(body)}`;
      assert.equal(a.error, b.error, context);
      if (!a.obj) continue;
      assert.equal(normalised(a.stored!), normalised(b.stored!), context);
      assert.equal(normalised(JSON.stringify(a.obj)), normalised(JSON.stringify(b.obj)), context);
      // the cache holds what the store holds
      await shared.cache.waitConsistent();
      const cached = shared.cache.get('pods', 'default', a.obj.metadata.name)!.obj;
      assert.equal(JSON.stringify(cached), JSON.stringify(a.obj), context);
      if (specs.has(a.obj.spec)) sharedCreates++;
      specs.add(a.obj.spec);
      kept.push({ obj: a.obj, json: JSON.stringify(a.obj) });
    }
    assert.ok(sharedCreates > 1000, `${sharedCreates} creates shared a spec`);
    for (const k of kept) assert.equal(JSON.stringify(k.obj), k.json, 'a pod created earlier is unchanged');
  });

  it('a shared spec cannot be changed in place, and every write to a pod leaves its siblings as they were', async () => {
    shared.storage.nameSuffix = () => randomUUID().slice(0, 5);
    const body = () => ({ metadata: { generateName: 'w-', labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    const pods: any[] = [];
    for (let i = 0; i < 4; i++) pods.push(await shared.storage.create(PODS, 'default', body(), shared.ctx()));
    assert.equal(pods[1].spec, pods[2].spec);
    assert.throws(() => {
      pods[1].spec.containers[0].image = 'changed';
    }, TypeError);
    const before = pods.map((p) => JSON.stringify(p));
    const ctx = shared.ctx();
    const [p0, p1, p2, p3] = pods.map((p) => p.metadata.name);
    // a binding and a graceful delete of the bound pod, a spec patch, a status write, a delete
    await shared.storage.patchWith(PODS, 'default', p0, ctx, (pod) => boundPod(pod, 'node-1', '2026-12-06T05:00:00Z'), { trusted: true });
    await shared.storage.delete(PODS, 'default', p0, { gracePeriodSeconds: 30 }, ctx);
    await shared.storage.patch(PODS, 'default', p1, 'strategic', { spec: { containers: [{ name: 'c', image: 'nginx:2' }], activeDeadlineSeconds: 5 } }, ctx);
    await shared.storage.patch(PODS, 'default', p2, 'merge', { status: { phase: 'Running' } }, ctx, 'status');
    await shared.storage.delete(PODS, 'default', p3, {}, ctx);
    await shared.cache.waitConsistent();
    const now = (name: string) => shared.cache.get('pods', 'default', name)?.obj;
    assert.equal(now(p0).spec.nodeName, 'node-1');
    assert.ok(now(p0).metadata.deletionTimestamp);
    assert.equal(now(p1).spec.containers[0].image, 'nginx:2');
    assert.equal(now(p2).status.phase, 'Running');
    assert.equal(now(p3), undefined);
    // the objects the creates answered are the created ones still
    pods.forEach((p, i) => assert.equal(JSON.stringify(p), before[i]));
    const more = await shared.storage.create(PODS, 'default', body(), shared.ctx());
    assert.equal(more.spec, pods[1].spec);
    assert.equal(more.spec.containers[0].image, 'nginx');
  });

  it('compares members in order, and JSON values only', () => {
    assert.ok(sameJson({ a: 1, b: [null, 'x'] }, { a: 1, b: [null, 'x'] }));
    assert.ok(!sameJson({ b: 1, a: 1 }, { a: 1, b: 1 }));
    assert.ok(!sameJson({ a: 1, b: undefined }, { a: 1 }));
    assert.ok(!sameJson({ a: new Date(0) }, { a: {} }));
    assert.ok(!sameJson({ a: new Map() }, { a: {} }));
    assert.ok(!sameJson({ a: NaN }, { a: null }));
    assert.ok(!sameJson([1, 2], { 0: 1, 1: 2 }));
  });
});
