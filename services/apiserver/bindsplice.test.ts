import assert from 'node:assert/strict';
import { objectKey } from '../../lib/store/keys.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { prng, type Rng } from '../../test/prng.js';
import { boundPod } from './handler.js';
import { findKind } from './kinds.js';
import { encodeStored, splicedStored, storedBytes, type StoredBytes } from './objectjson.js';
import { ObjectStorage } from './storage.js';

/** What the store must be sent: JSON.stringify of the object without resourceVersion and selfLink. */
const storedText = (obj: any) => {
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = obj.metadata ?? {};
  return JSON.stringify({ ...obj, metadata: meta });
};

const ODD_TEXT = ['', 'ü', 'é\n', '\u2028', '"', '\\', '"resourceVersion":"7"}', '},"status":{}}', '😀', 'a,"b":{}'];

function oddString(r: Rng): string {
  let s = '';
  for (let i = Math.floor(r.next() * 4); i > 0; i--) s += r.pick(ODD_TEXT) + r.pick(['x', 'y', '']);
  return s;
}

/** a JSON value of a few levels, sometimes with a `"resourceVersion":"<rev>"` member last (as metadata ends) */
function oddValue(r: Rng, rev: string, depth = 0): unknown {
  const k = r.next();
  if (depth > 2 || k < 0.3) return r.pick<unknown>([oddString(r), 0, 1.5, -3, 1e21, true, false, null]);
  if (k < 0.5) return Array.from({ length: Math.floor(r.next() * 3) }, () => oddValue(r, rev, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r.next() * 3); i > 0; i--) o[r.pick(['a', 'status', 'spec', 'nodeName', oddString(r), '10', '2'])] = oddValue(r, rev, depth + 1);
  if (r.chance(0.2)) o.resourceVersion = rev;
  return o;
}

/** a random pod as the watch cache holds it: JSON values only, resourceVersion last in metadata */
function randomPod(r: Rng, rev: string): any {
  const meta: Record<string, unknown> = {};
  if (r.chance(0.9)) {
    if (r.chance(0.5)) meta.generateName = 'pod-';
    meta.namespace = 'default';
    meta.name = `pod-${Math.floor(r.next() * 1e6)}`;
    meta.uid = 'c054b888-81f9-49ab-ad92-b42e54f64034';
    meta.creationTimestamp = '2026-12-05T21:11:35Z';
    if (r.chance(0.5)) meta.labels = { app: oddString(r), '10': 'a', '2': 'b' };
    if (r.chance(0.5)) meta.annotations = { note: oddString(r), 'a/b': '"resourceVersion":"' + rev + '"}' };
    if (r.chance(0.5)) meta.managedFields = [{ manager: 'm', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {}, 'f:spec': { 'f:containers': {} } } }];
    if (r.chance(0.1)) meta.unusual = oddValue(r, rev);
  }
  meta.resourceVersion = rev;
  const pod: Record<string, unknown> = {};
  const members: Array<[string, () => unknown]> = [
    ['apiVersion', () => 'v1'],
    ['kind', () => 'Pod'],
    ['metadata', () => meta],
  ];
  if (r.chance(0.95)) {
    members.push([
      'spec',
      () => {
        if (r.chance(0.1)) return {};
        const spec: Record<string, unknown> = { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }] };
        if (r.chance(0.2)) spec.nodeName = r.pick(['', null]);
        spec.restartPolicy = 'Always';
        if (r.chance(0.3)) spec[r.pick(['unusual', 'status', '__proto__'])] = oddValue(r, rev);
        spec.schedulerName = 'default-scheduler';
        if (r.chance(0.2)) spec.tolerations = [{ key: 'k', operator: 'Exists', tolerationSeconds: 300 }];
        return spec;
      },
    ]);
  }
  if (r.chance(0.8)) {
    members.push([
      'status',
      () => {
        const status: Record<string, unknown> = {};
        if (r.chance(0.8)) status.phase = 'Pending';
        if (r.chance(0.4)) {
          const conds: unknown[] = [];
          if (r.chance(0.5)) conds.push({ type: 'Initialized', status: 'True' });
          if (r.chance(0.5)) conds.push({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastProbeTime: null });
          if (r.chance(0.3)) conds.push({ type: 'Ready', status: 'False' });
          status.conditions = conds;
        }
        if (r.chance(0.7)) status.qosClass = r.pick(['Guaranteed', 'BestEffort']);
        if (r.chance(0.1)) status.unusual = oddValue(r, rev);
        return status;
      },
    ]);
  }
  if (r.chance(0.1)) members.splice(Math.floor(r.next() * (members.length + 1)), 0, [oddString(r) || 'x-extra', () => oddValue(r, rev)]);
  // mostly upstream's order; sometimes any order (kind and apiVersion may be missing too)
  if (r.chance(0.15)) members.sort(() => r.next() - 0.5);
  if (r.chance(0.05)) members.splice(Math.floor(r.next() * members.length), 1);
  for (const [k, v] of members) pod[k] = v();
  if (!('metadata' in pod)) pod.metadata = meta;
  // what the watch cache keeps: JSON values only, as its JSON text parsed again gives them
  return JSON.parse(JSON.stringify(pod));
}

