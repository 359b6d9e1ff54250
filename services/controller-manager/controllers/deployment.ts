/**
 * The Deployment controller (upstream pkg/controller/deployment, v1.31): one ReplicaSet
 * per pod template, named <deployment>-<pod-template-hash> and selecting on the
 * `pod-template-hash` label; revisions in the `deployment.kubernetes.io/revision`
 * annotation (so the stock `kubectl rollout history/undo` work: kubectl computes undo
 * from the ReplicaSets' revisions and patches the Deployment's template back); the
 * RollingUpdate (maxSurge / maxUnavailable) and Recreate strategies; proportional
 * scaling; pause; revisionHistoryLimit; status and the Progressing / Available
 * conditions `kubectl rollout status` reads.
 *
 * Every write of a ReplicaSet carries the resourceVersion the decision was made on, so a
 * sync acting on a stale cache fails with a conflict and is retried instead of scaling twice.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../lib/api/errors.js';
import { selectorFromLabelSelector } from '../../../lib/api/labels.js';
import { type DeletedFinalStateUnknown, deletedObject, type EventRecorder, metaNamespaceKey, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { getControllerOf, newControllerRef, resolveControllerRef, selectingOwners } from '../shared/controllerref.js';
import { canonicallyEqual, computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from '../shared/revisions.js';
import { metaTime } from '../../../lib/api/time.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** deployment annotations never copied onto its ReplicaSets (upstream annotationsToSkip) */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

export const NEW_RS_AVAILABLE_REASON = 'NewReplicaSetAvailable';
export const RS_UPDATED_REASON = 'ReplicaSetUpdated';
export const NEW_RS_CREATED_REASON = 'NewReplicaSetCreated';
export const FOUND_NEW_RS_REASON = 'FoundNewReplicaSet';
export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';
export const PAUSED_REASON = 'DeploymentPaused';
export const RESUMED_REASON = 'DeploymentResumed';
export const MIN_AVAILABLE_REASON = 'MinimumReplicasAvailable';
export const MIN_UNAVAILABLE_REASON = 'MinimumReplicasUnavailable';

const KIND = 'Deployment';
const API_VERSION = 'apps/v1';
const MAX_INT32 = 2147483647;

// ---------------------------------------------------------------------------------------
// Pure rollout arithmetic (upstream pkg/controller/deployment/util)
// ---------------------------------------------------------------------------------------

/** The deployment with the apps/v1 defaults the apiserver does not apply here. */
export function withDefaults(d: Deployment): Deployment {
  const spec = structuredClone(d.spec ?? ({} as NonNullable<Deployment['spec']>));
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.minReadySeconds ??= 0;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
  }
  return { ...d, spec };
}

/** An int-or-percent scaled against total; percentages round up or down. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) {
    if (/^\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: ${JSON.stringify(v)}`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** Upstream ResolveFenceposts: surge rounds up, unavailable down; both 0 means unavailable 1. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function isRolling(d: Deployment): boolean {
  return d.spec?.strategy?.type === 'RollingUpdate';
}

export function maxSurge(d: Deployment): number {
  if (!isRolling(d)) return 0;
  const ru = d.spec!.strategy!.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, d.spec!.replicas!).surge;
}

export function maxUnavailable(d: Deployment): number {
  const replicas = d.spec!.replicas!;
  if (!isRolling(d) || replicas === 0) return 0;
  const ru = d.spec!.strategy!.rollingUpdate;
  return Math.min(replicas, resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas).unavailable);
}

export function revisionOf(rs: ReplicaSet): number {
  const v = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(v) ? v : 0;
}

const specReplicas = (rs: ReplicaSet) => rs.spec?.replicas ?? 0;
const sum = (rss: ReplicaSet[], f: (rs: ReplicaSet) => number) => rss.reduce((n, rs) => n + f(rs), 0);
const byCreation = (a: ReplicaSet, b: ReplicaSet) =>
  (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

/**
 * Pods the ReplicaSets have or are about to have: the larger of spec and status
 * replicas. Upstream counts spec only; counting pods not yet deleted too keeps the surge
 * limit true of the pods themselves, not only of the specs, while an old ReplicaSet's
 * pods are still going.
 */
