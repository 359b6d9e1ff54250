import assert from 'node:assert/strict';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../../lib/api/errors.js';
import { ApiClient, Resources } from '../../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../../testing/controllers.js';
import { waitFor } from '../../../../test/wait.js';
import { createPods, NS, service, setPodStatus } from '../../testing/pods.js';

describe('Endpoints controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;
  const ref = (name: string) => ({ ...Resources.endpoints, namespace: NS, name });
  const ips = (addrs: Array<{ ip: string }> | undefined) => (addrs ?? []).map((a) => a.ip);

  before(async () => {
    cluster = await startControllerCluster('endpoints-test', ['endpoints-controller']);
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('lists ready pods as addresses and unready ones as notReadyAddresses, with named ports resolved', async () => {
    await client.create({ ...Resources.services, namespace: NS }, service('api', [{ name: 'http', port: 80, targetPort: 'web' }], { team: 'a' }));
    await createPods(client, [
      { name: 'api-2', app: 'api', ip: '10.0.0.12', ready: true, node: 'n1', ports: { web: 8080 } },
      { name: 'api-1', app: 'api', ip: '10.0.0.2', ready: true, node: 'n1', ports: { web: 8080 } },
      { name: 'api-3', app: 'api', ip: '10.0.0.3', ready: false, ports: { web: 8080 } },
      { name: 'api-noip', app: 'api', ports: { web: 8080 } },
    ]);
    const ep = await waitFor('Endpoints api with 3 pods', async () => {
      const e = await client.get<Endpoints>(ref('api'));
      const s = e.subsets?.[0];
      return s && (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0) === 3 ? e : undefined;
    });
    assert.equal(ep.metadata!.labels!.team, 'a');
    assert.equal(ep.subsets!.length, 1);
    const s = ep.subsets![0]!;
    // sorted by IP, not by string
    assert.deepEqual(ips(s.addresses), ['10.0.0.2', '10.0.0.12']);
    assert.deepEqual(ips(s.notReadyAddresses), ['10.0.0.3']);
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(s.addresses![0]!.nodeName, 'n1');
    assert.equal(s.addresses![0]!.targetRef?.name, 'api-1');
    assert.equal(s.addresses![0]!.targetRef?.kind, 'Pod');
  });

  it('moves a pod that turns ready into addresses, and writes nothing when nothing changed', async () => {
    await setPodStatus(client, 'api-3', '10.0.0.3', true);
    const ep = await waitFor('api-3 ready', async () => {
      const e = await client.get<Endpoints>(ref('api'));
      return ips(e.subsets?.[0]?.addresses).includes('10.0.0.3') ? e : undefined;
    });
    assert.equal(ep.subsets![0]!.notReadyAddresses, undefined);
    await client.patch({ ...Resources.pods, namespace: NS, name: 'api-1' }, 'merge', { metadata: { annotations: { touched: 'yes' } } });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await client.get<Endpoints>(ref('api'))).metadata!.resourceVersion, ep.metadata!.resourceVersion);
  });

  it('splits pods whose named port resolves differently into subsets', async () => {
    await createPods(client, [{ name: 'api-odd', app: 'api', ip: '10.0.0.50', ready: true, ports: { web: 9090 } }]);
    const ep = await waitFor('2 subsets', async () => {
      const e = await client.get<Endpoints>(ref('api'));
      return e.subsets?.length === 2 ? e : undefined;
    });
    const odd = ep.subsets!.find((s) => s.ports![0]!.port === 9090)!;
    assert.deepEqual(ips(odd.addresses), ['10.0.0.50']);
  });

  it('deletes the Endpoints of a deleted Service', async () => {
    await client.delete({ ...Resources.services, namespace: NS, name: 'api' });
    await waitFor('Endpoints api gone', async () => {
      try {
        await client.get<Endpoints>(ref('api'));
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
  });
});
