/**
 * The node lifecycle controller (upstream pkg/controller/nodelifecycle, v1.31) with the
 * NoExecute taint eviction upstream runs beside it (taint-eviction-controller).
 *
 * Health: every nodeMonitorPeriod each node is looked at; a node is heard from when its
 * Lease in kube-node-lease is renewed or its Ready condition's heartbeat changes, by the
 * controller's own clock (so skewed kubelet clocks do not matter). A node not heard from
 * for nodeMonitorGracePeriod gets Ready (and the pressure conditions) set to Unknown,
 * reason NodeStatusUnknown, and its pods' Ready conditions set False, as upstream's
 * MarkPodsNotReady does so endpoints drop them.
 *
 * Taints follow the Ready condition: Unknown -> node.kubernetes.io/unreachable, False ->
 * node.kubernetes.io/not-ready, each as NoSchedule and NoExecute (timeAdded); True ->
 * both removed. spec.unschedulable -> node.kubernetes.io/unschedulable:NoSchedule.
 * Simplified: upstream rate-limits NoExecute tainting per zone (and stops it in a zone
 * that is mostly down); here taints are applied at once.
 *
 * Eviction: a pod on a node with NoExecute taints is deleted at once if it does not
 * tolerate one of them, else once its shortest tolerationSeconds after the taint's
 * timeAdded has run out; without tolerationSeconds it stays. The apiserver here has no
 * DefaultTolerationSeconds admission, so a pod without a toleration of not-ready or
 * unreachable is treated as tolerating it for defaultTolerationSeconds (300 s), exactly
 * what that admission plugin would have added.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { Resources } from '../../../lib/client/client.js';
import type { EventRecorder } from '../../../lib/client/events.js';
import { deletedObject, metaNamespaceKey, type SharedInformer } from '../../../lib/client/informer.js';
import { QueueController, type ControllerContext } from '../controller.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
/** upstream --node-monitor-grace-period */
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
/** upstream --node-monitor-period */
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;
/** upstream DefaultTolerationSeconds admission (--default-not-ready/unreachable-toleration-seconds) */
export const DEFAULT_TOLERATION_SECONDS = 300;
const PRESSURE_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];
const POD_NODE_INDEX = 'node-lifecycle-controller/nodeName';

export interface NodeLifecycleControllerOptions {
  nodeMonitorGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  defaultTolerationSeconds?: number;
  now?: () => number;
}

interface NodeHealth {
  /** when the controller last heard from the node (its clock) */
  probe: number;
  heartbeat?: string;
  leaseRenew?: string;
}

export class NodeLifecycleController extends QueueController {
  private readonly nodes: SharedInformer<Node>;
  private readonly pods: SharedInformer<Pod>;
  private readonly leases: SharedInformer<Lease>;
  private readonly recorder: EventRecorder;
  private readonly grace: number;
  private readonly period: number;
  private readonly defaultToleration: number;
  private readonly now: () => number;
  private readonly health = new Map<string, NodeHealth>();

  constructor(ctx: ControllerContext, opts: NodeLifecycleControllerOptions = {}) {
    super('node_lifecycle_controller', ctx);
    this.grace = opts.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
    this.period = opts.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
    this.defaultToleration = opts.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS;
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('node-controller');
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    this.pods = ctx.informers.forResource<Pod>(Resources.pods);
    this.leases = ctx.informers.forResource<Lease>(Resources.leases);
    try {
      this.pods.addIndexers({ [POD_NODE_INDEX]: (p) => [p.spec?.nodeName] });
    } catch {
      // a controller of an earlier leadership term on the same factory added it
    }
    this.handle(this.nodes, {
      onAdd: (n) => this.enqueue(n),
      onUpdate: (_o, n) => this.enqueue(n),
      onDelete: (n) => {
        this.health.delete(deletedObject(n).metadata?.name ?? '');
      },
    });
    // a pod landing on a tainted node is looked at with the node
    this.handle(this.pods, {
      onAdd: (p) => p.spec?.nodeName && this.enqueueKey(p.spec.nodeName),
      onUpdate: (o, p) => {
        if (p.spec?.nodeName && !o.spec?.nodeName) this.enqueueKey(p.spec.nodeName);
        else if (p.spec?.nodeName && canonicalTolerations(o) !== canonicalTolerations(p)) this.enqueueKey(p.spec.nodeName);
      },
    });
  }

