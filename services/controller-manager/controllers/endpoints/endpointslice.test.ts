import assert from 'node:assert/strict';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiClient, ENDPOINT_SLICES, Resources } from '../../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../../testing/controllers.js';
import { waitFor } from '../../../../test/wait.js';
import { createPods, service, setPodStatus } from '../../testing/pods.js';

const NS = 'default';

describe('EndpointSlice controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const slicesOf = async (svc: string) =>
    (await client.list<EndpointSlice>({ ...ENDPOINT_SLICES, namespace: NS }, { labelSelector: `kubernetes.io/service-name=${svc}` })).items;
  const endpointCount = (slices: EndpointSlice[]) => slices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);

  before(async () => {
    cluster = await startControllerCluster('endpointslice-test', ['endpointslice-controller'], (c) =>
      c.create({ ...Resources.nodes }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } }),
    );
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('lists the pods of a Service with an IP in an owned, labelled IPv4 slice, resolving named target ports', async () => {
    const svc = await client.create(
      { ...Resources.services, namespace: NS },
      service('web', [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'metrics', port: 9000, targetPort: 9100 },
      ], { tier: 'front' }),
    );
    await createPods(client, [
      { name: 'web-a', app: 'web', ip: '10.0.0.1', ready: true, node: 'node-a', ports: { http: 8080 } },
      { name: 'web-b', app: 'web', ip: '10.0.0.2', ready: false, node: 'node-a', ports: { http: 8080 } },
      { name: 'web-noip', app: 'web', ports: { http: 8080 } },
      { name: 'other', app: 'other', ip: '10.0.0.9', ready: true },
    ]);
    const [slice] = await waitFor('a slice with 2 endpoints', async () => {
      const s = await slicesOf('web');
      return s.length === 1 && endpointCount(s) === 2 ? s : undefined;
    });
    assert.equal(slice!.addressType, 'IPv4');
    assert.match(slice!.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.equal(slice!.metadata!.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice!.metadata!.labels!.tier, 'front');
    // when the change behind it happened (the proxy's network programming latency starts there)
    assert.match(slice!.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(slice!.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(
      slice!.ports!.map((p) => [p.name, p.port, p.protocol]),
      [['http', 8080, 'TCP'], ['metrics', 9100, 'TCP']],
    );
    const byIp = new Map(slice!.endpoints.map((e) => [e.addresses[0], e]));
    const a = byIp.get('10.0.0.1')!;
    assert.deepEqual(a.conditions, { ready: true, serving: true, terminating: false });
    assert.equal(a.nodeName, 'node-a');
    assert.equal(a.zone, 'zone-1');
    assert.equal(a.targetRef?.kind, 'Pod');
    assert.equal(a.targetRef?.name, 'web-a');
    assert.ok(a.targetRef?.uid);
    assert.deepEqual(byIp.get('10.0.0.2')!.conditions, { ready: false, serving: false, terminating: false });
  });

  it('puts a pod whose named port resolves differently into a slice of its own', async () => {
    await createPods(client, [{ name: 'web-c', app: 'web', ip: '10.0.0.3', ready: true, ports: { http: 8081 } }]);
    const slices = await waitFor('2 slices', async () => {
      const s = await slicesOf('web');
      return s.length === 2 && endpointCount(s) === 3 ? s : undefined;
    });
    const other = slices.find((s) => s.ports!.some((p) => p.port === 8081))!;
    assert.deepEqual(other.endpoints.map((e) => e.addresses[0]), ['10.0.0.3']);
  });

  it('updates the endpoint whose readiness changed and rewrites no other slice', async () => {
    const before = await slicesOf('web');
    const untouched = before.find((s) => s.ports!.some((p) => p.port === 8081))!;
    await setPodStatus(client, 'web-b', '10.0.0.2', true);
    await waitFor('web-b ready', async () => {
      const s = await slicesOf('web');
      return s.some((x) => x.endpoints.some((e) => e.addresses[0] === '10.0.0.2' && e.conditions?.ready === true));
    });
    const after = await slicesOf('web');
    assert.equal(after.find((s) => s.metadata!.name === untouched.metadata!.name)!.metadata!.resourceVersion, untouched.metadata!.resourceVersion);
    // a pod change that alters no endpoint writes nothing
    const rvs = after.map((s) => s.metadata!.resourceVersion).sort();
    await client.patch({ ...Resources.pods, namespace: NS, name: 'web-a' }, 'merge', { metadata: { annotations: { touched: 'yes' } } });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await slicesOf('web')).map((s) => s.metadata!.resourceVersion).sort(), rvs);
  });

  it('splits more than 100 endpoints into slices of at most 100', async () => {
    await client.create({ ...Resources.services, namespace: NS }, service('big', [{ name: 'http', port: 80, targetPort: 8080 }]));
    await createPods(client, Array.from({ length: 105 }, (_, i) => ({ name: `big-${i}`, app: 'big', ip: `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, ready: true })));
    const slices = await waitFor('105 endpoints', async () => {
      const s = await slicesOf('big');
      return endpointCount(s) === 105 ? s : undefined;
    });
    assert.equal(slices.length, 2);
    for (const s of slices) assert.ok(s.endpoints.length <= 100, `${s.metadata!.name} has ${s.endpoints.length}`);
    const ips = slices.flatMap((s) => s.endpoints.map((e) => e.addresses[0]));
    assert.equal(new Set(ips).size, 105);
  });

  it('removes the endpoints of deleted pods, and the slices when none remain', async () => {
    await client.create({ ...Resources.services, namespace: NS }, service('gone', [{ name: 'http', port: 80 }]));
    await createPods(client, [
      { name: 'gone-a', app: 'gone', ip: '10.2.0.1', ready: true },
      { name: 'gone-b', app: 'gone', ip: '10.2.0.2', ready: true },
    ]);
    await waitFor('2 endpoints', async () => endpointCount(await slicesOf('gone')) === 2);
    await client.delete({ ...Resources.pods, namespace: NS, name: 'gone-a' }, { gracePeriodSeconds: 0 });
    const one = await waitFor('1 endpoint', async () => {
      const s = await slicesOf('gone');
      return endpointCount(s) === 1 ? s : undefined;
    });
    assert.equal(one[0]!.endpoints[0]!.addresses[0], '10.2.0.2');
    assert.equal(one[0]!.ports![0]!.port, 80, 'an unset targetPort is the Service port');
    await client.delete({ ...Resources.pods, namespace: NS, name: 'gone-b' }, { gracePeriodSeconds: 0 });
    await waitFor('no slices', async () => (await slicesOf('gone')).length === 0);
  });

  it('deletes the slices of a deleted Service', async () => {
    await waitFor('slices of big', async () => (await slicesOf('big')).length === 2);
    await client.delete({ ...Resources.services, namespace: NS, name: 'big' });
    await waitFor('no slices of big', async () => (await slicesOf('big')).length === 0);
  });
});
