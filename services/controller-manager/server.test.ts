import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { waitFor } from '../../test/wait.js';
import { LEASE_NAME, LEASE_NAMESPACE, startControllerManager, type RunningControllerManager } from './server.js';

describe('controller-manager leader election', function () {
  this.timeout(90_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let natsUrl = '';
  const managers: RunningControllerManager[] = [];

  const start = async (identity: string) => {
    const m = await startControllerManager({ natsUrl, port: 0, identity, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1, log: () => undefined });
    managers.push(m);
    return m;
  };
  const createRs = (name: string, replicas: number) =>
    client.create<ReplicaSet>({ ...Resources.replicasets, namespace: 'default' }, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: 'default' },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
  const podCount = async (app: string) => (await client.list<Pod>({ ...Resources.pods, namespace: 'default' }, { labelSelector: `app=${app}` })).items.length;
  const holder = async () => (await client.get<Lease>({ ...Resources.leases, namespace: LEASE_NAMESPACE, name: LEASE_NAME })).spec?.holderIdentity;

  before(async () => {
    const nats = await freshNats();
    natsUrl = nats.url;
    server = await testApiServer({ natsUrl });
    nc = await connectNats(natsUrl, { name: 'cm-leader-test' });
    client = new ApiClient(nc);
  });
  after(async () => {
    for (const m of managers) await m.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('runs controllers only in the leader, and the standby takes over when the leader stops', async () => {
    const one = await start('cm-one');
    const two = await start('cm-two');
    const leaderId = await waitFor('a Lease holder', async () => {
      const h = await holder();
      return h === 'cm-one' || h === 'cm-two' ? h : undefined;
    });
    const [leader, standby] = leaderId === 'cm-one' ? [one, two] : [two, one];
    await waitFor('the leader to run its controllers', () => leader.isLeader() && leader.running().length === leader.controllers.length);
    assert.equal(standby.isLeader(), false);
    assert.deepEqual(standby.running(), [], 'a standby runs no controller');

    await createRs('first', 3);
    await waitFor('3 pods from the leader', async () => (await podCount('first')) === 3);
    const health = await fetch(standby.metricsUrl.replace('/metrics', '/healthz'));
    assert.equal(health.status, 200);
    await waitFor('the standby caches to sync', async () => (await fetch(standby.metricsUrl.replace('/metrics', '/readyz'))).status === 200);

    await leader.stop();
    await waitFor('the standby to take the Lease', async () => (await holder()) === standby.identity, 20_000);
    await waitFor('the new leader to run its controllers', () => standby.isLeader() && standby.running().length === standby.controllers.length);
    await createRs('second', 2);
    await waitFor('2 pods from the new leader', async () => (await podCount('second')) === 2);
    // the old leader's pods were not recreated twice by the new one
    assert.equal(await podCount('first'), 3);
  });
});
