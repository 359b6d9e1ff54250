import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { GoneError, ServiceUnavailableError } from '../api/errors.js';
import { ApiClient, type KubeObject } from './client.js';
import { Resources } from './resources.js';
import { connectNats } from './connect.js';
import type { ResourceRef } from './protocol.js';
import { sleep } from './retry.js';
import { DeletedFinalStateUnknown, Indexer, NAMESPACE_INDEX, SharedInformer, deletionHandlingKey, metaNamespaceKey, splitMetaNamespaceKey } from './informer.js';

function pod(ns: string, name: string, rv: string, node?: string): Pod {
  return { metadata: { namespace: ns, name, resourceVersion: rv }, spec: { containers: [], nodeName: node } };
}

describe('Indexer', () => {
  it('keys objects by namespace/name and indexes them by namespace by default', () => {
    const s = new Indexer<Pod>();
    s.set('a/p1', pod('a', 'p1', '1'));
    s.set('a/p2', pod('a', 'p2', '2'));
    s.set('b/p1', pod('b', 'p1', '3'));
    assert.equal(s.getByKey('a/p2')?.metadata?.resourceVersion, '2');
    assert.deepEqual(s.byIndex(NAMESPACE_INDEX, 'a').map((p) => p.metadata!.name).sort(), ['p1', 'p2']);
    assert.deepEqual(s.listKeys().sort(), ['a/p1', 'a/p2', 'b/p1']);
  });

  it('leaves the index alone when an update keeps its values (an object keeps its place)', () => {
    const s = new Indexer<Pod>();
    s.set('a/p1', pod('a', 'p1', '1'));
    s.set('a/p2', pod('a', 'p2', '2'));
    s.set('a/p1', pod('a', 'p1', '3', 'n1'));
    assert.deepEqual(s.indexKeys(NAMESPACE_INDEX, 'a'), ['a/p1', 'a/p2']);
    assert.equal(s.getByKey('a/p1')!.metadata!.resourceVersion, '3');
  });

  it('moves an object between index values when it changes and drops it on delete', () => {
    const s = new Indexer<Pod>();
    s.addIndexers({ byNode: (p) => [p.spec?.nodeName] });
    s.set('a/p1', pod('a', 'p1', '1'));
    assert.deepEqual(s.listIndexFuncValues('byNode'), [], 'an unscheduled pod has no node index value');
    s.set('a/p1', pod('a', 'p1', '2', 'n1'));
    s.set('a/p2', pod('a', 'p2', '3', 'n1'));
    assert.deepEqual(s.indexKeys('byNode', 'n1').sort(), ['a/p1', 'a/p2']);
    s.set('a/p1', pod('a', 'p1', '4', 'n2'));
    assert.deepEqual(s.indexKeys('byNode', 'n1'), ['a/p2']);
    assert.deepEqual(s.indexKeys('byNode', 'n2'), ['a/p1']);
    s.delete('a/p2');
    assert.deepEqual(s.byIndex('byNode', 'n1'), []);
    assert.deepEqual(s.listIndexFuncValues('byNode'), ['n2']);
  });

  it('indexes objects already stored when an indexer is added later', () => {
    const s = new Indexer<Pod>();
    s.set('a/p1', pod('a', 'p1', '1', 'n1'));
    s.addIndexers({ byNode: (p) => [p.spec?.nodeName] });
    assert.deepEqual(s.indexKeys('byNode', 'n1'), ['a/p1']);
    assert.throws(() => s.byIndex('nope', 'x'), /no indexer named "nope"/);
  });

  it('builds and splits keys for namespaced and cluster-scoped objects', () => {
    assert.equal(metaNamespaceKey(pod('ns', 'web', '1')), 'ns/web');
    assert.equal(metaNamespaceKey({ metadata: { name: 'node-1' } }), 'node-1');
    assert.deepEqual(splitMetaNamespaceKey('ns/web'), { namespace: 'ns', name: 'web' });
    assert.deepEqual(splitMetaNamespaceKey('node-1'), { namespace: '', name: 'node-1' });
  });
});

