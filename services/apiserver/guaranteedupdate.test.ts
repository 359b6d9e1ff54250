import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats } from '../../lib/client/mod.js';
import type { StoreEntry } from '../../lib/store/kvstore.js';
import { testApiServer } from '../../test/apiserver.js';
import type { ApiServer } from './server.js';

const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
});

/**
 * Updates (patches, bindings) start from the watch cache's object without first waiting for
 * the cache to reach the store's revision, as upstream's Cacher.GuaranteedUpdate. The cache
 * is held stale here: the store's entries are kept back until something waits for a
 * consistent read.
 */
describe('apiserver updates from a stale watch cache', () => {
  let s: ApiServer & { natsUrl: string };
  let nc: NatsConnection;
  let api: ApiClient;
  let held: StoreEntry[] | undefined;
  let consistentWaits = 0;
  before(async () => {
    s = await testApiServer();
    nc = await connectNats(s.natsUrl, { name: 'guaranteed-update-test' });
    api = new ApiClient(nc);
    const cache = s.cache as any;
    const apply = cache.apply.bind(cache);
    cache.apply = (e: StoreEntry) => (held ? held.push(e) : apply(e));
    const waitConsistent = cache.waitConsistent.bind(cache);
    cache.waitConsistent = () => {
      consistentWaits++;
      for (const e of held?.splice(0) ?? []) apply(e);
      return waitConsistent();
    };
  });
  afterEach(() => {
    held = undefined;
    consistentWaits = 0;
  });
  after(async () => {
    api.close();
    await nc.close();
    await s.stop();
  });

  it('patches the cached object without waiting for the store revision', async () => {
    await api.create(pods, pod('fast'));
    held = [];
    consistentWaits = 0;
    const p: any = await api.patch({ ...pods, name: 'fast' }, 'merge', { metadata: { labels: { a: 'b' } } });
    assert.equal(p.metadata.labels.a, 'b');
    assert.equal(consistentWaits, 0, 'the first try read the cache as it was');
  });

  it('reads again before answering NotFound for an object the cache has not seen yet', async () => {
    held = [];
    await api.create(pods, pod('unseen'));
    assert.equal(s.cache.get('pods', 'default', 'unseen'), undefined, 'the cache is held stale');
    const p: any = await api.patch({ ...pods, name: 'unseen' }, 'merge', { metadata: { labels: { a: 'b' } } });
    assert.equal(p.metadata.labels.a, 'b');
  });

  it('deletes the cached object without waiting for the store revision', async () => {
    await api.create(pods, pod('quick-delete'));
    held = [];
    consistentWaits = 0;
    await api.delete({ ...pods, name: 'quick-delete' });
    assert.equal(consistentWaits, 0, 'the first try read the cache as it was');
    await assert.rejects(api.get({ ...pods, name: 'quick-delete' }), /not found/);
  });

  it('reads again before answering NotFound for a delete of an object the cache has not seen yet', async () => {
    held = [];
    await api.create(pods, pod('unseen-delete'));
    assert.equal(s.cache.get('pods', 'default', 'unseen-delete'), undefined, 'the cache is held stale');
    await api.delete({ ...pods, name: 'unseen-delete' });
    await assert.rejects(api.get({ ...pods, name: 'unseen-delete' }), /not found/);
  });

  it('checks a delete\'s failing UID precondition again on the current object', async () => {
    await api.create(pods, pod('recreated'));
    held = [];
    await api.delete({ ...pods, name: 'recreated' });
    const second: any = await api.create(pods, pod('recreated'));
    assert.notEqual(s.cache.get('pods', 'default', 'recreated')?.obj.metadata.uid, second.metadata.uid, 'the cache holds the first pod');
    await api.delete({ ...pods, name: 'recreated' }, { preconditions: { uid: second.metadata.uid } });
    await assert.rejects(api.get({ ...pods, name: 'recreated' }), /not found/);
    // and a precondition the current object fails is refused
    const third: any = await api.create(pods, pod('recreated'));
    await assert.rejects(api.delete({ ...pods, name: 'recreated' }, { preconditions: { uid: second.metadata.uid } }), /Precondition failed: UID/);
    assert.equal(((await api.get({ ...pods, name: 'recreated' })) as any).metadata.uid, third.metadata.uid);
  });

  it('tries what a stale object refused once more on the current one', async () => {
    await api.create(pods, pod('again'));
    held = [];
    await api.delete({ ...pods, name: 'again' });
    const second: any = await api.create(pods, pod('again'));
    assert.notEqual(s.cache.get('pods', 'default', 'again')?.obj.metadata.uid, second.metadata.uid, 'the cache holds the first pod');
    // the binding's UID precondition fails on the cached (deleted) pod and holds on the current one
    const [res] = await api.batchBind([{ namespace: 'default', name: 'again', node: 'n1', uid: second.metadata.uid }]);
    assert.equal((res as any).status, 'Success', String(res));
    const bound: any = await api.get({ ...pods, name: 'again' });
    assert.equal(bound.spec.nodeName, 'n1');
  });

  it('answers a binding of an already bound pod with Conflict, though the cache had it unbound', async () => {
    await api.create(pods, pod('twice'));
    held = [];
    const [first] = await api.batchBind([{ namespace: 'default', name: 'twice', node: 'n1' }]);
    assert.equal((first as any).status, 'Success');
    assert.equal(s.cache.get('pods', 'default', 'twice')?.obj.spec.nodeName, undefined, 'the cache holds the unbound pod');
    const [second] = await api.batchBind([{ namespace: 'default', name: 'twice', node: 'n2' }]);
    assert.equal((second as any).reason, 'Conflict');
    assert.match((second as Error).message, /already assigned to node "n1"/);
  });
});
