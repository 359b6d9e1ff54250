/**
 * The node lifecycle controller (upstream pkg/controller/nodelifecycle, v1.31) with the
 * NoExecute taint eviction upstream runs beside it (pkg/controller/tainteviction).
 *
 * Health (the monitor pass, every nodeMonitorPeriod over all nodes): a node is heard from
 * when its Lease in kube-node-lease is renewed or its Ready condition's heartbeat changes,
 * by the controller's own clock (so skewed kubelet clocks do not matter). A node not heard
 * from for nodeMonitorGracePeriod (nodeStartupGracePeriod while it never posted Ready) gets
 * Ready and the pressure conditions set to Unknown, and its pods' Ready conditions set
 * False (MarkPodsNotReady) so endpoints drop them.
 *
 * NoSchedule taints follow the node's conditions at once (Ready False -> not-ready, Unknown
 * -> unreachable, the pressure conditions and spec.unschedulable). NoExecute taints of
 * not-ready / unreachable nodes go through a rate-limited queue per zone (zone key: region
 * and zone labels): --node-eviction-rate nodes a second. A zone where at least
 * --unhealthy-zone-threshold of the nodes (and more than two) are not Ready is in
 * PartialDisruption: --secondary-node-eviction-rate if the zone has more than
 * --large-cluster-size-threshold nodes, else no tainting at all. A zone with no Ready node
 * is in FullDisruption and is tainted at the normal rate (its workloads should move to
 * healthy zones), unless every zone is: then the controller assumes the control plane lost
 * the nodes, removes the NoExecute taints and taints nothing until some node is back.
 *
 * Eviction (taint eviction): a pod on a node with NoExecute taints is deleted at once if
 * one of them has no toleration in the pod (for each taint the pod's first toleration
 * matching it is used), else once the shortest tolerationSeconds of those tolerations has
 * run from when the controller first saw it tainted; with none it stays. The
 * DefaultTolerationSeconds admission gives every pod 300 s tolerations of not-ready and
 * unreachable, so a pod without them (set its own, or created before that admission) is
 * evicted as soon as the taint lands, as upstream. Evicted pods get the DisruptionTarget
 * condition before they are deleted.
 *
 * Not done: the RegisteredNode / RemovingNode events, the beta/stable OS and arch label
 * reconciliation, and marking a pod newly bound to a not-ready node not ready.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../../lib/api/errors.js';
import { toleratesTaint } from '../../../lib/api/tolerations.js';
import { Resources } from '../../../lib/client/client.js';
import type { EventRecorder } from '../../../lib/client/events.js';
import { deletedObject, metaNamespaceKey, type SharedInformer } from '../../../lib/client/informer.js';
import { QueueController, type ControllerContext } from '../controller.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_TOPOLOGY_REGION = 'topology.kubernetes.io/region';
const LABEL_FAILURE_DOMAIN_BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const LABEL_FAILURE_DOMAIN_BETA_REGION = 'failure-domain.beta.kubernetes.io/region';
/** nodes with this label are left out of the zone states */
export const LABEL_NODE_DISRUPTION_EXCLUSION = 'node.kubernetes.io/exclude-disruption';
/** upstream --node-monitor-grace-period */
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
/** upstream --node-startup-grace-period */
export const DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS = 60_000;
/** upstream --node-monitor-period */
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;
/** upstream --node-eviction-rate (nodes a second, per zone) */
export const DEFAULT_NODE_EVICTION_RATE = 0.1;
/** upstream --secondary-node-eviction-rate */
export const DEFAULT_SECONDARY_NODE_EVICTION_RATE = 0.01;
/** upstream --large-cluster-size-threshold (compared with a zone's node count) */
export const DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD = 50;
/** upstream --unhealthy-zone-threshold */
export const DEFAULT_UNHEALTHY_ZONE_THRESHOLD = 0.55;
/** upstream scheduler.NodeEvictionPeriod: how often the tainting queues are tried */
const NODE_EVICTION_PERIOD_MS = 100;
/** upstream scheduler.EvictionRateLimiterBurst */
const EVICTION_RATE_LIMITER_BURST = 1;
/** upstream nodeUpdateWorkerSize: node health updates in parallel within a monitor pass */
const NODE_UPDATE_WORKERS = 8;
/** upstream SwapNodeControllerTaint / AddOrUpdateTaintOnNode retries on conflict */
const TAINT_UPDATE_RETRIES = 5;
const PRESSURE_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];
const POD_NODE_INDEX = 'node-lifecycle-controller/nodeName';