describe('SharedInformer store updates', () => {
  // replace() and apply() are the reflector's two ways into the store; they need no
  // connection, so the client is never touched here
  const noClient = undefined as unknown as ApiClient;
  const gvr = { group: '', version: 'v1', resource: 'pods' };

  function recording() {
    const log: string[] = [];
    const inf = new SharedInformer<Pod>(noClient, gvr);
    inf.addEventHandler({
      onAdd: (p, initial) => log.push(`add ${metaNamespaceKey(p)}${initial ? ' initial' : ''}`),
      onUpdate: (o, n) => log.push(`update ${metaNamespaceKey(n)} ${o.metadata!.resourceVersion}->${n.metadata!.resourceVersion}`),
      onDelete: (o) => log.push(`delete ${deletionHandlingKey(o)}${o instanceof DeletedFinalStateUnknown ? ' tombstone' : ''}`),
    });
    return { inf, log };
  }

  it('the first list fills the store, marks it synced and reports initial adds', async () => {
    const { inf, log } = recording();
    assert.equal(inf.hasSynced(), false);
    const synced = inf.waitForSync();
    inf.replace([pod('a', 'p1', '5'), pod('a', 'p2', '6')], '10');
    await synced;
    assert.equal(inf.hasSynced(), true);
    assert.equal(inf.lastSyncResourceVersion(), '10');
    assert.deepEqual(log, ['add a/p1 initial', 'add a/p2 initial']);
  });

  it('watch events add, update and delete, and move the resourceVersion (bookmarks too)', () => {
    const { inf, log } = recording();
    inf.replace([], '1');
    inf.apply({ type: 'ADDED', object: pod('a', 'p1', '2') });
    inf.apply({ type: 'MODIFIED', object: pod('a', 'p1', '3') });
    inf.apply({ type: 'DELETED', object: pod('a', 'p1', '4') });
    inf.apply({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } as Pod });
    assert.deepEqual(log, ['add a/p1', 'update a/p1 2->3', 'delete a/p1']);
    assert.equal(inf.store.size, 0);
    assert.equal(inf.lastSyncResourceVersion(), '9');
  });

  it('an ERROR event is thrown as its typed error so the reflector re-lists', () => {
    const { inf } = recording();
    const status = new GoneError('too old resource version: 1 (50)').toStatus();
    assert.throws(() => inf.apply({ type: 'ERROR', object: status as unknown as Pod }), GoneError);
  });

  it('a re-list reports objects gone meanwhile as tombstoned deletes, changed ones as updates', () => {
    const { inf, log } = recording();
    inf.replace([pod('a', 'keep', '1'), pod('a', 'change', '2'), pod('a', 'gone', '3')], '3');
    log.length = 0;
    inf.replace([pod('a', 'keep', '1'), pod('a', 'change', '7'), pod('a', 'new', '8')], '9');
    assert.deepEqual(log.sort(), ['add a/new', 'delete a/gone tombstone', 'update a/change 2->7']);
    const tombstoned: unknown[] = [];
    inf.addEventHandler({ onDelete: (o) => tombstoned.push(o) });
    inf.replace([], '10');
    const t = tombstoned.find((o) => o instanceof DeletedFinalStateUnknown && o.key === 'a/keep') as DeletedFinalStateUnknown<Pod>;
    assert.equal(t.obj.metadata?.resourceVersion, '1', 'the tombstone carries the last state seen');
  });

  it('setTransform: listed and watched objects are stored and handed on as the transform made them', () => {
    const { inf } = recording();
    const seen: Pod[] = [];
    inf.addEventHandler({ onAdd: (p) => seen.push(p), onUpdate: (_o, p) => seen.push(p) });
    inf.setTransform((p) => ({ metadata: { name: p.metadata!.name, namespace: p.metadata!.namespace, resourceVersion: p.metadata!.resourceVersion } }));
    inf.replace([{ ...pod('a', 'p1', '1'), spec: { containers: [] } }], '1');
    inf.apply({ type: 'MODIFIED', object: { ...pod('a', 'p1', '2'), spec: { containers: [] } } });
    inf.apply({ type: 'ADDED', object: { ...pod('a', 'p2', '3'), spec: { containers: [] } } });
    for (const p of [...seen, ...inf.store.list()]) assert.equal(p.spec, undefined, `${p.metadata!.name} at ${p.metadata!.resourceVersion}`);
    assert.equal(seen.length, 3);
  });

  it('setTransform after start is refused (the store would hold objects of both shapes)', async () => {
    const inf = new SharedInformer<Pod>(noClient, gvr, { onError: () => {} });
    inf.start();
    assert.throws(() => inf.setTransform((p) => p), /after start/);
    await inf.stop();
  });

  it('a handler added late receives the objects already in the store as adds', () => {
    const { inf } = recording();
    inf.replace([pod('a', 'p1', '1'), pod('b', 'p2', '2')], '2');
    const late: string[] = [];
    inf.addEventHandler({ onAdd: (p) => late.push(metaNamespaceKey(p)) });
    assert.deepEqual(late.sort(), ['a/p1', 'b/p2']);
  });

  it('a throwing handler does not keep the store or other handlers from the change', () => {
    const { inf, log } = recording();
    const origError = console.error;
    console.error = () => {};
    try {
      inf.addEventHandler({
        onAdd: () => {
          throw new Error('bad handler');
        },
      });
      inf.replace([], '1');
      inf.apply({ type: 'ADDED', object: pod('a', 'p1', '2') });
    } finally {
      console.error = origError;
    }
    assert.ok(inf.store.getByKey('a/p1'));
    assert.deepEqual(log, ['add a/p1']);
  });
});