  override async run(workers: number, signal: AbortSignal): Promise<void> {
    // the periodic monitor pass: a node that goes silent sends no event
    const timer = setInterval(() => {
      for (const key of this.nodes.store.listKeys()) this.enqueueKey(key);
    }, this.period);
    try {
      await super.run(workers, signal);
    } finally {
      clearInterval(timer);
    }
  }

  protected async sync(name: string): Promise<void> {
    let node = this.nodes.store.getByKey(name);
    if (!node) {
      this.health.delete(name);
      return;
    }
    node = await this.updateHealth(node);
    node = await this.reconcileTaints(node);
    await this.evictPods(node);
  }

  /** Records what the node last said; marks it Unknown after the grace period of silence. */
  private async updateHealth(node: Node): Promise<Node> {
    const name = node.metadata!.name!;
    const now = this.now();
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const lease = this.leases.store.getByKey(`${NODE_LEASE_NAMESPACE}/${name}`);
    let h = this.health.get(name);
    if (!h) {
      // a node first seen gets a whole grace period from now, as upstream
      this.health.set(name, (h = { probe: now, heartbeat: ready?.lastHeartbeatTime, leaseRenew: lease?.spec?.renewTime }));
    }
    if (ready?.lastHeartbeatTime !== h.heartbeat) {
      h.heartbeat = ready?.lastHeartbeatTime;
      h.probe = now;
    }
    const renew = lease?.spec?.renewTime;
    if (renew && renew !== h.leaseRenew) {
      h.leaseRenew = renew;
      h.probe = now;
    }
    const silentFor = now - h.probe;
    // the periodic monitor pass looks again
    if (silentFor <= this.grace) return node;
    const stamp = isoSeconds(now);
    const conditions = [...(node.status?.conditions ?? [])];
    let changed = false;
    for (const type of ['Ready', ...PRESSURE_CONDITIONS]) {
      const i = conditions.findIndex((c) => c.type === type);
      const c = conditions[i];
      if (c?.status === 'Unknown') continue;
      if (!c && type !== 'Ready') continue;
      const never = !c;
      const next: NodeCondition = {
        type,
        status: 'Unknown',
        reason: never ? 'NodeStatusNeverUpdated' : 'NodeStatusUnknown',
        message: never ? 'Kubelet never posted node status.' : 'Kubelet stopped posting node status.',
        lastHeartbeatTime: c?.lastHeartbeatTime ?? stamp,
        lastTransitionTime: stamp,
      };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
      changed = true;
    }
    if (!changed) return node;
    const updated = await this.ctx.client.updateStatus<Node>({ ...Resources.nodes, name }, { ...node, apiVersion: 'v1', kind: 'Node', status: { ...node.status, conditions } });
    // our write changes no heartbeat
    h.heartbeat = updated.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime;
    this.recorder.eventf(updated, undefined, 'Normal', 'NodeNotReady', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    await this.markPodsNotReady(name);
    return updated;
  }

  private async markPodsNotReady(nodeName: string): Promise<void> {
    const stamp = isoSeconds(this.now());
    for (const pod of this.pods.store.byIndex(POD_NODE_INDEX, nodeName)) {
      const conds = pod.status?.conditions ?? [];
      const i = conds.findIndex((c) => c.type === 'Ready');
      if (i < 0 || conds[i]!.status === 'False') continue;
      const next = [...conds];
      next[i] = { ...conds[i]!, status: 'False', lastTransitionTime: stamp };
      try {
        await this.ctx.client.updateStatus<Pod>({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name }, { ...pod, apiVersion: 'v1', kind: 'Pod', status: { ...pod.status, conditions: next } });
      } catch (e) {
        if (!isNotFound(e)) this.ctx.log(`node-lifecycle: marking pod ${metaNamespaceKey(pod)} not ready: ${(e as Error).message}`);
      }
    }
  }

  /** Makes the node's condition taints match its Ready condition and spec.unschedulable. */
  private async reconcileTaints(node: Node): Promise<Node> {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    const want = new Set<string>();
    if (ready === 'Unknown') want.add(TAINT_UNREACHABLE);
    if (ready === 'False') want.add(TAINT_NOT_READY);
    const taints = node.spec?.taints ?? [];
    const managed = (t: Taint) => (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    const stamp = isoSeconds(this.now());
    const next: Taint[] = taints.filter((t) => !managed(t) || want.has(t.key));
    for (const key of want) {
      for (const effect of ['NoSchedule', 'NoExecute'] as const) {
        if (!next.some((t) => t.key === key && t.effect === effect)) next.push(effect === 'NoExecute' ? { key, effect, timeAdded: stamp } : { key, effect });
      }
    }
    const unschedulable = node.spec?.unschedulable === true;
    const hasUnsched = next.some((t) => t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule');
    if (unschedulable && !hasUnsched) next.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    const final = unschedulable ? next : next.filter((t) => t.key !== TAINT_UNSCHEDULABLE);
    if (JSON.stringify(final) === JSON.stringify(taints)) return node;
    const spec = { ...node.spec };
    if (final.length) spec.taints = final;
    else delete spec.taints;
    return this.ctx.client.update<Node>({ ...Resources.nodes, name: node.metadata!.name }, { ...node, apiVersion: 'v1', kind: 'Node', spec });
  }

  /** Deletes the pods whose NoExecute tolerations ran out; comes back when the next one will. */
  private async evictPods(node: Node): Promise<void> {
    const noExecute = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (!noExecute.length) return;
    const now = this.now();
    let next = Infinity;
    for (const pod of this.pods.store.byIndex(POD_NODE_INDEX, node.metadata!.name!)) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = evictionTime(pod, noExecute, this.defaultToleration);
      if (at === undefined) continue;
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      try {
        this.recorder.eventf(pod, undefined, 'Normal', 'TaintManagerEviction', 'Delete', `Marking for deletion Pod ${metaNamespaceKey(pod)}`);
        await this.ctx.client.delete({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name }, { preconditions: { uid: pod.metadata!.uid } });
      } catch (e) {
        if (!isNotFound(e)) throw new Error(`evicting pod ${metaNamespaceKey(pod)} from node ${node.metadata!.name}: ${(e as Error).message}`);
      }
    }
    if (next !== Infinity) this.queue.addAfter(node.metadata!.name!, Math.max(0, next - now) + 1);
  }
}

/**
 * When a pod must leave a node with these NoExecute taints (ms since the epoch):
 * now (0) if some taint is not tolerated; else the earliest timeAdded + tolerationSeconds
 * over the taints; undefined if it may stay forever. Pods without a toleration of the
 * not-ready / unreachable taints get defaultSeconds for them (DefaultTolerationSeconds).
 */
export function evictionTime(pod: Pod, taints: Taint[], defaultSeconds: number): number | undefined {
  const tolerations: Toleration[] = [...(pod.spec?.tolerations ?? [])];
  for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
    const has = tolerations.some((t) => (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
    if (!has) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultSeconds });
  }
  let at: number | undefined;
  for (const taint of taints) {
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (!matching.length) return 0;
    // the shortest of the matching tolerations wins; one without seconds tolerates forever
    const finite = matching.filter((t) => t.tolerationSeconds !== undefined && t.tolerationSeconds !== null);
    if (!finite.length) continue;
    const seconds = Math.max(0, Math.min(...finite.map((t) => t.tolerationSeconds!)));
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : 0;
    const due = added + seconds * 1000;
    at = at === undefined ? due : Math.min(at, due);
  }
  return at;
}

/** Upstream Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

function canonicalTolerations(p: Pod): string {
  return JSON.stringify(p.spec?.tolerations ?? []);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