/** The pod's stored bytes as the create sent them, checked against JSON.stringify. */
function createdBytes(pod: any): StoredBytes {
  const s = storedBytes(encodeStored(pod));
  assert.equal(s.bytes.toString('utf8'), storedText(pod));
  return { bytes: s.bytes, metaEnd: s.metaEnd, managedFields: s.managedFields };
}

/** An ObjectStorage over a store and a watch cache that hold one pod (and its created bytes, when given); it records what is written. */
function storageHolding(pod: any, stored: StoredBytes | undefined, rev: number) {
  const written: Buffer[] = [];
  const entry = { key: '', resource: 'pods', namespace: 'default', name: 'p', revision: rev, obj: pod };
  const cache = {
    get: () => entry,
    storedOf: (c: unknown) => (c === entry ? stored : undefined),
    expectWrite: () => () => undefined,
    waitConsistent: async () => rev,
    waitFor: async () => undefined,
  };
  const store = {
    update: async (_key: string, bytes: Buffer, expected: number) => {
      assert.equal(expected, rev);
      written.push(Buffer.from(bytes));
      return rev + 1;
    },
  };
  return { storage: new ObjectStorage(store as any, cache as any), written };
}

const PODS = findKind('', 'v1', 'pods')!;

describe('apiserver binding: the bound pod\'s stored bytes spliced from the created pod\'s', () => {
  it('is byte for byte JSON.stringify of the bound pod, for random pods; spliced whenever the pod has the usual shape', async () => {
    const r = prng(20261205);
    let spliced = 0;
    let usual = 0;
    for (let i = 0; i < 3000; i++) {
      const rev = 1 + Math.floor(r.next() * 1e6);
      const cached = randomPod(r, String(rev));
      const json = JSON.stringify(cached);
      const before = json;
      const base = createdBytes(cached);
      const { storage, written } = storageHolding(cached, base, rev);
      const node = r.pick(['node-1', 'nöde-"2"', '']) || 'n';
      const bound = await storage.patchWith(PODS, 'default', 'p', { warnings: [] }, (pod) => boundPod(pod, node, '2026-12-05T21:30:00Z'), { trusted: true });
      assert.equal(written.length, 1);
      const expected = storedText(bound);
      assert.equal(written[0]!.toString('utf8'), expected, `pod ${i}: ${json}`);
      assert.equal(JSON.stringify(cached), before, 'the cached pod is not changed');
      // the splice on its own: JSON.stringify's text or nothing, metadata's end where encodeStored says
      const next = { ...bound, metadata: { ...bound.metadata } };
      delete next.metadata.resourceVersion;
      const s = splicedStored(cached, base, next);
      if (s) {
        spliced++;
        assert.equal(s.bytes.toString('utf8'), expected, `pod ${i}: ${json}`);
        // metadata's end, and where its last member managedFields starts, where storedBytes says
        const encoded = storedBytes(encodeStored(next));
        assert.equal(s.metaEnd, encoded.metaEnd, `pod ${i}: ${json}`);
        assert.equal(s.managedFields, encoded.managedFields, `pod ${i}: ${json}`);
      }
      // the usual shape: apiVersion, kind, metadata, spec, status in that order, no member the splice cannot place
      // (mergeSystemFields adds name, namespace and uid to metadata when missing; a nodeName
      // present stays where it was)
      const keys = Object.keys(cached).join();
      const m = cached.metadata;
      if (
        (keys === 'apiVersion,kind,metadata,spec,status' || keys === 'apiVersion,kind,metadata,spec') &&
        'name' in m && 'namespace' in m && 'uid' in m && !('nodeName' in cached.spec)
      ) {
        usual++;
        assert.ok(s, `pod ${i} has the usual shape and was not spliced: ${json}`);
      }
    }
    assert.ok(usual > 1000, `${usual} pods of the usual shape`);
    assert.ok(spliced >= usual, `${spliced} spliced`);
  });

  it('is what the binding writes when the cache kept the created bytes', async () => {
    // kept bytes that differ from the object where no check looks (a label's value): the
    // written bytes show which of the two they were made from
    const cached = JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u', labels: { a: 'object' }, resourceVersion: '5' }, spec: { containers: [] }, status: { phase: 'Pending' } }));
    const kept = createdBytes({ ...cached, metadata: { ...cached.metadata, labels: { a: 'kepts' } } });
    const { storage, written } = storageHolding(cached, kept, 5);
    await storage.patchWith(PODS, 'default', 'p', { warnings: [] }, (pod) => boundPod(pod, 'n1', '2026-12-05T21:30:00Z'), { trusted: true });
    assert.match(written[0]!.toString('utf8'), /"labels":\{"a":"kepts"\}.*"nodeName":"n1"\}/);
  });

  it('is not used when the cache kept no bytes: the pod is stringified', async () => {
    const cached = JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', resourceVersion: '5' }, spec: { containers: [] }, status: {} }));
    const { storage, written } = storageHolding(cached, undefined, 5);
    const bound = await storage.patchWith(PODS, 'default', 'p', { warnings: [] }, (pod) => boundPod(pod, 'n1', '2026-12-05T21:30:00Z'), { trusted: true });
    assert.equal(written[0]!.toString('utf8'), storedText(bound));
  });

  it('refuses what is not the binding\'s shape', () => {
    const cached = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', resourceVersion: '5' }, spec: { a: 1 }, status: { phase: 'Pending' } };
    const base = createdBytes(cached);
    const ok = (next: any) => splicedStored(cached, base, next);
    const bound = () => ({ ...cached, metadata: { name: 'p' }, spec: { ...cached.spec, nodeName: 'n' }, status: { phase: 'Pending', conditions: [] } });
    assert.equal(ok(bound())?.bytes.toString('utf8'), storedText(bound()));
    // a member changed elsewhere, metadata changed, spec changed in place, status not last, kind added
    assert.equal(ok({ ...bound(), kind: 'Other' }), undefined);
    assert.equal(ok({ ...bound(), metadata: { name: 'q' } }), undefined);
    assert.equal(ok({ ...bound(), metadata: { name: 'p', labels: {} } }), undefined);
    // resourceVersion and selfLink are not stored: wherever they are, the bytes are the same
    const withRv = { ...bound(), metadata: { resourceVersion: '5', name: 'p', selfLink: '/x' } };
    assert.equal(ok(withRv)?.bytes.toString('utf8'), storedText(withRv));
    assert.equal(ok({ ...bound(), spec: { a: 2, nodeName: 'n' } }), undefined);
    assert.equal(ok({ ...bound(), spec: { nodeName: 'n', a: 1 } }), undefined);
    const { status, ...rest } = bound();
    assert.equal(ok({ ...rest, status, extra: 1 }), undefined);
    // bytes whose status is not the object's are not spliced
    assert.equal(splicedStored(cached, createdBytes({ ...cached, status: { phase: 'Running' } }), bound()), undefined);
    assert.equal(splicedStored(cached, createdBytes({ ...cached, status: undefined }), bound()), undefined);
  });
});

