import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiClient, Resources } from '../../../lib/client/client.js';
import { connectNats } from '../../../lib/client/connect.js';
import { testApiServer } from '../../../test/apiserver.js';
import { freshNats } from '../../../test/harness.js';
import { waitFor } from '../../../test/wait.js';
import { startControllerManager, type RunningControllerManager } from '../manager.js';
import { SERVICE_ACCOUNTS } from './serviceaccount.js';

describe('ServiceAccount controller against a real apiserver', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let cm: RunningControllerManager;
  const saRef = (namespace: string, name?: string) => ({ ...SERVICE_ACCOUNTS, namespace, name });
  const defaultSa = (namespace: string) => client.get<ServiceAccount>(saRef(namespace, 'default'));

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url });
    nc = await connectNats(nats.url, { name: 'serviceaccount-test' });
    client = new ApiClient(nc);
    cm = await startControllerManager({ natsUrl: nats.url, port: 0, leaderElect: false, controllers: ['serviceaccount-controller'], log: () => undefined });
  });
  after(async () => {
    await cm?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
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
