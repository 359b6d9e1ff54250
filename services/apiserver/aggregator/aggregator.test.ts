import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectNats } from '../../../lib/client/mod.js';
import { call, testApiServer } from '../../../test/apiserver.js';
import { waitFor } from '../../../test/wait.js';

const GROUP = 'widgets.example.flotilla.io';

/** A tiny aggregated API server: discovery for GROUP/v1 and a list of widgets that echoes the request. */
function backend(): { server: http.Server; failDiscovery: boolean; seen: string[] } {
  const state = { server: undefined as unknown as http.Server, failDiscovery: false, seen: [] as string[] };
  state.server = http.createServer((req, res) => {
    state.seen.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === `/apis/${GROUP}/v1`) {
      if (state.failDiscovery) {
        res.writeHead(500).end('broken');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: `${GROUP}/v1`,
          resources: [
            { name: 'widgets', singularName: 'widget', namespaced: true, kind: 'Widget', verbs: ['get', 'list'], shortNames: ['wd'] },
            { name: 'widgets/status', singularName: '', namespaced: true, kind: 'Widget', verbs: ['get'] },
          ],
        }),
      );
      return;
    }
    if (url.pathname.startsWith(`/apis/${GROUP}/v1/`)) {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'WidgetList', apiVersion: `${GROUP}/v1`, items: [], path: url.pathname, query: url.search, method: req.method, body, ua: req.headers['user-agent'] }));
      });
      return;
    }
    res.writeHead(404).end();
  });
  return state;
}

const apiService = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apiregistration.k8s.io/v1',
  kind: 'APIService',
  metadata: { name: `v1.${GROUP}` },
  spec: { group: GROUP, version: 'v1', service: { namespace: 'default', name: 'widgets' }, groupPriorityMinimum: 100, versionPriority: 10, ...extra },
});

