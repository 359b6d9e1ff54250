import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Event } from 'kubernetes-types/events/v1.js';
import { ApiClient, connectNats, Resources } from '../../../lib/client/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { freshNats } from '../../../test/harness.js';
import { waitFor } from '../../../test/wait.js';
import { startControllerManager, type RunningControllerManager } from '../../controller-manager/server.js';
import { startKubelet, type RunningKubelet } from '../../kubelet/server.js';
import { startCloudControllerManager, type RunningCloudControllerManager } from '../server.js';
import { UNINITIALIZED_TAINT } from './node.js';

/**
 * The cloud node and node lifecycle controllers against a real apiserver: hollow nodes
 * of a kubelet started with --cloud-provider=external are the local cloud's instances.
 */
describe('cloud-controller-manager: node and node lifecycle controllers (local cloud)', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let client: ApiClient;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  let ccm: RunningCloudControllerManager | undefined;
  let kcm: RunningControllerManager | undefined;
  const kubelets: RunningKubelet[] = [];

  before(async () => {
    const natsUrl = (await freshNats()).url;
    server = await testApiServer({ natsUrl });
    nc = await connectNats(natsUrl, { name: 'ccm-node-test' });
    client = new ApiClient(nc);
    // the controller-manager's node lifecycle sets Ready Unknown on silent nodes; the cloud then judges them
    kcm = await startControllerManager({ natsUrl, port: 0, leaderElect: false, controllers: ['node-lifecycle-controller'], nodeLifecycle: { nodeMonitorGracePeriodMs: 3000, nodeMonitorPeriodMs: 500 }, log: () => {} });
    ccm = await startCloudControllerManager({ natsUrl, port: 0, nodeMonitorPeriodMs: 500, log: () => {} });
    const hollow = (namePrefix: string, nodes: number, cloudProvider?: 'external') =>
      startKubelet({ natsUrl, runtime: 'hollow', nodes, namePrefix, zones: 2, readOnlyPort: 0, cloudProvider, node: { leaseRenewIntervalMs: 500, statusUpdateIntervalMs: 500 }, log: () => {} });
    kubelets.push(await hollow('cloud-', 3, 'external'), await hollow('own-', 1));
  });

  after(async () => {
    for (const k of kubelets) await k.stop();
    await ccm?.stop();
    await kcm?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  const node = (name: string) => client.get<Node>({ ...Resources.nodes, name });

  it('initializes an external cloud Node: providerID, addresses, zone/region/instance-type labels, then the taint comes off', async () => {
    const n = await waitFor('cloud-1 initialized', async () => {
      const n = await node('cloud-1');
      return !n.spec?.taints?.some((t) => t.key === UNINITIALIZED_TAINT) && n;
    });
    assert.equal(n.spec?.providerID, 'local://cloud-1');
    assert.equal(n.metadata?.labels?.['topology.kubernetes.io/zone'], 'zone-1');
    assert.equal(n.metadata?.labels?.['failure-domain.beta.kubernetes.io/zone'], 'zone-1');
    assert.equal(n.metadata?.labels?.['topology.kubernetes.io/region'], 'local');
    assert.equal(n.metadata?.labels?.['node.kubernetes.io/instance-type'], 'hollow-4cpu-16gi');
    assert.deepEqual(n.status?.addresses?.map((a) => a.type), ['InternalIP', 'Hostname']);
    assert.equal(n.status?.addresses?.[1]?.address, 'cloud-1');
    // the kubelet's own status reports leave the cloud's addresses alone
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual((await node('cloud-1')).status?.addresses, n.status?.addresses);
  });

  it('leaves Nodes that are not the local cloud\'s alone (hollow:// providerID, none)', async () => {
    await client.create(Resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'by-hand' } });
    const own = await node('own-0');
    assert.equal(own.spec?.providerID, 'hollow://own-0');
    assert.ok(!own.spec?.taints?.length);
  });

  it('deletes the Nodes of a kubelet process that stopped (its instances are gone), with DeletingNode events', async () => {
    await waitFor('every cloud node initialized', async () => {
      for (const i of [0, 1, 2]) if ((await node(`cloud-${i}`)).spec?.providerID !== `local://cloud-${i}`) return false;
      return true;
    });
    await kubelets.shift()!.stop();
    await waitFor('the stopped process\'s Nodes deleted', async () => {
      const names = (await client.list<Node>(Resources.nodes)).items.map((n) => n.metadata!.name!);
      return !names.some((n) => n.startsWith('cloud-')) && names;
    }, 30_000);
    // the recorder sends events a moment after the delete
    await waitFor('the DeletingNode event of cloud-0', async () => {
      const events = (await client.list<Event>({ group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' })).items;
      return events.some((e) => e.reason === 'DeletingNode' && e.note === 'Deleting node cloud-0 because it does not exist in the cloud provider' && e.regarding?.kind === 'Node');
    });
    // the others stay: their instances (or no instance of this cloud at all)
    const names = (await client.list<Node>(Resources.nodes)).items.map((n) => n.metadata!.name!).sort();
    assert.deepEqual(names, ['by-hand', 'own-0']);
  });
});
