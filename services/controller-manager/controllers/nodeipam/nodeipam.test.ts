import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, Resources } from '../../../../lib/client/mod.js';
import { cidrContains } from '../../../../lib/net/mod.js';
import { testApiServer } from '../../../../test/apiserver.js';
import { freshNats } from '../../../../test/harness.js';
import { waitFor } from '../../../../test/wait.js';
import { runTestController, type RunningTestController } from '../../testing/controllers.js';
import { CIDR_NOT_AVAILABLE, NodeIpamController, type NodeIpamControllerOptions } from './nodeipam.js';

describe('node IPAM controller against a real apiserver', function () {
  this.timeout(120_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let running: RunningTestController<NodeIpamController> | undefined;

  before(async () => {
    server = await testApiServer({ natsUrl: (await freshNats()).url });
    nc = await connectNats(server.natsUrl, { name: 'nodeipam-test' });
    client = new ApiClient(nc);
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await client.deleteCollection(Resources.nodes, {}).catch(() => undefined);
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  const start = async (opts: NodeIpamControllerOptions) => {
    running = await runTestController(server.natsUrl, 'node-ipam-controller', 1, (ctx) => new NodeIpamController(ctx, opts));
  };
  const node = (name: string, podCIDR?: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });
  const podCIDROf = async (name: string) => (await client.get<Node>({ ...Resources.nodes, name })).spec?.podCIDR;
  const allocated = (name: string) => waitFor(`a podCIDR on ${name}`, podCIDROf.bind(null, name));

  it('keeps the blocks existing Nodes hold and gives the others free ones', async () => {
    await client.create(Resources.nodes, node('old-a', '10.244.0.0/24'));
    await client.create(Resources.nodes, node('old-b', '10.244.1.0/24'));
    await client.create(Resources.nodes, node('new-a'));
    await start({ clusterCIDR: '10.244.0.0/16' });
    const a = await allocated('new-a');
    await client.create(Resources.nodes, node('new-b'));
    const b = await allocated('new-b');
    assert.deepEqual([a, b].sort(), ['10.244.2.0/24', '10.244.3.0/24']);
    const n = await client.get<Node>({ ...Resources.nodes, name: 'new-b' });
    assert.deepEqual(n.spec?.podCIDRs, [b]);
    assert.equal(await podCIDROf('old-a'), '10.244.0.0/24');
    assert.equal(running!.controller.cidrs.size, 4);
  });

  it('tells CIDRNotAvailable when the range is full and gives the block of a deleted Node', async () => {
    await start({ clusterCIDR: '10.9.0.0/23', nodeCIDRMaskSize: 24, retryMs: 100 });
    await client.create(Resources.nodes, node('full-0'));
    await client.create(Resources.nodes, node('full-1'));
    const first = await allocated('full-0');
    await allocated('full-1');
    await client.create(Resources.nodes, node('full-2'));
    const ev = await waitFor('a CIDRNotAvailable event', async () =>
      (await client.list<Event>({ ...Resources.events, namespace: 'default' })).items.find((e) => e.reason === CIDR_NOT_AVAILABLE && e.involvedObject.name === 'full-2'),
    );
    assert.equal(ev.message, 'Node full-2 status is now: CIDRNotAvailable');
    assert.equal(ev.involvedObject.kind, 'Node');
    assert.equal(await podCIDROf('full-2'), undefined);
    await client.delete({ ...Resources.nodes, name: 'full-0' });
    assert.equal(await allocated('full-2'), first);
  });

  it('gives 2,000 Nodes created at once distinct blocks through batch patches', async () => {
    await start({ clusterCIDR: '10.0.0.0/8' });
    const names = Array.from({ length: 2000 }, (_, i) => `many-${i}`);
    const t0 = Date.now();
    for (let i = 0; i < names.length; i += 200) await client.batchCreate(names.slice(i, i + 200).map((n) => ({ ...Resources.nodes, body: node(n) })));
    const nodes = await waitFor('every node allocated', async () => {
      const items = (await client.list<Node>(Resources.nodes)).items;
      return items.length === names.length && items.every((n) => n.spec?.podCIDR) && items;
    }, 60_000);
    console.log(`      2,000 Nodes created and allocated in ${Date.now() - t0} ms`);
    const cidrs = new Set(nodes.map((n) => n.spec!.podCIDR!));
    assert.equal(cidrs.size, names.length);
    for (const c of cidrs) assert.ok(cidrContains('10.0.0.0/8', c.split('/')[0]!) && c.endsWith('/24'), c);
  });
});