/** upstream nodeConditionToTaintKeyStatusMap: the NoSchedule taint a condition status stands for */
const CONDITION_TAINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));
const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
const NOT_READY_NO_EXECUTE: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute' };

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface NodeLifecycleControllerOptions {
  nodeMonitorGracePeriodMs?: number;
  nodeStartupGracePeriodMs?: number;
  nodeMonitorPeriodMs?: number;
  /** nodes a second each zone's NoExecute tainting may take (--node-eviction-rate) */
  nodeEvictionRate?: number;
  /** the rate of a PartialDisruption zone larger than largeClusterSizeThreshold */
  secondaryNodeEvictionRate?: number;
  largeClusterSizeThreshold?: number;
  unhealthyZoneThreshold?: number;
  now?: () => number;
}

interface NodeHealth {
  /** when the controller last heard from the node (its clock) */
  probe: number;
  heartbeat?: string;
  leaseRenew?: string;
}

/** A pod's pending eviction (upstream TimedWorkerQueue entry). */
interface ScheduledEviction {
  createdAt: number;
  fireAt: number;
}

/** upstream flowcontrol token bucket, TryAccept only; a rate of 0 accepts nothing. */
class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, t - this.last) / 1000) * this.qps);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * upstream scheduler.RateLimitedTimedQueue: node names waiting for their NoExecute taint,
 * tried in order of processAt while the limiter hands out tokens. A name stays a member
 * after it was processed, so it is not queued again until removed (the node healthy
 * again, or its taint found missing).
 */
class RateLimitedTimedQueue {
  private readonly members = new Set<string>();
  private queue: Array<{ value: string; processAt: number }> = [];
  private limiter: TokenBucket;

  constructor(
    qps: number,
    private readonly now: () => number,
  ) {
    this.limiter = new TokenBucket(qps, EVICTION_RATE_LIMITER_BURST, now);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  /** Queues value unless it is a member already. */
  add(value: string): boolean {
    if (this.members.has(value)) return false;
    this.members.add(value);
    this.insert({ value, processAt: this.now() });
    return true;
  }

  remove(value: string): boolean {
    if (!this.members.delete(value)) return false;
    this.queue = this.queue.filter((e) => e.value !== value);
    return true;
  }

  /** upstream SwapLimiter: a bucket of the new rate, drained if the old one was empty. */
  swapLimiter(qps: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucket(qps, EVICTION_RATE_LIMITER_BURST, this.now);
    if (qps > 0 && !this.limiter.tryAccept()) next.tryAccept();
    this.limiter = next;
  }

  /**
   * Processes due entries while tokens last; `fn` answers undefined when done with the
   * entry, or after how many ms to try it again.
   */
  async try(fn: (value: string) => Promise<number | undefined>): Promise<void> {
    while (this.queue.length) {
      if (!this.limiter.tryAccept()) return;
      const head = this.queue[0]!;
      const now = this.now();
      if (now < head.processAt) return;
      const retryMs = await fn(head.value);
      // the monitor pass may have removed or requeued it meanwhile
      const i = this.queue.indexOf(head);
      if (i < 0) continue;
      this.queue.splice(i, 1);
      if (retryMs !== undefined) this.insert({ value: head.value, processAt: now + retryMs + 1 });
    }
  }

  private insert(e: { value: string; processAt: number }): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.processAt > e.processAt) i--;
    this.queue.splice(i, 0, e);
  }
}

