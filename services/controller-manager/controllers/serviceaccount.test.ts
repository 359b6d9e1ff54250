import assert from 'node:assert/strict';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiClient, Resources, SERVICE_ACCOUNTS } from '../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';

describe('ServiceAccount controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;
  const saRef = (namespace: string, name?: string) => ({ ...SERVICE_ACCOUNTS, namespace, name });
  const defaultSa = (namespace: string) => client.get<ServiceAccount>(saRef(namespace, 'default'));

  before(async () => {
    cluster = await startControllerCluster('serviceaccount-test', ['serviceaccount-controller']);
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('creates the default ServiceAccount in namespaces that exist at start', async () => {
    const sa = await waitFor('default/default', () => defaultSa('default'));
    assert.equal(sa.metadata!.name, 'default');
  });

  it('creates the default ServiceAccount in a new namespace, and only that one', async () => {
    await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await waitFor('team-a/default', () => defaultSa('team-a'));
    const all = await client.list<ServiceAccount>(saRef('team-a'));
    assert.deepEqual(all.items.map((s) => s.metadata!.name), ['default']);
  });

  it('recreates the default ServiceAccount when it is deleted', async () => {
    const before = await waitFor('team-a/default', () => defaultSa('team-a'));
    await client.delete(saRef('team-a', 'default'));
    const again = await waitFor('a new team-a/default', async () => {
      const sa = await defaultSa('team-a');
      return sa.metadata!.uid !== before.metadata!.uid ? sa : undefined;
    });
    assert.equal(again.metadata!.namespace, 'team-a');
  });
});