describe('API aggregation (APIService)', () => {
  let s: Awaited<ReturnType<typeof testApiServer>>;
  let u: string;
  const b = backend();
  let port: number;

  const available = async () => (await call(u, 'GET', `/apis/apiregistration.k8s.io/v1/apiservices/v1.${GROUP}`)).body?.status?.conditions?.find((c: any) => c.type === 'Available');
  const waitReason = (reason: string) => waitFor(`Available reason ${reason}`, async () => ((await available())?.reason === reason ? available() : undefined), 10_000);

  before(async () => {
    await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
    port = (b.server.address() as AddressInfo).port;
    s = await testApiServer({ apiServiceCheckIntervalMs: 200 });
    u = s.httpUrl;
  });
  after(async () => {
    await s.stop();
    b.server.closeAllConnections();
    await new Promise((r) => b.server.close(r));
  });

  it('validates an APIService as upstream: name is version.group, priorities in range, defaults the port to 443', async () => {
    const bad = await call(u, 'POST', '/apis/apiregistration.k8s.io/v1/apiservices', { ...apiService(), metadata: { name: 'wrong' }, spec: { ...apiService().spec, groupPriorityMinimum: 0 } });
    assert.equal(bad.status, 422);
    const fields = bad.body.details.causes.map((c: any) => c.field);
    assert.ok(fields.includes('metadata.name') && fields.includes('spec.groupPriorityMinimum'), JSON.stringify(bad.body));
    const local = await call(u, 'POST', '/apis/apiregistration.k8s.io/v1/apiservices', { ...apiService(), spec: { group: GROUP, version: 'v1', groupPriorityMinimum: 1, versionPriority: 1, caBundle: 'Zm9v' } });
    assert.equal(local.status, 422);
    assert.match(JSON.stringify(local.body), /local APIServices may not have a caBundle/);
  });

  it('is ServiceNotFound, then MissingEndpoints, then Passed as the Service and its EndpointSlice appear; 503 until then', async () => {
    const created = await call(u, 'POST', '/apis/apiregistration.k8s.io/v1/apiservices', apiService());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.spec.service.port, 443);
    const c1 = await waitReason('ServiceNotFound');
    assert.equal(c1.status, 'False');
    assert.equal(c1.message, 'service/widgets in "default" is not present');
    const down = await call(u, 'GET', `/apis/${GROUP}/v1/namespaces/default/widgets`);
    assert.equal(down.status, 503);
    assert.equal(down.body.reason, 'ServiceUnavailable');

    // a selectorless Service and a hand-made EndpointSlice, as `flotilla up` registers its metrics service
    const svc = await call(u, 'POST', '/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'widgets' }, spec: { ports: [{ name: 'https', port: 443, targetPort: port }] } });
    assert.equal(svc.status, 201, JSON.stringify(svc.body));
    await waitReason('MissingEndpoints');
    const slice = await call(u, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'widgets-1', labels: { 'kubernetes.io/service-name': 'widgets' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    });
    assert.equal(slice.status, 201, JSON.stringify(slice.body));
    const ok = await waitReason('Passed');
    assert.equal(ok.status, 'True');
    assert.equal(ok.message, 'all checks passed');
  });

  it('proxies requests of the group version to the service: method, path, query and body as sent', async () => {
    const r = await call(u, 'GET', `/apis/${GROUP}/v1/namespaces/default/widgets?labelSelector=app%3Dweb&limit=5`, undefined, { 'user-agent': 'test-agent' });
    assert.equal(r.status, 200);
    assert.equal(r.body.path, `/apis/${GROUP}/v1/namespaces/default/widgets`);
    assert.equal(r.body.query, '?labelSelector=app%3Dweb&limit=5');
    assert.equal(r.body.ua, 'test-agent');
    const p = await call(u, 'POST', `/apis/${GROUP}/v1/namespaces/default/widgets`, { hello: 'world' });
    assert.equal(p.body.method, 'POST');
    assert.deepEqual(JSON.parse(p.body.body), { hello: 'world' });
    const rl = await call(u, 'GET', `/apis/${GROUP}/v1`);
    assert.equal(rl.body.kind, 'APIResourceList');
  });

  it('lists the aggregated group in /apis, /apis/<group> and aggregated discovery (v2 and v2beta1)', async () => {
    const groups = await call(u, 'GET', '/apis');
    const g = groups.body.groups.find((x: any) => x.name === GROUP);
    assert.deepEqual(g, { name: GROUP, versions: [{ groupVersion: `${GROUP}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${GROUP}/v1`, version: 'v1' } });
    const one = await call(u, 'GET', `/apis/${GROUP}`);
    assert.equal(one.body.kind, 'APIGroup');
    for (const v of ['v2', 'v2beta1']) {
      const agg = await call(u, 'GET', '/apis', undefined, { accept: `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList,application/json` });
      assert.match(agg.headers.get('content-type')!, new RegExp(`v=${v};as=APIGroupDiscoveryList`));
      const item = agg.body.items.find((x: any) => x.metadata.name === GROUP);
      assert.ok(item, `${v}: ${JSON.stringify(agg.body.items.map((x: any) => x.metadata.name))}`);
      assert.equal(item.versions[0].freshness, 'Current');
      const w = item.versions[0].resources[0];
      assert.equal(w.resource, 'widgets');
      assert.equal(w.scope, 'Namespaced');
      assert.deepEqual(w.responseKind, { group: GROUP, version: 'v1', kind: 'Widget' });
      assert.deepEqual(w.subresources, [{ subresource: 'status', responseKind: { group: GROUP, version: 'v1', kind: 'Widget' }, verbs: ['get'] }]);
    }
    // the NATS API's discovery document too (what lib/client's discovery reads)
    const nc = await connectNats(s.natsUrl, { name: 'aggregator-test' });
    try {
      const doc = (await nc.request('flotilla.api.discovery', new Uint8Array(0), { timeout: 5000 })).json<any>();
      assert.ok(doc.groups.groups.some((x: any) => x.name === GROUP));
      assert.ok(doc.resources.some((r: any) => r.groupVersion === `${GROUP}/v1` && r.resources.some((x: any) => x.name === 'widgets')));
    } finally {
      await nc.close();
    }
  });

  it('turns FailedDiscoveryCheck and 503 when the service fails its discovery, and Passed again when it recovers', async () => {
    b.failDiscovery = true;
    const c = await waitReason('FailedDiscoveryCheck');
    assert.equal(c.status, 'False');
    assert.match(c.message, /failing or missing response from http:\/\/127\.0\.0\.1:\d+\/apis\/widgets\.example\.flotilla\.io\/v1: bad status .*500/);
    const r = await call(u, 'GET', `/apis/${GROUP}/v1/widgets`);
    assert.equal(r.status, 503);
    b.failDiscovery = false;
    await waitReason('Passed');
    assert.equal((await call(u, 'GET', `/apis/${GROUP}/v1/widgets`)).status, 200);
  });

  it('prints SERVICE and AVAILABLE as kubectl get apiservices shows them', async () => {
    const t = await call(u, 'GET', '/apis/apiregistration.k8s.io/v1/apiservices', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.deepEqual(t.body.columnDefinitions.map((c: any) => c.name), ['Name', 'Service', 'Available', 'Age']);
    const row = t.body.rows.find((x: any) => x.cells[0] === `v1.${GROUP}`);
    assert.deepEqual(row.cells.slice(0, 3), [`v1.${GROUP}`, 'default/widgets', 'True']);
  });
});
