import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { waitFor } from '../../test/wait.js';
import { ApiClient, Resources } from '../../lib/client/mod.js';
import { startKubelet, type RunningKubelet } from './server.js';
import { HOSTNAME_LABEL, NODE_LEASE_NAMESPACE, ZONE_LABEL } from './nodes.js';
import { metaTime } from '../../lib/api/time.js';

describe('kubelet hollow nodes', function () {
  this.timeout(120_000);
  let api: ConnectedApiServer;
  let client: ApiClient;
  const running: RunningKubelet[] = [];

  before(async () => {
    api = await connectedApiServer('kubelet-nodes-test');
    client = api.client;
  });
  after(async () => {
    for (const k of running) await k.stop();
    await api?.stop();
  });

  const start = async (o: Partial<Parameters<typeof startKubelet>[0]>) => {
    const k = await startKubelet({ natsUrl: api.server.natsUrl, nodes: 1, log: () => {}, ...o });
    running.push(k);
    return k;
  };

  it('registers Nodes with capacity, allocatable, hostname and zone labels and Ready, and takes the podCIDR node IPAM gives', async () => {
    const k = await start({ nodes: 3, namePrefix: 'reg-', cpu: '8', memory: '32Gi', pods: 50, zones: 2 });
    const nodes = (await client.list<Node>(Resources.nodes, { labelSelector: 'flotilla.io/hollow=true' })).items.filter((n) => n.metadata!.name!.startsWith('reg-'));
    assert.deepEqual(nodes.map((n) => n.metadata!.name).sort(), ['reg-0', 'reg-1', 'reg-2']);
    const cidrs = new Set<string>();
    for (const n of nodes) {
      assert.deepEqual(n.status!.capacity, { cpu: '8', memory: '32Gi', pods: '50', 'ephemeral-storage': '100Gi' });
      assert.deepEqual(n.status!.allocatable, n.status!.capacity);
      assert.equal(n.metadata!.labels![HOSTNAME_LABEL], n.metadata!.name);
      assert.match(n.metadata!.labels![ZONE_LABEL]!, /^zone-[01]$/);
      // as upstream's kubelet: the podCIDR is node IPAM's to give
      assert.equal(n.spec!.podCIDR, undefined);
      cidrs.add(k.nodes.get(n.metadata!.name!)!.ipam.cidr);
      const ready = n.status!.conditions!.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True');
      assert.equal(ready?.reason, 'KubeletReady');
    }
    assert.equal(cidrs.size, 3);
    const zones = new Set(nodes.map((n) => n.metadata!.labels![ZONE_LABEL]));
    assert.equal(zones.size, 2);
    // what the node IPAM controller writes: pods get addresses from it from then on
    await client.patch({ ...Resources.nodes, name: 'reg-1' }, 'merge', { spec: { podCIDR: '10.250.1.0/24', podCIDRs: ['10.250.1.0/24'] } });
    await waitFor('the podCIDR taken', () => k.nodes.get('reg-1')!.podCIDR === '10.250.1.0/24');
    assert.equal(k.nodes.get('reg-1')!.ipam.cidr, '10.250.1.0/24');
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

  it('renews the Leases many per request, spread evenly over the renewal interval from start', async () => {
    // the timer never fires on its own here: the test drives tick() with its own clock
    const k = await start({ nodes: 100, namePrefix: 'spread-', node: { leaseRenewIntervalMs: 1000, statusReportIntervalMs: 3_600_000, tickMs: 3_600_000 } });
    // the last node's first turn is one whole interval after start()
    const startedAt = k.nodes.get('spread-99')!.lease.next - 1000;
    // registration just created every Lease: none is due at once
    assert.equal(k.nodes.tick(startedAt).leases, 0);
    const perStep: number[] = [];
    for (let step = 1; step <= 10; step++) {
      perStep.push(k.nodes.tick(startedAt + step * 100).leases);
      await k.nodes.idle();
    }
    // 100 nodes over 1000 ms: 10 in every 100 ms, never a burst
    assert.deepEqual(perStep, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    assert.equal(k.nodes.leaseRenewals, 100);
    assert.equal(k.nodes.failures, 0);
    // each tick's renewals went as one batch request
    assert.equal(k.nodes.heartbeatRequests.leases, 10);
    const leases = (await client.list<Lease>({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE })).items.filter((l) => l.metadata!.name!.startsWith('spread-'));
    assert.equal(leases.length, 100);
    for (const l of leases) assert.ok(Date.parse(l.spec!.renewTime!) >= startedAt, `${l.metadata!.name} renewed at ${l.spec!.renewTime}`);
  });

  it('writes a Node only when its status changed or at the report frequency, not with each Lease renewal', async () => {
    const k = await start({ nodes: 3, namePrefix: 'quiet-', node: { leaseRenewIntervalMs: 200, tickMs: 50 } });
    const versions = async () => {
      const out: Record<string, string> = {};
      for (const name of ['quiet-0', 'quiet-1', 'quiet-2']) out[name] = (await client.get<Node>({ ...Resources.nodes, name })).metadata!.resourceVersion!;
      return out;
    };
    const before = await versions();
    const renewals = k.nodes.leaseRenewals;
    await waitFor('every lease renewed three times', () => k.nodes.leaseRenewals >= renewals + 9);
    assert.deepEqual(await versions(), before);
    assert.equal(k.nodes.statusReports, 0);
  });

  it('reports a node Ready again at once when the API says Unknown (the node lifecycle controller after a lapse)', async () => {
    const k = await start({ nodes: 1, namePrefix: 'lapse-', node: { statusUpdateIntervalMs: 100, tickMs: 50 } });
    const ref = { ...Resources.nodes, name: 'lapse-0' };
    const node = await client.get<Node>(ref);
    const markedAt = metaTime();
    const unknown = node.status!.conditions!.map((c) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: markedAt }));
    await client.updateStatus<Node>(ref, { ...node, status: { ...node.status, conditions: unknown } });
    const back = await waitFor('the node Ready again', async () => {
      const n = await client.get<Node>(ref);
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && n;
    });
    for (const c of back.status!.conditions!) {
      assert.equal(c.status, c.type === 'Ready' ? 'True' : 'False', c.type);
      // going back is a transition, as upstream records it
      assert.ok(Date.parse(c.lastTransitionTime!) >= Date.parse(markedAt), `${c.type} lastTransitionTime ${c.lastTransitionTime}`);
    }
    // the write can be seen before the kubelet's own await of it returns and counts it
    await waitFor('the status report counted', () => k.nodes.statusReports >= 1);
    assert.equal(k.nodes.statusReports, 1);
  });

  it('registers a deleted Node again and creates a deleted Lease again', async () => {
    const k = await start({ nodes: 1, namePrefix: 'gone-', node: { leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 100, tickMs: 50 } });
    const nodeRef = { ...Resources.nodes, name: 'gone-0' };
    const leaseRef = { ...Resources.leases, namespace: NODE_LEASE_NAMESPACE, name: 'gone-0' };
    const uid = (await client.get<Node>(nodeRef)).metadata!.uid;
    await client.delete(leaseRef);
    await waitFor('the lease created again', () => client.get<Lease>(leaseRef));
    await client.delete(nodeRef);
    const again = await waitFor('the node registered again', async () => {
      const n = await client.get<Node>(nodeRef);
      return n.metadata!.uid !== uid && n;
    });
    assert.equal(again.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(k.nodes.get('gone-0')!.uid, again.metadata!.uid);
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
        // pages of 500 as client-go lists: the apiserver cuts a page to what fits one NATS message
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
