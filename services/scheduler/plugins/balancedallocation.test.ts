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

describe('NodeResourcesBalancedAllocation', () => {
  it('prefers the node whose cpu and memory fractions stay closest together', () => {
    const h = harness(onlyScore('NodeResourcesBalancedAllocation'));
    h.cache.addNode(mkNode('cpu-heavy', { cpu: '4', memory: '4Gi' }));
    h.cache.addNode(mkNode('even', { cpu: '4', memory: '4Gi' }));
    h.cache.addPod(mkPod('hog', { cpu: '3', memory: '0' }, { nodeName: 'cpu-heavy' }));
    h.cache.addPod(mkPod('mix', { cpu: '1', memory: '1Gi' }, { nodeName: 'even' }));
    const p = mkPod('p', { cpu: '1', memory: '1Gi' });
    // cpu-heavy: fractions 1, 0.25 -> std 0.375 -> 62; even: 0.5, 0.5 -> 100
    assert.deepEqual(h.scores(p), { 'cpu-heavy': 62, even: 100 });
    assert.equal(h.schedule(p).node, 'even');
  });
});
