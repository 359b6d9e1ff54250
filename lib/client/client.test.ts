import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { Registry } from 'prom-client';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  NotFoundError,
  ServiceUnavailableError,
  StatusError,
  TimeoutError,
} from '../api/errors.js';
import { define, defineObject, field, fieldType } from '../schema/dsl.js';
import { registerKind } from '../schema/registry.js';
import { ApiClient } from './client.js';
import type { Watch } from './watch.js';
import { connectNats } from './connect.js';
import { API_PREFIX, type ResourceRef, type WatchEvent } from './protocol.js';

// A group of the test's own served in two versions, so discovery has a preferred version
// to choose: v2 (registered first, so served first and preferred) and v1, which alone
// serves `legacies`. Only get and list, so no controller in the same run acts on them.
const TYPE_PREFIX = 'io.flotilla.test.client.';
const WIDGET_GROUP = 'preferred.client.test.flotilla.io';
define(TYPE_PREFIX + 'WidgetSpec', 'WidgetSpec is a test type.', { size: field(1, fieldType.int32, 'Size of the widget.') });
for (const [version, kind] of [['v2', 'Widget'], ['v2', 'WidgetClass'], ['v1', 'Widget'], ['v1', 'Legacy']] as const) {
  defineObject(`${TYPE_PREFIX}${version}.${kind}`, `${kind} is a test kind standing in for a custom resource.`, {
    spec: field(2, fieldType.ref(TYPE_PREFIX + 'WidgetSpec'), 'Spec of the object.'),
    status: field(3, fieldType.ref(TYPE_PREFIX + 'WidgetSpec'), 'Status of the object.'),
  });
}
const testKind = (version: string, kind: string, plural: string, namespaced: boolean) =>
  registerKind({
    group: WIDGET_GROUP, version, kind, plural, singular: kind.toLowerCase(), namespaced,
    definition: `${TYPE_PREFIX}${version}.${kind}`, verbs: ['get', 'list'], subresources: ['status'], columns: [],
  });
testKind('v2', 'Widget', 'widgets', true);
testKind('v2', 'WidgetClass', 'widgetclasses', false);
testKind('v1', 'Widget', 'widgets', true);
testKind('v1', 'Legacy', 'legacies', true);

type ApiServer = { httpUrl: string; stop(): Promise<void> };

const configMap = (ns: string, name: string, data: Record<string, string> = {}, labels?: Record<string, string>): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: ns, name, labels },
  data,
});

async function nextEvents<T>(w: Watch<T>, n: number): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  for await (const ev of w) {
    if (ev.type === 'BOOKMARK') continue;
    out.push(ev);
    if (out.length === n) break;
  }
  return out;
}

