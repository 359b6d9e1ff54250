/**
 * The DaemonSet controller (upstream pkg/controller/daemon, v1.31): one daemon pod on
 * every node that should run it (nodeSelector, required node affinity, taints against the
 * template's tolerations plus the daemon defaults), including nodes that join later.
 * Pods are created unbound with required node affinity `matchFields metadata.name In
 * [node]`, so the default scheduler places them (upstream since 1.12); a pod counts for
 * its target node (spec.nodeName, or that affinity) before it is bound. The current
 * template is recorded in a ControllerRevision whose hash labels the pods
 * (controller-revision-hash); RollingUpdate replaces old pods within maxUnavailable, or
 * surges within maxSurge; OnDelete only replaces pods the user deletes.
 *
 * Simplified: ControllerRevisions are not adopted or released (only the ones this
 * DaemonSet created are read); the failed-pod back-off is per node, doubling from 1 s to
 * 15 min, without upstream's garbage collection of back-off entries; pods bound to a
 * node that no longer exists are left to the pod garbage collector, as upstream does.
 */
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Affinity, Node, Pod, PodTemplateSpec, Toleration } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isConflict, isNotFound, StatusError } from '../../../lib/api/errors.js';
import { canonicalJson, isNullish } from '../../../lib/api/canonical.js';
import { labelsEqual, selectorFromLabelSelector } from '../../../lib/api/labels.js';
import { doNotScheduleTaints, findMatchingUntoleratedTaint } from '../../../lib/api/tolerations.js';
import { CONTROLLER_REVISIONS, DAEMONSETS, type DeletedFinalStateUnknown, deletedObject, type EventRecorder, metaNamespaceKey, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { claimPods, getControllerOf, newControllerRef, resolveControllerRef, selectingOwners } from '../shared/controllerref.js';
import { ControllerExpectations } from '../shared/expectations.js';
import { isPodAvailable, isPodReady, podFromTemplate } from '../shared/pods.js';
import { computeHash, CONTROLLER_REVISION_HASH_LABEL, controllerRevisionName, maxRevision, newControllerRevision, templateRevisionData } from '../shared/revisions.js';
import { slowStartBatchCreate } from '../shared/slowstart.js';
import { scaledValue } from './deployment.js';
import { requiredNodeAffinity } from '../../../lib/api/nodeaffinity.js';

export const BURST_REPLICAS = 250;
const KIND = 'DaemonSet';
const API_VERSION = 'apps/v1';
const FAILED_BACKOFF_INITIAL_MS = 1000;
const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

/** The tolerations upstream adds to every daemon pod (AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(template: PodTemplateSpec): Toleration[] {
  const add: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (template.spec?.hostNetwork) add.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const out = [...(template.spec?.tolerations ?? [])];
  // AddOrUpdateTolerationInPod: a toleration with the same key, operator, value and effect is replaced, not doubled
  for (const t of add) {
    const i = out.findIndex((o) => o.key === t.key && (o.operator ?? 'Equal') === t.operator && (o.value ?? '') === '' && o.effect === t.effect);
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/** GetRequiredNodeAffinity(pod).Match(node): the nodeSelector and any required term. */
export function matchesRequiredNodeAffinity(spec: Pod['spec'], node: Node): boolean {
  return requiredNodeAffinity(spec)(node);
}

/**
 * upstream NodeShouldRunDaemonPod: shouldRun (a pod should be created there) and
 * shouldContinueRunning (an existing pod may stay: an untolerated NoSchedule taint keeps
 * running pods, an untolerated NoExecute taint does not).
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const template = ds.spec?.template ?? {};
  const spec = template.spec;
  if (spec?.nodeName && spec.nodeName !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesRequiredNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonTolerations(template);
  const untolerated = findMatchingUntoleratedTaint(node.spec?.taints, tolerations, doNotScheduleTaints);
  if (!untolerated) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: untolerated.effect === 'NoSchedule' };
}

/** upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become "this node". */
export function nodeNameAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  const out = structuredClone(affinity ?? {});
  out.nodeAffinity = { ...(out.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: required };
  return out;
}

/** upstream GetTargetNodeName: the node a daemon pod is bound to, or the one its affinity names. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

const created = (p: Pod) => (p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0);

/** upstream podByCreationTimestampAndPhase: running before pending, then oldest first. */
function byCreationAndPhase(a: Pod, b: Pod): number {
  const ar = a.status?.phase === 'Running' ? 0 : 1;
  const br = b.status?.phase === 'Running' ? 0 : 1;
  if (ar !== br) return ar - br;
  if (created(a) !== created(b)) return created(a) - created(b);
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

function isUpdated(pod: Pod, hash: string): boolean {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;
}

/** The one new and one old pod on a node; ok=false when there are duplicates of either. */
function findUpdatedPodsOnNode(pods: Pod[], hash: string): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (isUpdated(p, hash)) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { newPod, oldPod, ok: true };
}

/** Same revision data; unlike revisions.ts canonicallyEqual, empty arrays and objects count here. */
function sameData(a: unknown, b: unknown): boolean {
  return canonicalJson(a, isNullish) === canonicalJson(b, isNullish);
}

export interface DaemonSetControllerOptions {
  now?: () => number;
}

export class DaemonSetController extends QueueController {
  readonly expectations = new ControllerExpectations();
  private readonly dsInformer: SharedInformer<DaemonSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;
  /** ds key/node -> failed-pod back-off */
  private readonly failedBackoff = new Map<string, { delay: number; until: number }>();

  constructor(ctx: ControllerContext, opts: DaemonSetControllerOptions = {}) {
    super('daemonset', ctx);
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('daemonset-controller');
    this.dsInformer = ctx.informers.forResource<DaemonSet>(DAEMONSETS);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.nodeInformer = ctx.informers.forResource<Node>(Resources.nodes);
    this.revInformer = ctx.informers.forResource<ControllerRevision>(CONTROLLER_REVISIONS);
    this.handle(this.dsInformer, {
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (ds) => {
        this.forgetExpectations(metaNamespaceKey(deletedObject(ds)));
        this.enqueue(ds);
      },
    });
    this.handle(this.podInformer, {
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, cur) => this.podUpdated(old, cur),
      onDelete: (pod) => this.podDeleted(pod),
    });
    this.handle(this.nodeInformer, {
      onAdd: () => this.enqueueAll(),
      onUpdate: (old, cur) => {
        // only what decides placement matters (upstream shouldIgnoreNodeUpdate)
        if (
          !labelsEqual(old.metadata?.labels, cur.metadata?.labels) ||
          JSON.stringify(old.spec?.taints ?? []) !== JSON.stringify(cur.spec?.taints ?? []) ||
          !!old.spec?.unschedulable !== !!cur.spec?.unschedulable
        )
          this.enqueueAll();
      },
      onDelete: () => this.enqueueAll(),
    });
    this.handle(this.revInformer, {});
  }

  /** Creations and deletions are expected under two keys, so one does not reset the other. */
  satisfied(key: string): boolean {
    return this.expectations.satisfied(key) && this.expectations.satisfied(deletionKey(key));
  }

  private forgetExpectations(key: string): void {
    this.expectations.delete(key);
    this.expectations.delete(deletionKey(key));
  }

  private enqueueAll(): void {
    for (const ds of this.dsInformer.store.list()) this.enqueue(ds);
  }

  private resolveControllerRef(pod: Pod): DaemonSet | undefined {
    return resolveControllerRef(this.dsInformer.store, KIND, pod);
  }

  private matchingDaemonSets(pod: Pod): DaemonSet[] {
    return selectingOwners(this.dsInformer.store, pod);
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.podDeleted(pod);
    const ds = this.resolveControllerRef(pod);
    if (ds) {
      const key = metaNamespaceKey(ds);
      this.expectations.creationObserved(key);
      this.enqueueKey(key);
      return;
    }
    if (getControllerOf(pod)) return;
    for (const m of this.matchingDaemonSets(pod)) this.enqueue(m);
  }

  private podUpdated(old: Pod, cur: Pod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    // graceful deletion: the delete was observed; the node gets its new pod once this one is gone
    if (cur.metadata?.deletionTimestamp) return this.podDeleted(cur);
    const oldRef = getControllerOf(old);
    const curRef = getControllerOf(cur);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const oldDs = this.resolveControllerRef(old);
      if (oldDs) this.enqueue(oldDs);
    }
    if (curRef) {
      const ds = this.resolveControllerRef(cur);
      if (!ds) return;
      this.enqueue(ds);
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.enqueueAfter(ds, minReady * 1000 + 1000);
      return;
    }
    for (const m of this.matchingDaemonSets(cur)) this.enqueue(m);
  }

  private podDeleted(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ds = this.resolveControllerRef(pod);
    if (!ds) return;
    const key = metaNamespaceKey(ds);
    this.expectations.deletionObserved(deletionKey(key), metaNamespaceKey(pod));
    this.enqueueKey(key);
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.dsInformer.store.getByKey(key);
    if (!cached) {
      this.forgetExpectations(key);
      for (const k of this.failedBackoff.keys()) if (k.startsWith(`${key}/`)) this.failedBackoff.delete(k);
      return;
    }
    const ds: DaemonSet = { apiVersion: API_VERSION, kind: KIND, ...cached };
    const selector = selectorFromLabelSelector(ds.spec?.selector);
    if (selector.empty() || selector.matchesNothing) {
      this.ctx.log(`daemonset: ${key} has an empty selector; ignoring it`);
      return;
    }
    const { namespace, name } = splitMetaNamespaceKey(key);
    const nodes = this.nodeInformer.store.list();
    const nsPods = this.podInformer.store.byIndex(NAMESPACE_INDEX, namespace);
    const pods = await claimPods(nsPods, {
      client: this.ctx.client,
      owner: ds,
      ownerRef: { ...DAEMONSETS, namespace, name },
      apiVersion: API_VERSION,
      kind: KIND,
      selector,
    });
    const nodeToPods = this.nodeToDaemonPods(pods);
    if (ds.metadata?.deletionTimestamp) {
      await this.updateStatus(ds, nodes, nodeToPods, undefined);
      return;
    }
    const { hash, old } = await this.constructHistory(ds);
    if (this.satisfied(key)) {
      await this.manage(key, ds, nodes, nodeToPods, pods, hash);
      if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') await this.rollingUpdate(key, ds, nodes, nodeToPods, hash);
      await this.cleanupHistory(ds, old, pods);
    }
    await this.updateStatus(ds, nodes, nodeToPods, hash);
  }

  /** Pods by target node; finished pods being deleted are gone for every purpose. */
  private nodeToDaemonPods(pods: Pod[]): Map<string, Pod[]> {
    const m = new Map<string, Pod[]>();
    for (const p of pods) {
      if (isTerminal(p) && p.metadata?.deletionTimestamp) continue;
      const node = targetNodeName(p);
      if (!node) continue;
      let list = m.get(node);
      if (!list) m.set(node, (list = []));
      list.push(p);
    }
    return m;
  }

  /**
   * The current ControllerRevision (created, or renumbered to the newest, if needed) and
   * the older ones. A name taken by a different template bumps status.collisionCount.
   */
  private async constructHistory(ds: DaemonSet): Promise<{ hash: string; old: ControllerRevision[] }> {
    const ns = ds.metadata!.namespace!;
    const owned = this.revInformer.store.byIndex(NAMESPACE_INDEX, ns).filter((r) => getControllerOf(r)?.uid === ds.metadata!.uid);
    const data = templateRevisionData(ds.spec?.template);
    const highest = maxRevision(owned);
    const matching = owned.filter((r) => sameData(r.data, data)).sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
    let cur = matching[0];
    const old = owned.filter((r) => r !== cur);
    const revRef = (n: string) => ({ ...CONTROLLER_REVISIONS, namespace: ns, name: n });
    if (cur) {
      if ((cur.revision ?? 0) < highest) cur = await this.ctx.client.update<ControllerRevision>(revRef(cur.metadata!.name!), { ...cur, revision: highest + 1 });
      return { hash: cur.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? computeHash(ds.spec?.template, ds.status?.collisionCount), old };
    }
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
    const rev = newControllerRevision({ owner: ds, kind: KIND, name: controllerRevisionName(ds.metadata!.name!, hash), template: ds.spec?.template, data, hash, revision: highest + 1 });
    try {
      await this.ctx.client.create(revRef(''), rev);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await this.ctx.client.get<ControllerRevision>(revRef(rev.metadata!.name!));
      if (getControllerOf(existing)?.uid !== ds.metadata!.uid || !sameData(existing.data, data)) {
        // a different template took the name: the next hash folds in a higher collision count
        const ref = { ...DAEMONSETS, namespace: ns, name: ds.metadata!.name };
        const fresh = await this.ctx.client.get<DaemonSet>(ref);
        await this.ctx.client.updateStatus(ref, { ...fresh, status: { ...(fresh.status as DaemonSetStatus), collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } });
        throw new Error(`ControllerRevision ${ns}/${rev.metadata!.name} exists with another template; retrying with a higher collisionCount`);
      }
    }
    return { hash, old };
  }

  /** Deletes the oldest unused revisions beyond revisionHistoryLimit. */
  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[], pods: Pod[]): Promise<void> {
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    const live = new Set(pods.map((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]).filter(Boolean));
    const unused = old.filter((r) => !live.has(r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL])).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const excess = unused.length - limit;
    for (const r of unused.slice(0, Math.max(0, excess))) {
      try {
        await this.ctx.client.delete({ ...CONTROLLER_REVISIONS, namespace: r.metadata!.namespace, name: r.metadata!.name }, { preconditions: { uid: r.metadata!.uid } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  /** upstream manage + podsShouldBeOnNode: the nodes that need a pod and the pods that must go. */
  private async manage(key: string, ds: DaemonSet, nodes: Node[], nodeToPods: Map<string, Pod[]>, pods: Pod[], hash: string): Promise<void> {
    const surge = allowsSurge(ds, nodes);
    const nodesNeeding: string[] = [];
    const toDelete: Pod[] = [];
    const nodeNames = new Set<string>();
    const now = this.now();
    for (const node of nodes) {
      const nodeName = node.metadata!.name!;
      nodeNames.add(nodeName);
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const daemonPods = nodeToPods.get(nodeName) ?? [];
      if (shouldRun && daemonPods.length === 0) {
        nodesNeeding.push(nodeName);
      } else if (shouldContinueRunning) {
        const running: Pod[] = [];
        for (const p of daemonPods) {
          if (p.metadata?.deletionTimestamp) continue;
          if (p.status?.phase === 'Failed') {
            // kubelets that keep rejecting a pod must not make the controller hot-loop
            const bk = `${key}/${nodeName}`;
            const b = this.failedBackoff.get(bk);
            if (b && now < b.until) {
              this.enqueueAfter(ds, b.until - now);
              continue;
            }
            const delay = b ? Math.min(b.delay * 2, FAILED_BACKOFF_MAX_MS) : FAILED_BACKOFF_INITIAL_MS;
            this.failedBackoff.set(bk, { delay, until: now + delay });
            this.recorder.eventf(ds, undefined, 'Warning', 'FailedDaemonPod', 'Delete', `Found failed daemon pod ${p.metadata!.namespace}/${p.metadata!.name} on node ${nodeName}, will try to kill it`);
            toDelete.push(p);
          } else if (p.status?.phase === 'Succeeded') {
            toDelete.push(p);
          } else {
            running.push(p);
          }
        }
        if (running.length > 1) {
          running.sort(byCreationAndPhase);
          if (surge) {
            // one old and one new pod may share a node while surging: keep the oldest of each
            let keptNew = false;
            let keptOld = false;
            for (const p of running) {
              if (isUpdated(p, hash) ? !keptNew : !keptOld) {
                if (isUpdated(p, hash)) keptNew = true;
                else keptOld = true;
                continue;
              }
              toDelete.push(p);
            }
          } else {
            toDelete.push(...running.slice(1));
          }
        }
      } else if (daemonPods.length > 0) {
        toDelete.push(...daemonPods.filter((p) => !p.metadata?.deletionTimestamp));
      }
    }
    // unbound pods aimed at a node that no longer exists will never be scheduled
    for (const p of pods) {
      const target = targetNodeName(p);
      if (!p.spec?.nodeName && target && !nodeNames.has(target) && !p.metadata?.deletionTimestamp) toDelete.push(p);
    }
    await this.syncNodes(key, ds, toDelete, nodesNeeding, hash);
  }

  /** upstream rollingUpdate: old pods replaced within maxUnavailable, or by surging within maxSurge. */
  private async rollingUpdate(key: string, ds: DaemonSet, nodes: Node[], nodeToPods: Map<string, Pod[]>, hash: string): Promise<void> {
    if (!this.satisfied(key)) return;
    const { maxSurge, maxUnavailable, desired, perNode } = updatedDesiredNodeCounts(ds, nodes, nodeToPods);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.now();
    const available = (p: Pod) => isPodAvailable(p, minReady, now);
    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowed: Pod[] = [];
      const candidates: Pod[] = [];
      for (const [, pods] of perNode) {
        const { newPod, oldPod, ok } = findUpdatedPodsOnNode(pods, hash);
        if (!ok) {
          // duplicates: the manage loop cleans the node up; it counts as unavailable meanwhile
          numUnavailable++;
          continue;
        }
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!available(newPod)) numUnavailable++;
        } else if (!available(oldPod!)) {
          // an old pod that is not available anyway is replaced at once
          allowed.push(oldPod!);
          numUnavailable++;
        } else if (numUnavailable < maxUnavailable) {
          candidates.push(oldPod!);
        }
      }
      const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
      await this.syncNodes(key, ds, [...allowed, ...candidates.slice(0, remaining)], [], hash);
      return;
    }
    // surging: a new pod goes next to an old one; the old one goes once the new one is available
    const oldToDelete: Pod[] = [];
    const shouldNotRun: Pod[] = [];
    const candidateNodes: string[] = [];
    const allowedNodes: string[] = [];
    let numSurge = 0;
    let numAvailable = 0;
    const nodeByName = new Map(nodes.map((n) => [n.metadata!.name!, n]));
    for (const [nodeName, pods] of perNode) {
      const { newPod, oldPod, ok } = findUpdatedPodsOnNode(pods, hash);
      if (!ok) {
        numSurge++;
        continue;
      }
      if (oldPod ? available(oldPod) : newPod && available(newPod)) numAvailable++;
      if (!oldPod) continue;
      if (!newPod) {
        if (!available(oldPod)) {
          const node = nodeByName.get(nodeName);
          if (!node || !nodeShouldRunDaemonPod(node, ds).shouldRun) {
            shouldNotRun.push(oldPod);
            continue;
          }
          allowedNodes.push(nodeName);
        } else if (numSurge < maxSurge) {
          candidateNodes.push(nodeName);
        }
        continue;
      }
      if (!available(newPod)) {
        numSurge++;
        continue;
      }
      oldToDelete.push(oldPod);
    }
    const deletable = numAvailable - desired;
    if (deletable > 0) oldToDelete.push(...shouldNotRun.slice(0, deletable));
    const remainingSurge = Math.min(Math.max(0, maxSurge - numSurge), candidateNodes.length);
    await this.syncNodes(key, ds, oldToDelete, [...allowedNodes, ...candidateNodes.slice(0, remainingSurge)], hash);
  }

  /** Deletes pods and creates one pod per node (slow-start batches), within burstReplicas. */
  private async syncNodes(key: string, ds: DaemonSet, toDelete: Pod[], nodesNeeding: string[], hash: string): Promise<void> {
    const deletions = [...new Map(toDelete.map((p) => [metaNamespaceKey(p), p])).values()].slice(0, BURST_REPLICAS);
    const creations = nodesNeeding.slice(0, BURST_REPLICAS);
    if (!deletions.length && !creations.length) return;
    // both before any request: the events may arrive before the requests return
    this.expectations.expectCreations(key, creations.length);
    this.expectations.expectDeletions(deletionKey(key), deletions.map((p) => metaNamespaceKey(p)));
    const errors: string[] = [];
    if (creations.length) {
      const template = this.podTemplate(ds, hash);
      const ref = newControllerRef(ds, API_VERSION, KIND);
      const result = await slowStartBatchCreate<Pod>(
        this.ctx.client,
        creations.length,
        (i) => {
          const body = podFromTemplate(template, ds.metadata!.namespace!, ds.metadata!.name!, ref);
          body.spec!.affinity = nodeNameAffinity(body.spec!.affinity, creations[i]!);
          return { ...Resources.pods, namespace: ds.metadata!.namespace, body };
        },
        (r, i) => {
          if (r instanceof StatusError) {
            this.expectations.creationObserved(key);
            errors.push(`creating a pod for node ${creations[i]}: ${r.message}`);
            this.recorder.eventf(ds, undefined, 'Warning', 'FailedCreate', 'Create', `Error creating: ${r.message}`);
          } else {
            this.recorder.eventf(ds, r, 'Normal', 'SuccessfulCreate', 'Create', `Created pod: ${r.metadata!.name}`);
          }
        },
      );
      for (let i = 0; i < result.skipped; i++) this.expectations.creationObserved(key);
    }
    await Promise.all(
      deletions.map(async (pod) => {
        const podKey = metaNamespaceKey(pod);
        try {
          await this.ctx.client.delete({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name }, { preconditions: { uid: pod.metadata!.uid } });
          this.recorder.eventf(ds, pod, 'Normal', 'SuccessfulDelete', 'Delete', `Deleted pod: ${pod.metadata!.name}`);
        } catch (e) {
          this.expectations.deletionObserved(deletionKey(key), podKey);
          if (isNotFound(e) || isConflict(e)) return;
          this.recorder.eventf(ds, pod, 'Warning', 'FailedDelete', 'Delete', `Error deleting: ${(e as Error).message}`);
          errors.push(`deleting ${podKey}: ${(e as Error).message}`);
        }
      }),
    );
    if (errors.length) throw new Error(`syncing DaemonSet ${key}: ${errors.join('; ')}`);
  }

  /** upstream CreatePodTemplate: the daemon tolerations and the revision hash label. */
  private podTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
    const t = structuredClone(ds.spec!.template as PodTemplateSpec);
    t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash } };
    t.spec = { ...(t.spec ?? { containers: [] }), tolerations: daemonTolerations(t) };
    return t;
  }

  private async updateStatus(ds: DaemonSet, nodes: Node[], nodeToPods: Map<string, Pod[]>, hash: string | undefined): Promise<void> {
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = this.now();
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    let readyNotAvailable = false;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = nodeToPods.get(node.metadata!.name!) ?? [];
      if (!shouldRun) {
        if (pods.length) misscheduled++;
        continue;
      }
      desired++;
      if (!pods.length) continue;
      current++;
      const pod = [...pods].sort(byCreationAndPhase)[0]!;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
        else readyNotAvailable = true;
      }
      if (hash && isUpdated(pod, hash)) updated++;
    }
    const status: DaemonSetStatus = {
      ...(ds.status ?? {}),
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: desired - available,
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata?.generation,
    };
    if (readyNotAvailable && minReady > 0) this.enqueueAfter(ds, minReady * 1000);
    if (canonicalJson(status, isNullish) === canonicalJson(ds.status ?? {}, isNullish)) return;
    const ref = { ...DAEMONSETS, namespace: ds.metadata!.namespace, name: ds.metadata!.name };
    try {
      await this.ctx.client.updateStatus<DaemonSet>(ref, { ...ds, status });
    } catch (e) {
      if (!isConflict(e)) throw e;
      // the next event for the newer object syncs again
      this.enqueue(ds);
    }
  }
}

function deletionKey(key: string): string {
  return `${key}#deletions`;
}

function allowsSurge(ds: DaemonSet, nodes: Node[]): boolean {
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return false;
  const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
  return scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, desired, true) > 0;
}

/**
 * upstream updatedDesiredNodeCounts: maxSurge and maxUnavailable scaled against the nodes
 * that should run the pod (both rounding up; both 0 means maxUnavailable 1), and the pods
 * per node with an empty entry for every node that should run one but has none.
 */
function updatedDesiredNodeCounts(ds: DaemonSet, nodes: Node[], nodeToPods: Map<string, Pod[]>) {
  const perNode = new Map(nodeToPods);
  let desired = 0;
  for (const n of nodes) {
    if (!nodeShouldRunDaemonPod(n, ds).shouldRun) continue;
    desired++;
    if (!perNode.has(n.metadata!.name!)) perNode.set(n.metadata!.name!, []);
  }
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, desired, true);
  let maxUnavailable = scaledValue(ru?.maxUnavailable ?? 1, desired, true);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable, desired, perNode };
}