const podCount = (rs: ReplicaSet) => Math.max(specReplicas(rs), rs.status?.replicas ?? 0);

/** Upstream NewRSNewReplicas. */
export function newRSNewReplicas(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = d.spec!.replicas!;
  if (!isRolling(d)) return replicas;
  const current = sum(allRSs, podCount);
  const maxTotal = replicas + maxSurge(d);
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + Math.max(0, up);
}

/** Upstream DeploymentComplete. */
function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = d.spec!.replicas!;
  return s.updatedReplicas === r && s.replicas === r && s.availableReplicas === r && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** Upstream DeploymentProgressing: some measurable progress since the last status. */
function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

const hasProgressDeadline = (d: Deployment) => d.spec?.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== MAX_INT32;

function condition(s: DeploymentStatus, type: string): DeploymentCondition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

function newCondition(type: string, status: string, reason: string, message: string, now: number): DeploymentCondition {
  const t = metaTime(now);
  return { type, status, reason, message, lastUpdateTime: t, lastTransitionTime: t };
}

/** Upstream SetDeploymentCondition: same status and reason is no change; same status keeps the transition time. */
function setCondition(s: DeploymentStatus, c: DeploymentCondition): void {
  const cur = condition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c = { ...c, lastTransitionTime: cur.lastTransitionTime };
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), c];
}

function removeCondition(s: DeploymentStatus, type: string): void {
  s.conditions = (s.conditions ?? []).filter((c) => c.type !== type);
}

// ---------------------------------------------------------------------------------------
// The controller
// ---------------------------------------------------------------------------------------

export interface DeploymentControllerOptions {
  now?: () => number;
}

export class DeploymentController extends QueueController {
  private readonly dInformer: SharedInformer<Deployment>;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;

