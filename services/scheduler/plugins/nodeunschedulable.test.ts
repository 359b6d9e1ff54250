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

describe('NodeUnschedulable', () => {
  it('cordoned nodes take no pods, unless the pod tolerates node.kubernetes.io/unschedulable', () => {
    const h = harness();
    h.cache.addNode(mkNode('cordoned', { unschedulable: true }));
    const r = h.schedule(mkPod('p'));
    assert.equal(r.message, '0/1 nodes are available: 1 node(s) were unschedulable.');
    assert.equal(r.diag!.resolvableSlots.length, 0);
    const tolerant = mkPod('t', {}, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    assert.equal(h.schedule(tolerant).node, 'cordoned');
  });

  it('uncordoning makes the node schedulable again', () => {
    const h = harness();
    h.cache.addNode(mkNode('n', { unschedulable: true }));
    assert.equal(h.schedule(mkPod('p')).node, undefined);
    h.cache.updateNode(mkNode('n'));
    assert.equal(h.schedule(mkPod('p')).node, 'n');
  });
});