export class NodeLifecycleController extends QueueController {
  private readonly nodes: SharedInformer<Node>;
  private readonly pods: SharedInformer<Pod>;
  private readonly leases: SharedInformer<Lease>;
  private readonly recorder: EventRecorder;
  private readonly evictionRecorder: EventRecorder;
  private readonly grace: number;
  private readonly startupGrace: number;
  private readonly period: number;
  private readonly evictionRate: number;
  private readonly secondaryEvictionRate: number;
  private readonly largeClusterThreshold: number;
  private readonly unhealthyZoneThreshold: number;
  private readonly now: () => number;
  private readonly health = new Map<string, NodeHealth>();
  /** nodes the monitor pass has seen (upstream knownNodeSet) */
  private readonly known = new Set<string>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly zoneTainters = new Map<string, RateLimitedTimedQueue>();
  /** pending evictions by node, then pod key */
  private readonly evictions = new Map<string, Map<string, ScheduledEviction>>();

  constructor(ctx: ControllerContext, opts: NodeLifecycleControllerOptions = {}) {
    super('node_lifecycle_controller', ctx);
    this.grace = opts.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS;
    this.startupGrace = opts.nodeStartupGracePeriodMs ?? DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS;
    this.period = opts.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS;
    this.evictionRate = opts.nodeEvictionRate ?? DEFAULT_NODE_EVICTION_RATE;
    this.secondaryEvictionRate = opts.secondaryNodeEvictionRate ?? DEFAULT_SECONDARY_NODE_EVICTION_RATE;
    this.largeClusterThreshold = opts.largeClusterSizeThreshold ?? DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD;
    this.unhealthyZoneThreshold = opts.unhealthyZoneThreshold ?? DEFAULT_UNHEALTHY_ZONE_THRESHOLD;
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('node-controller');
    this.evictionRecorder = ctx.recorder('taint-eviction-controller');
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
      onDelete: (n) => this.enqueue(n),
    });
    // a pod landing on a tainted node, or changing its tolerations, is looked at with the node
    this.handle(this.pods, {
      onAdd: (p) => p.spec?.nodeName && this.enqueueKey(p.spec.nodeName),
      onUpdate: (o, p) => {
        if (!p.spec?.nodeName) return;
        if (p.spec.nodeName !== o.spec?.nodeName || canonicalTolerations(o) !== canonicalTolerations(p)) this.enqueueKey(p.spec.nodeName);
      },
      onDelete: (p) => {
        const pod = deletedObject(p);
        if (pod.spec?.nodeName) this.evictions.get(pod.spec.nodeName)?.delete(metaNamespaceKey(pod));
      },
    });
  }

  override async run(workers: number, signal: AbortSignal): Promise<void> {
    // the monitor pass and the tainting pass each run one at a time; the last is awaited on the way out
    let monitoring: Promise<void> | undefined;
    let tainting: Promise<void> | undefined;
    const monitor = setInterval(() => {
      if (monitoring || !this.hasSynced()) return;
      monitoring = this.monitorNodeHealth()
        .catch((e) => this.ctx.log(`node-lifecycle: monitoring node health: ${(e as Error).message}`))
        .finally(() => (monitoring = undefined));
    }, this.period);
    const taint = setInterval(() => {
      if (tainting || !this.hasSynced()) return;
      tainting = this.doNoExecuteTaintingPass()
        .catch((e) => this.ctx.log(`node-lifecycle: NoExecute tainting: ${(e as Error).message}`))
        .finally(() => (tainting = undefined));
    }, NODE_EVICTION_PERIOD_MS);
    try {
      await super.run(workers, signal);
    } finally {
      clearInterval(monitor);
      clearInterval(taint);
      await Promise.all([monitoring, tainting]);
    }
  }

  /** The state the controller holds of a zone (tests and metrics). */
  zoneState(zone: string): ZoneState | undefined {
    return this.zoneStates.get(zone);
  }

  /** A node's NoSchedule condition taints, then the taint eviction of its pods. */
  protected async sync(name: string): Promise<void> {
    const node = this.nodes.store.getByKey(name);
    if (!node) {
      this.health.delete(name);
      this.evictions.delete(name);
      return;
    }
    const updated = await this.doNoScheduleTaintingPass(node);
    await this.evictPods(updated);
  }

  // ---- health ----

  /**
   * upstream monitorNodeHealth: updates every node's health, queues unhealthy nodes for
   * their NoExecute taint (or removes it from healthy ones), then sets the zones' states
   * and tainting rates.
   */
  private async monitorNodeHealth(): Promise<void> {
    const now = this.now();
    const nodes = this.nodes.store.list();
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata!.name!;
      seen.add(name);
      this.addZoneTainter(zoneKey(node));
      if (!this.known.has(name)) {
        this.known.add(name);
        await this.markNodeAsReachable(node).catch((e) => this.ctx.log(`node-lifecycle: removing NoExecute taints of new node ${name}: ${(e as Error).message}`));
      }
    }
    for (const name of this.known) {
      if (!seen.has(name)) {
        this.known.delete(name);
        this.health.delete(name);
      }
    }

    const zoneReady = new Map<string, Array<string | undefined>>();
    const updateNode = async (node: Node): Promise<void> => {
      const name = node.metadata!.name!;
      let result: { node: Node; observed: string; current: NodeCondition | undefined };
      try {
        result = await this.tryUpdateNodeHealth(node, now);
      } catch (e) {
        this.ctx.log(`node-lifecycle: updating health of node ${name}, skipping it this pass: ${(e as Error).message}`);
        return;
      }
      const { observed, current } = result;
      if (node.metadata?.labels?.[LABEL_NODE_DISRUPTION_EXCLUSION] === undefined) {
        const zone = zoneKey(node);
        let list = zoneReady.get(zone);
        if (!list) zoneReady.set(zone, (list = []));
        list.push(current?.status);
      }
      if (!current) return;
      try {
        await this.processTaintBasedEviction(result.node, observed);
        if (current.status !== 'True' && observed === 'True') {
          this.recorder.eventf(result.node, undefined, 'Normal', 'NodeNotReady', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
          await this.markPodsNotReady(name);
        }
      } catch (e) {
        this.ctx.log(`node-lifecycle: node ${name}: ${(e as Error).message}`);
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(NODE_UPDATE_WORKERS, nodes.length) }, async () => {
        while (next < nodes.length) await updateNode(nodes[next++]!);
      }),
    );
    await this.handleDisruption(zoneReady, nodes, now);
  }

  /**
   * upstream tryUpdateNodeHealth: records what the node last said and marks it Unknown
   * after the grace period of silence. Answers the Ready status seen before this pass
   * (Unknown when the node never posted one) and the Ready condition now.
   */
  private async tryUpdateNodeHealth(node: Node, now: number): Promise<{ node: Node; observed: string; current: NodeCondition | undefined }> {
    const name = node.metadata!.name!;
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const lease = this.leases.store.getByKey(`${NODE_LEASE_NAMESPACE}/${name}`);
    const grace = ready ? this.grace : this.startupGrace;
    let h = this.health.get(name);
    if (!h) {
      // a node first seen gets a whole grace period from now; one that never posted status counts from its creation
      const created = Date.parse(node.metadata?.creationTimestamp ?? '');
      const probe = ready || Number.isNaN(created) ? now : Math.min(now, created);
      this.health.set(name, (h = { probe, heartbeat: ready?.lastHeartbeatTime, leaseRenew: lease?.spec?.renewTime }));
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
    const observed = ready?.status ?? 'Unknown';
    if (now - h.probe <= grace) return { node, observed, current: ready };
    const stamp = isoSeconds(now);
    const conditions = [...(node.status?.conditions ?? [])];
    for (const type of ['Ready', ...PRESSURE_CONDITIONS]) {
      const i = conditions.findIndex((c) => c.type === type);
      const c = conditions[i];
      if (!c) {
        conditions.push({
          type,
          status: 'Unknown',
          reason: 'NodeStatusNeverUpdated',
          message: 'Kubelet never posted node status.',
          lastHeartbeatTime: node.metadata?.creationTimestamp ?? stamp,
          lastTransitionTime: stamp,
        });
      } else if (c.status !== 'Unknown') {
        conditions[i] = { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: stamp };
      }
    }
    const current = conditions.find((c) => c.type === 'Ready');
    if (ready && JSON.stringify(current) === JSON.stringify(ready)) return { node, observed, current: ready };
    const updated = await this.ctx.client.updateStatus<Node>({ ...Resources.nodes, name }, { ...node, apiVersion: 'v1', kind: 'Node', status: { ...node.status, conditions } });
    // our write changes no heartbeat
    h.heartbeat = updated.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime;
    return { node: updated, observed, current: updated.status?.conditions?.find((c) => c.type === 'Ready') };
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

  // ---- NoExecute tainting, rate-limited per zone ----

  private addZoneTainter(zone: string): void {
    if (this.zoneStates.has(zone)) return;
    this.zoneStates.set(zone, 'Initial');
    if (!this.zoneTainters.has(zone)) this.zoneTainters.set(zone, new RateLimitedTimedQueue(this.evictionRate, this.now));
  }

  private tainter(node: Node): RateLimitedTimedQueue {
    const zone = zoneKey(node);
    this.addZoneTainter(zone);
    return this.zoneTainters.get(zone)!;
  }

  /** upstream processTaintBaseEviction, on the Ready status seen before this pass. */
  private async processTaintBasedEviction(node: Node, observed: string): Promise<void> {
    const taints = node.spec?.taints ?? [];
    if (observed === 'False') {
      // already tainted unreachable: swapped at once, no need to wait for a token
      if (taints.some((t) => sameTaint(t, UNREACHABLE_NO_EXECUTE))) await this.swapTaints(node, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE]);
      else this.markNodeForTainting(node, NOT_READY_NO_EXECUTE);
    } else if (observed === 'Unknown') {
      if (taints.some((t) => sameTaint(t, NOT_READY_NO_EXECUTE))) await this.swapTaints(node, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE]);
      else this.markNodeForTainting(node, UNREACHABLE_NO_EXECUTE);
    } else if (observed === 'True') {
      await this.markNodeAsReachable(node);
    }
  }

  /** Queues the node for its NoExecute taint; requeued when the taint went missing. */
  private markNodeForTainting(node: Node, taint: Taint): void {
    const q = this.tainter(node);
    const name = node.metadata!.name!;
    if (!(node.spec?.taints ?? []).some((t) => sameTaint(t, taint))) q.remove(name);
    q.add(name);
  }

  /** Removes both NoExecute condition taints and takes the node out of its zone's queue. */
  private async markNodeAsReachable(node: Node): Promise<boolean> {
    await this.swapTaints(node, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE]);
    return this.tainter(node).remove(node.metadata!.name!);
  }

  /** upstream doNoExecuteTaintingPass: every zone's queue, as far as its tokens go. */
  private async doNoExecuteTaintingPass(): Promise<void> {
    for (const q of [...this.zoneTainters.values()]) {
      await q.try(async (name) => {
        const node = this.nodes.store.getByKey(name);
        if (!node) return undefined;
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        if (!ready) return 50;
        // not-ready and unreachable mirror the Ready condition, so they exclude each other
        let add: Taint;
        let opposite: Taint;
        if (ready.status === 'False') [add, opposite] = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE];
        else if (ready.status === 'Unknown') [add, opposite] = [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE];
        else return undefined;
        try {
          await this.swapTaints(node, [add], [opposite]);
          return undefined;
        } catch (e) {
          this.ctx.log(`node-lifecycle: tainting node ${name} ${add.key}:NoExecute: ${(e as Error).message}`);
          return 0;
        }
      });
    }
  }

  /**
   * upstream handleDisruption: the zones' new states set their tainting rates; when every
   * zone is fully disrupted the NoExecute taints go and nothing is tainted, and when that
   * ends every node gets a fresh grace period.
   */
  private async handleDisruption(zoneReady: Map<string, Array<string | undefined>>, nodes: Node[], now: number): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, statuses] of zoneReady) {
      const { state } = computeZoneState(statuses, this.unhealthyZoneThreshold);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.addZoneTainter(zone);
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneReady.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== 'FullDisruption') allWasFullyDisrupted = false;
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.ctx.log('node-lifecycle: every node is not Ready; entering master disruption mode: no NoExecute taints, no evictions');
      for (const node of nodes) {
        await this.markNodeAsReachable(node).catch((e) => this.ctx.log(`node-lifecycle: removing NoExecute taints of node ${node.metadata!.name}: ${(e as Error).message}`));
      }
      for (const zone of this.zoneStates.keys()) {
        this.zoneTainters.get(zone)!.swapLimiter(0);
        this.zoneStates.set(zone, 'FullDisruption');
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.ctx.log('node-lifecycle: some nodes are Ready again; exiting master disruption mode');
      for (const node of nodes) {
        const h = this.health.get(node.metadata!.name!);
        if (h) h.probe = now;
      }
      for (const [zone, state] of newStates) {
        this.setLimiterInZone(zone, zoneReady.get(zone)!.length, state);
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, next] of newStates) {
      if (this.zoneStates.get(zone) === next) continue;
      this.ctx.log(`node-lifecycle: zone "${zone}" is now ${next}`);
      this.setLimiterInZone(zone, zoneReady.get(zone)!.length, next);
      this.zoneStates.set(zone, next);
    }
  }

  private setLimiterInZone(zone: string, zoneSize: number, state: ZoneState): void {
    const q = this.zoneTainters.get(zone)!;
    switch (state) {
      case 'Normal':
      case 'FullDisruption':
        q.swapLimiter(this.evictionRate);
        break;
      case 'PartialDisruption':
        q.swapLimiter(zoneSize > this.largeClusterThreshold ? this.secondaryEvictionRate : 0);
        break;
      default:
    }
  }

  // ---- taints ----

  /** upstream doNoScheduleTaintingPass: NoSchedule taints for the node's conditions and spec.unschedulable. */
  private async doNoScheduleTaintingPass(node: Node): Promise<Node> {
    const want: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    const have = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && (t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)));
    const add = want.filter((w) => !have.some((t) => sameTaint(t, w)));
    const remove = have.filter((t) => !want.some((w) => sameTaint(t, w)));
    if (!add.length && !remove.length) return node;
    return this.swapTaints(node, add, remove);
  }

  /**
   * upstream SwapNodeControllerTaint: adds the missing taints of `add` (stamped with
   * timeAdded) and drops those of `remove`, matched by key and effect; a write that
   * conflicts is retried on the node read fresh.
   */
  private async swapTaints(node: Node, add: Taint[], remove: Taint[]): Promise<Node> {
    const ref = { ...Resources.nodes, name: node.metadata!.name! };
    let cur = node;
    for (let attempt = 1; ; attempt++) {
      const taints = cur.spec?.taints ?? [];
      const kept = taints.filter((t) => !remove.some((r) => sameTaint(t, r)));
      const stamp = isoSeconds(this.now());
      const added = add.filter((a) => !kept.some((t) => sameTaint(t, a))).map((a) => ({ ...a, timeAdded: stamp }));
      if (!added.length && kept.length === taints.length) return cur;
      const spec = { ...cur.spec, taints: [...kept, ...added] };
      if (!spec.taints.length) delete (spec as { taints?: Taint[] }).taints;
      try {
        return await this.ctx.client.update<Node>(ref, { ...cur, apiVersion: 'v1', kind: 'Node', spec });
      } catch (e) {
        if (isNotFound(e)) return cur;
        if (!isConflict(e) || attempt >= TAINT_UPDATE_RETRIES) throw new Error(`updating the taints of node ${ref.name}: ${(e as Error).message}`, { cause: e });
        cur = await this.ctx.client.get<Node>(ref);
      }
    }
  }

  // ---- taint eviction ----

  /**
   * upstream taint eviction for the pods of one node: deletes those whose tolerations ran
   * out, schedules the others, cancels what no longer applies; comes back when the next
   * scheduled eviction is due.
   */
  private async evictPods(node: Node): Promise<void> {
    const nodeName = node.metadata!.name!;
    const noExecute = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    const scheduled = this.evictions.get(nodeName);
    if (!noExecute.length) {
      if (!scheduled) return;
      for (const key of scheduled.keys()) this.cancelEviction(key);
      this.evictions.delete(nodeName);
      return;
    }
    const now = this.now();
    const pending = scheduled ?? new Map<string, ScheduledEviction>();
    const live = new Set<string>();
    let next = Infinity;
    for (const pod of this.pods.store.byIndex(POD_NODE_INDEX, nodeName)) {
      if (pod.metadata?.deletionTimestamp) continue;
      const key = metaNamespaceKey(pod);
      const seconds = noExecuteTolerationSeconds(pod.spec?.tolerations, noExecute);
      if (seconds === undefined) {
        if (pending.delete(key)) this.cancelEviction(key);
        continue;
      }
      live.add(key);
      let s = pending.get(key);
      if (seconds === 0 && s && s.fireAt > now) {
        // an eviction due now replaces one scheduled for later
        this.cancelEviction(key);
        s = undefined;
      }
      if (!s) pending.set(key, (s = { createdAt: now, fireAt: now + seconds * 1000 }));
      if (s.fireAt > now) {
        next = Math.min(next, s.fireAt);
        continue;
      }
      await this.evict(pod, nodeName);
      pending.delete(key);
      live.delete(key);
    }
    for (const key of [...pending.keys()]) if (!live.has(key)) pending.delete(key);
    if (pending.size) this.evictions.set(nodeName, pending);
    else this.evictions.delete(nodeName);
    if (next !== Infinity) this.queue.addAfter(nodeName, Math.max(0, next - now) + 1);
  }

  /** upstream addConditionAndDeletePod: the DisruptionTarget condition, then the delete. */
  private async evict(pod: Pod, nodeName: string): Promise<void> {
    const key = metaNamespaceKey(pod);
    const ref = { ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name };
    this.evictionRecorder.eventf(pod, undefined, 'Normal', 'TaintManagerEviction', 'Delete', `Marking for deletion Pod ${key}`);
    try {
      const marked = pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'DeletionByTaintManager');
      if (!marked) {
        const condition = {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByTaintManager',
          message: 'Taint manager: deleting due to NoExecute taint',
          lastTransitionTime: isoSeconds(this.now()),
        };
        await this.ctx.client.patch({ ...ref, subresource: 'status' }, 'strategic', { status: { conditions: [condition] } });
      }
      await this.ctx.client.delete(ref, { preconditions: { uid: pod.metadata!.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw new Error(`evicting pod ${key} from node ${nodeName}: ${(e as Error).message}`, { cause: e });
    }
  }

  private cancelEviction(podKey: string): void {
    const [namespace, name] = podKey.includes('/') ? podKey.split('/', 2) : ['', podKey];
    this.evictionRecorder.eventf({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name } }, undefined, 'Normal', 'TaintManagerEviction', 'Cancel', `Cancelling deletion of Pod ${podKey}`);
  }
}

