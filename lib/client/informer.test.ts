import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { GoneError } from '../api/errors.js';
import type { ApiClient } from './client.js';
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
