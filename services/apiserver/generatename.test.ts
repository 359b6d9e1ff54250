import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../lib/client/mod.js';
import '../../lib/schema/kinds/mod.js';
import { KvStore } from '../../lib/store/kvstore.js';
import { sharedNats } from '../../test/harness.js';
import { findKind } from './kinds.js';
import { ObjectStorage } from './storage.js';
import { WatchCache } from './watchcache.js';

const configMaps = findKind('', 'v1', 'configmaps')!;
const cm = (metadata: object) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { k: 'v' } });

/**
 * A create with generateName draws its names from `nameSuffix` here, and the store's creates
 * are recorded (the real store still makes them): which keys the store was asked for shows
 * whether a colliding name cost a store round trip.
 */
describe('apiserver generateName', () => {
  let nc: NatsConnection;
  let store: KvStore;
  let cache: WatchCache;
  let storage: ObjectStorage;
  let asked: string[];

  const draws = (...suffixes: string[]) => {
    storage.nameSuffix = () => {
      const s = suffixes.shift();
      if (s === undefined) throw new Error('the test ran out of names');
      return s;
    };
  };

  before(async () => {
    nc = await connectNats((await sharedNats()).url, { name: 'generatename-test' });
    store = await KvStore.open(nc, { bucket: `g${randomUUID().slice(0, 8)}` });
    cache = new WatchCache(store);
    await cache.start();
    storage = new ObjectStorage(store, cache);
    await storage.create(findKind('', 'v1', 'namespaces')!, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, { warnings: [] });
    const create = store.create.bind(store);
    store.create = (key, value) => {
      asked.push(key);
      return create(key, value);
    };
  });
  beforeEach(() => (asked = []));
  after(async () => {
    cache.stop();
    await nc.close();
  });

  it('draws again, without asking the store, a name the watch cache holds', async () => {
    await storage.create(configMaps, 'default', cm({ name: 'gen-bbbbb' }), { warnings: [] });
    await cache.waitConsistent();
    asked = [];
    draws('bbbbb', 'ccccc');
    const made = await storage.create(configMaps, 'default', cm({ generateName: 'gen-' }), { warnings: [] });
    assert.equal(made.metadata.name, 'gen-ccccc');
    assert.deepEqual(asked, [storage.key(configMaps, 'default', 'gen-ccccc')]);
  });

  it('draws again when the store holds a name the watch cache has not seen yet', async () => {
    // the cache is held back: it has not seen the key written behind its back
    const c = cache as any;
    const apply = c.apply;
    const held: unknown[] = [];
    c.apply = (e: unknown) => held.push(e);
    await store.create(storage.key(configMaps, 'default', 'gen-ddddd'), new TextEncoder().encode(JSON.stringify(cm({ name: 'gen-ddddd', namespace: 'default' }))));
    asked = [];
    draws('ddddd', 'eeeee');
    let made: any;
    try {
      made = await storage.create(configMaps, 'default', cm({ generateName: 'gen-' }), { warnings: [] });
    } finally {
      c.apply = apply;
      for (const e of held) c.apply(e);
    }
    assert.equal(made.metadata.name, 'gen-eeeee');
    assert.deepEqual(asked, ['gen-ddddd', 'gen-eeeee'].map((n) => storage.key(configMaps, 'default', n)));
  });
});
