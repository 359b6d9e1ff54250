/**
 * The StatefulSet controller (upstream pkg/controller/statefulset, v1.31): pods with
 * stable identities <set>-<ordinal> (labels statefulset.kubernetes.io/pod-name and
 * apps.kubernetes.io/pod-index, hostname = pod name, subdomain = spec.serviceName),
 * created, replaced and removed in ordinal order (OrderedReady) or all at once
 * (Parallel); a deleted pod comes back under the same name. Template revisions are
 * ControllerRevisions named <set>-<hash>, and each pod's controller-revision-hash label
 * names the revision that stamped it; RollingUpdate replaces pods with ordinal index >=
 * partition, highest first, one at a time, each only once the previous is Running and
 * Ready; OnDelete only stamps the new revision on pods that were deleted.
 *
 * Simplified against upstream:
 * - volumeClaimTemplates are ignored: no PersistentVolumeClaims are created or deleted
 *   (persistentVolumeClaimRetentionPolicy has nothing to act on).
 * - rollingUpdate.maxUnavailable (the MaxUnavailableStatefulSet feature) is ignored: one
 *   pod at a time, as with the feature off.
 * - A revision stores the template itself ({spec: {template: {..., $patch: replace}}},
 *   upstream's patch shape) and the controller reads it back directly instead of
 *   applying it as a strategic-merge patch to the set.
 * - Orphaned ControllerRevisions are not adopted; only revisions this set controls count.
 * - A pod whose identity drifted gets its identity labels patched back; hostname and
 *   subdomain are immutable on a pod, so they are not repaired.
 * - A failed or succeeded pod is deleted, and recreated by the sync its delete triggers
 *   (upstream recreates it in the same pass).
 * - No StatefulSet conditions are written.
 */
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isConflict, isNotFound, StatusError } from '../../../lib/api/errors.js';
import { selectorFromLabelSelector } from '../../../lib/api/labels.js';
import { CONTROLLER_REVISIONS, type DeletedFinalStateUnknown, deletedObject, type EventRecorder, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey, STATEFULSETS } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { claimPods, getControllerOf, newControllerRef, resolveControllerRef, selectingOwners } from '../shared/controllerref.js';
import { isPodAvailable, isPodReady } from '../shared/pods.js';
import { canonicallyEqual, CONTROLLER_REVISION_HASH_LABEL, controllerRevisionName, hashWithCollisionCount, newControllerRevision, nextRevision, revisionTemplate, templateRevisionData } from '../shared/revisions.js';

export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

const KIND = 'StatefulSet';
const API_VERSION = 'apps/v1';

export interface StatefulSetControllerOptions {
  /** clock for availability (minReadySeconds); default Date.now */
  now?: () => number;
}

