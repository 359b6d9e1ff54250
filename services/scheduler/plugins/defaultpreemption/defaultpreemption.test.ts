import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { Registry } from 'prom-client';
import { connectedApiServer, type ConnectedApiServer } from '../../../../test/apiserver.js';
import { ApiClient, PRIORITY_CLASSES as CLASSES } from '../../../../lib/client/mod.js';
import { SchedulerCache } from '../../backend/cache/cache.js';
import { Dim, Reason, defaultScoreConfig, emptyClass, type ClassSpec } from '../../core/types.js';
import type { Diagnosis, PostFilterResult } from '../../framework/types.js';
import { SchedulerMetrics } from '../../metrics.js';
import { DISRUPTION_TARGET, newDefaultPreemption, REASON_PREEMPTION_BY_SCHEDULER, type DefaultPreemptionDeps } from './defaultpreemption.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: 'default' };
const CLASS_ID = 0;
/** reasons upstream's filters report as UnschedulableAndUnresolvable: preemption cannot help there */
const UNRESOLVABLE = new Set<number>([Reason.Unschedulable, Reason.NodeName, Reason.Taint, Reason.NodeAffinity, Reason.SpreadMissingLabel, Reason.PodAffinity]);

const node = (name: string, cpu: string, taints?: Node['spec']): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: taints ?? {},
  status: { allocatable: { cpu, memory: '16Gi', pods: '110' }, capacity: { cpu, memory: '16Gi', pods: '110' } },
});

const podSpec = (name: string, cpu: string, priorityClassName: string, extra: Partial<Pod['spec']> = {}, labels?: Record<string, string>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { priorityClassName, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...extra },
});