describe('apiserver binding: stored bytes end to end', () => {
  let c: ConnectedApiServer;
  before(async () => {
    c = await connectedApiServer('bindsplice-test');
  });
  after(async () => {
    await c.stop();
  });

  it('stores each bound pod as JSON.stringify of the pod served', async () => {
    const api = c.client;
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const body = (i: number) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `bs-${i}`, labels: { i: String(i) }, annotations: { note: 'ü"\\' + '"resourceVersion":"1"}' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    const created = await api.batchCreate(Array.from({ length: 20 }, (_, i) => ({ ...pods, body: body(i) })));
    for (const c of created) assert.ok(!(c instanceof Error), String(c));
    // the cache holds them (and their created bytes) once the binding reads them
    await api.list(pods);
    const kept = (c.server.cache as any).keptStored as Map<unknown, unknown>;
    assert.equal(kept.size, 20);
    const res = await api.batchBind(Array.from({ length: 20 }, (_, i) => ({ namespace: 'default', name: `bs-${i}`, node: `node-${i}` })));
    for (const x of res) assert.equal((x as any).status, 'Success', JSON.stringify(x));
    const store = (c.server.cache as any).store;
    // a bound pod's entry replaced the created one: its bytes are no longer kept
    await api.list(pods);
    assert.equal(kept.size, 0);
    for (let i = 0; i < 20; i++) {
      const pod: any = await api.get({ ...pods, name: `bs-${i}` });
      assert.equal(pod.spec.nodeName, `node-${i}`);
      const e = await store.get(objectKey('pods', 'default', `bs-${i}`));
      assert.equal(Buffer.from(e.value).toString('utf8'), storedText(pod));
      assert.equal(String(e.revision), pod.metadata.resourceVersion);
    }
  });
});
