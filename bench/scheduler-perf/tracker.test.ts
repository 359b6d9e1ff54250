import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { ApiClient, Resources } from '../../lib/client/mod.js';
import { PodTracker } from './tracker.js';

async function until(f: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('scheduler_perf PodTracker (real nats-server and apiserver)', function () {
  this.timeout(30_000);
  let api: ConnectedApiServer;
  let client: ApiClient;

  before(async () => {
    api = await connectedApiServer('tracker-test');
    client = api.client;
  });
  after(() => api?.stop());

  it('counts pods per namespace and those bound to a node, from the watch', async () => {
    for (const ns of ['trk-a', 'trk-b']) await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await client.create<Node>(Resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'trk-node' }, status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' } } });
    // one pod exists before the tracker starts: the initial list must count it
    const pod = (ns: string, name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name }, spec: { containers: [{ name: 'c', image: 'pause' }] } });
    await client.create(Resources.pods, pod('trk-a', 'early'));
    const tracker = new PodTracker(client);
    await tracker.start();
    try {
      assert.deepEqual(tracker.countsIn('trk-a'), { total: 1, scheduled: 0, attempted: 0 });
      const results = await client.batchCreate([1, 2, 3].map((i) => ({ ...Resources.pods, namespace: 'trk-a', body: pod('trk-a', `p${i}`) })).concat([{ ...Resources.pods, namespace: 'trk-b', body: pod('trk-b', 'q') }]));
      assert.ok(results.every((r) => !(r instanceof Error)));
      await until(() => tracker.countsIn('trk-a').total === 4 && tracker.countsIn('trk-b').total === 1, 'four pods in trk-a and one in trk-b');
      await client.batchBind([
        { namespace: 'trk-a', name: 'early', node: 'trk-node' },
        { namespace: 'trk-a', name: 'p1', node: 'trk-node' },
      ]);
      await until(() => tracker.countsIn('trk-a').scheduled === 2, 'two bound pods');
      assert.deepEqual(tracker.countsIn('trk-a'), { total: 4, scheduled: 2, attempted: 2 });
      assert.deepEqual(tracker.countsOver(['trk-a', 'trk-b', 'nowhere']), { total: 5, scheduled: 2, attempted: 2 });
      // a deleted bound pod leaves both counts
      await client.delete({ ...Resources.pods, namespace: 'trk-a', name: 'p1' }, { gracePeriodSeconds: 0 });
      await until(() => tracker.countsIn('trk-a').total === 3, 'the deletion');
      assert.deepEqual(tracker.countsIn('trk-a'), { total: 3, scheduled: 1, attempted: 1 });
    } finally {
      await tracker.stop();
    }
  });
});