describe('DefaultPreemption (SchedulerCache + ReferenceCore + real apiserver)', () => {
  let api: ConnectedApiServer;
  let client: ApiClient;
  let cache: SchedulerCache;
  let metrics: SchedulerMetrics;

  before(async () => {
    api = await connectedApiServer('defaultpreemption-test');
    client = api.client;
    for (const [name, value, preemptionPolicy] of [
      ['low', 10, 'PreemptLowerPriority'],
      ['mid', 100, 'PreemptLowerPriority'],
      ['high', 1000, 'PreemptLowerPriority'],
      ['high-never', 1000, 'Never'],
    ] as const) {
      await client.create(CLASSES, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy } as any);
    }
  });
  after(() => api?.stop());

  beforeEach(async () => {
    cache = new SchedulerCache();
    metrics = new SchedulerMetrics(new Registry());
    await client.deleteCollection(PODS, {}, { gracePeriodSeconds: 0 });
    await client.deleteCollection(PDBS);
  });

  /** A pod created through the apiserver (so admission gives it its priority) already on `nodeName`, and counted by the cache. */
  async function running(name: string, nodeName: string, cpu: string, cls: string, labels?: Record<string, string>): Promise<Pod> {
    const created = await client.create<Pod>(PODS, podSpec(name, cpu, cls, { nodeName }, labels));
    cache.addPod(created);
    return created;
  }

  /** The preemptor's class in the core (resources and host ports, as the ClassTable (classes.ts) would compile it). */
  function defineClass(cpuMilli: number, id = CLASS_ID, hostPorts: number[] = []): void {
    const dims = cache.coreDims();
    const request = new Float64Array(dims.resources);
    request[Dim.CPU] = cpuMilli;
    request[Dim.PODS] = 1;
    const ports = new Uint32Array(dims.portWords);
    for (const port of hostPorts) {
      const b = cache.portBit('TCP', port);
      ports[b >>> 5] |= 1 << (b & 31);
    }
    const spec: ClassSpec = {
      ...emptyClass(dims),
      request,
      ports,
      nonZeroRequest: [cpuMilli, 200 * 1024 * 1024],
      untoleratedHard: new Uint32Array(dims.taintWords).fill(0xffffffff),
      // resource fit is the only score
      score: { ...defaultScoreConfig(), balancedWeight: 0, balancedResources: [], taintWeight: 0, nodeAffinityWeight: 0, spreadWeight: 0, interPodAffinityWeight: 0 },
    };
    cache.core.defineClass(id, spec);
  }

  /** What the framework hands PostFilter: the core's per-node reasons, split into resolvable and not. */
  function diagnose(): Diagnosis {
    const out = new Int32Array(cache.coreDims().nodes);
    cache.core.diagnose(CLASS_ID, out);
    const resolvableSlots: number[] = [];
    for (const n of cache.snapshot.nodes()) {
      const code = out[n.slot] & 0xff;
      assert.notEqual(code, Reason.Fits, `the preemptor fits on ${n.name} already`);
      if (!UNRESOLVABLE.has(code)) resolvableSlots.push(n.slot);
    }
    return { classId: CLASS_ID, reasons: new Map(), unschedulablePlugins: new Set(), resolvableSlots, nodeCount: cache.snapshot.nodeCount() };
  }

  async function preemptor(name: string, cpu: string, cls: string): Promise<Pod> {
    const p = await client.create<Pod>(PODS, podSpec(name, cpu, cls));
    defineClass(Number.parseInt(cpu, 10) * 1000);
    return p;
  }

  async function getPod(name: string): Promise<Pod> {
    return client.get<Pod>({ ...PODS, name });
  }

  function plugin(deps: Partial<DefaultPreemptionDeps> = {}) {
    return newDefaultPreemption(undefined, { client, metrics, ...deps });
  }

  /** One PostFilter run, and the victims' API calls it started, done. */
  async function preempt(pod: Pod): Promise<PostFilterResult> {
    const pl = plugin();
    const r = await pl.postFilter(cache.snapshot, pod, diagnose());
    await pl.drain();
    return r;
  }

  it('evicts only the lower-priority pods the preemptor needs gone, on the node whose victims matter least', async () => {
    cache.addNode(node('node-a', '4'));
    cache.addNode(node('node-b', '4'));
    await running('a-low', 'node-a', '2', 'low');
    await running('a-mid', 'node-a', '2', 'mid');
    await running('b-mid1', 'node-b', '2', 'mid');
    await running('b-mid2', 'node-b', '2', 'mid');
    const p = await preemptor('big', '2', 'high');

    const r = await preempt(p);

    assert.equal(r.nominatedNodeName, 'node-a');
    assert.equal(r.message, '');
    const victim = await getPod('a-low');
    assert.ok(victim.metadata?.deletionTimestamp, 'the victim is being deleted');
    const cond = victim.status?.conditions?.find((c) => c.type === DISRUPTION_TARGET);
    assert.equal(cond?.status, 'True');
    assert.equal(cond?.reason, REASON_PREEMPTION_BY_SCHEDULER);
    assert.equal(cond?.message, 'default-scheduler: preempting to accommodate a higher priority pod');
    for (const spared of ['a-mid', 'b-mid1', 'b-mid2']) assert.equal((await getPod(spared)).metadata?.deletionTimestamp, undefined, spared);
    assert.equal(await metricValue('scheduler_preemption_attempts_total'), 1);
    assert.equal(await metricValue('scheduler_preemption_victims_count'), 1);
  });

  it('leaves the core with the nodes\' real usage after the dry runs', async () => {
    cache.addNode(node('node-a', '3'));
    for (let i = 0; i < 3; i++) await running(`low-${i}`, 'node-a', '1', 'low');
    const p = await preemptor('big', '2', 'high');
    await preempt(p);
    // the last dry run left one of the three pods out; with the real usage a 1-cpu pod still finds the node full
    defineClass(1000, 1);
    const out = new Int32Array(cache.coreDims().nodes);
    cache.core.diagnose(1, out);
    assert.equal(out[cache.node('node-a')!.slot] & 0xff, Reason.Insufficient);
  });

  it('prefers the node needing the fewest victims when their priorities tie', async () => {
    cache.addNode(node('node-a', '4'));
    cache.addNode(node('node-b', '4'));
    for (let i = 0; i < 4; i++) await running(`a-${i}`, 'node-a', '1', 'low');
    await running('b-0', 'node-b', '4', 'low');
    const p = await preemptor('big', '2', 'high');

    const r = await preempt(p);

    assert.equal(r.nominatedNodeName, 'node-b');
    assert.ok((await getPod('b-0')).metadata?.deletionTimestamp);
    for (let i = 0; i < 4; i++) assert.equal((await getPod(`a-${i}`)).metadata?.deletionTimestamp, undefined);
  });

  it('reprieves higher-priority victims first, so only the lowest-priority pods go', async () => {
    cache.addNode(node('node-a', '4'));
    await running('older-low', 'node-a', '1', 'low');
    await running('mid-1', 'node-a', '1', 'mid');
    await running('low-2', 'node-a', '1', 'low');
    await running('mid-2', 'node-a', '1', 'mid');
    const p = await preemptor('big', '2', 'high');

    const r = await preempt(p);

    assert.equal(r.nominatedNodeName, 'node-a');
    const deleted: string[] = [];
    for (const n of ['older-low', 'mid-1', 'low-2', 'mid-2']) if ((await getPod(n)).metadata?.deletionTimestamp) deleted.push(n);
    assert.deepEqual(deleted.sort(), ['low-2', 'older-low']);
  });

  it('a victim put back and taken out again leaves its host port free: the next victim is judged without it', async () => {
    cache.addNode(node('node-a', '4'));
    // equal priority: the one that started first is reprieved first
    const holder = await client.create<Pod>(PODS, podSpec('port-holder', '1', 'low', { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }], resources: { requests: { cpu: '1' } } }] }));
    cache.addPod({ ...holder, metadata: { ...holder.metadata, creationTimestamp: '2024-01-01T00:00:00Z' } });
    await running('plain', 'node-a', '1', 'low');
    const p = await client.create<Pod>(PODS, podSpec('needs-port', '2', 'high'));
    defineClass(2000, CLASS_ID, [8080]);

    const r = plugin().evaluator.selectVictimsOnNode(cache.snapshot, p, CLASS_ID, cache.node('node-a')!, []);

    // the holder cannot stay (its port), and the plain pod can (2 + 1 of 4 cpus, no port)
    assert.ok('victims' in r, JSON.stringify(r));
    assert.deepEqual(r.victims.map((v) => v.key), ['default/port-holder']);
  });

  it('starts each preemption\'s dry runs where the last one stopped, so successive preemptions try other nodes first (upstream\'s offset)', async () => {
    for (const n of ['node-a', 'node-b', 'node-c']) {
      cache.addNode(node(n, '2'));
      await running(`${n}-low`, n, '2', 'low');
    }
    const p = await preemptor('big', '2', 'high');
    // one candidate is enough: each scan stops at the first node that can help
    const pl = newDefaultPreemption({ minCandidateNodesAbsolute: 1, minCandidateNodesPercentage: 0 }, { client, metrics });
    const slots = diagnose().resolvableSlots;
    const first = () => pl.evaluator.findCandidates(cache.snapshot, p, CLASS_ID, slots, []).candidates.map((c) => c.nodeName);

    assert.deepEqual([first(), first(), first(), first()], [['node-a'], ['node-b'], ['node-c'], ['node-a']]);
    // a scan that had to try every node leaves the start where it was
    const all = newDefaultPreemption(undefined, { client, metrics });
    const every = () => all.evaluator.findCandidates(cache.snapshot, p, CLASS_ID, slots, []).candidates.map((c) => c.nodeName);
    assert.deepEqual([every(), every()], [['node-a', 'node-b', 'node-c'], ['node-a', 'node-b', 'node-c']]);
  });

  it('avoids victims whose PodDisruptionBudget allows no disruption, even at a higher victim priority', async () => {
    cache.addNode(node('node-a', '2'));
    cache.addNode(node('node-b', '2'));
    await running('guarded', 'node-a', '2', 'low', { app: 'guarded' });
    await running('free', 'node-b', '2', 'mid', { app: 'free' });
    const pdb = await client.create<PodDisruptionBudget>(PDBS, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'guard', namespace: 'default' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
    });
    await client.updateStatus(PDBS, { ...pdb, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } });
    const p = await preemptor('big', '2', 'high');

    const r = await preempt(p);

    assert.equal(r.nominatedNodeName, 'node-b');
    assert.equal((await getPod('guarded')).metadata?.deletionTimestamp, undefined);
    assert.ok((await getPod('free')).metadata?.deletionTimestamp);
  });

  it('preempts nothing for a pod whose preemptionPolicy is Never', async () => {
    cache.addNode(node('node-a', '2'));
    await running('victim', 'node-a', '2', 'low');
    const p = await preemptor('polite', '2', 'high-never');
    assert.equal(p.spec?.preemptionPolicy, 'Never');

    const r = await preempt(p);

    assert.equal(r.nominatedNodeName, undefined);
    assert.equal(r.message, 'preemption: not eligible due to preemptionPolicy=Never.');
    assert.equal((await getPod('victim')).metadata?.deletionTimestamp, undefined);
  });

  it('words a failure as upstream does: no victims, not helpful, and still insufficient', async () => {
    cache.addNode(node('node-a', '2'));
    cache.addNode(node('node-b', '2'));
    cache.addNode(node('node-c', '2', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    await running('peer-a', 'node-a', '2', 'high');
    await running('peer-b', 'node-b', '2', 'high');
    const p = await preemptor('big', '2', 'high');

    const r = await preempt(p);
    assert.equal(r.nominatedNodeName, undefined);
    assert.equal(r.message, 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.');

    // a node too small even when emptied of lower-priority pods keeps its filter's reason
    cache.addNode(node('node-d', '1'));
    await running('low-d', 'node-d', '1', 'low');
    const r2 = await preempt(p);
    assert.equal(
      r2.message,
      'preemption: 0/4 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
    assert.equal((await getPod('low-d')).metadata?.deletionTimestamp, undefined);
  });

  it('waits instead of preempting again while its victims on the nominated node terminate', async () => {
    cache.addNode(node('node-a', '2'));
    await running('victim', 'node-a', '2', 'low');
    const p = await preemptor('big', '2', 'high');
    const first = await preempt(p);
    assert.equal(first.nominatedNodeName, 'node-a');
    // the informer delivers the terminating victim and the nominated preemptor
    const victim = await getPod('victim');
    cache.updatePod(victim, victim);
    // and the scheduler has written the nomination PostFilter returned
    const nominated: Pod = { ...(await getPod('big')), status: { nominatedNodeName: first.nominatedNodeName } };

    const second = await preempt(nominated);

    assert.equal(second.nominatedNodeName, undefined);
    assert.equal(second.message, 'preemption: not eligible due to a terminating pod on the nominated node.');
  });

  it('waits, tried again before the cache has seen its victims (deleted at once) go, instead of preempting on another node', async () => {
    cache.addNode(node('node-a', '2'));
    cache.addNode(node('node-b', '2'));
    const victims: Pod[] = [];
    for (const n of ['node-a', 'node-b']) {
      victims.push(await client.create<Pod>(PODS, podSpec(`${n}-low`, '2', 'low', { nodeName: n, terminationGracePeriodSeconds: 0 })));
      cache.addPod(victims.at(-1)!);
    }
    const p = await preemptor('big', '2', 'high');
    // one candidate is enough, so a second preemption would start at node-b
    const pl = newDefaultPreemption({ minCandidateNodesAbsolute: 1, minCandidateNodesPercentage: 0 }, { client, metrics });
    const first = await pl.postFilter(cache.snapshot, p, diagnose());
    await pl.drain();
    assert.equal(first.nominatedNodeName, 'node-a');
    await assert.rejects(getPod('node-a-low'), /not found/, 'a grace period of 0 deletes the victim at once');

    // activated once its victim's delete is answered, before the informer delivers the delete
    const again = await pl.postFilter(cache.snapshot, { ...p, status: { nominatedNodeName: 'node-a' } }, diagnose());
    await pl.drain();

    assert.equal(again.nominatedNodeName, undefined);
    assert.equal(again.message, 'preemption: not eligible due to a terminating pod on the nominated node.');
    assert.equal((await getPod('node-b-low')).metadata?.deletionTimestamp, undefined, 'node-b keeps its pod');
    // once the cache has seen the victim go, the node's room is the preemptor's
    cache.removePod(victims[0]);
    const slots = [...cache.snapshot.nodes()].map((n) => n.slot);
    assert.equal(pl.eligible(cache.snapshot, p, { classId: CLASS_ID, reasons: new Map(), unschedulablePlugins: new Set(), resolvableSlots: slots, nodeCount: 2 }), undefined);
  });

  it('nominates at once and deletes the victims beside the scheduling loop, saying when they are gone', async () => {
    cache.addNode(node('node-a', '2'));
    await running('victim', 'node-a', '2', 'low');
    const p = await preemptor('big', '2', 'high');
    const done: Array<{ name?: string; error?: Error }> = [];
    const pl = plugin({ onPreemptionDone: (pod, error) => done.push({ name: pod.metadata?.name, error }) });

    const r = await pl.postFilter(cache.snapshot, p, diagnose());

    assert.equal(r.nominatedNodeName, 'node-a');
    assert.equal(pl.inFlight('default/big'), true, 'the victim is not deleted yet');
    assert.deepEqual(done, []);
    await pl.drain();
    assert.equal(pl.inFlight('default/big'), false);
    assert.deepEqual(done, [{ name: 'big', error: undefined }]);
    assert.ok((await getPod('victim')).metadata?.deletionTimestamp, 'the victim is being deleted');
  });

  it('says which victim failed when its API calls fail, and lets the preemptor go', async () => {
    cache.addNode(node('node-a', '2'));
    const victim = await running('victim', 'node-a', '2', 'low');
    const p = await preemptor('big', '2', 'high');
    // the victim in the cache is another pod of the same name: the delete's uid precondition fails (409)
    cache.removePod(victim);
    cache.addPod({ ...victim, metadata: { ...victim.metadata, uid: 'not-the-stored-uid' } });
    const done: Array<{ name?: string; error?: Error }> = [];
    const pl = plugin({ onPreemptionDone: (pod, error) => done.push({ name: pod.metadata?.name, error }) });

    assert.equal((await pl.postFilter(cache.snapshot, p, diagnose())).nominatedNodeName, 'node-a');
    await pl.drain();

    assert.equal(done.length, 1);
    assert.equal(done[0].name, 'big');
    assert.match(done[0].error?.message ?? '', /^preemption of default\/victim on node-a for default\/big failed: /);
    assert.equal(pl.inFlight('default/big'), false);
    assert.equal((await getPod('victim')).metadata?.deletionTimestamp, undefined, 'the stored victim is untouched');
  });

  async function metricValue(name: string): Promise<number> {
    const all = await metrics.registry.getMetricsAsJSON();
    const base = name.replace(/_count$/, '');
    const m = all.find((x) => x.name === base);
    assert.ok(m, `metric ${base}`);
    const v = (m.values as Array<{ value: number; metricName?: string }>).find((x) => (x.metricName ?? base) === name);
    return v?.value ?? 0;
  }
});
