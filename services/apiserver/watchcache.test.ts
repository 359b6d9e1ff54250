import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ApiClient } from '../../lib/client/mod.js';
import { call, connectedApiServer, watchLines, type ConnectedApiServer } from '../../test/apiserver.js';
import { spawnFlotilla, stopChild, waitForServing } from '../../test/cluster.js';
import { sharedNats } from '../../test/harness.js';
import { rememberedJson } from './objectjson.js';

const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
const cm = (name: string, data: Record<string, string> = { k: 'v' }) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'x' } }, data });

describe('watch cache', () => {
  let s: ConnectedApiServer['server'];
  let conn: ConnectedApiServer;
  let api: ApiClient;
  before(async () => {
    conn = await connectedApiServer('watchcache-test', { watchCacheSize: 4, endpointReconcilerType: 'none' });
    s = conn.server;
    api = conn.client;
  });
  after(() => conn?.stop());

  it('keeps an object whose last change left the ring as its JSON text, and serves it as it was', async () => {
    const created: any = await api.create(cms, cm('cold', { k: 'v', u: 'ä€' }));
    const hot = s.cache.get('configmaps', 'default', 'cold')!;
    assert.equal(hot.obj, hot.obj, 'a recent object is kept parsed');
    for (let i = 0; i < 6; i++) await api.create(cms, cm(`later-${i}`));
    const listed = () => [...s.cache.list('configmaps', 'default')].find((c) => c.name === 'cold')!;
    const cold = listed();
    assert.notEqual(cold.obj, cold.obj, 'each read of a listed object parses the kept text');
    assert.equal(cold.json, JSON.stringify(created));
    assert.deepEqual(cold.obj, created);
    const page: any = await api.list(cms, { labelSelector: 'app=x' });
    assert.deepEqual(page.items.find((o: any) => o.metadata.name === 'cold'), created);
    assert.notEqual(listed().obj, listed().obj, 'a list leaves it as text');
    assert.deepEqual(await api.get({ ...cms, name: 'cold' }), created);
    const read = s.cache.get('configmaps', 'default', 'cold')!;
    assert.equal(read.obj, read.obj, 'a get keeps it parsed again');
    const patched: any = await api.patch({ ...cms, name: 'cold' }, 'merge', { data: { k: 'w' } });
    assert.equal(patched.data.k, 'w');
    assert.equal(patched.data.u, 'ä€');
    await s.cache.waitConsistent();
    const after = s.cache.get('configmaps', 'default', 'cold')!;
    assert.equal(after.obj, after.obj, 'a changed object is kept parsed again');
    assert.equal(after.obj.data.k, 'w');
  });

  it('keeps the JSON of an object it wrote for watch frames only while a watch is subscribed, not for an observer such as the Event TTL', async () => {
    const kept = async (name: string) => {
      await s.cache.waitConsistent();
      return rememberedJson(s.cache.get('configmaps', 'default', name)!.obj);
    };
    const seen: string[] = [];
    const stopObserving = s.cache.subscribe('configmaps', s.cache.revision, (ev) => seen.push(ev.name));
    await api.create(cms, cm('observed'));
    assert.equal(await kept('observed'), undefined, 'nobody would take it: a kept encoding would outlive its use');
    assert.ok(seen.includes('observed'), 'the observer had the event');
    const stopWatching = s.cache.subscribe('configmaps', s.cache.revision, () => undefined, { encodes: true });
    const watched: any = await api.create(cms, cm('watched'));
    const parts = await kept('watched');
    assert.equal(parts && Buffer.concat(parts).toString(), JSON.stringify(watched), 'kept for the watch, byte for byte its JSON');
    stopWatching();
    stopWatching();
    await api.create(cms, cm('unwatched'));
    assert.equal(await kept('unwatched'), undefined, 'not once the watch left (a second unsubscribe counts nothing)');
    stopObserving();
  });

  it('tells the revision of the last change to a resource: a create, an update, a delete', async () => {
    const before = s.cache.changedAt('configmaps');
    const created: any = await api.create(cms, cm('changing'));
    await s.cache.waitConsistent();
    assert.equal(s.cache.changedAt('configmaps'), Number(created.metadata.resourceVersion));
    assert.ok(s.cache.changedAt('configmaps') > before);
    const updated: any = await api.patch({ ...cms, name: 'changing' }, 'merge', { data: { k: 'w' } });
    await s.cache.waitConsistent();
    assert.equal(s.cache.changedAt('configmaps'), Number(updated.metadata.resourceVersion));
    await api.delete({ ...cms, name: 'changing' });
    const rev = await s.cache.waitConsistent();
    assert.equal(s.cache.changedAt('configmaps'), rev, 'the delete is the last change');
    const secrets = { group: '', version: 'v1', resource: 'secrets', namespace: 'default' };
    await api.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other' }, data: {} });
    await s.cache.waitConsistent();
    assert.equal(s.cache.changedAt('configmaps'), rev, 'another resource does not move it');
    assert.equal(s.cache.changedAt('no-such-resource'), 0);
  });

  it('lists in key order the objects created since the last list, not those deleted since, and continues a list after its last key', async () => {
    const names = () => [...s.cache.list('configmaps', 'default')].map((c) => c.name).filter((n) => n.startsWith('order-'));
    for (const n of ['order-b', 'order-a']) await api.create(cms, cm(n));
    await s.cache.waitConsistent();
    assert.deepEqual(names(), ['order-a', 'order-b']);
    for (const n of ['order-e', 'order-d', 'order-c', 'order-f']) await api.create(cms, cm(n));
    await api.delete({ ...cms, name: 'order-a' });
    await api.delete({ ...cms, name: 'order-f' });
    await api.delete({ ...cms, name: 'order-b' });
    await api.create(cms, cm('order-b'));
    await s.cache.waitConsistent();
    assert.deepEqual(names(), ['order-b', 'order-c', 'order-d', 'order-e']);
    assert.deepEqual([...s.cache.list('configmaps', 'default', 'default/order-c')].map((c) => c.name).filter((n) => n.startsWith('order-')), ['order-d', 'order-e']);
    await api.create(cms, cm('order-cc'));
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page: any = await api.list(cms, { limit: 2, continue: token });
      paged.push(...page.items.map((o: any) => o.metadata.name));
      token = page.metadata.continue || undefined;
    } while (token);
    assert.deepEqual(paged.filter((n) => n.startsWith('order-')), ['order-b', 'order-c', 'order-cc', 'order-d', 'order-e']);
    assert.deepEqual(paged, [...paged].sort(), 'pages in key order');
  });
});

