/**
 * What the scheduler keeps of the pods and nodes its informers see (client-go's
 * SetTransform, which upstream components use to drop what they never read): at a million
 * pods, a pod kept whole was most of the scheduler's heap. A kept pod has only what the
 * queue, the cache, the plugins, events, tracing and preemption read:
 *  - metadata: name, namespace, uid, resourceVersion, labels, annotations (the trace
 *    context), ownerReferences (PodTopologySpread's system default), creationTimestamp
 *    (preemption's start time), deletionTimestamp;
 *  - spec: nodeName, schedulerName, priority, preemptionPolicy, nodeSelector, affinity,
 *    tolerations, topologySpreadConstraints, schedulingGates, overhead, and of each
 *    container its name, resources, restartPolicy (sidecars) and host ports;
 *  - status: phase, nominatedNodeName, startTime, the DisruptionTarget condition and, while
 *    the pod is not bound, the PodScheduled condition.
 * A kept node has its name, uid, resourceVersion, labels, taints, unschedulable and its
 * allocatable (its capacity when it has none).
 *
 * Kept objects are never written back: every write of the scheduler is a binding, a patch
 * or a delete by name (and uid precondition), never an update from a kept copy.
 *
 * Pods of one template have equal labels, owners, containers and tolerations: equal parts
 * of consecutive objects are kept as one shared instance (nothing mutates kept objects),
 * and the strings every pod repeats (namespace, node name, scheduler name...) as one string.
 */
import type { Container, Node, NodeSpec, NodeStatus, Pod, PodCondition, PodSpec, PodStatus } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { jsonEqual } from '../../lib/api/canonical.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** entries of the string pool before it starts afresh (node names of 100k nodes fit) */
const POOL_LIMIT = 1 << 18;

/** the fields whose strings are pooled, each remembering its last one (`SchedulingTransforms.str`) */
const enum Field {
  Namespace,
  CreationTimestamp,
  NodeName,
  SchedulerName,
  PreemptionPolicy,
  Phase,
  NominatedNodeName,
  StartTime,
  Node,
  Count,
}

export class SchedulingTransforms {
  private readonly pool = new Map<string, string>();
  /** the instance each field had last */
  private readonly lastStr: Array<string | undefined> = new Array(Field.Count).fill(undefined);
  /** the last kept instance of each shared part */
  private readonly last = new Map<string, unknown>();

  /**
   * The one instance of a string seen before. Consecutive objects mostly repeat a field's
   * value (namespace, scheduler name, phase, the second of creation): comparing with the
   * field's last instance spares hashing the freshly decoded string for the pool.
   */
  private str<S extends string | undefined>(s: S, field: Field): S {
    if (s === undefined) return s;
    const last = this.lastStr[field];
    if (s === last) return last as S;
    let known = this.pool.get(s);
    if (known === undefined) {
      if (this.pool.size >= POOL_LIMIT) this.pool.clear();
      this.pool.set(s, s);
      known = s;
    }
    this.lastStr[field] = known;
    return known as S;
  }

  /** `value`, or the equal instance kept last under `slot`. */
  private shared<V>(slot: string, value: V): V {
    if (value === undefined || value === null) return value;
    const prev = this.last.get(slot) as V | undefined;
    if (prev !== undefined && jsonEqual(prev, value)) return prev;
    this.last.set(slot, value);
    return value;
  }

  readonly pod = (p: Pod): Pod => {
    const m = p.metadata ?? {};
    const meta: Mutable<ObjectMeta> = { name: m.name, namespace: this.str(m.namespace, Field.Namespace), uid: m.uid, resourceVersion: m.resourceVersion };
    if (m.labels) meta.labels = this.shared('labels', m.labels);
    if (m.annotations) meta.annotations = m.annotations;
    if (m.ownerReferences) meta.ownerReferences = this.shared('ownerReferences', m.ownerReferences);
    if (m.creationTimestamp) meta.creationTimestamp = this.str(m.creationTimestamp, Field.CreationTimestamp);
    if (m.deletionTimestamp) meta.deletionTimestamp = m.deletionTimestamp;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta,
      spec: p.spec && this.podSpec(p.spec),
      status: p.status && this.podStatus(p.status, !!p.spec?.nodeName),
    };
  };

  private podSpec(s: PodSpec): PodSpec {
    const spec: PodSpec = { containers: this.shared('containers', s.containers?.map(keptContainer) ?? []) };
    if (s.initContainers) spec.initContainers = this.shared('initContainers', s.initContainers.map(keptContainer));
    if (s.nodeName) spec.nodeName = this.str(s.nodeName, Field.NodeName);
    if (s.schedulerName) spec.schedulerName = this.str(s.schedulerName, Field.SchedulerName);
    if (s.priority !== undefined) spec.priority = s.priority;
    if (s.preemptionPolicy) spec.preemptionPolicy = this.str(s.preemptionPolicy, Field.PreemptionPolicy);
    if (s.nodeSelector) spec.nodeSelector = this.shared('nodeSelector', s.nodeSelector);
    if (s.affinity) spec.affinity = this.shared('affinity', s.affinity);
    if (s.tolerations) spec.tolerations = this.shared('tolerations', s.tolerations);
    if (s.topologySpreadConstraints) spec.topologySpreadConstraints = this.shared('topologySpreadConstraints', s.topologySpreadConstraints);
    if (s.schedulingGates) spec.schedulingGates = s.schedulingGates;
    if (s.overhead) spec.overhead = this.shared('overhead', s.overhead);
    return spec;
  }

  /** a bound pod's PodScheduled condition is read by no one */
  private podStatus(s: PodStatus, bound: boolean): PodStatus {
    const status: PodStatus = {};
    if (s.phase) status.phase = this.str(s.phase, Field.Phase);
    if (s.nominatedNodeName) status.nominatedNodeName = this.str(s.nominatedNodeName, Field.NominatedNodeName);
    if (s.startTime) status.startTime = this.str(s.startTime, Field.StartTime);
    let conditions: PodCondition[] | undefined;
    for (const c of s.conditions ?? []) {
      if (c.type === 'DisruptionTarget' || (c.type === 'PodScheduled' && !bound)) (conditions ??= []).push(c);
    }
    if (conditions) status.conditions = conditions;
    return status;
  }

  readonly node = (n: Node): Node => {
    const m = n.metadata ?? {};
    const meta: Mutable<ObjectMeta> = { name: this.str(m.name, Field.Node), uid: m.uid, resourceVersion: m.resourceVersion };
    if (m.labels) meta.labels = m.labels;
    if (m.deletionTimestamp) meta.deletionTimestamp = m.deletionTimestamp;
    const spec: NodeSpec = {};
    if (n.spec?.taints) spec.taints = this.shared('taints', n.spec.taints);
    if (n.spec?.unschedulable) spec.unschedulable = true;
    const status: NodeStatus = {};
    if (n.status?.allocatable) status.allocatable = this.shared('allocatable', n.status.allocatable);
    else if (n.status?.capacity) status.capacity = this.shared('capacity', n.status.capacity);
    return { apiVersion: 'v1', kind: 'Node', metadata: meta, spec, status };
  };
}

function keptContainer(c: Container): Container {
  const out: Container = { name: c.name };
  if (c.resources) out.resources = c.resources;
  if (c.restartPolicy) out.restartPolicy = c.restartPolicy;
  const hostPorts = c.ports?.filter((p) => p.hostPort && p.hostPort > 0);
  if (hostPorts && hostPorts.length > 0) out.ports = hostPorts;
  return out;
}