  constructor(ctx: ControllerContext, opts: DeploymentControllerOptions = {}) {
    super('deployment', ctx);
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('deployment-controller');
    this.dInformer = ctx.informers.forResource<Deployment>(Resources.deployments);
    this.rsInformer = ctx.informers.forResource<ReplicaSet>(Resources.replicasets);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.handle(this.dInformer, {
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_o, d) => this.enqueue(d),
      onDelete: (d) => this.enqueue(d),
    });
    this.handle(this.rsInformer, {
      onAdd: (rs) => this.rsChanged(rs),
      onUpdate: (old, cur) => {
        if (getControllerOf(old)?.uid !== getControllerOf(cur)?.uid) this.rsChanged(old);
        this.rsChanged(cur);
      },
      onDelete: (rs) => this.rsChanged(deletedObject(rs)),
    });
    // Recreate waits for the old pods to be gone: their deletion is what it waits on
    this.handle(this.podInformer, { onDelete: (p) => this.podDeleted(p) });
  }

  private ownerOf(rs: ReplicaSet): Deployment | undefined {
    return resolveControllerRef(this.dInformer.store, KIND, rs);
  }

  private rsChanged(rs: ReplicaSet): void {
    const d = this.ownerOf(rs);
    if (d) return this.enqueue(d);
    if (getControllerOf(rs)) return;
    // an orphan: the deployments that may adopt it
    for (const cand of selectingOwners(this.dInformer.store, rs)) this.enqueue(cand);
  }

  private podDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const rs = resolveControllerRef(this.rsInformer.store, 'ReplicaSet', deletedObject(obj));
    const d = rs && this.ownerOf(rs);
    if (d?.spec?.strategy?.type === 'Recreate') this.enqueue(d);
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.dInformer.store.getByKey(key);
    if (!cached) return;
    const d = withDefaults({ apiVersion: API_VERSION, kind: KIND, ...cached });
    const selector = selectorFromLabelSelector(d.spec?.selector);
    if (selector.empty() || selector.matchesNothing) {
      // validation forbids it; an empty selector would take every ReplicaSet of the namespace
      this.recorder.eventf(d, undefined, 'Warning', 'SelectingAll', 'Sync', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const rsList = await this.replicaSetsFor(d, key);
    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    await this.checkPausedConditions(d);
    if (d.spec!.paused) return this.syncScale(d, rsList);
    if (this.isScalingEvent(d, rsList)) return this.syncScale(d, rsList);
    if (d.spec!.strategy!.type === 'Recreate') return this.rolloutRecreate(d, rsList);
    return this.rolloutRolling(d, rsList);
  }

  /** The ReplicaSets this deployment controls, adopting matching orphans. */
  private async replicaSetsFor(d: Deployment, key: string): Promise<ReplicaSet[]> {
    const { namespace } = splitMetaNamespaceKey(key);
    const uid = d.metadata!.uid!;
    const selector = selectorFromLabelSelector(d.spec!.selector);
    const out: ReplicaSet[] = [];
    for (const rs of this.rsInformer.store.byIndex(NAMESPACE_INDEX, namespace)) {
      const ref = getControllerOf(rs);
      if (ref) {
        if (ref.uid === uid) out.push(rs);
        continue;
      }
      if (d.metadata?.deletionTimestamp || rs.metadata?.deletionTimestamp || !selector.matches(rs.metadata?.labels)) continue;
      const fresh = await this.ctx.client.get<Deployment>({ ...Resources.deployments, namespace, name: d.metadata!.name });
      if (fresh.metadata?.uid !== uid || fresh.metadata?.deletionTimestamp) continue;
      try {
        out.push(
          await this.ctx.client.patch<ReplicaSet>({ ...Resources.replicasets, namespace, name: rs.metadata!.name }, 'strategic', {
            metadata: { ownerReferences: [newControllerRef(d, API_VERSION, KIND)], uid: rs.metadata!.uid },
          }),
        );
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return out;
  }

  /** The ReplicaSet whose template is the deployment's: the oldest such (upstream FindNewReplicaSet). */
  private findNewRS(d: Deployment, rsList: ReplicaSet[]): ReplicaSet | undefined {
    return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
  }

  /**
   * Upstream getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created if asked and
   * missing, with revision max(old)+1; an existing one is brought to that revision) and
   * the old ones.
   */
  private async getAllAndSyncRevision(d: Deployment, rsList: ReplicaSet[], create: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const existing = this.findNewRS(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    const newRevision = String(maxOld + 1);
    const ns = d.metadata!.namespace!;
    if (existing) {
      const rs = structuredClone(existing);
      let changed = this.setNewRSAnnotations(d, rs, newRevision, true);
      if ((rs.spec!.minReadySeconds ?? 0) !== d.spec!.minReadySeconds) {
        rs.spec!.minReadySeconds = d.spec!.minReadySeconds;
        changed = true;
      }
      const newRS = changed ? await this.ctx.client.update<ReplicaSet>({ ...Resources.replicasets, namespace: ns, name: rs.metadata!.name }, rs) : existing;
      await this.setDeploymentRevision(d, newRS.metadata!.annotations![REVISION_ANNOTATION]!);
      if (hasProgressDeadline(d) && !condition(d.status ?? {}, 'Progressing')) {
        const status = structuredClone(d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, `Found new replica set "${newRS.metadata!.name}"`, this.now()));
        await this.writeStatus(d, status);
      }
      return { newRS, oldRSs };
    }
    if (!create) return { oldRSs };

    const collisionCount = d.status?.collisionCount;
    const hash = computeHash(d.spec!.template, collisionCount);
    const template = structuredClone(d.spec!.template!) as PodTemplateSpec;
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const rs: ReplicaSet = {
      apiVersion: API_VERSION,
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata!.name}-${hash}`,
        namespace: ns,
        labels: { ...template.metadata.labels },
        annotations: {},
        ownerReferences: [newControllerRef(d, API_VERSION, KIND)],
      },
      spec: { replicas: 0, minReadySeconds: d.spec!.minReadySeconds, selector, template },
    };
    rs.spec!.replicas = newRSNewReplicas(d, oldRSs, rs);
    this.setNewRSAnnotations(d, rs, newRevision, false);
    setReplicasAnnotations(rs, d.spec!.replicas!, d.spec!.replicas! + maxSurge(d));
    let created: ReplicaSet;
    try {
      created = await this.ctx.client.create<ReplicaSet>({ ...Resources.replicasets, namespace: ns }, rs);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const clash = await this.ctx.client.get<ReplicaSet>({ ...Resources.replicasets, namespace: ns, name: rs.metadata!.name });
      // ours, with our template: the cache had not shown it yet
      if (getControllerOf(clash)?.uid === d.metadata!.uid && equalIgnoreHash(clash.spec?.template, d.spec?.template)) return { newRS: clash, oldRSs };
      // a hash collision: count it, so the next hash differs (upstream collisionCount)
      const status = structuredClone(d.status ?? {});
      status.collisionCount = (collisionCount ?? 0) + 1;
      await this.writeStatus(d, status);
      throw new Error(`replica set ${ns}/${rs.metadata!.name} exists with another template; collisionCount is now ${status.collisionCount}`);
    }
    if (specReplicas(created) > 0) this.recorder.eventf(d, created, 'Normal', 'ScalingReplicaSet', 'Scale', `Scaled up replica set ${created.metadata!.name} from 0 to ${specReplicas(created)}`);
    await this.setDeploymentRevision(d, newRevision);
    if (hasProgressDeadline(d)) {
      const status = structuredClone(d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', NEW_RS_CREATED_REASON, `Created new replica set "${created.metadata!.name}"`, this.now()));
      d.status = await this.writeStatus(d, status);
    }
    return { newRS: created, oldRSs };
  }

  /** Upstream SetNewReplicaSetAnnotations: copied deployment annotations and the revision. True if rs changed. */
  private setNewRSAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean): boolean {
    const ann = (rs.metadata!.annotations ??= {});
    let changed = false;
    for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
      if (ANNOTATIONS_TO_SKIP.has(k) || ann[k] === v) continue;
      ann[k] = v;
      changed = true;
    }
    const old = ann[REVISION_ANNOTATION];
    const oldNum = old === undefined ? 0 : Number(old);
    if (oldNum < Number(newRevision)) {
      ann[REVISION_ANNOTATION] = newRevision;
      changed = true;
      // an old template brought back (rollout undo) remembers the revisions it had
      if (old !== undefined && exists) ann[REVISION_HISTORY_ANNOTATION] = ann[REVISION_HISTORY_ANNOTATION] ? `${ann[REVISION_HISTORY_ANNOTATION]},${old}` : old;
    }
    if (!exists && setReplicasAnnotations(rs, d.spec!.replicas!, d.spec!.replicas! + maxSurge(d))) changed = true;
    return changed;
  }

  /** The deployment's own revision annotation (kubectl rollout undo patches /metadata/annotations, so it must exist). */
  private async setDeploymentRevision(d: Deployment, revision: string): Promise<void> {
    if (d.metadata?.annotations?.[REVISION_ANNOTATION] === revision) return;
    const patched = await this.ctx.client.patch<Deployment>({ ...Resources.deployments, namespace: d.metadata!.namespace, name: d.metadata!.name }, 'merge', {
      metadata: { annotations: { [REVISION_ANNOTATION]: revision } },
    });
    d.metadata = { ...patched.metadata };
  }

  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = condition(d.status ?? {}, 'Progressing');
    if (cond?.reason === TIMED_OUT_REASON) return;
    const pausedExists = cond?.reason === PAUSED_REASON;
    const status = structuredClone(d.status ?? {});
    if (d.spec!.paused && !pausedExists) setCondition(status, newCondition('Progressing', 'Unknown', PAUSED_REASON, 'Deployment is paused', this.now()));
    else if (!d.spec!.paused && pausedExists) setCondition(status, newCondition('Progressing', 'Unknown', RESUMED_REASON, 'Deployment is resumed', this.now()));
    else return;
    d.status = await this.writeStatus(d, status);
  }

  private isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    for (const rs of rsList) {
      if (specReplicas(rs) === 0) continue;
      const desired = rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION];
      if (desired !== undefined && Number(desired) !== d.spec!.replicas) return true;
    }
    return false;
  }

  /** Upstream sync(): scale (proportionally) without rolling; used while paused or when only replicas changed. */
  private async syncScale(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec!.paused) await this.cleanup(d, oldRSs);
    await this.syncDeploymentStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
  }

  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const replicas = d.spec!.replicas!;
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    const active = all.filter((rs) => specReplicas(rs) > 0);
    // one active set (or none): it alone takes the whole size
    let target: ReplicaSet | undefined;
    if (active.length === 1) target = active[0];
    else if (active.length === 0) target = newRS ?? [...oldRSs].sort(byCreation).at(-1);
    if (target && active.length <= 1) {
      if (specReplicas(target) !== replicas) await this.scaleRS(target, replicas, d);
      return;
    }
    // the new set is saturated: the old ones go
    if (newRS && specReplicas(newRS) === replicas && (newRS.status?.availableReplicas ?? 0) === replicas && Number(newRS.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION]) === replicas) {
      for (const rs of oldRSs) if (specReplicas(rs) > 0) await this.scaleRS(rs, 0, d);
      return;
    }
    if (!isRolling(d)) return;
    // proportional scaling: each active set grows or shrinks by its share (upstream scale())
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - sum(active, specReplicas);
    const sorted = [...active].sort((a, b) => {
      const sa = specReplicas(a);
      const sb = specReplicas(b);
      if (sa !== sb) return toAdd > 0 ? sb - sa : sa - sb;
      return toAdd > 0 ? byCreation(b, a) : byCreation(a, b);
    });
    const sizes = new Map<ReplicaSet, number>();
    let added = 0;
    for (const rs of sorted) {
      let proportion = 0;
      if (toAdd !== 0 && toAdd !== added) {
        const fraction = rsFraction(rs, d);
        const left = toAdd - added;
        proportion = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
      }
      sizes.set(rs, specReplicas(rs) + proportion);
      added += proportion;
    }
    if (toAdd !== added && sorted.length) sizes.set(sorted[0]!, Math.max(0, sizes.get(sorted[0]!)! + toAdd - added));
    for (const rs of sorted) await this.scaleRS(rs, Math.max(0, sizes.get(rs)!), d);
  }

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const got = await this.getAllAndSyncRevision(d, rsList, true);
    let newRS = got.newRS!;
    let oldRSs = got.oldRSs;
    // scale the new set up as far as the surge allows
    if (specReplicas(newRS) !== d.spec!.replicas) {
      const target = specReplicas(newRS) > d.spec!.replicas! ? d.spec!.replicas! : newRSNewReplicas(d, [...oldRSs, newRS], newRS);
      if (target !== specReplicas(newRS)) {
        newRS = await this.scaleRS(newRS, target, d);
        return this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
      }
    }
    const scaledDown = await this.reconcileOldReplicaSets(d, oldRSs, newRS);
    if (scaledDown) {
      oldRSs = scaledDown;
      return this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
    }
    const status = this.calculateStatus(d, [...oldRSs, newRS], newRS);
    if (deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
  }

  /** Upstream reconcileOldReplicaSets; the old sets after scaling, or undefined if none was scaled. */
  private async reconcileOldReplicaSets(d: Deployment, oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<ReplicaSet[] | undefined> {
    if (sum(oldRSs, specReplicas) === 0) return undefined;
    const replicas = d.spec!.replicas!;
    const minAvailable = replicas - maxUnavailable(d);
    const allPods = sum([...oldRSs, newRS], specReplicas);
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return undefined;
    const olds = [...oldRSs].sort(byCreation);
    let total = 0;
    // first the old pods that are not available anyway: removing them costs no availability
    for (let i = 0; i < olds.length && total < maxScaledDown; i++) {
      const rs = olds[i]!;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (specReplicas(rs) === 0 || unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown - total, unhealthy);
      olds[i] = await this.scaleRS(rs, specReplicas(rs) - n, d);
      total += n;
    }
    // then available old pods, as far as minAvailable allows. A set's status may still
    // count pods its last scale-down is removing: no set is counted above its spec.
    const available = sum([...olds, newRS], (rs) => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs)));
    if (available > minAvailable) {
      const budget = available - minAvailable;
      let down = 0;
      for (let i = 0; i < olds.length && down < budget; i++) {
        const rs = olds[i]!;
        if (specReplicas(rs) === 0) continue;
        const n = Math.min(specReplicas(rs), budget - down);
        olds[i] = await this.scaleRS(rs, specReplicas(rs) - n, d);
        down += n;
        total += n;
      }
    }
    return total > 0 ? olds : undefined;
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    let { newRS, oldRSs } = await this.getAllAndSyncRevision(d, rsList, false);
    let scaled = false;
    for (let i = 0; i < oldRSs.length; i++) {
      if (specReplicas(oldRSs[i]!) === 0) continue;
      oldRSs[i] = await this.scaleRS(oldRSs[i]!, 0, d);
      scaled = true;
    }
    if (scaled) return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
    // every old pod must be gone (terminating ones too) before a new one starts
    const oldUids = new Set(oldRSs.map((rs) => rs.metadata!.uid));
    const oldRunning = this.podInformer.store
      .byIndex(NAMESPACE_INDEX, d.metadata!.namespace!)
      .some((p) => oldUids.has(getControllerOf(p)?.uid) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    if (oldRunning) return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.getAllAndSyncRevision(d, rsList, true));
    if (specReplicas(newRS!) !== d.spec!.replicas) newRS = await this.scaleRS(newRS!, d.spec!.replicas!, d);
    const status = this.calculateStatus(d, [...oldRSs, newRS!], newRS);
    if (deploymentComplete(d, status)) await this.cleanup(d, oldRSs);
    await this.syncRolloutStatus(d, [...oldRSs, newRS!], newRS);
  }

  /** Sets replicas and the desired/max annotations; writes only on change, on the version decided upon. */
  private async scaleRS(rs: ReplicaSet, to: number, d: Deployment): Promise<ReplicaSet> {
    const copy = structuredClone(rs);
    const annotationsChanged = setReplicasAnnotations(copy, d.spec!.replicas!, d.spec!.replicas! + maxSurge(d));
    const from = specReplicas(rs);
    if (from === to && !annotationsChanged) return rs;
    copy.spec = { ...copy.spec!, replicas: to };
    const written = await this.ctx.client.update<ReplicaSet>({ ...Resources.replicasets, namespace: rs.metadata!.namespace, name: rs.metadata!.name }, copy);
    if (from !== to) {
      const dir = to > from ? 'up' : 'down';
      this.recorder.eventf(d, written, 'Normal', 'ScalingReplicaSet', 'Scale', `Scaled ${dir} replica set ${rs.metadata!.name} from ${from} to ${to}`);
    }
    return written;
  }

  /** Deletes the oldest fully scaled-down sets beyond revisionHistoryLimit. */
  private async cleanup(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    const limit = d.spec!.revisionHistoryLimit!;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    const sorted = [...cleanable].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of sorted.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.ctx.client.delete({ ...Resources.replicasets, namespace: rs.metadata!.namespace, name: rs.metadata!.name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  calculateStatus(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const available = sum(allRSs, (rs) => rs.status?.availableReplicas ?? 0);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata?.generation,
      replicas: sum(allRSs, (rs) => rs.status?.replicas ?? 0),
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum(allRSs, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, sum(allRSs, specReplicas) - available),
      conditions: structuredClone(d.status?.conditions ?? []),
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    if (available >= d.spec!.replicas! - maxUnavailable(d)) setCondition(status, newCondition('Available', 'True', MIN_AVAILABLE_REASON, 'Deployment has minimum availability.', this.now()));
    else setCondition(status, newCondition('Available', 'False', MIN_UNAVAILABLE_REASON, 'Deployment does not have minimum availability.', this.now()));
    return status;
  }

  private async syncDeploymentStatus(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    await this.writeStatus(d, this.calculateStatus(d, allRSs, newRS));
  }

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
  }

  /** Upstream syncRolloutStatus: status plus the Progressing condition (and the deadline). */
  private async syncRolloutStatus(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.calculateStatus(d, allRSs, newRS);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const cur = condition(status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && cur?.reason === NEW_RS_AVAILABLE_REASON;
    if (hasProgressDeadline(d) && !complete) {
      const name = newRS?.metadata?.name;
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, `ReplicaSet "${name}" has successfully progressed.`, this.now()));
      } else if (deploymentProgressing(d, status)) {
        const c = newCondition('Progressing', 'True', RS_UPDATED_REASON, name ? `ReplicaSet "${name}" is progressing.` : `Deployment "${d.metadata!.name}" is progressing.`, this.now());
        // progress refreshes lastUpdateTime, which the deadline counts from
        if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, c);
      } else if (this.timedOut(d, cur)) {
        setCondition(status, newCondition('Progressing', 'False', TIMED_OUT_REASON, `ReplicaSet "${name}" has timed out progressing.`, this.now()));
      }
    }
    await this.writeStatus(d, status);
    // nothing else will prompt a look when the deadline passes
    const after = condition(status, 'Progressing');
    if (hasProgressDeadline(d) && !deploymentComplete(d, status) && after?.status === 'True' && after.lastUpdateTime) {
      const due = Date.parse(after.lastUpdateTime) + d.spec!.progressDeadlineSeconds! * 1000 - this.now();
      this.enqueueAfter(d, Math.max(1000, due + 1000));
    }
  }

  private timedOut(d: Deployment, cur: DeploymentCondition | undefined): boolean {
    if (!cur || cur.reason === NEW_RS_AVAILABLE_REASON) return false;
    if (cur.reason === TIMED_OUT_REASON) return true;
    const from = Date.parse(cur.lastUpdateTime ?? '');
    return Number.isFinite(from) && from + d.spec!.progressDeadlineSeconds! * 1000 < this.now();
  }

  /** Writes status unless the server already has it; the written status. */
  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<DeploymentStatus> {
    if (d.status && canonicallyEqual(d.status, status)) return status;
    const cached = this.dInformer.store.getByKey(metaNamespaceKey(d)) ?? d;
    const written = await this.ctx.client.updateStatus<Deployment>(
      { ...Resources.deployments, namespace: d.metadata!.namespace, name: d.metadata!.name },
      { ...cached, metadata: { ...cached.metadata, resourceVersion: d.metadata?.resourceVersion }, status },
    );
    d.metadata = { ...d.metadata, resourceVersion: written.metadata?.resourceVersion };
    d.status = written.status ?? status;
    return d.status;
  }
}

/** Upstream SetReplicasAnnotations; true if either changed. */
function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = (rs.metadata!.annotations ??= {});
  let changed = false;
  if (ann[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    ann[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (ann[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    ann[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

/** Upstream getReplicaSetFraction: the set's share of a resize, from the size it was sized for. */
function rsFraction(rs: ReplicaSet, d: Deployment): number {
  if (d.spec!.replicas === 0) return -specReplicas(rs);
  const deploymentReplicas = d.spec!.replicas! + maxSurge(d);
  const annotated = Number(rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION]);
  const base = Number.isInteger(annotated) && annotated > 0 ? annotated : (d.status?.replicas ?? 0);
  if (base === 0) return 0;
  return Math.round((specReplicas(rs) * deploymentReplicas) / base) - specReplicas(rs);
}
