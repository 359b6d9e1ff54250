import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { waitFor } from '../../test/wait.js';
import { ApiClient, Resources } from '../../lib/client/client.js';
import { connectNats } from '../../lib/client/connect.js';
import { startKubelet, type RunningKubelet } from './main.js';
import { HOSTNAME_LABEL, NODE_LEASE_NAMESPACE, ZONE_LABEL } from './nodes.js';

describe('kubelet hollow nodes', function () {
  this.timeout(120_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  const running: RunningKubelet[] = [];

  before(async () => {
    api = await testApiServer();
    nc = await connectNats(api.natsUrl, { name: 'kubelet-nodes-test' });
    client = new ApiClient(nc);
  });
  after(async () => {
    for (const k of running) await k.stop();
    client?.close();
    await nc?.close();
    await api?.stop();
  });

  const start = async (o: Partial<Parameters<typeof startKubelet>[0]>) => {
    const k = await startKubelet({ natsUrl: api.natsUrl, nodes: 1, log: () => {}, ...o });
    running.push(k);
    return k;
  };

  it('registers Nodes with capacity, allocatable, hostname and zone labels, a podCIDR and Ready', async () => {
    await start({ nodes: 3, namePrefix: 'reg-', cpu: '8', memory: '32Gi', pods: 50, zones: 2 });
    const nodes = (await client.list<Node>(Resources.nodes, { labelSelector: 'flotilla.io/hollow=true' })).items.filter((n) => n.metadata!.name!.startsWith('reg-'));
    assert.deepEqual(nodes.map((n) => n.metadata!.name).sort(), ['reg-0', 'reg-1', 'reg-2']);
    const cidrs = new Set<string>();
    for (const n of nodes) {
      assert.deepEqual(n.status!.capacity, { cpu: '8', memory: '32Gi', pods: '50', 'ephemeral-storage': '100Gi' });
      assert.deepEqual(n.status!.allocatable, n.status!.capacity);
      assert.equal(n.metadata!.labels![HOSTNAME_LABEL], n.metadata!.name);
      assert.match(n.metadata!.labels![ZONE_LABEL]!, /^zone-[01]$/);
      assert.match(n.spec!.podCIDR!, /^10\.\d+\.\d+\.0\/24$/);
      cidrs.add(n.spec!.podCIDR!);
      const ready = n.status!.conditions!.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True');
      assert.equal(ready?.reason, 'KubeletReady');
    }
    assert.equal(cidrs.size, 3);
    const zones = new Set(nodes.map((n) => n.metadata!.labels![ZONE_LABEL]));
    assert.equal(zones.size, 2);
  });

  it('renews each node Lease in kube-node-lease and reports node status on its interval', async () => {
    await start({ nodes: 2, namePrefix: 'hb-', node: { leaseRenewIntervalMs: 300, statusReportIntervalMs: 1000, tickMs: 100 } });
    const lease = await client.get<Lease>({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE, name: 'hb-1' });
    assert.equal(lease.spec?.holderIdentity, 'hb-1');
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata?.ownerReferences?.[0]?.kind, 'Node');
    const first = lease.spec!.renewTime!;
    await waitFor('a renewed lease', async () => {
      const l = await client.get<Lease>({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE, name: 'hb-1' });
      return Date.parse(l.spec!.renewTime!) > Date.parse(first);
    });
    const node = await client.get<Node>({ ...Resources.nodes, name: 'hb-0' });
    const beat = node.status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime!;
    await waitFor('a newer node heartbeat', async () => {
      const n = await client.get<Node>({ ...Resources.nodes, name: 'hb-0' });
      return Date.parse(n.status!.conditions!.find((c) => c.type === 'Ready')!.lastHeartbeatTime!) > Date.parse(beat);
    });
  });

  it('keeps a node podCIDR when a restarted process registers it again', async () => {
    const a = await start({ nodes: 1, namePrefix: 'again-', firstIndex: 40 });
    const cidr = a.nodes.get('again-40')!.podCIDR;
    await a.stop();
    running.splice(running.indexOf(a), 1);
    await client.patch({ ...Resources.nodes, name: 'again-40' }, 'merge', { spec: { podCIDR: '10.200.7.0/24', podCIDRs: ['10.200.7.0/24'] } });
    const b = await start({ nodes: 1, namePrefix: 'again-', firstIndex: 40 });
    assert.notEqual(cidr, '10.200.7.0/24');
    assert.equal(b.nodes.get('again-40')!.podCIDR, '10.200.7.0/24');
  });

  it('carries 2,000 nodes in one process: every Node and Lease registered', async () => {
    const t0 = Date.now();
    const k = await start({ nodes: 2000, namePrefix: 'big-', firstIndex: 1000 });
    console.log(`      2,000 hollow nodes registered in ${Date.now() - t0} ms`);
    assert.equal(k.nodes.nodes.size, 2000);
    const names = async (ref: Parameters<ApiClient['list']>[0]) => {
      const out = new Set<string>();
      let cont: string | undefined;
      do {
        const page = await client.list(ref, { limit: 500, continue: cont });
        for (const o of page.items) if (o.metadata!.name!.startsWith('big-')) out.add(o.metadata!.name!);
        cont = page.metadata.continue || undefined;
      } while (cont);
      return out;
    };
    assert.equal((await names(Resources.nodes)).size, 2000);
    assert.equal((await names({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE })).size, 2000);
  });
});