type ApiServer = { httpUrl: string; stop(): Promise<void> };

const configMap = (ns: string, name: string, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: ns, name },
  data,
});

/** name -> resourceVersion, the comparable state of a set of objects */
function versions(items: KubeObject[]): Map<string, string> {
  return new Map(items.map((o) => [metaNamespaceKey(o), o.metadata?.resourceVersion ?? '']));
}

/** Polls until the informer's store equals the server's list (or the deadline passes). */
async function converge(client: ApiClient, inf: SharedInformer<ConfigMap>, ref: ResourceRef, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  let server = new Map<string, string>();
  for (;;) {
    server = versions((await client.list(ref)).items);
    if (isDeepStrictEqual(versions(inf.store.list()), server)) return;
    if (Date.now() > until) break;
    await sleep(100);
  }
  assert.deepEqual(versions(inf.store.list()), server, 'the informer store never matched the server list');
}

/** What handlers saw, applied to a map: it must end up equal to the store. */
function mirror(inf: SharedInformer<ConfigMap>) {
  const seen = new Map<string, string>();
  const tombstones: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => seen.set(metaNamespaceKey(o), o.metadata!.resourceVersion!),
    onUpdate: (_o, n) => seen.set(metaNamespaceKey(n), n.metadata!.resourceVersion!),
    onDelete: (o) => {
      if (o instanceof DeletedFinalStateUnknown) tombstones.push(o.key);
      seen.delete(deletionHandlingKey(o));
    },
  });
  return { seen, tombstones };
}