describe('ApiClient transport failures (nats-server, no apiserver)', () => {
  let nc: NatsConnection;
  let client: ApiClient;

  before(async () => {
    const nats = await freshNats();
    nc = await connectNats(nats.url, { name: 'client-test-transport', waitOnFirstConnect: false });
    client = new ApiClient(nc, { requestTimeoutMs: 300 });
  });
  after(async () => {
    client.close();
    await nc.close();
  });

  it('no apiserver listening is ServiceUnavailable naming the subject and object', async () => {
    await assert.rejects(client.get({ group: '', version: 'v1', resource: 'pods', namespace: 'ns1', name: 'web' }), (e: unknown) => {
      assert.ok(e instanceof ServiceUnavailableError, `got ${e}`);
      assert.equal(e.code, 503);
      assert.match(e.message, new RegExp(`${API_PREFIX}\\.get`));
      assert.match(e.message, /pods ns1\/web/);
      return true;
    });
  });

  it('an apiserver that does not answer in time is a Timeout naming the subject and object', async () => {
    const silent = nc.subscribe(`${API_PREFIX}.create`);
    try {
      await assert.rejects(client.create({ group: 'apps', version: 'v1', resource: 'deployments' }, { metadata: { namespace: 'ns1', name: 'api' } }), (e: unknown) => {
        assert.ok(e instanceof TimeoutError, `got ${e}`);
        assert.equal(e.code, 504);
        assert.match(e.message, /flotilla\.api\.create/);
        assert.match(e.message, /deployments\.apps ns1\/api/);
        return true;
      });
    } finally {
      silent.unsubscribe();
    }
  });

  it('a watch with no apiserver fails its ready promise and its iteration with ServiceUnavailable', async () => {
    const w = client.watch({ group: '', version: 'v1', resource: 'pods' });
    await assert.rejects(w.ready, ServiceUnavailableError);
    await assert.rejects(nextEvents(w, 1), ServiceUnavailableError);
    assert.equal(w.closed, true);
  });

  it('a watch omitting managedFields cuts them from frames itself only when the apiserver\'s first frame does not say it left them out', async () => {
    // an apiserver of the test's own: its objects keep a managedFields member, so a cut shows
    const object = { metadata: { name: 'cm', managedFields: [{ manager: 'm' }] }, data: { k: 'v' } };
    const served = nc.subscribe(`${API_PREFIX}.watch`, {
      callback: (_e, m) => {
        const req = JSON.parse(new TextDecoder().decode(m.data));
        const says = req.namespace === 'says';
        nc.publish(m.reply!, JSON.stringify(says ? { control: `${API_PREFIX}.watchctl.t.says`, managedFieldsOmitted: true } : { control: `${API_PREFIX}.watchctl.t.silent` }));
        nc.publish(m.reply!, JSON.stringify({ events: [{ type: 'ADDED', object }] }));
      },
    });
    try {
      const read = async (namespace: string) => {
        const w = client.watch({ group: '', version: 'v1', resource: 'configmaps', namespace }, {}, { omitManagedFields: true });
        try {
          return (await nextEvents(w, 1))[0]!.object as any;
        } finally {
          w.stop();
        }
      };
      // it said so: the frame is read as sent (the apiserver's cut is its top-level metadata's alone)
      assert.deepEqual(await read('says'), object);
      // it did not say so (an apiserver without the option): cut by the client
      assert.deepEqual(await read('silent'), { metadata: { name: 'cm' }, data: { k: 'v' } });
    } finally {
      served.unsubscribe();
    }
  });

  it('counts failed requests in rest_client_requests_total', async () => {
    const registry = new Registry();
    const c = new ApiClient(nc, { requestTimeoutMs: 300, registry, host: 'nats' });
    await assert.rejects(c.list({ group: '', version: 'v1', resource: 'pods' }));
    const text = await registry.metrics();
    assert.match(text, /rest_client_requests_total\{code="<error>",method="GET",host="nats"\} 1/);
    assert.match(text, /rest_client_request_duration_seconds_count\{verb="GET",host="nats"\} 1/);
    c.close();
  });
});

