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
import { toleratesTaint } from './tainttoleration.js';

const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('TaintToleration', () => {
  it('keeps pods off NoSchedule and NoExecute taints they do not tolerate, naming the taint', () => {
    const h = harness();
    h.cache.addNode(mkNode('gpu1', { taints: [gpu] }));
    h.cache.addNode(mkNode('gpu2', { taints: [gpu] }));
    h.cache.addNode(mkNode('evict', { taints: [{ key: 'maint', value: '', effect: 'NoExecute' }] }));
    const r = h.schedule(mkPod('p'));
    assert.equal(r.message, '0/3 nodes are available: 1 node(s) had untolerated taint {maint: }, 2 node(s) had untolerated taint {dedicated: gpu}.');
    assert.equal(r.diag!.resolvableSlots.length, 0, 'taints are UnschedulableAndUnresolvable');
  });

  it('an Equal toleration admits the pod; a wrong value or effect does not', () => {
    const h = harness();
    h.cache.addNode(mkNode('gpu1', { taints: [gpu] }));
    assert.equal(h.schedule(mkPod('wrong-value', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }] })).node, undefined);
    assert.equal(h.schedule(mkPod('wrong-effect', {}, { tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] })).node, undefined);
    assert.equal(h.schedule(mkPod('ok', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] })).node, 'gpu1');
  });

  it('Exists with an empty key tolerates every taint', () => {
    const h = harness();
    h.cache.addNode(mkNode('t', { taints: [gpu, { key: 'other', value: 'x', effect: 'NoExecute' }] }));
    assert.equal(h.schedule(mkPod('all', {}, { tolerations: [{ operator: 'Exists' }] })).node, 't');
    assert.equal(h.schedule(mkPod('key', {}, { tolerations: [{ key: 'dedicated', operator: 'Exists' }] })).node, undefined);
  });

  it('sees taints that appear after the class was compiled', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    assert.equal(h.schedule(mkPod('p1')).node, 'a');
    h.cache.updateNode(mkNode('a', { taints: [gpu] }));
    assert.match(h.schedule(mkPod('p2')).message!, /untolerated taint \{dedicated: gpu\}/);
  });

  it('scores untolerated PreferNoSchedule taints lower', () => {
    const h = harness(onlyScore('TaintToleration'));
    h.cache.addNode(mkNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }));
    h.cache.addNode(mkNode('clean'));
    assert.deepEqual(h.scores(mkPod('p')), { soft: 0, clean: 100 });
    assert.equal(h.schedule(mkPod('p')).node, 'clean');
    assert.deepEqual(h.scores(mkPod('q', {}, { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }] })), { soft: 100, clean: 100 });
  });

  it('toleratesTaint follows upstream for operators and empty fields', () => {
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'gpu' }, gpu), true);
    assert.equal(toleratesTaint({ key: 'dedicated' }, gpu), false);
    assert.equal(toleratesTaint({ operator: 'Exists', effect: 'NoExecute' }, gpu), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Bogus' }, gpu), false);
  });
});
