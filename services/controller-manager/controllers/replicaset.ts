/**
 * The ReplicaSet controller (upstream pkg/controller/replicaset, v1.31): keeps
 * spec.replicas active pods stamped from the template; adopts matching orphans and
 * releases owned pods that stopped matching; records status (replicas, readyReplicas,
 * availableReplicas, fullyLabeledReplicas, observedGeneration, the ReplicaFailure
 * condition) through the status subresource.
 *
 * Creation is slow-start: batches of 1, 2, 4, ... pods, each batch one batchCreate
 * round trip, stopping at the first batch with a failure, so a quota or admission error
 * costs one pod rather than hundreds. At most 500 pods are created or deleted per sync
 * (upstream's burstReplicas). Expectations keep a sync from acting again before the
 * informer has shown it its own creates and deletes.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { isConflict, isNotFound, StatusError } from '../../../lib/api/errors.js';
import { labelsEqual, selectorFromLabelSelector, type Selector } from '../../../lib/api/labels.js';
import { type DeletedFinalStateUnknown, deletedObject, type EventRecorder, metaNamespaceKey, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { claimPods, getControllerOf, newControllerRef, resolveControllerRef, selectingOwners } from '../shared/controllerref.js';
import { ControllerExpectations } from '../shared/expectations.js';
import { isPodActive, isPodAvailable, isPodReady, podFromTemplate, podReadyTime } from '../shared/pods.js';
import { slowStartBatchCreate } from '../shared/slowstart.js';
import { metaTime } from '../../../lib/api/time.js';

export const BURST_REPLICAS = 500;
const KIND = 'ReplicaSet';
const API_VERSION = 'apps/v1';
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface ReplicaSetControllerOptions {
  /** clock for availability (minReadySeconds); default Date.now */
  now?: () => number;
}

export class ReplicaSetController extends QueueController {
  readonly expectations = new ControllerExpectations();
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;

  constructor(ctx: ControllerContext, opts: ReplicaSetControllerOptions = {}) {
    super('replicaset', ctx);
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('replicaset-controller');
    this.rsInformer = ctx.informers.forResource<ReplicaSet>(Resources.replicasets);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.handle(this.rsInformer, {
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (rs) => {
        this.expectations.delete(metaNamespaceKey(deletedObject(rs)));
        this.enqueue(rs);
      },
    });
    this.handle(this.podInformer, {
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, cur) => this.podUpdated(old, cur),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  /** The ReplicaSet a controllerRef names, if it is the one in the cache (same uid). */
  private resolveControllerRef(pod: Pod): ReplicaSet | undefined {
    return resolveControllerRef(this.rsInformer.store, KIND, pod);
  }

  /** ReplicaSets in the pod's namespace whose selector matches it (for orphans). */
  private matchingReplicaSets(pod: Pod): ReplicaSet[] {
    return selectingOwners(this.rsInformer.store, pod);
  }

  private podAdded(pod: Pod): void {
    // a pod restored by a re-list may already be going away
    if (pod.metadata?.deletionTimestamp) return this.podDeleted(pod);
    const rs = this.resolveControllerRef(pod);
    if (rs) {
      const key = metaNamespaceKey(rs);
      this.expectations.creationObserved(key);
      this.enqueueKey(key);
      return;
    }
    if (getControllerOf(pod)) return;
    for (const m of this.matchingReplicaSets(pod)) this.enqueue(m);
  }

  private podUpdated(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const labelsChanged = !labelsEqual(old.metadata?.labels, cur.metadata?.labels);
    if (cur.metadata?.deletionTimestamp) {
      // graceful deletion: the pod no longer counts, so replace it now rather than when it is gone
      this.podDeleted(cur);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const oldRef = getControllerOf(old);
    const curRef = getControllerOf(cur);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const oldRs = this.resolveControllerRef(old);
      if (oldRs) this.enqueue(oldRs);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      // it becomes available minReadySeconds after turning ready: look again then
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.enqueueAfter(rs, minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || oldRef) for (const m of this.matchingReplicaSets(cur)) this.enqueue(m);
  }

  private podDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const rs = this.resolveControllerRef(pod);
    if (!rs) return;
    const key = metaNamespaceKey(rs);
    this.expectations.deletionObserved(key, metaNamespaceKey(pod));
    this.enqueueKey(key);
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.rsInformer.store.getByKey(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs: ReplicaSet = { apiVersion: API_VERSION, kind: KIND, ...cached };
    const needsSync = this.expectations.satisfied(key);
    const selector = selectorFromLabelSelector(rs.spec?.selector);
    if (selector.empty() || selector.matchesNothing) {
      // validation forbids it; never let an empty selector claim every pod of the namespace
      this.ctx.log(`replicaset: ${key} has an empty selector; ignoring it`);
      return;
    }
    const { namespace, name } = splitMetaNamespaceKey(key);
    const active = this.podInformer.store.byIndex(NAMESPACE_INDEX, namespace).filter(isPodActive);
    const pods = await claimPods(active, {
      client: this.ctx.client,
      owner: rs,
      ownerRef: { ...Resources.replicasets, namespace, name },
      apiVersion: API_VERSION,
      kind: KIND,
      selector,
    });

    let manageErr: ManageError | undefined;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, pods, rs);
      } catch (e) {
        manageErr = e instanceof ManageError ? e : new ManageError('FailedCreate', (e as Error).message);
      }
    }

    const status = this.calculateStatus(rs, pods, manageErr);
    const updated = await this.updateStatus(rs, status);
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (!manageErr && minReady > 0 && updated.readyReplicas === rs.spec?.replicas && updated.availableReplicas !== rs.spec?.replicas) {
      this.enqueueAfter(rs, minReady * 1000);
    }
    if (manageErr) throw manageErr;
  }

