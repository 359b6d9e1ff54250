/**
 * Every scheduling plugin end to end: a real nats-server, a real apiserver, one scheduler
 * service (the shipped core) for the whole file, and Nodes and Pods created through the
 * API as a user would. Each test owns a namespace and its nodes; the nodes are removed
 * after it (and the scheduler's cache is seen to drop them), so every "0/N nodes" message
 * counts only that test's nodes.
 */
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Event, Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { apiNode } from './testing/harness.js';
import { NotFoundError } from '../../lib/api/errors.js';
import { ApiClient, connectNats, PRIORITY_CLASSES, Resources } from '../../lib/client/mod.js';
import { startScheduler, type RunningScheduler } from './server.js';
import { waitFor } from '../../test/wait.js';

const ZONE = 'topology.kubernetes.io/zone';
const HOSTNAME = 'kubernetes.io/hostname';

/** the default profile, plus a bin-packing one (MostAllocated) under another schedulerName */
const CONFIG = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - {name: cpu, weight: 1}
        - {name: memory, weight: 1}
`;

type PodSpec = NonNullable<Pod['spec']>;

function mkPod(name: string, requests: Record<string, string> = {}, spec: Partial<PodSpec> = {}, labels?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests } }], ...spec },
  };
}


describe('scheduler plugins end to end: placement through a real apiserver follows each plugin', function () {
  this.timeout(60_000);
  let nc: NatsConnection;
  let client: ApiClient;
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let s: RunningScheduler;
  /** this test's namespace and nodes */
  let ns = '';
  let nodes: string[] = [];
  let priorityClasses: string[] = [];
  let testNo = 0;

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url, bucket: 'scheduler-plugins-e2e' });
    nc = await connectNats(nats.url, { name: 'scheduler-plugins-e2e' });
    client = new ApiClient(nc);
    s = await startScheduler({ natsUrl: nats.url, port: 0, leaderElect: false, configText: CONFIG, log: () => {} });
  });

  beforeEach(async () => {
    ns = `plugins-${++testNo}`;
    await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });

  afterEach(async () => {
    const pods = await client.list<Pod>({ ...Resources.pods, namespace: ns });
    for (const p of pods.items) await client.delete({ ...Resources.pods, namespace: ns, name: p.metadata!.name! }, { gracePeriodSeconds: 0 }).catch(ignoreNotFound);
    for (const n of nodes) await client.delete({ ...Resources.nodes, name: n }).catch(ignoreNotFound);
    for (const pc of priorityClasses) await client.delete({ ...PRIORITY_CLASSES, name: pc }).catch(ignoreNotFound);
    // the next test's messages count nodes: wait until the scheduler has forgotten these
    const gone = [...nodes];
    await waitFor('the scheduler cache to drop the test nodes', () => gone.every((n) => s.scheduler.cache.node(n) === undefined));
    nodes = [];
    priorityClasses = [];
  });

  after(async () => {
    await s?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  function ignoreNotFound(e: unknown): void {
    if (!(e instanceof NotFoundError)) throw e;
  }

  /** creates the nodes and waits until the scheduler's cache holds them, so placement sees all of them */
  async function addNodes(...list: Node[]): Promise<void> {
    for (const n of list) {
      nodes.push(n.metadata!.name!);
      await client.create(Resources.nodes, n);
    }
    await waitFor('the scheduler cache to hold the nodes', () => list.every((n) => s.scheduler.cache.node(n.metadata!.name!) !== undefined));
  }

  /** PriorityClasses e2e-low (10) and e2e-high (1000), deleted after the test */
  async function lowAndHighPriorityClasses(): Promise<void> {
    for (const [name, value] of [
      ['e2e-low', 10],
      ['e2e-high', 1000],
    ] as const) {
      await client.create(PRIORITY_CLASSES, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value } as never);
      priorityClasses.push(name);
    }
  }

  const createPod = (p: Pod) => client.create<Pod>({ ...Resources.pods, namespace: ns }, p);
  const getPod = (name: string) => client.get<Pod>({ ...Resources.pods, namespace: ns, name });
  const boundTo = (name: string) => waitFor(`pod ${ns}/${name} to be bound`, async () => (await getPod(name)).spec?.nodeName);
  const scheduledFalse = (name: string): Promise<PodCondition> =>
    waitFor(`pod ${ns}/${name} to get PodScheduled=False`, async () =>
      (await getPod(name)).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'),
    );
  /** the message of the pod's PodScheduled=False condition, after checking it stayed unbound */
  const unschedulableMessage = async (name: string): Promise<string | undefined> => {
    const cond = await scheduledFalse(name);
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal((await getPod(name)).spec?.nodeName, undefined);
    return cond.message;
  };
  /** places the pods one after another (each waits for the previous to bind) and answers their nodes */
  const placeInTurn = async (...pods: Pod[]): Promise<string[]> => {
    const out: string[] = [];
    for (const p of pods) {
      await createPod(p);
      out.push(await boundTo(p.metadata!.name!));
    }
    return out;
  };
  const countBy = (names: string[], key: (n: string) => string): Record<string, number> => {
    const r: Record<string, number> = {};
    for (const n of names) r[key(n)] = (r[key(n)] ?? 0) + 1;
    return r;
  };

  it('NodeUnschedulable: a cordoned node is skipped, and a pod tolerating node.kubernetes.io/unschedulable lands there', async () => {
    // the cordoned node is the larger one, so LeastAllocated alone would pick it
    await addNodes(apiNode('cordoned', { cpu: '16', memory: '32Gi', unschedulable: true }), apiNode('open', { cpu: '2', memory: '4Gi' }));
    await createPod(mkPod('plain', { cpu: '500m' }));
    assert.equal(await boundTo('plain'), 'open');
    await createPod(mkPod('tolerant', { cpu: '500m' }, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }));
    assert.equal(await boundTo('tolerant'), 'cordoned');
    await createPod(mkPod('pinned', {}, { nodeSelector: { [HOSTNAME]: 'cordoned' } }));
    assert.equal(
      await unschedulableMessage('pinned'),
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it('NodeResourcesFit: cpu, memory, nvidia.com/gpu and the init-container max rule decide the node, and the message names what is short', async () => {
    await addNodes(
      apiNode('small', { cpu: '1', memory: '1Gi' }),
      apiNode('big', { cpu: '4', memory: '8Gi' }),
      apiNode('gpu', { cpu: '2', memory: '2Gi', extra: { 'nvidia.com/gpu': '2' } }),
    );
    assert.deepEqual(await placeInTurn(mkPod('cpu-3', { cpu: '3' })), ['big']);
    assert.deepEqual(await placeInTurn(mkPod('mem-4g', { memory: '4Gi' })), ['big']);
    const gpuPod = mkPod('gpu-1', { cpu: '100m', 'nvidia.com/gpu': '1' });
    gpuPod.spec!.containers[0].resources!.limits = { 'nvidia.com/gpu': '1' };
    assert.deepEqual(await placeInTurn(gpuPod), ['gpu']);
    // free cpu now: small 1, big 1, gpu 1.9. The pod needs max(init 1500m, containers 1) = 1.5
    // (the sum, 2.5, fits nowhere; the containers alone, 1, would fit anywhere)
    const initPod = mkPod('init-max', { cpu: '1' }, { initContainers: [{ name: 'init', image: 'busybox', resources: { requests: { cpu: '1500m' } } }] });
    assert.deepEqual(await placeInTurn(initPod), ['gpu']);
    const tooMuch = mkPod('too-much', { cpu: '2', 'nvidia.com/gpu': '2' });
    tooMuch.spec!.containers[0].resources!.limits = { 'nvidia.com/gpu': '2' };
    await createPod(tooMuch);
    assert.equal(
      await unschedulableMessage('too-much'),
      // small lacks the cpu and big the GPUs even empty: preemption is not tried there (upstream NodeResourcesFit's Unresolvable)
      '0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
  });

  it('NodeResourcesFit scoring: LeastAllocated spreads two pods over two empty nodes', async () => {
    await addNodes(apiNode('spread-a'), apiNode('spread-b'));
    // cpu and memory in the nodes' proportion, so BalancedAllocation scores both nodes alike
    const placed = await placeInTurn(mkPod('s1', { cpu: '1', memory: '2Gi' }), mkPod('s2', { cpu: '1', memory: '2Gi' }));
    assert.deepEqual([...placed].sort(), ['spread-a', 'spread-b']);
  });

  it('NodeResourcesFit scoring: a second profile (schedulerName bin-packer, MostAllocated) packs two pods on one node', async () => {
    await addNodes(apiNode('pack-a'), apiNode('pack-b'));
    const placed = await placeInTurn(
      mkPod('p1', { cpu: '1', memory: '2Gi' }, { schedulerName: 'bin-packer' }),
      mkPod('p2', { cpu: '1', memory: '2Gi' }, { schedulerName: 'bin-packer' }),
    );
    assert.ok(['pack-a', 'pack-b'].includes(placed[0]), `placed on ${placed[0]}`);
    assert.equal(placed[1], placed[0]);
    // each profile reports its own events, as upstream's per-profile recorders do
    const ev = await waitFor('the Scheduled event of p1', async () =>
      (await client.list<Event>({ ...Resources.events, namespace: ns }, { fieldSelector: 'involvedObject.name=p1,reason=Scheduled' })).items[0],
    );
    assert.equal(ev.reportingComponent, 'bin-packer');
  });

  it('NodePorts: a second pod with the same hostPort goes to the other node, a third fits nowhere', async () => {
    // ports-a is the larger: without the port conflict the second pod would go there too
    await addNodes(apiNode('ports-a', { cpu: '16', memory: '32Gi' }), apiNode('ports-b'));
    const withPort = (name: string) => {
      const p = mkPod(name, { cpu: '100m' });
      p.spec!.containers[0].ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }];
      return p;
    };
    assert.deepEqual(await placeInTurn(withPort('web-1'), withPort('web-2')), ['ports-a', 'ports-b']);
    await createPod(withPort('web-3'));
    assert.equal(
      await unschedulableMessage('web-3'),
      "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });

  it('TaintToleration: NoSchedule blocks, Equal and Exists tolerations admit, PreferNoSchedule is avoided when possible', async () => {
    await addNodes(
      apiNode('tainted', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      apiNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
      apiNode('clean'),
    );
    // all three alike and empty: NoSchedule removes one, PreferNoSchedule's score the other
    assert.deepEqual(await placeInTurn(mkPod('no-toleration', { cpu: '100m' })), ['clean']);
    const onTainted = { [HOSTNAME]: 'tainted' };
    const equal = mkPod('equal', { cpu: '100m' }, { nodeSelector: onTainted, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
    const exists = mkPod('exists', { cpu: '100m' }, { nodeSelector: onTainted, tolerations: [{ key: 'dedicated', operator: 'Exists' }] });
    assert.deepEqual(await placeInTurn(equal, exists), ['tainted', 'tainted']);
    await createPod(mkPod('wrong-value', { cpu: '100m' }, { nodeSelector: onTainted, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoSchedule' }] }));
    assert.equal(
      await unschedulableMessage('wrong-value'),
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it('NodeAffinity: nodeSelector, required In/NotIn/Exists/DoesNotExist/Gt/Lt, matchFields metadata.name, and the preferred term with the larger weight', async () => {
    await addNodes(
      apiNode('aff-1', { cpu: '8', memory: '16Gi', labels: { [ZONE]: 'z1', disk: 'ssd', cores: '8' } }),
      apiNode('aff-2', { cpu: '8', memory: '16Gi', labels: { [ZONE]: 'z2', disk: 'hdd', cores: '4' } }),
      apiNode('aff-3', { cpu: '8', memory: '16Gi', labels: { [ZONE]: 'z3', cores: '2' } }),
    );
    type Expr = { key: string; operator: string; values?: string[] };
    const required = (name: string, exprs: Expr[], fields?: Expr[]) =>
      mkPod(name, {}, {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs.length ? exprs : undefined, matchFields: fields }] } } },
      });
    const placed = await placeInTurn(
      mkPod('selector', {}, { nodeSelector: { disk: 'ssd' } }),
      required('in', [{ key: ZONE, operator: 'In', values: ['z2'] }]),
      required('notin', [{ key: ZONE, operator: 'NotIn', values: ['z1', 'z2'] }]),
      required('exists', [
        { key: 'disk', operator: 'Exists' },
        { key: ZONE, operator: 'In', values: ['z2', 'z3'] },
      ]),
      required('doesnotexist', [{ key: 'disk', operator: 'DoesNotExist' }]),
      required('gt', [{ key: 'cores', operator: 'Gt', values: ['6'] }]),
      required('lt', [{ key: 'cores', operator: 'Lt', values: ['3'] }]),
      required('fields', [], [{ key: 'metadata.name', operator: 'In', values: ['aff-2'] }]),
      mkPod('preferred', {}, {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, preference: { matchExpressions: [{ key: ZONE, operator: 'In', values: ['z1'] }] } },
              { weight: 80, preference: { matchExpressions: [{ key: ZONE, operator: 'In', values: ['z3'] }] } },
            ],
          },
        },
      }),
    );
    assert.deepEqual(placed, ['aff-1', 'aff-2', 'aff-3', 'aff-2', 'aff-3', 'aff-1', 'aff-3', 'aff-2', 'aff-3']);
    await createPod(required('nowhere', [{ key: ZONE, operator: 'In', values: ['z9'] }]));
    assert.equal(
      await unschedulableMessage('nowhere'),
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  it('PodTopologySpread: DoNotSchedule maxSkew 1 over two zones splits 4 pods 2/2 and never uses a node without the zone label', async () => {
    await addNodes(
      // z1's nodes are the larger: without the constraint z1 would take all four
      apiNode('z1-a', { cpu: '16', memory: '32Gi', labels: { [ZONE]: 'z1' } }),
      apiNode('z1-b', { cpu: '16', memory: '32Gi', labels: { [ZONE]: 'z1' } }),
      apiNode('z2-a', { labels: { [ZONE]: 'z2' } }),
      // the largest node: resource scores alone would fill it first
      apiNode('zoneless', { cpu: '64', memory: '128Gi' }),
    );
    const spread = (name: string) =>
      mkPod(
        name,
        { cpu: '100m' },
        { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }] },
        { app: 'spread' },
      );
    const placed = await placeInTurn(spread('sp-1'), spread('sp-2'), spread('sp-3'), spread('sp-4'));
    const zoneOf: Record<string, string> = { 'z1-a': 'z1', 'z1-b': 'z1', 'z2-a': 'z2', zoneless: 'none' };
    assert.deepEqual(countBy(placed, (n) => zoneOf[n]), { z1: 2, z2: 2 });
  });

  it('InterPodAffinity: required affinity places a pod in the zone of the pod it names, not necessarily beside it', async () => {
    await addNodes(
      apiNode('ipa-a', { cpu: '16', memory: '32Gi', labels: { [ZONE]: 'z1' } }),
      apiNode('ipa-b', { cpu: '4', memory: '8Gi', labels: { [ZONE]: 'z2' } }),
      apiNode('ipa-c', { cpu: '8', memory: '16Gi', labels: { [ZONE]: 'z2' } }),
    );
    assert.deepEqual(await placeInTurn(mkPod('db', { cpu: '100m' }, { nodeSelector: { [HOSTNAME]: 'ipa-b' } }, { app: 'db' })), ['ipa-b']);
    const web = mkPod('web', { cpu: '100m' }, {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: ZONE }] } },
    });
    // zone z2; of its nodes the emptier, larger ipa-c (ipa-a, larger still, is in z1)
    assert.deepEqual(await placeInTurn(web), ['ipa-c']);
  });

  it('InterPodAffinity: anti-affinity by hostname puts 3 replicas on 3 nodes and leaves a 4th Pending', async () => {
    await addNodes(apiNode('anti-1'), apiNode('anti-2'), apiNode('anti-3'));
    const replica = (name: string) =>
      mkPod(
        name,
        { cpu: '100m' },
        { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'replica' } }, topologyKey: HOSTNAME }] } } },
        { app: 'replica' },
      );
    const placed = await placeInTurn(replica('r-1'), replica('r-2'), replica('r-3'));
    assert.deepEqual([...placed].sort(), ['anti-1', 'anti-2', 'anti-3']);
    await createPod(replica('r-4'));
    assert.equal(
      await unschedulableMessage('r-4'),
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
  });

  it('DefaultPreemption: a high-priority pod evicts a lower one, is nominated to its node and binds there once the victim is gone', async () => {
    await lowAndHighPriorityClasses();
    await addNodes(apiNode('pre-a', { cpu: '2' }));
    // the default grace period (30 s) keeps the evicted pod visible while it terminates
    assert.deepEqual(await placeInTurn(mkPod('victim', { cpu: '1500m' }, { priorityClassName: 'e2e-low' })), ['pre-a']);
    await createPod(mkPod('preemptor', { cpu: '1500m' }, { priorityClassName: 'e2e-high' }));
    const victim = await waitFor('the victim to be terminating', async () => {
      const v = await getPod('victim');
      return v.metadata?.deletionTimestamp ? v : undefined;
    });
    assert.equal(victim.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'PreemptionByScheduler');
    const nominated = await waitFor('status.nominatedNodeName', async () => (await getPod('preemptor')).status?.nominatedNodeName);
    assert.equal(nominated, 'pre-a');
    // a terminating victim still holds its resources: the preemptor waits for it
    assert.equal((await getPod('preemptor')).spec?.nodeName, undefined);
    // what the kubelet does once the containers stop: remove the pod for good
    await client.delete({ ...Resources.pods, namespace: ns, name: 'victim' }, { gracePeriodSeconds: 0 });
    assert.equal(await boundTo('preemptor'), 'pre-a');
  });

  it('DefaultPreemption: a victim deleted at once (grace period 0) leaves its room to the preemptor, which binds there and evicts no one else', async () => {
    await lowAndHighPriorityClasses();
    await addNodes(apiNode('quick-a', { cpu: '2' }), apiNode('quick-b', { cpu: '2' }));
    const low = (name: string) => mkPod(name, { cpu: '1500m' }, { priorityClassName: 'e2e-low', terminationGracePeriodSeconds: 0 });
    assert.deepEqual((await placeInTurn(low('low-1'), low('low-2'))).sort(), ['quick-a', 'quick-b']);
    const onNode = new Map<string, string>();
    for (const n of ['low-1', 'low-2']) onNode.set((await getPod(n)).spec!.nodeName!, n);
    await createPod(mkPod('quick-preemptor', { cpu: '1500m' }, { priorityClassName: 'e2e-high' }));

    const node = await boundTo('quick-preemptor');

    await assert.rejects(getPod(onNode.get(node)!), /not found/, 'the victim on its node is gone');
    const other = await getPod(onNode.get(node === 'quick-a' ? 'quick-b' : 'quick-a')!);
    assert.equal(other.metadata?.deletionTimestamp, undefined, 'the pod on the other node stays');
  });

  it('DefaultPreemption: a preemptor whose victim terminates gracefully is not held back: it binds where room appears meanwhile', async () => {
    await lowAndHighPriorityClasses();
    await addNodes(apiNode('grace-a', { cpu: '2' }), apiNode('grace-b', { cpu: '2' }));
    // the default grace period (30 s, no kubelet here to end it) keeps the victim terminating
    await createPod(mkPod('slow-victim', { cpu: '1500m' }, { priorityClassName: 'e2e-low', nodeName: 'grace-a' }));
    await createPod(mkPod('blocker', { cpu: '1500m' }, { priorityClassName: 'e2e-high', nodeName: 'grace-b' }));
    await waitFor('the scheduler cache to hold both pods', () => s.scheduler.cache.node('grace-a')?.pods.size === 1 && s.scheduler.cache.node('grace-b')?.pods.size === 1);
    await createPod(mkPod('grace-preemptor', { cpu: '1500m' }, { priorityClassName: 'e2e-high' }));
    await waitFor('the victim to be terminating', async () => (await getPod('slow-victim')).metadata?.deletionTimestamp);

    await client.delete({ ...Resources.pods, namespace: ns, name: 'blocker' }, { gracePeriodSeconds: 0 });

    assert.equal(await boundTo('grace-preemptor'), 'grace-b');
  });

  it('the FailedScheduling message of a mixed case (taint and insufficient cpu) is upstream\'s, on the condition and the event', async () => {
    await addNodes(
      apiNode('mixed-tainted', { cpu: '8', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      apiNode('mixed-small-1', { cpu: '1' }),
      apiNode('mixed-small-2', { cpu: '1' }),
    );
    await createPod(mkPod('impossible', { cpu: '2' }));
    const expected =
      // the small nodes could not hold the pod empty: no victims would help there (upstream NodeResourcesFit's Unresolvable, kubernetes#131345)
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    assert.equal(await unschedulableMessage('impossible'), expected);
    const ev = await waitFor('the FailedScheduling event', async () =>
      (await client.list<Event>({ ...Resources.events, namespace: ns }, { fieldSelector: 'involvedObject.name=impossible,reason=FailedScheduling' })).items[0],
    );
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, expected);
  });
});
