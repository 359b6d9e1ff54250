/**
 * The disruption controller (upstream pkg/controller/disruption, v1.31): keeps each
 * PodDisruptionBudget's status current so evictions and preemption can respect it.
 * Over the pods its selector matches in its namespace (a null selector matches none, an
 * empty one all, as policy/v1 says): currentHealthy = pods not being deleted, not just
 * allowed a disruption, and Ready; desiredHealthy and expectedPods from minAvailable
 * (an integer: that many of the pods present; a percentage: of the pods' controllers'
 * scale, rounded up) or maxUnavailable (of that scale, rounded up, subtracted);
 * disruptionsAllowed = currentHealthy - desiredHealthy, at least 0, and 0 without
 * expected pods; the DisruptionAllowed condition (SufficientPods / InsufficientPods, or
 * SyncFailed with no disruptions allowed when the count cannot be computed). Entries of
 * status.disruptedPods (written by the eviction API) are dropped once their pod is
 * being deleted or after two minutes.
 *
 * Simplified: the scale of a pod's controller is read from the caches of ReplicaSets,
 * Deployments (through their ReplicaSets) and StatefulSets only; upstream also reads
 * ReplicationControllers and any kind with a scale subresource. A pod owned by any other
 * kind fails the sync with SyncFailed, as a kind without /scale does upstream.
 * Stale DisruptionTarget pod conditions are not cleaned up.
 */
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { canonicalJson, isUnset } from '../../../lib/api/canonical.js';
import { labelsEqual, selectorFromLabelSelector } from '../../../lib/api/labels.js';
import { type DeletedFinalStateUnknown, deletedObject, type EventRecorder, NAMESPACE_INDEX, PODDISRUPTIONBUDGETS as PDBS, Resources, type SharedInformer, STATEFULSETS } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { getControllerOf } from '../shared/controllerref.js';
import { isPodReady } from '../shared/pods.js';
import { metaTime } from '../../../lib/api/time.js';

/** how long an eviction the apiserver allowed may take to show up as a deletion (upstream DeletionTimeout) */
export const DELETION_TIMEOUT_MS = 2 * 60_000;
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';