/** The ordinal of a pod named <set>-<n> that belongs to set, or undefined. */
export function ordinalOf(setName: string, podName: string | undefined): number | undefined {
  if (!podName?.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

const isTerminating = (p: Pod) => !!p.metadata?.deletionTimestamp;
const isFinished = (p: Pod) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const isRunningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p);
const revisionLabel = (p: Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];

export class StatefulSetController extends QueueController {
  private readonly setInformer: SharedInformer<StatefulSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;

  constructor(ctx: ControllerContext, opts: StatefulSetControllerOptions = {}) {
    super('statefulset', ctx);
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('statefulset-controller');
    this.setInformer = ctx.informers.forResource<StatefulSet>(STATEFULSETS);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.revInformer = ctx.informers.forResource<ControllerRevision>(CONTROLLER_REVISIONS);
    this.handle(this.setInformer, {
      onAdd: (s) => this.enqueue(s),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (s) => this.enqueue(s),
    });
    this.handle(this.podInformer, {
      onAdd: (pod) => this.podChanged(pod),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        if (getControllerOf(old)?.uid !== getControllerOf(cur)?.uid) this.podChanged(old);
        this.podChanged(cur);
      },
      onDelete: (pod) => this.podChanged(deletedObject(pod as Pod | DeletedFinalStateUnknown<Pod>)),
    });
    // read by every sync: a revision created by another replica must be seen
    this.handle(this.revInformer, {});
  }

  /** Enqueues the set that controls pod, or for an orphan every set that selects it. */
  private podChanged(pod: Pod): void {
    if (getControllerOf(pod)) {
      const set = resolveControllerRef(this.setInformer.store, KIND, pod);
      if (set) this.enqueue(set);
      return;
    }
    if (pod.metadata?.deletionTimestamp) return;
    for (const set of selectingOwners(this.setInformer.store, pod)) this.enqueue(set);
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.setInformer.store.getByKey(key);
    if (!cached) return;
    const set: StatefulSet = { apiVersion: API_VERSION, kind: KIND, ...cached };
    const selector = selectorFromLabelSelector(set.spec?.selector);
    if (selector.empty() || selector.matchesNothing) {
      this.ctx.log(`statefulset: ${key} has an empty selector; ignoring it`);
      return;
    }
    const { namespace, name } = splitMetaNamespaceKey(key);
    const claimed = await claimPods(this.podInformer.store.byIndex(NAMESPACE_INDEX, namespace), {
      client: this.ctx.client,
      owner: set,
      ownerRef: { ...STATEFULSETS, namespace, name },
      apiVersion: API_VERSION,
      kind: KIND,
      selector,
    });
    // upstream isMemberOf: only pods named after this set are its replicas
    const pods = claimed.filter((p) => ordinalOf(name, p.metadata?.name) !== undefined);
    const revisions = this.revInformer.store
      .byIndex(NAMESPACE_INDEX, namespace)
      .filter((r) => getControllerOf(r)?.uid === set.metadata!.uid)
      .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const { current, update, collisionCount } = await this.revisions(set, revisions);

    const status = await this.updatePods(set, current, update, pods);
    status.collisionCount = collisionCount;
    status.observedGeneration = set.metadata?.generation;
    completeRollingUpdate(set, status);
    await this.writeStatus(set, status);
    await this.truncateHistory(set, pods, revisions, current, update);

    const minReady = set.spec?.minReadySeconds ?? 0;
    // pods turn available minReadySeconds after turning ready, with no event to say so
    if (minReady > 0 && (status.availableReplicas ?? 0) < (status.readyReplicas ?? 0)) this.enqueueAfter(set, minReady * 1000);
  }

  /**
   * The current and update revisions (upstream getStatefulSetRevisions): the update
   * revision is the one whose data equals the set's template, created if none does, or
   * renumbered to the newest if an older one does (a rollback); the current revision is
   * the one status.currentRevision names, or the update revision.
   */
  private async revisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const data = templateRevisionData(set.spec!.template);
    const next = nextRevision(revisions);
    const equal = revisions.filter((r) => canonicallyEqual(r.data, data));
    let update: ControllerRevision;
    if (equal.length && equal.at(-1) === revisions.at(-1)) {
      update = equal.at(-1)!;
    } else if (equal.length) {
      const old = equal.at(-1)!;
      update = await this.ctx.client.update<ControllerRevision>({ ...CONTROLLER_REVISIONS, namespace: set.metadata!.namespace, name: old.metadata!.name }, { ...old, revision: next });
    } else {
      for (;;) {
        // a collision count of 0 is not hashed in: the names of sets that never collided stay as they were
        const hash = hashWithCollisionCount(data, collisionCount || undefined);
        const rev = newControllerRevision({ owner: set, kind: KIND, name: controllerRevisionName(set.metadata!.name!, hash), template: set.spec?.template, data, hash, revision: next });
        const ref = { ...CONTROLLER_REVISIONS, namespace: set.metadata!.namespace, name: rev.metadata!.name };
        try {
          update = await this.ctx.client.create<ControllerRevision>(ref, rev);
          break;
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          const existing = await this.ctx.client.get<ControllerRevision>(ref);
          // our own create the cache has not shown yet
          if (getControllerOf(existing)?.uid === set.metadata!.uid && canonicallyEqual(existing.data, data)) {
            update = existing;
            break;
          }
          collisionCount++;
        }
      }
    }
    const current = revisions.find((r) => r.metadata!.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /**
   * One pass of upstream updateStatefulSet: counts the pods into status, then makes at
   * most one ordered step (OrderedReady) or every step it can (Parallel): replace finished
   * pods, create missing ordinals, delete condemned ordinals from the highest, then roll
   * one pod onto the update revision.
   */
  private async updatePods(set: StatefulSet, current: ControllerRevision, update: ControllerRevision, pods: Pod[]): Promise<StatefulSetStatus> {
    const name = set.metadata!.name!;
    const want = set.spec?.replicas ?? 1;
    const start = set.spec?.ordinals?.start ?? 0;
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = this.now();
    const status: StatefulSetStatus = {
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      currentRevision: current.metadata!.name,
      updateRevision: update.metadata!.name,
    };
    const replicas: Array<Pod | undefined> = new Array(want).fill(undefined);
    const condemned: Pod[] = [];
    for (const p of pods) {
      if (!isTerminating(p)) {
        status.replicas!++;
        if (revisionLabel(p) === current.metadata!.name) status.currentReplicas!++;
        if (revisionLabel(p) === update.metadata!.name) status.updatedReplicas!++;
      }
      if (isRunningAndReady(p)) {
        status.readyReplicas!++;
        if (isPodAvailable(p, minReady, now)) status.availableReplicas!++;
      }
      const i = ordinalOf(name, p.metadata!.name)! - start;
      if (i >= 0 && i < want) replicas[i] = p;
      else condemned.push(p);
    }
    condemned.sort((a, b) => ordinalOf(name, b.metadata!.name)! - ordinalOf(name, a.metadata!.name)!);
    if (set.metadata?.deletionTimestamp) return status;

    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    const healthy = (p: Pod) => isRunningAndReady(p) && isPodAvailable(p, minReady, now) && !isTerminating(p);
    const firstUnhealthy = [...replicas, ...condemned].find((p) => p && !healthy(p));

    // 1. replicas in ordinal order
    const missing: number[] = [];
    for (let i = 0; i < want; i++) {
      const pod = replicas[i];
      if (!pod) {
        if (monotonic) {
          await this.createPods(set, current, update, status, [i]);
          return status;
        }
        missing.push(i);
        continue;
      }
      if (isFinished(pod)) {
        await this.deletePod(set, pod, `${pod.status?.phase} pod`);
        if (monotonic) return status;
        continue;
      }
      if (monotonic && (isTerminating(pod) || !healthy(pod))) return status;
      await this.repairIdentity(set, pod, i + start);
    }
    if (missing.length) await this.createPods(set, current, update, status, missing);

    // 2. condemned ordinals, highest first
    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return status;
        continue;
      }
      // an unhealthy pod may go only if it is the first unhealthy one: never two down at once
      if (monotonic && !healthy(pod) && pod !== firstUnhealthy) return status;
      await this.deletePod(set, pod, 'scale down');
      if (monotonic) return status;
    }

    // 3. rolling update: ordinal indexes >= partition, highest first, one at a time
    if (set.spec?.updateStrategy?.type === 'OnDelete') return status;
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let i = want - 1; i >= partition; i--) {
      const pod = replicas[i];
      if (!pod) return status;
      if (revisionLabel(pod) !== update.metadata!.name && !isTerminating(pod)) {
        await this.deletePod(set, pod, 'update');
        status.currentReplicas = Math.max(0, status.currentReplicas! - 1);
        return status;
      }
      if (!healthy(pod)) return status;
    }
    return status;
  }

  /** The pod of ordinal index i (upstream newVersionedStatefulSetPod). */
  private newPod(set: StatefulSet, current: ControllerRevision, update: ControllerRevision, status: StatefulSetStatus, i: number): Pod {
    const strategy = set.spec?.updateStrategy;
    // below the partition the old revision stays, also for a pod that is recreated
    const useCurrent = strategy?.type !== 'OnDelete' && (strategy?.rollingUpdate ? i < (strategy.rollingUpdate.partition ?? 0) : i < (status.currentReplicas ?? 0));
    const rev = useCurrent ? current : update;
    const template = revisionTemplate(rev);
    const ordinal = i + (set.spec?.ordinals?.start ?? 0);
    const podName = `${set.metadata!.name}-${ordinal}`;
    const meta = template.metadata ?? {};
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: set.metadata!.namespace,
        labels: {
          ...(meta.labels ?? {}),
          [STATEFULSET_POD_NAME_LABEL]: podName,
          [POD_INDEX_LABEL]: String(ordinal),
          [CONTROLLER_REVISION_HASH_LABEL]: rev.metadata!.name!,
        },
        annotations: { ...(meta.annotations ?? {}) },
        ownerReferences: [newControllerRef(set, API_VERSION, KIND)],
      },
      spec: { ...structuredClone(template.spec ?? { containers: [] }), hostname: podName },
    };
    if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
    if (meta.finalizers?.length) pod.metadata!.finalizers = [...meta.finalizers];
    return pod;
  }

  /** Creates the pods of these ordinal indexes in one batch; a name still taken is left for the next sync. */
  private async createPods(set: StatefulSet, current: ControllerRevision, update: ControllerRevision, status: StatefulSetStatus, indexes: number[]): Promise<void> {
    const bodies = indexes.map((i) => this.newPod(set, current, update, status, i));
    const results = await this.ctx.client.batchCreate<Pod>(bodies.map((body) => ({ ...Resources.pods, namespace: set.metadata!.namespace, body })));
    const errors: string[] = [];
    results.forEach((r, k) => {
      const podName = bodies[k]!.metadata!.name!;
      if (r instanceof StatusError) {
        // the previous pod of this name is still going away; its delete event brings us back
        if (isAlreadyExists(r)) return;
        this.recorder.eventf(set, undefined, 'Warning', 'FailedCreate', 'Create', `create Pod ${podName} in StatefulSet ${set.metadata!.name} failed error: ${r.message}`);
        errors.push(`${podName}: ${r.message}`);
        return;
      }
      this.recorder.eventf(set, r, 'Normal', 'SuccessfulCreate', 'Create', `create Pod ${podName} in StatefulSet ${set.metadata!.name} successful`);
    });
    if (errors.length) throw new Error(`creating pods of StatefulSet ${set.metadata!.namespace}/${set.metadata!.name}: ${errors.join('; ')}`);
  }

  /** Deletes pod, only the very pod seen (uid precondition), so its same-name successor survives a stale cache. */
  private async deletePod(set: StatefulSet, pod: Pod, why: string): Promise<void> {
    const podName = pod.metadata!.name!;
    try {
      await this.ctx.client.delete({ ...Resources.pods, namespace: pod.metadata!.namespace, name: podName }, { preconditions: { uid: pod.metadata!.uid } });
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return;
      this.recorder.eventf(set, pod, 'Warning', 'FailedDelete', 'Delete', `delete Pod ${podName} in StatefulSet ${set.metadata!.name} failed error: ${(e as Error).message}`);
      throw new Error(`deleting pod ${podName} of StatefulSet ${set.metadata!.namespace}/${set.metadata!.name} (${why}): ${(e as Error).message}`);
    }
    this.recorder.eventf(set, pod, 'Normal', 'SuccessfulDelete', 'Delete', `delete Pod ${podName} in StatefulSet ${set.metadata!.name} successful`);
  }

  /** Puts back the identity labels of a pod that lost them (e.g. an adopted orphan). */
  private async repairIdentity(set: StatefulSet, pod: Pod, ordinal: number): Promise<void> {
    const labels = pod.metadata?.labels ?? {};
    if (labels[STATEFULSET_POD_NAME_LABEL] === pod.metadata!.name && labels[POD_INDEX_LABEL] === String(ordinal)) return;
    try {
      await this.ctx.client.patch<Pod>({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name }, 'strategic', {
        metadata: { uid: pod.metadata!.uid, labels: { [STATEFULSET_POD_NAME_LABEL]: pod.metadata!.name, [POD_INDEX_LABEL]: String(ordinal) } },
      });
    } catch (e) {
      if (isNotFound(e)) return;
      throw new Error(`restoring the identity of pod ${pod.metadata!.name} of StatefulSet ${set.metadata!.namespace}/${set.metadata!.name}: ${(e as Error).message}`);
    }
  }

  /** Writes status unless it is already what the server has; one re-read on conflict. */
  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (sameStatus(set.status, status)) return;
    const ref = { ...STATEFULSETS, namespace: set.metadata!.namespace, name: set.metadata!.name };
    let current = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ctx.client.updateStatus<StatefulSet>(ref, { ...current, status: { ...status, conditions: current.status?.conditions } });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= 1) throw e;
        current = await this.ctx.client.get<StatefulSet>(ref);
      }
    }
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit that no pod, nor current or update, uses. */
  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set<string>([current.metadata!.name!, update.metadata!.name!]);
    for (const p of pods) {
      const r = revisionLabel(p);
      if (r) live.add(r);
    }
    const history = revisions.filter((r) => !live.has(r.metadata!.name!));
    const excess = history.length - (set.spec?.revisionHistoryLimit ?? 10);
    for (const r of history.slice(0, Math.max(0, excess))) {
      try {
        await this.ctx.client.delete({ ...CONTROLLER_REVISIONS, namespace: r.metadata!.namespace, name: r.metadata!.name }, { preconditions: { uid: r.metadata!.uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }
}

/**
 * A RollingUpdate is complete once every replica runs the update revision and is ready:
 * the update revision becomes the current one (upstream completeRollingUpdate).
 */
function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  const want = set.spec?.replicas ?? 1;
  if (set.spec?.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === want && status.readyReplicas === want && status.replicas === want) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}

function sameStatus(a: StatefulSetStatus | undefined, b: StatefulSetStatus): boolean {
  if (!a) return false;
  const keys = ['replicas', 'readyReplicas', 'availableReplicas', 'currentReplicas', 'updatedReplicas'] as const;
  return (
    keys.every((k) => (a[k] ?? 0) === (b[k] ?? 0)) &&
    a.currentRevision === b.currentRevision &&
    a.updateRevision === b.updateRevision &&
    (a.collisionCount ?? 0) === (b.collisionCount ?? 0) &&
    a.observedGeneration === b.observedGeneration
  );
}
