import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { type ApiClient, CONTROLLER_REVISIONS, DAEMONSETS, Resources } from '../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { setPodStatus } from '../testing/pods.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../shared/revisions.js';
import { nodeShouldRunDaemonPod, targetNodeName } from './daemonset.js';

const NS = 'default';

function node(name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: { taints },
    status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
  };
}

function daemonSet(name: string, spec: Partial<NonNullable<NonNullable<DaemonSet['spec']>['template']['spec']>> = {}, extra: Partial<NonNullable<DaemonSet['spec']>> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: { ds: name } },
      template: { metadata: { labels: { ds: name } }, spec: { containers: [{ name: 'c', image: 'agent:1' }], ...spec } },
      ...extra,
    },
  };
}

describe('DaemonSet controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const dsRef = (name?: string) => ({ ...DAEMONSETS, namespace: NS, name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const podsOf = async (ds: string) => (await client.list<Pod>(podRef(), { labelSelector: `ds=${ds}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
  const byNode = (pods: Pod[]) => pods.map((p) => targetNodeName(p)!).sort();
  const podsOnNodes = (ds: string, nodes: string[]) =>
    waitFor(`${ds} pods on ${nodes.join(',')}`, async () => {
      const pods = await podsOf(ds);
      return JSON.stringify(byNode(pods)) === JSON.stringify([...nodes].sort()) ? pods : undefined;
    });
  /** what a kubelet would write once the pod runs */
  const markReady = (pod: Pod) => setPodStatus(client, pod.metadata!.name!, undefined, true);
  // the nodes every DaemonSet here sees; a test that adds one accounts for it
  const baseNodes = ['n1', 'n2', 'n3'];

  before(async () => {
    cluster = await startControllerCluster('daemonset-test', ['daemonset-controller'], async (c) => {
      await c.create({ ...Resources.nodes }, node('n1', { disk: 'ssd' }));
      await c.create({ ...Resources.nodes }, node('n2', { disk: 'ssd' }));
      await c.create({ ...Resources.nodes }, node('n3', { disk: 'hdd' }));
    });
    client = cluster.client;
  });
  after(() => cluster?.stop());

  it('creates one pod per node pinned by matchFields affinity, then one for a node that joins later', async () => {
    const ds = await client.create(dsRef(), daemonSet('agent'));
    const pods = await podsOnNodes('agent', baseNodes);
    const revs = (await client.list<ControllerRevision>({ ...CONTROLLER_REVISIONS, namespace: NS })).items.filter((r) => r.metadata?.ownerReferences?.[0]?.uid === ds.metadata!.uid);
    assert.equal(revs.length, 1);
    const hash = revs[0]!.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]!;
    assert.equal(revs[0]!.metadata!.name, `agent-${hash}`);
    assert.equal(revs[0]!.revision, 1);
    for (const p of pods) {
      assert.equal(p.spec!.nodeName, undefined, 'left for the scheduler to bind');
      const target = targetNodeName(p)!;
      assert.deepEqual(p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution, {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [target] }] }],
      });
      assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
      assert.equal(p.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL], hash);
      const tolerated = (p.spec!.tolerations ?? []).map((t) => `${t.key}:${t.effect}`);
      for (const k of ['not-ready:NoExecute', 'unreachable:NoExecute', 'disk-pressure:NoSchedule', 'memory-pressure:NoSchedule', 'pid-pressure:NoSchedule', 'unschedulable:NoSchedule'])
        assert.ok(tolerated.includes(`node.kubernetes.io/${k}`), k);
    }
    const status = await waitFor('status of 3 nodes', async () => {
      const s = (await client.get<DaemonSet>(dsRef('agent'))).status;
      return s?.currentNumberScheduled === 3 ? s : undefined;
    });
    assert.equal(status.desiredNumberScheduled, 3);
    assert.equal(status.updatedNumberScheduled, 3);
    assert.equal(status.numberReady, 0);
    assert.equal(status.numberMisscheduled, 0);
    assert.equal(status.observedGeneration, 1);

    await client.create({ ...Resources.nodes }, node('n4', { disk: 'ssd' }));
    try {
      await podsOnNodes('agent', [...baseNodes, 'n4']);
      await waitFor('desiredNumberScheduled 4', async () => (await client.get<DaemonSet>(dsRef('agent'))).status?.desiredNumberScheduled === 4);
      // a node that leaves takes its unbound pod with it
      await client.delete({ ...Resources.nodes, name: 'n4' });
      await podsOnNodes('agent', baseNodes);
    } finally {
      await client.delete({ ...Resources.nodes, name: 'n4' }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(byNode(await podsOf('agent')), baseNodes, 'no extra pods');
  });

  it('names the ControllerRevision of a 250-character DaemonSet by its name cut to 223 characters and the hash', async () => {
    const name = `long-${'x'.repeat(245)}`;
    const spec = daemonSet('long').spec!;
    const ds = await client.create<DaemonSet>(dsRef(), { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: NS }, spec });
    assert.equal(ds.metadata!.name!.length, 250);
    const rev = await waitFor('the revision of the long-named set', async () =>
      (await client.list<ControllerRevision>({ ...CONTROLLER_REVISIONS, namespace: NS })).items.find((r) => r.metadata?.ownerReferences?.[0]?.uid === ds.metadata!.uid),
    );
    const hash = rev.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]!;
    assert.equal(rev.metadata!.name, `${name.slice(0, 223)}-${hash}`);
    assert.ok(rev.metadata!.name!.length <= 253);
    // the pods it then creates carry that revision's hash
    const pods = await podsOnNodes('long', baseNodes);
    assert.ok(pods.every((p) => p.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL] === hash));
    await client.delete(dsRef(name));
  });

  it('runs only on nodes matching its nodeSelector', async () => {
    await client.create(dsRef(), daemonSet('ssd', { nodeSelector: { disk: 'ssd' } }));
    await podsOnNodes('ssd', ['n1', 'n2']);
    const s = await waitFor('status', async () => {
      const st = (await client.get<DaemonSet>(dsRef('ssd'))).status;
      return st?.currentNumberScheduled === 2 ? st : undefined;
    });
    assert.equal(s.desiredNumberScheduled, 2);
    // a node relabelled out of the selector loses its pod
    await client.patch({ ...Resources.nodes, name: 'n2' }, 'merge', { metadata: { labels: { disk: 'hdd' } } });
    try {
      await podsOnNodes('ssd', ['n1']);
    } finally {
      await client.patch({ ...Resources.nodes, name: 'n2' }, 'merge', { metadata: { labels: { disk: 'ssd' } } });
    }
    await podsOnNodes('ssd', ['n1', 'n2']);
  });

  it('skips a node with an untolerated NoSchedule taint, and runs there when tolerated', async () => {
    const taint: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    await client.create({ ...Resources.nodes }, node('tainted', { disk: 'none' }, [taint]));
    try {
      await client.create(dsRef(), daemonSet('plain', { nodeSelector: { disk: 'none' } }));
      await client.create(dsRef(), daemonSet('tolerant', { nodeSelector: { disk: 'none' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }));
      await podsOnNodes('tolerant', ['tainted']);
      // the node is in the controller's cache now; give 'plain' time to act on it wrongly
      await new Promise((r) => setTimeout(r, 300));
      const plain = await waitFor('plain status', async () => (await client.get<DaemonSet>(dsRef('plain'))).status);
      assert.equal(plain.desiredNumberScheduled, 0);
      assert.equal((await podsOf('plain')).length, 0);
    } finally {
      await client.delete({ ...Resources.nodes, name: 'tainted' });
    }
  });

  it('recreates the pod of a node when it is deleted', async () => {
    await client.create(dsRef(), daemonSet('heal'));
    const pods = await podsOnNodes('heal', baseNodes);
    const victim = pods.find((p) => targetNodeName(p) === 'n2')!;
    await client.delete(podRef(victim.metadata!.name));
    const now = await waitFor('a replacement on n2', async () => {
      const ps = await podsOf('heal');
      return ps.length === 3 && !ps.some((p) => p.metadata!.name === victim.metadata!.name) ? ps : undefined;
    });
    assert.deepEqual(byNode(now), baseNodes);
  });

  it('rolls an image change one node at a time with maxUnavailable 1', async () => {
    await client.create(dsRef(), daemonSet('roll', {}, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } }));
    const first = await podsOnNodes('roll', baseNodes);
    await Promise.all(first.map(markReady));
    await waitFor('3 ready', async () => (await client.get<DaemonSet>(dsRef('roll'))).status?.numberAvailable === 3);
    const oldHash = first[0]!.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL];

    const cur = await client.get<DaemonSet>(dsRef('roll'));
    cur.spec!.template.spec!.containers[0]!.image = 'agent:2';
    await client.update(dsRef('roll'), cur);

    // play the kubelet: every pod becomes ready a little after it appears; check the budget at every look
    let maxUnavailable = 0;
    let maxPods = 0;
    const done = await waitFor(
      'every node on agent:2',
      async () => {
        const pods = await podsOf('roll');
        maxPods = Math.max(maxPods, pods.length);
        const readyNodes = new Set(pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => targetNodeName(p)));
        maxUnavailable = Math.max(maxUnavailable, baseNodes.filter((n) => !readyNodes.has(n)).length);
        for (const p of pods) if (!p.status?.conditions?.length) await markReady(p);
        const updated = pods.filter((p) => p.spec!.containers[0]!.image === 'agent:2');
        return updated.length === 3 && pods.length === 3 && readyNodes.size === 3 ? pods : undefined;
      },
      40_000,
    );
    assert.ok(maxUnavailable <= 1, `at most one node without a ready pod, saw ${maxUnavailable}`);
    assert.ok(maxPods <= 3, `never more than one pod a node, saw ${maxPods}`);
    assert.deepEqual(byNode(done), baseNodes);
    assert.ok(done.every((p) => p.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL] !== oldHash));
    const s = await waitFor('updatedNumberScheduled 3', async () => {
      const st = (await client.get<DaemonSet>(dsRef('roll'))).status;
      return st?.updatedNumberScheduled === 3 && st.numberAvailable === 3 && st.observedGeneration === 2 ? st : undefined;
    });
    assert.equal(s.desiredNumberScheduled, 3);
    const revs = (await client.list<ControllerRevision>({ ...CONTROLLER_REVISIONS, namespace: NS })).items.filter((r) => r.metadata!.name!.startsWith('roll-'));
    assert.deepEqual(revs.map((r) => r.revision).sort(), [1, 2]);
  });
});

describe('nodeShouldRunDaemonPod', () => {
  const ds = (tolerations = [] as NonNullable<NonNullable<DaemonSet['spec']>['template']['spec']>['tolerations']) => daemonSet('x', { tolerations });
  it('keeps running pods on an untolerated NoSchedule taint but not on NoExecute', () => {
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'k', effect: 'NoSchedule' }]), ds()), { shouldRun: false, shouldContinueRunning: true });
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'k', effect: 'NoExecute' }]), ds()), { shouldRun: false, shouldContinueRunning: false });
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'k', effect: 'NoExecute' }]), ds([{ key: 'k', operator: 'Exists' }])), { shouldRun: true, shouldContinueRunning: true });
  });
  it('tolerates the default daemon taints such as unschedulable and not-ready', () => {
    const n = node('a', {}, [
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
    ]);
    assert.equal(nodeShouldRunDaemonPod(n, ds()).shouldRun, true);
  });
  it('honours required node affinity', () => {
    const d = daemonSet('x', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } } });
    assert.equal(nodeShouldRunDaemonPod(node('x', { zone: 'a' }), d).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(node('x', { zone: 'b' }), d).shouldRun, false);
  });
});