  private async manageReplicas(key: string, pods: Pod[], rs: ReplicaSet): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, BURST_REPLICAS);
      // expectations first: the create events may arrive before batchCreate returns
      this.expectations.expectCreations(key, n);
      const created = await this.slowStartCreate(key, rs, n);
      if (created.error) throw new ManageError('FailedCreate', created.error.message);
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(pods, n);
      this.expectations.expectDeletions(key, victims.map((p) => metaNamespaceKey(p)));
      const errors: string[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          const podKey = metaNamespaceKey(pod);
          try {
            await this.ctx.client.delete({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name });
            this.recorder.eventf(rs, pod, 'Normal', 'SuccessfulDelete', 'Delete', `Deleted pod: ${pod.metadata!.name}`);
          } catch (e) {
            // no delete event will come for a pod whose delete failed (or that was already gone)
            this.expectations.deletionObserved(key, podKey);
            if (isNotFound(e)) return;
            this.recorder.eventf(rs, pod, 'Warning', 'FailedDelete', 'Delete', `Error deleting: ${(e as Error).message}`);
            errors.push(`${podKey}: ${(e as Error).message}`);
          }
        }),
      );
      if (errors.length) throw new ManageError('FailedDelete', `deleting pods of ReplicaSet ${key}: ${errors.join('; ')}`);
    }
  }

  /** Creates n pods in slow-start batches; stops after the first batch with a failure. */
  private async slowStartCreate(key: string, rs: ReplicaSet, n: number): Promise<{ created: number; error?: Error }> {
    const ref = newControllerRef(rs, API_VERSION, KIND);
    const template = rs.spec!.template as PodTemplateSpec;
    const result = await slowStartBatchCreate<Pod>(
      this.ctx.client,
      n,
      () => ({ ...Resources.pods, namespace: rs.metadata!.namespace, body: podFromTemplate(template, rs.metadata!.namespace!, rs.metadata!.name!, ref) }),
      (r) => {
        if (r instanceof StatusError) {
          // this create will never be observed
          this.expectations.creationObserved(key);
          this.recorder.eventf(rs, undefined, 'Warning', 'FailedCreate', 'Create', `Error creating: ${r.message}`);
        } else {
          this.recorder.eventf(rs, r, 'Normal', 'SuccessfulCreate', 'Create', `Created pod: ${r.metadata!.name}`);
        }
      },
    );
    // the pods of the batches never tried will not be observed either
    for (let i = 0; i < result.skipped; i++) this.expectations.creationObserved(key);
    const first = result.errors[0];
    if (first) return { created: result.created, error: new Error(`creating pods of ReplicaSet ${key}: ${first.error.message}`) };
    return { created: result.created };
  }

  private calculateStatus(rs: ReplicaSet, pods: Pod[], manageErr: ManageError | undefined): ReplicaSetStatus {
    const templateLabels = (rs.spec?.template?.metadata?.labels ?? {}) as Record<string, string>;
    const templateSelector: Selector = selectorFromLabelSelector({ matchLabels: templateLabels });
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const now = this.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const p of pods) {
      if (templateSelector.matches(p.metadata?.labels)) fullyLabeled++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, now)) available++;
      }
    }
    const status: ReplicaSetStatus = {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata?.generation,
    };
    let conditions = (rs.status?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    const failure = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (manageErr) {
      const cond: ReplicaSetCondition = failure ?? {
        type: 'ReplicaFailure',
        status: 'True',
        reason: manageErr.reason,
        message: manageErr.message,
        lastTransitionTime: metaTime(now),
      };
      conditions = [...conditions, cond];
    }
    if (conditions.length) status.conditions = conditions;
    return status;
  }

  /** Writes status unless it is already what the server has; one re-read on conflict. */
  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSetStatus> {
    if (sameStatus(rs.status, status)) return status;
    const ref = { ...Resources.replicasets, namespace: rs.metadata!.namespace, name: rs.metadata!.name };
    let current = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        const written = await this.ctx.client.updateStatus<ReplicaSet>(ref, { ...current, status });
        return written.status ?? status;
      } catch (e) {
        if (!isConflict(e) || attempt >= 1) throw e;
        current = await this.ctx.client.get<ReplicaSet>(ref);
        // the spec changed under us: the generation we observed is not the current one
        if (current.metadata?.generation !== rs.metadata?.generation) status = { ...status, observedGeneration: rs.metadata?.generation };
      }
    }
  }
}