/** An int-or-percent against total (upstream intstr.GetScaledValueFromIntOrPercent). */
export function scaledIntOrPercent(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}: must be an integer or a percentage`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export interface DisruptionControllerOptions {
  now?: () => number;
}

export class DisruptionController extends QueueController {
  private readonly pdbInformer: SharedInformer<PodDisruptionBudget>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly deployInformer: SharedInformer<Deployment>;
  private readonly ssInformer: SharedInformer<StatefulSet>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;

  constructor(ctx: ControllerContext, opts: DisruptionControllerOptions = {}) {
    super('disruption', ctx);
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('disruption-controller');
    this.pdbInformer = ctx.informers.forResource<PodDisruptionBudget>(PDBS);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.rsInformer = ctx.informers.forResource<ReplicaSet>(Resources.replicasets);
    this.deployInformer = ctx.informers.forResource<Deployment>(Resources.deployments);
    this.ssInformer = ctx.informers.forResource<StatefulSet>(STATEFULSETS);
    this.handle(this.pdbInformer, {
      onAdd: (pdb) => this.enqueue(pdb),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (pdb) => this.enqueue(pdb),
    });
    this.handle(this.podInformer, {
      onAdd: (pod) => this.enqueuePdbsOf(pod),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        this.enqueuePdbsOf(cur);
        // a relabelled pod leaves the budgets it matched
        if (!labelsEqual(old.metadata?.labels, cur.metadata?.labels)) this.enqueuePdbsOf(old);
      },
      onDelete: (pod) => this.enqueuePdbsOf(pod),
    });
    // the scale of the pods' controllers is read from these caches
    this.handle(this.rsInformer, {});
    this.handle(this.deployInformer, {});
    this.handle(this.ssInformer, {});
  }

  /** Every budget whose selector matches the pod (upstream getPdbForPod enqueues them all). */
  private enqueuePdbsOf(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    for (const pdb of this.pdbInformer.store.byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '')) {
      let matches = false;
      try {
        matches = selectorFromLabelSelector(pdb.spec?.selector).matches(pod.metadata?.labels ?? {});
      } catch {
        // an invalid selector is reported by the budget's own sync
      }
      if (matches) this.enqueue(pdb);
    }
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.pdbInformer.store.getByKey(key);
    if (!cached) return;
    const pdb: PodDisruptionBudget = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', ...cached };
    try {
      await this.trySync(pdb);
    } catch (e) {
      // upstream failSafe: when the budget cannot be computed, allow no disruptions at all
      const message = e instanceof Error ? e.message : String(e);
      await this.writeStatus(pdb, {
        ...(pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }),
        disruptionsAllowed: 0,
        observedGeneration: pdb.metadata?.generation,
        conditions: withCondition(pdb.status?.conditions, { type: DISRUPTION_ALLOWED, status: 'False', reason: 'SyncFailed', message, observedGeneration: pdb.metadata?.generation }, this.now()),
      }).catch(() => undefined);
      throw e;
    }
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<void> {
    const selector = selectorFromLabelSelector(pdb.spec?.selector);
    const pods = this.podInformer.store.byIndex(NAMESPACE_INDEX, pdb.metadata!.namespace!).filter((p) => selector.matches(p.metadata?.labels ?? {}));
    if (pods.length === 0) this.recorder.eventf(pdb, undefined, 'Normal', 'NoPods', 'Sync', 'No matching pods found');
    let counts: { expectedCount: number; desiredHealthy: number; unmanaged: string[] };
    try {
      counts = this.expectedPodCount(pdb, pods);
    } catch (e) {
      this.recorder.eventf(pdb, undefined, 'Warning', 'CalculateExpectedPodCountFailed', 'Sync', `Failed to calculate the number of expected pods: ${(e as Error).message}`);
      throw e;
    }
    if (counts.unmanaged.length) {
      this.recorder.eventf(
        pdb,
        undefined,
        'Warning',
        'UnmanagedPods',
        'Sync',
        'Pods selected by this PodDisruptionBudget were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
      );
    }
    const now = this.now();
    const { disrupted, recheckAt } = this.disruptedPodMap(pods, pdb, now);
    const currentHealthy = pods.filter((p) => !p.metadata?.deletionTimestamp && !(p.metadata!.name! in disrupted) && isPodReady(p)).length;
    let disruptionsAllowed = currentHealthy - counts.desiredHealthy;
    if (counts.expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const status: PodDisruptionBudgetStatus = {
      currentHealthy,
      desiredHealthy: counts.desiredHealthy,
      expectedPods: counts.expectedCount,
      disruptionsAllowed,
      observedGeneration: pdb.metadata?.generation,
      conditions: withCondition(
        pdb.status?.conditions,
        disruptionsAllowed > 0
          ? { type: DISRUPTION_ALLOWED, status: 'True', reason: 'SufficientPods', message: '', observedGeneration: pdb.metadata?.generation }
          : { type: DISRUPTION_ALLOWED, status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: pdb.metadata?.generation },
        now,
      ),
    };
    if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
    await this.writeStatus(pdb, status);
    // an allowed eviction that never turned into a deletion stops counting after the timeout
    if (recheckAt !== undefined) this.enqueueAfter(pdb, Math.max(0, recheckAt - now) + 1000);
  }

  /** upstream getExpectedPodCount. */
  private expectedPodCount(pdb: PodDisruptionBudget, pods: Pod[]): { expectedCount: number; desiredHealthy: number; unmanaged: string[] } {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const { expected, unmanaged } = this.expectedScale(pods);
      const desiredHealthy = Math.max(0, expected - scaledIntOrPercent(maxUnavailable, expected, true));
      return { expectedCount: expected, desiredHealthy, unmanaged };
    }
    if (minAvailable !== undefined && minAvailable !== null) {
      if (typeof minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanaged: [] };
      const { expected, unmanaged } = this.expectedScale(pods);
      return { expectedCount: expected, desiredHealthy: scaledIntOrPercent(minAvailable, expected, true), unmanaged };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** The sum of the scales of the controllers that own at least one of the pods (upstream getExpectedScale). */
  private expectedScale(pods: Pod[]): { expected: number; unmanaged: string[] } {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata!.name!);
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = this.controllerScale(ref.kind, ref.name, ref.uid, pod.metadata!.namespace!);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata!.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expected = 0;
    for (const s of scales.values()) expected += s;
    return { expected, unmanaged };
  }

  /** upstream's finders, in their order: a ReplicaSet a Deployment controls counts as the Deployment. */
  private controllerScale(kind: string, name: string, uid: string, ns: string): { uid: string; scale: number } | undefined {
    if (kind === 'ReplicaSet') {
      const rs = this.rsInformer.store.getByKey(`${ns}/${name}`);
      if (!rs || rs.metadata?.uid !== uid) return undefined;
      const owner = getControllerOf(rs);
      if (owner?.kind === 'Deployment') {
        const d = this.deployInformer.store.getByKey(`${ns}/${owner.name}`);
        if (!d || d.metadata?.uid !== owner.uid) return undefined;
        return { uid: d.metadata!.uid!, scale: d.spec?.replicas ?? 1 };
      }
      return { uid, scale: rs.spec?.replicas ?? 1 };
    }
    if (kind === 'StatefulSet') {
      const ss = this.ssInformer.store.getByKey(`${ns}/${name}`);
      if (!ss || ss.metadata?.uid !== uid) return undefined;
      return { uid, scale: ss.spec?.replicas ?? 1 };
    }
    throw new Error(`${kind} ${ns}/${name} does not implement the scale subresource`);
  }

  /** upstream buildDisruptedPodMap: the entries still waiting for their pod to be deleted. */
  private disruptedPodMap(pods: Pod[], pdb: PodDisruptionBudget, now: number): { disrupted: Record<string, string>; recheckAt?: number } {
    const recorded = pdb.status?.disruptedPods ?? {};
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp) continue;
      const at = recorded[pod.metadata!.name!];
      if (at === undefined) continue;
      const expectedDeletion = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < now) {
        this.recorder.eventf(pod, undefined, 'Warning', 'NotDeleted', 'Sync', `Pod was expected by PDB ${pdb.metadata!.namespace}/${pdb.metadata!.name} to be deleted but it wasn't`);
      } else {
        recheckAt = recheckAt === undefined ? expectedDeletion : Math.min(recheckAt, expectedDeletion);
        disrupted[pod.metadata!.name!] = at;
      }
    }
    return { disrupted, recheckAt };
  }

  private async writeStatus(pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus): Promise<void> {
    const cur = pdb.status;
    if (
      cur &&
      cur.currentHealthy === status.currentHealthy &&
      cur.desiredHealthy === status.desiredHealthy &&
      cur.expectedPods === status.expectedPods &&
      cur.disruptionsAllowed === status.disruptionsAllowed &&
      cur.observedGeneration === status.observedGeneration &&
      canonicalJson(cur.disruptedPods ?? {}, isUnset) === canonicalJson(status.disruptedPods ?? {}, isUnset) &&
      canonicalJson(cur.conditions ?? [], isUnset) === canonicalJson(status.conditions ?? [], isUnset)
    )
      return;
    // a conflict throws: the sync is retried against the newer budget
    await this.ctx.client.updateStatus<PodDisruptionBudget>({ ...PDBS, namespace: pdb.metadata!.namespace, name: pdb.metadata!.name }, { ...pdb, status });
  }
}

/** apimeta.SetStatusCondition: lastTransitionTime moves only when the status changes. */
function withCondition(conditions: Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, now: number): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) {
    list.push({ ...c, lastTransitionTime: metaTime(now) });
    return list;
  }
  const old = list[i]!;
  list[i] = { ...old, ...c, lastTransitionTime: old.status === c.status ? old.lastTransitionTime : metaTime(now) };
  return list;
}
