// ---- test harness: SchedulerCache + ReferenceCore + Framework, one pod per cycle ----
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ReferenceCore } from './core/reference.js';
import { SchedulerCache } from './cache.js';
import { ClassTable } from './classes.js';
import { defaultSchedulerConfiguration, parseSchedulerConfiguration } from './config.js';
import { Framework } from './framework/framework.js';
import type { CoreDims } from './core/types.js';
import type { Diagnosis } from './framework/types.js';

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

describe('ClassTable', () => {
  it('pods with equal signatures share a class; different requests do not', () => {
    const h = harness();
    h.cache.addNode(mkNode('n'));
    const a = h.classes.resolve(mkPod('a', { cpu: '1' }), h.fw);
    const b = h.classes.resolve(mkPod('b', { cpu: '1' }), h.fw);
    const c = h.classes.resolve(mkPod('c', { cpu: '2' }), h.fw);
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.equal(h.classes.size, 2);
  });

  it('evicts the least recently used class when the core is full, and the evicted class is recompiled on use', () => {
    const h = harness(undefined, { classes: 2 });
    h.cache.addNode(mkNode('n', { cpu: '10' }));
    const one = h.classes.resolve(mkPod('a', { cpu: '1' }), h.fw);
    const two = h.classes.resolve(mkPod('b', { cpu: '2' }), h.fw);
    h.classes.resolve(mkPod('a2', { cpu: '1' }), h.fw); // touch "1 cpu": "2 cpu" is now the oldest
    const three = h.classes.resolve(mkPod('c', { cpu: '3' }), h.fw);
    assert.equal(three.id, two.id);
    assert.equal(h.classes.size, 2);
    // the class behind "three" places 3 cpu, not 2
    const out = new Int32Array(4);
    assert.equal(h.cache.core.place(three.id, 4, out), 3);
    assert.equal(h.classes.resolve(mkPod('a3', { cpu: '1' }), h.fw).id, one.id);
  });

  it('recompiles everything when the cache makes a new core', () => {
    const h = harness(undefined, { labelWords: 1 });
    h.cache.addNode(mkNode('n', { labels: { k0: 'v' } }));
    const before = h.classes.resolve(mkPod('a', {}, { nodeSelector: { k0: 'v' } }), h.fw);
    const gen = h.cache.generation;
    for (let i = 0; i < 40; i++) h.cache.requirementBit({ key: `k${i}`, operator: 'Exists' });
    assert.ok(h.cache.generation > gen);
    const after = h.classes.resolve(mkPod('a', {}, { nodeSelector: { k0: 'v' } }), h.fw);
    assert.equal(after.spec.selector.length, h.cache.words().labels);
    assert.notEqual(after.spec, before.spec);
    assert.equal(h.schedule(mkPod('a', {}, { nodeSelector: { k0: 'v' } })).node, 'n');
  });

  it('recompiles volatile classes once per cycle and keeps the others', () => {
    // without the pod-counting plugins, only NodeName (for pods that name a node) is volatile
    const h = harness(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    multiPoint:
      disabled: [{name: PodTopologySpread}, {name: InterPodAffinity}]
`);
    h.cache.addNode(mkNode('n'));
    const plain = mkPod('p');
    const named = mkPod('q', {}, { nodeName: 'n' });
    h.classes.beginCycle();
    const p1 = h.classes.resolve(plain, h.fw).spec;
    const q1 = h.classes.resolve(named, h.fw).spec;
    assert.equal(h.classes.resolve(named, h.fw).spec, q1, 'same cycle: cached');
    h.classes.beginCycle();
    assert.equal(h.classes.resolve(plain, h.fw).spec, p1);
    assert.notEqual(h.classes.resolve(named, h.fw).spec, q1);
  });
});