describe('ApiClient against the apiserver over NATS', function () {
  this.timeout(60_000);
  const NS = 'client-test';
  const cms: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespace: NS };
  let natsUrl: string;
  let server: ApiServer;
  let nc: NatsConnection;
  let client: ApiClient;
  let registry: Registry;

  before(async () => {
    const nats = await freshNats();
    natsUrl = nats.url;
    server = await testApiServer({ natsUrl, bucket: 'client-test' });
    nc = await connectNats(natsUrl, { name: 'client-test' });
    registry = new Registry();
    client = new ApiClient(nc, { requestTimeoutMs: 10_000, registry, host: 'test' });
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('creates, gets, updates, patches, lists and deletes an object', async () => {
    const created = await client.create(cms, configMap(NS, 'crud', { a: '1' }, { app: 'crud' }));
    assert.equal(created.metadata?.name, 'crud');
    assert.ok(created.metadata?.resourceVersion, 'the server sets resourceVersion');
    assert.ok(created.metadata?.uid, 'the server sets uid');

    const got = await client.get<ConfigMap>({ ...cms, name: 'crud' });
    assert.deepEqual(got.data, { a: '1' });

    const updated = await client.update<ConfigMap>(cms, { ...got, data: { a: '2' } });
    assert.deepEqual(updated.data, { a: '2' });
    assert.ok(Number(updated.metadata!.resourceVersion) > Number(got.metadata!.resourceVersion));

    const patched = await client.patch<ConfigMap>({ ...cms, name: 'crud' }, 'merge', { data: { b: '3' } });
    assert.deepEqual(patched.data, { a: '2', b: '3' });

    const list = await client.list<ConfigMap>(cms, { labelSelector: 'app=crud' });
    assert.deepEqual(
      list.items.map((i) => i.metadata?.name),
      ['crud'],
    );
    assert.ok(list.metadata.resourceVersion);

    await client.delete({ ...cms, name: 'crud' });
    await assert.rejects(client.get({ ...cms, name: 'crud' }), NotFoundError);
  });

  it('reports 404, 409 AlreadyExists and 409 Conflict as typed errors', async () => {
    await assert.rejects(client.get({ ...cms, name: 'missing' }), (e: unknown) => {
      assert.ok(e instanceof NotFoundError, `got ${e}`);
      assert.equal(e.code, 404);
      assert.match(e.message, /"missing" not found/);
      return true;
    });
    const first = await client.create(cms, configMap(NS, 'dup'));
    await assert.rejects(client.create(cms, configMap(NS, 'dup')), (e: unknown) => e instanceof AlreadyExistsError && e.code === 409);
    await client.update(cms, { ...first, data: { x: 'new' } });
    // the first copy's resourceVersion is stale now
    await assert.rejects(client.update(cms, { ...first, data: { x: 'stale' } }), (e: unknown) => e instanceof ConflictError && e.code === 409);
    const text = await registry.metrics();
    assert.match(text, /rest_client_requests_total\{code="404",method="GET",host="test"\} [1-9]/);
    assert.match(text, /rest_client_requests_total\{code="409",method="PUT",host="test"\} 1/);
  });

  it('the typed resource handle reaches the same objects', async () => {
    const configmaps = client.resource<ConfigMap>('', 'v1', 'configmaps').namespace(NS);
    await configmaps.create(configMap(NS, 'typed', { k: 'v' }));
    assert.deepEqual((await configmaps.get('typed')).data, { k: 'v' });
    const names = (await configmaps.list()).items.map((i) => i.metadata?.name);
    assert.ok(names.includes('typed'));
    await configmaps.delete('typed');
    await assert.rejects(configmaps.get('typed'), NotFoundError);
  });

  it('a watch delivers ADDED, MODIFIED and DELETED in order', async () => {
    const list = await client.list(cms);
    const w = client.watch<ConfigMap>(cms, { resourceVersion: list.metadata.resourceVersion });
    await w.ready;
    const events = nextEvents(w, 3);
    const c = await client.create(cms, configMap(NS, 'watched', { v: '1' }));
    const u = await client.update(cms, { ...c, data: { v: '2' } });
    await client.delete({ ...cms, name: 'watched' });
    const got = await events;
    assert.deepEqual(
      got.map((e) => [e.type, e.object.metadata?.name]),
      [
        ['ADDED', 'watched'],
        ['MODIFIED', 'watched'],
        ['DELETED', 'watched'],
      ],
    );
    assert.equal(got[1].object.metadata?.resourceVersion, u.metadata?.resourceVersion);
    assert.deepEqual(got[1].object.data, { v: '2' });
    assert.equal(w.closed, true, 'leaving the loop stops the watch');
  });

  it('a NATS reconnect fails open watches (frames may have been lost) while requests carry on', async () => {
    const own = await connectNats(natsUrl, { name: 'client-test-reconnect' });
    const c = new ApiClient(own, { requestTimeoutMs: 10_000 });
    try {
      const w = c.watch(cms, { resourceVersion: (await c.list(cms)).metadata.resourceVersion });
      await w.ready;
      const reconnected = (async () => {
        for await (const s of own.status()) if (s.type === 'reconnect') return;
      })();
      await own.reconnect();
      await assert.rejects(nextEvents(w, 1), (e: unknown) => {
        assert.ok(e instanceof ServiceUnavailableError, `got ${e}`);
        assert.match(e.message, /NATS connection lost/);
        return true;
      });
      // a request sent while the connection was down may be lost; once back, requests work
      await reconnected;
      assert.equal((await c.get<ConfigMap>({ ...cms, name: 'dup' })).metadata?.name, 'dup');
    } finally {
      c.close();
      await own.close();
    }
  });

  it('batchCreate returns each object or its typed error, in order', async () => {
    const results = await client.batchCreate([
      { ...cms, body: configMap(NS, 'batch-1') },
      { ...cms, body: configMap(NS, 'batch-1') },
      { ...cms, body: configMap(NS, 'batch-2') },
    ]);
    assert.equal(results.length, 3);
    assert.equal((results[0] as ConfigMap).metadata?.name, 'batch-1');
    assert.ok(results[1] instanceof AlreadyExistsError, `got ${results[1]}`);
    assert.equal((results[2] as ConfigMap).metadata?.name, 'batch-2');
  });

  it('batchCreateOutcomes says only whether each item was created: undefined or its typed error, in order', async () => {
    const all = await client.batchCreateOutcomes([
      { ...cms, body: configMap(NS, 'outcome-1') },
      { ...cms, body: configMap(NS, 'outcome-2') },
    ]);
    assert.deepEqual(all, [undefined, undefined]);
    assert.equal((await client.get<ConfigMap>({ ...cms, name: 'outcome-2' })).metadata?.name, 'outcome-2');
    const mixed = await client.batchCreateOutcomes([
      { ...cms, body: configMap(NS, 'outcome-1') },
      { ...cms, body: configMap(NS, 'outcome-3') },
      { ...cms, body: { ...configMap(NS, 'outcome-4'), data: { note: '"Failure" in an object only means the reply is decoded' } } },
    ]);
    assert.equal(mixed.length, 3);
    assert.ok(mixed[0] instanceof AlreadyExistsError, `got ${mixed[0]}`);
    assert.deepEqual(mixed.slice(1), [undefined, undefined]);
    const quoted = await client.batchCreateOutcomes([{ ...cms, body: { ...configMap(NS, 'outcome-5'), data: { note: '"Failure"' } } }]);
    assert.deepEqual(quoted, [undefined]);
    const unknown = await client.batchCreateOutcomes([{ ...cms, body: configMap(NS, 'outcome-6') }, { ...cms, resource: 'nosuchthings', body: configMap(NS, 'x') }]);
    assert.equal(unknown[0], undefined);
    assert.ok(unknown[1] instanceof StatusError && unknown[1].code === 404, `got ${unknown[1]}`);
  });

  it('serverPreferredResources lists each group\'s preferred version, without subresources, filtered by scope', async () => {
    const names = (lists: Array<{ groupVersion: string; resources: Array<{ name: string }> }>, gv: string) =>
      lists.filter((l) => l.groupVersion === gv).flatMap((l) => l.resources.map((r) => r.name));
    const ofGroup = (lists: Array<{ groupVersion: string }>) => lists.filter((l) => l.groupVersion.startsWith(`${WIDGET_GROUP}/`));

    const namespaced = await client.serverPreferredResources({ namespaced: true });
    // widgets from the preferred v2 only; legacies, which only v1 serves, from v1
    assert.deepEqual(
      ofGroup(namespaced).map((l: any) => [l.groupVersion, l.resources.map((r: any) => r.name)]),
      [[`${WIDGET_GROUP}/v2`, ['widgets']], [`${WIDGET_GROUP}/v1`, ['legacies']]],
    );
    assert.ok(names(namespaced, 'v1').includes('pods'));
    assert.ok(names(namespaced, 'apps/v1').includes('deployments'));
    assert.ok(!names(namespaced, 'v1').includes('nodes'), 'nodes are cluster-scoped');
    assert.ok(!names(namespaced, 'v1').includes('namespaces'), 'namespaces are cluster-scoped');
    for (const l of namespaced) for (const r of l.resources) {
      assert.ok(r.namespaced, `${l.groupVersion} ${r.name} is namespaced`);
      assert.ok(!r.name.includes('/'), `${l.groupVersion} ${r.name} is no subresource`);
    }

    const cluster = await client.serverPreferredResources({ namespaced: false });
    assert.deepEqual(ofGroup(cluster).map((l: any) => [l.groupVersion, l.resources.map((r: any) => r.name)]), [[`${WIDGET_GROUP}/v2`, ['widgetclasses']]]);
    assert.ok(names(cluster, 'v1').includes('nodes') && names(cluster, 'v1').includes('namespaces'));
    assert.ok(!names(cluster, 'v1').includes('pods'), 'pods are namespaced');
    assert.ok(cluster.every((l) => l.resources.every((r) => !r.namespaced)));

    const all = await client.serverPreferredResources();
    assert.deepEqual(names(all, `${WIDGET_GROUP}/v2`), ['widgets', 'widgetclasses']);
    assert.deepEqual(names(all, `${WIDGET_GROUP}/v1`), ['legacies']);
    assert.ok(!names(all, 'v1').some((n) => n.includes('/')), 'pods/status and the like are left out');
    // the discovery itself has both versions and the subresources
    const d = await client.discovery();
    const group = d.groups.groups.find((g) => g.name === WIDGET_GROUP);
    assert.deepEqual(group?.preferredVersion, { groupVersion: `${WIDGET_GROUP}/v2`, version: 'v2' });
    assert.deepEqual(group?.versions.map((v) => v.version), ['v2', 'v1']);
    assert.deepEqual(names([d.resources.find((l) => l.groupVersion === `${WIDGET_GROUP}/v1`)!], `${WIDGET_GROUP}/v1`), ['widgets', 'widgets/status', 'legacies', 'legacies/status']);
  });

  it('a watch from a resourceVersion older than the watch cache fails with GoneError (410)', async () => {
    for (let i = 0; i < 5; i++) await client.create(cms, configMap(NS, `gone-${i}`));
    // a new apiserver's watch cache starts at the store's current revision, so revision
    // 1 is older than anything it can replay
    await server.stop();
    server = await testApiServer({ natsUrl, bucket: 'client-test' });
    const w = client.watch(cms, { resourceVersion: '1' });
    await assert.rejects(nextEvents(w, 1), (e: unknown) => {
      assert.ok(e instanceof GoneError, `got ${e}`);
      assert.equal((e as StatusError).code, 410);
      return true;
    });
  });
});