class ManageError extends Error {
  constructor(
    readonly reason: 'FailedCreate' | 'FailedDelete',
    message: string,
  ) {
    super(message);
  }
}

function sameStatus(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  if (!a) return false;
  return (
    (a.replicas ?? 0) === (b.replicas ?? 0) &&
    (a.fullyLabeledReplicas ?? 0) === (b.fullyLabeledReplicas ?? 0) &&
    (a.readyReplicas ?? 0) === (b.readyReplicas ?? 0) &&
    (a.availableReplicas ?? 0) === (b.availableReplicas ?? 0) &&
    a.observedGeneration === b.observedGeneration &&
    JSON.stringify(a.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}

/**
 * The n pods to delete, most expendable first (upstream ActivePodsWithRanks): unscheduled
 * before scheduled; Pending before Unknown before Running; not ready before ready; lower
 * pod-deletion-cost first; pods doubled up on a node with more of this set's pods first;
 * ready for a shorter time first; more container restarts first; newer first.
 * Simplified: upstream compares ready times and creation times in log2 buckets
 * (LogarithmicScaleDown) so that pods of similar age are picked at random; here the
 * plain times are compared, which always picks the very newest.
 */
export function podsToDelete(pods: Pod[], n: number): Pod[] {
  if (n >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const phaseRank = (p: Pod) => ({ Pending: 0, Unknown: 1, Running: 2 })[p.status?.phase ?? 'Pending'] ?? 0;
  const cost = (p: Pod) => {
    const v = Number(p.metadata?.annotations?.[POD_DELETION_COST]);
    return Number.isFinite(v) ? v : 0;
  };
  const restarts = (p: Pod) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const created = (p: Pod) => (p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0);
  const compare = (a: Pod, b: Pod): number => {
    const aNode = a.spec?.nodeName ?? '';
    const bNode = b.spec?.nodeName ?? '';
    if (!aNode !== !bNode) return aNode ? 1 : -1;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
    if (cost(a) !== cost(b)) return cost(a) - cost(b);
    const aDoubled = aNode ? perNode.get(aNode)! : 0;
    const bDoubled = bNode ? perNode.get(bNode)! : 0;
    if (aDoubled !== bDoubled) return bDoubled - aDoubled;
    if (isPodReady(a) && isPodReady(b)) {
      const ra = podReadyTime(a) ?? 0;
      const rb = podReadyTime(b) ?? 0;
      if (ra !== rb) return rb - ra;
    }
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    if (created(a) !== created(b)) return created(b) - created(a);
    // same second: the name breaks the tie so the choice is stable
    return (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
  };
  return [...pods].sort(compare).slice(0, n);
}
