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

const withPort = (name: string, port: number, protocol = 'TCP'): Pod =>
  mkPod(name, {}, { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: port, protocol }] }] });

describe('NodePorts', () => {
  it('a host port is taken once per node; the third pod finds no free port', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    h.cache.addNode(mkNode('b'));
    const first = h.schedule(withPort('p1', 8080)).node;
    const second = h.schedule(withPort('p2', 8080)).node;
    assert.ok(first && second && first !== second);
    const r = h.schedule(withPort('p3', 8080));
    assert.equal(r.message, "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.");
    assert.equal(r.diag!.resolvableSlots.length, 2, 'port conflicts are resolvable by preemption');
  });

  it('another protocol or port does not conflict, and a deleted pod frees its port', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    const bound = { ...withPort('old', 53, 'UDP'), spec: { ...withPort('old', 53, 'UDP').spec!, nodeName: 'a' } };
    h.cache.addPod(bound);
    assert.equal(h.schedule(withPort('tcp', 53, 'TCP')).node, 'a');
    assert.equal(h.schedule(withPort('udp', 53, 'UDP')).node, undefined);
    h.cache.removePod(bound);
    assert.equal(h.schedule(withPort('udp', 53, 'UDP')).node, 'a');
  });
});