describe('flotilla apiserver --watch-cache-size', function () {
  this.timeout(60_000);

  it('keeps that many recent events: a watch from before them is answered 410 Expired, one from within them replays the rest', async () => {
    const nats = await sharedNats();
    const apiserver = spawnFlotilla(['apiserver', '--nats', nats.url, '--port', '0', '--bucket', `t${randomUUID().slice(0, 8)}`, '--watch-cache-size', '5']);
    try {
      const base = await waitForServing(apiserver.child, 30_000);
      const path = '/api/v1/namespaces/default/configmaps';
      const versions: string[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await call(base, 'POST', path, cm(`ring-${i}`));
        assert.equal(created.status, 201);
        versions.push(created.body.metadata.resourceVersion);
      }
      // the first line of a watch: either the events after the resourceVersion or the ERROR
      const firstEvent = async (rv: string) => JSON.parse((await watchLines(`${base}${path}?watch=1&resourceVersion=${rv}`, 1))[0]!);
      const expired = await firstEvent(versions[0]);
      assert.equal(expired.type, 'ERROR');
      assert.equal(expired.object.code, 410);
      assert.equal(expired.object.reason, 'Expired');
      const replayed = await firstEvent(versions[8]);
      assert.equal(replayed.type, 'ADDED');
      assert.equal(replayed.object.metadata.name, 'ring-9');
    } finally {
      await stopChild(apiserver);
    }
  });

  it('refuses a size that is not a positive integer, saying which flag', async () => {
    const apiserver = spawnFlotilla(['apiserver', '--nats', 'nats://127.0.0.1:1', '--watch-cache-size', '0']);
    assert.notEqual(await apiserver.exited, 0);
    assert.match(apiserver.output(), /--watch-cache-size: expected an integer from 1 to \d+, got "0"/);
  });
});