/**
 * upstream GetZoneKey: region and zone (the beta labels first, as upstream), "" when the
 * node has neither.
 */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const zone = labels[LABEL_FAILURE_DOMAIN_BETA_ZONE] ?? labels[LABEL_TOPOLOGY_ZONE] ?? '';
  const region = labels[LABEL_FAILURE_DOMAIN_BETA_REGION] ?? labels[LABEL_TOPOLOGY_REGION] ?? '';
  if (!region && !zone) return '';
  return `${region}:\u0000:${zone}`;
}

/**
 * upstream ComputeZoneState over the zone's Ready statuses (undefined: never posted):
 * FullDisruption with none Ready, PartialDisruption with more than two and at least
 * `unhealthyThreshold` of them not Ready, else Normal.
 */
export function computeZoneState(readyStatuses: ReadonlyArray<string | undefined>, unhealthyThreshold: number): { notReady: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const s of readyStatuses) {
    if (s === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/**
 * How long a pod may stay on a node with these NoExecute taints (upstream
 * GetMatchingTolerations and getMinTolerationTime): each taint takes the first of the
 * pod's tolerations that tolerates it; 0 (evict now) if some taint has none or a used
 * toleration has tolerationSeconds ≤ 0; else the shortest tolerationSeconds of the used
 * ones; undefined (forever) when none of them has tolerationSeconds or there are no taints.
 */
export function noExecuteTolerationSeconds(tolerations: readonly Toleration[] | undefined, taints: readonly Taint[]): number | undefined {
  if (!taints.length) return undefined;
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = (tolerations ?? []).find((x) => toleratesTaint(x, taint));
    if (!t) return 0;
    used.push(t);
  }
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? undefined : min;
}

/** upstream Taint.MatchTaint: same key and effect. */
function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

function canonicalTolerations(p: Pod): string {
  return JSON.stringify(p.spec?.tolerations ?? []);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
