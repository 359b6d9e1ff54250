import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import { call, connectedApiServer, testApiServer, type ConnectedApiServer } from '../../../test/apiserver.js';
import { StatusError } from '../../../lib/api/errors.js';
import type { ApiClient } from '../../../lib/client/mod.js';
import { cidrContains } from '../../../lib/net/mod.js';

const SVC = { group: '', version: 'v1', resource: 'services', namespace: 'default' };

function svc(name: string, spec: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...spec } as Service['spec'],
  };
}

async function rejection(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StatusError, `got ${e}`);
    return e;
  }
  assert.fail('the write was accepted');
}

const inRange = (ip: string | undefined) => !!ip && cidrContains('10.96.0.0/12', ip) && ip !== '10.96.0.0' && ip !== '10.111.255.255';
const nodePortOk = (n: number | undefined) => !!n && n >= 30000 && n <= 32767;

describe('Service cluster IPs and node ports (real apiserver)', function () {
  this.timeout(60_000);
  let api: ConnectedApiServer;
  let client: ApiClient;

  before(async () => {
    api = await connectedApiServer('serviceips-test');
    client = api.client;
  });
  after(() => api?.stop());

  it('allocates a cluster IP from 10.96.0.0/12 and sets upstream defaults', async () => {
    const s = await client.create<Service>(SVC, svc('plain'));
    assert.ok(inRange(s.spec?.clusterIP), s.spec?.clusterIP);
    assert.deepEqual(s.spec?.clusterIPs, [s.spec?.clusterIP]);
    assert.deepEqual(s.spec?.ipFamilies, ['IPv4']);
    assert.equal(s.spec?.ipFamilyPolicy, 'SingleStack');
    assert.equal(s.spec?.internalTrafficPolicy, 'Cluster');
    assert.equal(s.spec?.sessionAffinity, 'None');
    assert.equal(s.spec?.type, 'ClusterIP');
    assert.equal(s.spec?.externalTrafficPolicy, undefined);
    const got = await client.get<Service>({ ...SVC, name: 'plain' });
    assert.equal(got.spec?.clusterIP, s.spec?.clusterIP);
  });

  it('reserves a chosen IP, answers 422 for a taken or out-of-range one, and frees it on delete', async () => {
    const a = await client.create<Service>(SVC, svc('chosen-a', { clusterIP: '10.96.0.50' }));
    assert.deepEqual(a.spec?.clusterIPs, ['10.96.0.50']);
    const e = await rejection(client.create<Service>(SVC, svc('chosen-b', { clusterIP: '10.96.0.50' })));
    assert.equal(e.code, 422);
    assert.equal(e.reason, 'Invalid');
    assert.equal(
      e.message,
      'Service "chosen-b" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated',
    );
    assert.equal((e.details?.causes ?? [])[0]?.field, 'spec.clusterIPs');
    const out = await rejection(client.create<Service>(SVC, svc('chosen-c', { clusterIPs: ['10.0.0.9'] } as any)));
    assert.equal(out.code, 422);
    assert.match(out.message, /failed to allocate IP 10\.0\.0\.9: the provided IP \(10\.0\.0\.9\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/);
    const network = await rejection(client.create<Service>(SVC, svc('chosen-d', { clusterIP: '10.96.0.0' })));
    assert.equal(network.code, 422);
    await client.delete({ ...SVC, name: 'chosen-a' });
    const b = await client.create<Service>(SVC, svc('chosen-b', { clusterIP: '10.96.0.50' }));
    assert.equal(b.spec?.clusterIP, '10.96.0.50');
  });

  it('allocates node ports for NodePort and LoadBalancer Services, with a health check port for Local', async () => {
    const np = await client.create<Service>(SVC, svc('np', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] }));
    const ports = np.spec?.ports?.map((p) => p.nodePort) ?? [];
    assert.ok(ports.every(nodePortOk), String(ports));
    assert.notEqual(ports[0], ports[1]);
    assert.equal(np.spec?.externalTrafficPolicy, 'Cluster');
    const lb = await client.create<Service>(SVC, svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    assert.ok(nodePortOk(lb.spec?.ports?.[0].nodePort));
    assert.ok(nodePortOk(lb.spec?.healthCheckNodePort));
    assert.equal(lb.spec?.allocateLoadBalancerNodePorts, true);
    const noPorts = await client.create<Service>(SVC, svc('lb-none', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }));
    assert.equal(noPorts.spec?.ports?.[0].nodePort, undefined);
    // 53/TCP and 53/UDP share one node port
    const dns = await client.create<Service>(SVC, svc('np-dns', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }));
    assert.equal(dns.spec?.ports?.[0].nodePort, dns.spec?.ports?.[1].nodePort);
  });

  it('answers 422 for a taken node port and leaks nothing from the failed create', async () => {
    await client.create<Service>(SVC, svc('np-fixed', { type: 'NodePort', ports: [{ port: 80, nodePort: 30555 }] }));
    const e = await rejection(client.create<Service>(SVC, svc('np-clash', { type: 'NodePort', clusterIP: '10.96.0.77', ports: [{ port: 80, nodePort: 30555 }] })));
    assert.equal(e.code, 422);
    assert.equal(e.message, 'Service "np-clash" is invalid: spec.ports[0].nodePort: Invalid value: 30555: provided port is already allocated');
    const range = await rejection(client.create<Service>(SVC, svc('np-range', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })));
    assert.match(range.message, /provided port is not in the valid range\. The range of valid ports is 30000-32767/);
    // the IP the failed create reserved first was given back
    const ok = await client.create<Service>(SVC, svc('np-after', { clusterIP: '10.96.0.77' }));
    assert.equal(ok.spec?.clusterIP, '10.96.0.77');
  });

  it('releases node ports when a NodePort Service becomes ClusterIP, and the IP when it becomes ExternalName', async () => {
    const s = await client.create<Service>(SVC, svc('morph', { type: 'NodePort', clusterIP: '10.96.0.88', ports: [{ port: 80, nodePort: 30666 }] }));
    assert.equal(s.spec?.ports?.[0].nodePort, 30666);
    const c = await client.patch<Service>({ ...SVC, name: 'morph' }, 'merge', { spec: { type: 'ClusterIP' } });
    assert.equal(c.spec?.ports?.[0].nodePort, undefined);
    assert.equal(c.spec?.externalTrafficPolicy, undefined);
    await client.create<Service>(SVC, svc('takes-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 30666 }] }));
    const x = await client.patch<Service>({ ...SVC, name: 'morph' }, 'merge', { spec: { type: 'ExternalName', externalName: 'example.com' } });
    assert.equal(x.spec?.clusterIP, undefined);
    const y = await client.create<Service>(SVC, svc('takes-ip', { clusterIP: '10.96.0.88' }));
    assert.equal(y.spec?.clusterIP, '10.96.0.88');
    // a PUT without the allocated values keeps them
    const kept = await client.get<Service>({ ...SVC, name: 'takes-port' });
    const { clusterIP: _c, clusterIPs: _cs, ...spec } = kept.spec!;
    const put = await client.update<Service>(SVC, { ...kept, spec: { ...spec, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    assert.equal(put.spec?.clusterIP, kept.spec?.clusterIP);
    assert.equal(put.spec?.ports?.[0].nodePort, 30666);
  });

  it('gives headless and ExternalName Services no IP', async () => {
    const h = await client.create<Service>(SVC, svc('headless', { clusterIP: 'None' }));
    assert.equal(h.spec?.clusterIP, 'None');
    assert.deepEqual(h.spec?.clusterIPs, ['None']);
    assert.equal(h.spec?.ipFamilyPolicy, 'SingleStack');
    const x = await client.create<Service>(SVC, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    assert.equal(x.spec?.clusterIP, undefined);
    assert.equal(x.spec?.ipFamilies, undefined);
  });

  it('hands out no IP or port twice from two apiservers on one bucket, and keeps them across a restart', async () => {
    const second = await testApiServer({ natsUrl: api.server.natsUrl, bucket: api.server.bucket });
    try {
      const bases = [api.server.httpUrl, second.httpUrl];
      const n = 60;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          call(bases[i % 2], 'POST', '/api/v1/namespaces/default/services', svc(`many-${i}`, i % 3 === 0 ? { type: 'NodePort' } : {})),
        ),
      );
      for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
      const ips = results.map((r) => r.body.spec.clusterIP);
      assert.equal(new Set(ips).size, n);
      const ports = results.filter((r) => r.body.spec.type === 'NodePort').map((r) => r.body.spec.ports[0].nodePort);
      assert.equal(new Set(ports).size, ports.length);
      // one IP asked for by both at once: exactly one wins
      const race = await Promise.all(bases.map((b, i) => call(b, 'POST', '/api/v1/namespaces/default/services', svc(`race-${i}`, { clusterIP: '10.96.0.99' }))));
      assert.deepEqual(race.map((r) => r.status).sort(), [201, 422]);
    } finally {
      await second.stop();
    }
    // a fresh apiserver on the same bucket knows what is allocated
    const third = await testApiServer({ natsUrl: api.server.natsUrl, bucket: api.server.bucket });
    try {
      const r = await call(third.httpUrl, 'POST', '/api/v1/namespaces/default/services', svc('after-restart', { clusterIP: '10.96.0.50' }));
      assert.equal(r.status, 422);
      assert.match(r.body.message, /provided IP is already allocated/);
    } finally {
      await third.stop();
    }
  });
});

describe('Service allocation repair at start (real apiserver)', function () {
  this.timeout(30_000);

  it('records what stored Services hold and releases records no Service holds', async () => {
    const { sharedNats } = await import('../../../test/harness.js');
    const { connectNats } = await import('../../../lib/client/mod.js');
    const { KvStore } = await import('../../../lib/store/kvstore.js');
    const { objectKey } = await import('../../../lib/store/keys.js');
    const natsUrl = (await sharedNats()).url;
    const bucket = `trepair${Date.now() % 100000}`;
    const nc = await connectNats(natsUrl, { name: 'serviceips-repair-test' });
    try {
      const store = await KvStore.open(nc, { bucket });
      await store.create(objectKey('namespaces', undefined, 'default'), Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', uid: 'ns' } })));
      // a Service stored without its allocation records (an older Flotilla, or a restore)
      const legacy = svc('legacy', { type: 'NodePort', clusterIP: '10.96.0.123', clusterIPs: ['10.96.0.123'], ports: [{ port: 80, nodePort: 30123 }] });
      legacy.metadata = { name: 'legacy', namespace: 'default', uid: 'legacy-uid' };
      await store.create(objectKey('services', 'default', 'legacy'), Buffer.from(JSON.stringify(legacy)));
      // a record left by an apiserver that died before writing its Service
      const leaked = { apiVersion: 'networking.k8s.io/v1', kind: 'IPAddress', metadata: { name: '10.96.0.124', creationTimestamp: '2020-01-01T00:00:00Z', annotations: { 'flotilla.io/service-uid': 'gone' } }, spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'gone' } } };
      await store.create(objectKey('networking_k8s_io/ipaddresses', undefined, '10.96.0.124'), Buffer.from(JSON.stringify(leaked)));
      const api = await testApiServer({ natsUrl, bucket });
      try {
        const post = (name: string, spec: Partial<Service['spec']>) => call(api.httpUrl, 'POST', '/api/v1/namespaces/default/services', svc(name, spec));
        // the repair pass runs at start; the leaked IP becomes free once it has
        let freed = await post('reuses-leaked', { clusterIP: '10.96.0.124' });
        for (let i = 0; i < 50 && freed.status !== 201; i++) {
          await new Promise((r) => setTimeout(r, 100));
          freed = await post('reuses-leaked', { clusterIP: '10.96.0.124' });
        }
        assert.equal(freed.status, 201, JSON.stringify(freed.body));
        const ip = await post('wants-legacy-ip', { clusterIP: '10.96.0.123' });
        assert.equal(ip.status, 422);
        const port = await post('wants-legacy-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 30123 }] });
        assert.equal(port.status, 422);
        assert.match(port.body.message, /provided port is already allocated/);
      } finally {
        await api.stop();
      }
    } finally {
      await nc.close();
    }
  });
});