describe('SharedInformer against the apiserver', function () {
  this.timeout(120_000);
  let natsUrl: string;
  let server: ApiServer;
  let nc: NatsConnection;
  let client: ApiClient;

  before(async () => {
    const nats = await freshNats();
    natsUrl = nats.url;
    server = await testApiServer({ natsUrl, bucket: 'informer-test', watchCacheSize: 50, endpointReconcilerType: 'none' });
    nc = await connectNats(natsUrl, { name: 'informer-test' });
    // short keepalives, so a vanished apiserver is noticed quickly
    client = new ApiClient(nc, { requestTimeoutMs: 5_000, watchKeepaliveMs: 200 });
    for (const name of ['inf-burst', 'inf-restart', 'inf-gone', 'inf-other'])
      await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  /**
   * An informer on `ns` that waits 5 s before watching again (so writes can happen while
   * it waits), started and synced, then its apiserver stopped until the informer noticed
   * and started again.
   */
  const informerAcrossRestart = async (ns: string) => {
    const errors: unknown[] = [];
    const inf = new SharedInformer<ConfigMap>(client, Resources.configmaps, { namespace: ns, backoffInitialMs: 5_000, backoffMaxMs: 5_000, onError: (e) => errors.push(e) });
    const seen = mirror(inf);
    inf.start();
    try {
      await inf.waitForSync();
      await server.stop();
      while (errors.length === 0) await sleep(50);
      // no write may fall between the informer's list and the new watch cache's start, or
      // the cache cannot reach back: the apiserver's own endpoint lease writes are off
      server = await testApiServer({ natsUrl, bucket: 'informer-test', watchCacheSize: 50, endpointReconcilerType: 'none' });
    } catch (e) {
      await inf.stop();
      throw e;
    }
    return { inf, errors, ...seen };
  };

  it('syncs through paged lists and keeps its store equal to the server after a burst of writes', async () => {
    const ns = 'inf-burst';
    const ref = { ...Resources.configmaps, namespace: ns };
    for (let i = 0; i < 23; i++) await client.create(ref, configMap(ns, `pre-${i}`, { i: String(i) }));
    const inf = new SharedInformer<ConfigMap>(client, Resources.configmaps, { namespace: ns, pageSize: 5, onError: () => {} });
    const { seen } = mirror(inf);
    inf.start();
    try {
      await inf.waitForSync();
      assert.equal(inf.store.size, 23, 'the paged list must bring every object');
      assert.equal(inf.store.byIndex(NAMESPACE_INDEX, ns).length, 23);
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) writes.push(client.create(ref, configMap(ns, `new-${i}`)));
      for (let i = 0; i < 10; i++) writes.push(client.patch({ ...ref, name: `pre-${i}` }, 'merge', { data: { changed: 'yes' } }));
      for (let i = 10; i < 23; i++) writes.push(client.delete({ ...ref, name: `pre-${i}` }));
      await Promise.all(writes);
      await converge(client, inf, ref);
      assert.equal(inf.store.size, 30);
      assert.equal(inf.store.getByKey(`${ns}/pre-3`)?.data?.changed, 'yes');
      assert.deepEqual(seen, versions(inf.store.list()), 'the handlers missed a change');
      assert.equal(inf.listCount, 1, 'no re-list was needed');
    } finally {
      await inf.stop();
    }
  });

  it('with omitManagedFields holds listed and watched objects without their managedFields, all else as the server has them', async () => {
    const ns = 'inf-other';
    const ref = { ...Resources.configmaps, namespace: ns };
    await client.create(ref, configMap(ns, 'listed', { k: 'v' }));
    const inf = new SharedInformer<ConfigMap>(client, Resources.configmaps, { namespace: ns, omitManagedFields: true, onError: () => {} });
    inf.start();
    try {
      await inf.waitForSync();
      await client.create(ref, configMap(ns, 'watched', { k: '"managedFields":[ stays in a value' }));
      await client.patch({ ...ref, name: 'listed' }, 'merge', { data: { k: 'changed' } });
      await converge(client, inf, ref);
      for (const name of ['listed', 'watched']) {
        const server = await client.get<ConfigMap>({ ...ref, name });
        assert.ok(server.metadata?.managedFields?.length, 'the server records managedFields');
        const { managedFields: _, ...meta } = server.metadata!;
        assert.deepEqual(inf.store.getByKey(`${ns}/${name}`), { ...server, metadata: meta });
      }
    } finally {
      await inf.stop();
    }
  });

  it('watches on from its resourceVersion, without a re-list, when the apiserver comes back and its watch cache reaches back', async () => {
    const ns = 'inf-restart';
    const ref = { ...Resources.configmaps, namespace: ns };
    for (const n of ['a', 'b', 'c']) await client.create(ref, configMap(ns, n));
    const { inf, errors, seen, tombstones } = await informerAcrossRestart(ns);
    try {
      assert.ok(errors[0] instanceof ServiceUnavailableError, `the first failure should be ServiceUnavailable, got ${errors[0]}`);
      await client.delete({ ...ref, name: 'a' });
      await client.patch({ ...ref, name: 'b' }, 'merge', { data: { after: 'restart' } });
      await client.create(ref, configMap(ns, 'd'));
      await converge(client, inf, ref);
      assert.equal(inf.listCount, 1, 'the store was still good: no re-list');
      assert.deepEqual(tombstones, [], 'the delete arrived as a watch event');
      assert.equal(inf.store.getByKey(`${ns}/b`)?.data?.after, 'restart');
      assert.deepEqual(seen, versions(inf.store.list()));
    } finally {
      await inf.stop();
    }
  });

  it('re-lists when its resourceVersion fell out of the returning apiserver\'s watch cache, reporting deletes it missed as tombstones', async () => {
    const ns = 'inf-restart';
    const ref = { ...Resources.configmaps, namespace: ns };
    const { inf, errors, seen, tombstones } = await informerAcrossRestart(ns);
    try {
      await client.delete({ ...ref, name: 'c' });
      await client.patch({ ...ref, name: 'b' }, 'merge', { data: { after: 'second restart' } });
      // writes elsewhere push the informer's resourceVersion out of the ring (50)
      const other = { ...Resources.configmaps, namespace: 'inf-other' };
      for (let i = 0; i < 60; i++) await client.create(other, configMap('inf-other', `r-${i}`));
      await converge(client, inf, ref);
      assert.ok(errors.some((e) => e instanceof GoneError), `expected a 410 Gone, saw ${errors.map(String).join('; ')}`);
      assert.ok(inf.listCount >= 2, 'the informer must have re-listed');
      assert.deepEqual(tombstones, [`${ns}/c`], 'the delete missed while away arrives as a tombstone');
      assert.equal(inf.store.getByKey(`${ns}/b`)?.data?.after, 'second restart');
      assert.deepEqual(seen, versions(inf.store.list()));
    } finally {
      await inf.stop();
    }
  });

  it('re-lists after a 410 Gone when its resourceVersion fell out of the watch cache', async () => {
    const ns = 'inf-gone';
    const ref = { ...Resources.configmaps, namespace: ns };
    await client.create(ref, configMap(ns, 'x'));
    const errors: unknown[] = [];
    // watches end after 2-4 s (long enough not to look like a "very short watch" on a loaded machine); the informer then watches again from its resourceVersion
    const inf = new SharedInformer<ConfigMap>(client, Resources.configmaps, { namespace: ns, minWatchTimeoutSeconds: 2, onError: (e) => errors.push(e) });
    const { seen } = mirror(inf);
    inf.start();
    try {
      await inf.waitForSync();
      // writes elsewhere move the revision on and push the informer's out of the ring (50)
      const other = { ...Resources.configmaps, namespace: 'inf-other' };
      for (let i = 0; i < 60; i++) await client.create(other, configMap('inf-other', `o-${i}`));
      const until = Date.now() + 30_000;
      while (!errors.some((e) => e instanceof GoneError) && Date.now() < until) await sleep(100);
      assert.ok(errors.some((e) => e instanceof GoneError), `expected a 410 Gone, saw ${errors.map(String).join('; ')}`);
      await client.create(ref, configMap(ns, 'y'));
      await converge(client, inf, ref);
      assert.ok(inf.listCount >= 2, 'the informer must have re-listed after 410');
      assert.deepEqual(seen, versions(inf.store.list()));
    } finally {
      await inf.stop();
    }
  });
});
