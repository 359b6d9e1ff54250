/**
 * The node lifecycle controller (upstream pkg/controller/nodelifecycle, v1.31): node health
 * and the NoSchedule / NoExecute taints of nodes. It also runs the NoExecute taint eviction
 * of pods upstream runs beside it (../tainteviction.ts, upstream pkg/controller/
 * tainteviction) on the nodes it syncs; the zone states and the rate-limited tainting
 * queues are in ../zonestates.ts (upstream pkg/controller/nodelifecycle/scheduler).
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
 * Not done: the RegisteredNode / RemovingNode events, the beta/stable OS and arch label
 * reconciliation, and marking a pod newly bound to a not-ready node not ready.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../../../lib/api/errors.js';
import { deletedObject, type EventRecorder, forEachLimited, metaNamespaceKey, Resources, type SharedInformer } from '../../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../../lib/controller/mod.js';
import { TaintEvictionController } from './tainteviction.js';
import { computeZoneState, NODE_EVICTION_PERIOD_MS, RateLimitedTimedQueue, zoneKey, type ZoneState } from './zonestates.js';
import { metaTime } from '../../../../lib/api/time.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
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

export class NodeLifecycleController extends QueueController {
  private readonly nodes: SharedInformer<Node>;
  private readonly pods: SharedInformer<Pod>;
  private readonly leases: SharedInformer<Lease>;
  private readonly recorder: EventRecorder;
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
  private readonly taintEviction: TaintEvictionController;

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
    this.taintEviction = new TaintEvictionController(
      ctx,
      (nodeName) => this.pods.store.byIndex(POD_NODE_INDEX, nodeName),
      (nodeName, ms) => this.queue.addAfter(nodeName, ms),
      this.now,
    );
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
      onDelete: (p) => this.taintEviction.podDeleted(deletedObject(p)),
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
      this.taintEviction.nodeDeleted(name);
      return;
    }
    const updated = await this.doNoScheduleTaintingPass(node);
    await this.taintEviction.processNode(updated);
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
    await forEachLimited(nodes, NODE_UPDATE_WORKERS, updateNode);
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
    const stamp = metaTime(now);
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
    const stamp = metaTime(this.now());
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
      const stamp = metaTime(this.now());
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
}

/** upstream Taint.MatchTaint: same key and effect. */
function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

function canonicalTolerations(p: Pod): string {
  return JSON.stringify(p.spec?.tolerations ?? []);
}
