// ---- test harness: SchedulerCache + ReferenceCore + Framework, one pod per cycle ----
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ReferenceCore } from '../core/reference.js';
import { SchedulerCache } from '../cache.js';
import { ClassTable } from '../classes.js';
import { defaultSchedulerConfiguration, parseSchedulerConfiguration } from '../config.js';
import { Framework } from '../framework/framework.js';
import type { CoreDims } from '../core/types.js';
import type { Diagnosis } from '../framework/types.js';

interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

function mkNode(name: string, o: NodeOpts = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', ...o.extra } },
  };
}

function mkPod(name: string, requests: Record<string, string> = {}, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests } }], ...spec },
  };
}

interface Outcome {
  node?: string;
  message?: string;
  diag?: Diagnosis;
}

function harness(configYaml?: string, dims?: Partial<CoreDims>) {
  const cache = new SchedulerCache({ createCore: (d) => new ReferenceCore(d), dims });
  const cfg = configYaml ? parseSchedulerConfiguration(configYaml) : defaultSchedulerConfiguration();
  const fw = new Framework(cfg.profiles[0], { snapshot: cache });
  const classes = new ClassTable(cache);
  const schedule = (pod: Pod): Outcome => {
    classes.beginCycle();
    const c = classes.resolve(pod, fw);
    if (c.unresolvable !== undefined) {
      const diag = fw.unresolvableDiagnosis(c.unresolvable, c.unresolvablePlugin);
      return { message: fw.failureMessage(diag), diag };
    }
    const out = new Int32Array(1);
    if (cache.core.place(c.id, 1, out) === 1) {
      const node = cache.nodeAt(out[0])!.name;
      cache.assumePod(pod, node, { placedByCore: true });
      return { node };
    }
    const reasons = new Int32Array(cache.core.dims.nodes);
    cache.core.diagnose(c.id, reasons);
    const diag = fw.diagnose(c.id, c.spec, reasons);
    return { message: fw.failureMessage(diag), diag };
  };
  /** per node name, the total score of the pod (-1 infeasible) */
  const scores = (pod: Pod): Record<string, number> => {
    classes.beginCycle();
    const c = classes.resolve(pod, fw);
    const out = new Float64Array(cache.core.dims.nodes);
    cache.core.scores(c.id, out);
    const r: Record<string, number> = {};
    for (const n of cache.nodes()) r[n.name] = out[n.slot];
    return r;
  };
  return { cache, fw, classes, schedule, scores };
}

/** a configuration whose only score plugin is `plugin` (weight 1), to read one plugin's score */
function onlyScore(plugin: string, args = ''): string {
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: ${plugin}, weight: 1}]
${args}`;
}
// ---- end of harness ----
import assert from 'node:assert/strict';
import { ErrNoNodesAvailable, fitErrorMessage } from './framework.js';

const gpuTaint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('Framework', () => {
  it('renders the FailedScheduling message as upstream: histogram sorted as strings, then the preemption sentence', () => {
    const h = harness();
    for (let i = 1; i <= 3; i++) h.cache.addNode(mkNode(`n${i}`, { cpu: '1' }));
    for (let i = 4; i <= 5; i++) h.cache.addNode(mkNode(`n${i}`, { taints: [gpuTaint] }));
    const r = h.schedule(mkPod('web-1', { cpu: '2' }));
    assert.equal(r.message, '0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu.');
    assert.deepEqual([...r.diag!.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
    assert.deepEqual(r.diag!.resolvableSlots.map((s) => h.cache.nodeAt(s)!.name), ['n1', 'n2', 'n3']);
    const withPreemption = h.fw.failureMessage(r.diag!, 'preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.');
    // one period at the end, as the FailedScheduling events users see
    assert.equal(
      withPreemption,
      '0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.',
    );
  });

  it('a node failing several resources counts under each; sorting is by string, so 10 comes before 9', () => {
    const reasons = new Map([
      ['Insufficient memory', 9],
      ['Insufficient cpu', 10],
    ]);
    assert.equal(fitErrorMessage(19, reasons), '0/19 nodes are available: 10 Insufficient cpu, 9 Insufficient memory.');
    assert.equal(fitErrorMessage(0, new Map()), '0/0 nodes are available:');
  });

  it('says "no nodes available to schedule pods" when the cluster has no nodes', () => {
    const h = harness();
    assert.equal(h.schedule(mkPod('p')).message, ErrNoNodesAvailable);
  });

  it('a PreFilter rejection replaces the histogram', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    const diag = h.fw.unresolvableDiagnosis("node(s) didn't match pod affinity rules", 'InterPodAffinity');
    assert.equal(h.fw.failureMessage(diag, 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'),
      "0/1 nodes are available: node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
    assert.deepEqual(diag.resolvableSlots, []);
  });

  it('expands the default multiPoint plugins over the extension points with upstream weights', () => {
    const h = harness();
    assert.equal(h.fw.queueSortPlugin?.name, 'PrioritySort');
    assert.deepEqual(h.fw.filterPlugins.map((p) => p.name), [
      'NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity',
    ]);
    assert.deepEqual(
      Object.fromEntries(h.fw.scorePlugins.map((s) => [s.plugin.name, s.weight])),
      { TaintToleration: 3, NodeAffinity: 2, NodeResourcesFit: 1, PodTopologySpread: 2, InterPodAffinity: 2, NodeResourcesBalancedAllocation: 1 },
    );
    assert.deepEqual(h.fw.bindPlugins.map((p) => p.name), ['DefaultBinder']);
    const spec = h.fw.compile(mkPod('p')).spec;
    assert.equal(spec.filters, 0xff);
    assert.equal(spec.score.taintWeight, 3);
    assert.equal(spec.score.nodeAffinityWeight, 2);
    assert.equal(spec.score.fitWeight, 1);
    assert.equal(spec.score.balancedWeight, 1);
  });

  it('a disabled filter no longer rejects nodes and a score weight from the configuration is applied', () => {
    const h = harness(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    filter:
      disabled: [{name: TaintToleration}]
    score:
      enabled: [{name: NodeResourcesFit, weight: 7}]
`);
    h.cache.addNode(mkNode('tainted', { taints: [gpuTaint] }));
    assert.equal(h.schedule(mkPod('p')).node, 'tainted');
    assert.equal(h.fw.compile(mkPod('p')).spec.score.fitWeight, 7);
    assert.equal(h.fw.compile(mkPod('p')).spec.score.taintWeight, 3, 'TaintToleration still scores');
  });

  it('signatures differ by profile and by what the plugins read, not by pod name', () => {
    const h = harness();
    const a = h.fw.signature(mkPod('a', { cpu: '1' }, { nodeSelector: { z: '1' } }));
    assert.equal(h.fw.signature(mkPod('b', { cpu: '1' }, { nodeSelector: { z: '1' } })), a);
    assert.notEqual(h.fw.signature(mkPod('c', { cpu: '1' }, { nodeSelector: { z: '2' } })), a);
    assert.notEqual(h.fw.signature(mkPod('d', { cpu: '1' }, { tolerations: [{ operator: 'Exists' }] })), a);
  });

  it('an unknown plugin in the configuration is an error naming it', () => {
    assert.throws(
      () =>
        harness(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    filter:
      enabled: [{name: NoSuchPlugin}]
`),
      /plugin "NoSuchPlugin" does not exist/,
    );
  });
});
