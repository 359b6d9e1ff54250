import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { connectedApiServer, testApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { metaMicroTime } from '../../lib/api/time.js';
import type { ApiClient } from '../../lib/client/mod.js';
import { ENDPOINT_ANNOTATION, IDENTITY_LABEL } from './kubernetesservice.js';

const SVC = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
const SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: 'default' };
const ENDPOINTS = { group: '', version: 'v1', resource: 'endpoints', namespace: 'default' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' };

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the kubernetes Service and its endpoints (real apiservers)', function () {
  this.timeout(60_000);
  let api: ConnectedApiServer;
  let client: ApiClient;
  const listed = async () => {
    const s = await client.get<EndpointSlice>({ ...SLICES, name: 'kubernetes' }).catch(() => undefined);
    return (s?.endpoints ?? []).map((e) => e.addresses[0]).sort();
  };

  before(async () => {
    api = await connectedApiServer('kubernetes-service-test', { advertiseAddress: '192.0.2.1', advertisePort: 6443, endpointLeaseSeconds: 2 });
    client = api.client;
  });
  after(() => api?.stop());

  it('creates the kubernetes Service at the first IP of the range, port 443 to the apiserver', async () => {
    const s = await client.get<Service>({ ...SVC, name: 'kubernetes' });
    assert.equal(s.spec?.clusterIP, '10.96.0.1');
    assert.deepEqual(s.spec?.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
    assert.deepEqual(s.metadata?.labels, { component: 'apiserver', provider: 'kubernetes' });
    assert.equal(s.spec?.selector, undefined);
    const taken = await client.create<Service>(SVC, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'squatter' }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } }).catch((e) => e);
    assert.equal(taken.code, 422);
  });

  it('lists the apiserver in the EndpointSlice and Endpoints, as upstream\'s lease reconciler writes them', async () => {
    await eventually('the slice lists the apiserver', async () => (await listed()).join() === '192.0.2.1');
    const s = await client.get<EndpointSlice>({ ...SLICES, name: 'kubernetes' });
    assert.deepEqual(s.metadata?.labels, { 'kubernetes.io/service-name': 'kubernetes' });
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.endpoints, [{ addresses: ['192.0.2.1'], conditions: { ready: true } }]);
    assert.deepEqual(s.ports, [{ name: 'https', port: 6443, protocol: 'TCP' }]);
    const ep = await client.get<any>({ ...ENDPOINTS, name: 'kubernetes' });
    assert.deepEqual(ep.metadata.labels, { 'endpointslice.kubernetes.io/skip-mirror': 'true' });
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
    const leases = await client.list<any>(LEASES, { labelSelector: `${IDENTITY_LABEL}=kube-apiserver` });
    assert.equal(leases.items.length, 1);
    assert.equal(leases.items[0].metadata.annotations[ENDPOINT_ANNOTATION], '192.0.2.1:6443');
  });

  it('adds a second apiserver on the same bucket and drops it when it stops', async () => {
    const second = await testApiServer({ natsUrl: api.server.natsUrl, bucket: api.server.bucket, advertiseAddress: '192.0.2.2', advertisePort: 6443, endpointLeaseSeconds: 2 });
    try {
      await eventually('both apiservers listed', async () => (await listed()).join() === '192.0.2.1,192.0.2.2');
    } finally {
      await second.stop();
    }
    await eventually('the stopped one left the list', async () => (await listed()).join() === '192.0.2.1', 3_000);
  });

  it('drops an apiserver whose Lease expired (one that died without stopping)', async () => {
    await client.create(LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'apiserver-dead', namespace: 'kube-system', labels: { [IDENTITY_LABEL]: 'kube-apiserver' }, annotations: { [ENDPOINT_ANNOTATION]: '192.0.2.9:6443' } },
      spec: { holderIdentity: 'apiserver-dead_x', leaseDurationSeconds: 2, renewTime: metaMicroTime() },
    });
    await eventually('the dead one is listed while its Lease lasts', async () => (await listed()).includes('192.0.2.9'));
    await eventually('and dropped once it expired', async () => (await listed()).join() === '192.0.2.1', 6_000);
    await eventually('its Lease deleted', async () => !(await client.list<any>(LEASES)).items.some((l) => l.metadata.name === 'apiserver-dead'));
  });

  it('brings the Service back when it is deleted', async () => {
    await client.delete({ ...SVC, name: 'kubernetes' });
    await eventually('the kubernetes Service is back', async () => {
      const s = await client.get<Service>({ ...SVC, name: 'kubernetes' }).catch(() => undefined);
      return s?.spec?.clusterIP === '10.96.0.1';
    });
  });
});
