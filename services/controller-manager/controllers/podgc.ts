/**
 * The pod garbage collector (upstream pkg/controller/podgc, v1.31): every gcCheckPeriod,
 * from the informer caches, it force-deletes (grace period 0) the pods nobody else will
 * finish off:
 * - gcTerminated: beyond --terminated-pod-gc-threshold terminated (Succeeded or Failed)
 *   pods, the excess, evicted ones first, then the oldest by creationTimestamp;
 * - gcTerminating: pods being deleted on a node that is not Ready and carries the
 *   node.kubernetes.io/out-of-service taint (the kubelet there will never confirm);
 * - gcOrphaned: pods bound to a node that no longer exists. A node missing from the cache
 *   is quarantined first (quarantineTime) and then looked up on the apiserver, so a node
 *   the informer has not caught up with yet is not taken for deleted; its pods get the
 *   DisruptionTarget condition (reason DeletionByPodGC);
 * - gcUnscheduledTerminating: pods being deleted that were never bound to a node.
 * A pod not yet terminal is moved to the Failed phase before the delete (nobody else would
 * set it: there is no kubelet for it), and every delete carries the pod's uid as a
 * precondition, so a pod recreated under the same name is never taken for the old one.
 *
 * Not done: upstream's pod_gc_collector_* metrics.
 */
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from '../../../lib/api/errors.js';
import { forEachLimited, metaNamespaceKey, type ResourceRef, Resources, type SharedInformer } from '../../../lib/client/mod.js';
import { InformerController, type ControllerContext } from '../../../lib/controller/mod.js';
import { metaTime } from '../../../lib/api/time.js';

/** upstream gcCheckPeriod */
export const DEFAULT_GC_CHECK_PERIOD_MS = 20_000;
/** upstream quarantineTime: how long a node may be missing from the cache before it is looked up */
export const DEFAULT_QUARANTINE_TIME_MS = 40_000;
/** upstream --terminated-pod-gc-threshold default; ≤ 0 turns gcTerminated off */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12_500;
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
/** deletes in flight at once within one pass (upstream: a goroutine per pod) */
const DELETE_CONCURRENCY = 32;
/** status writes tried on a fresh read after a conflict */
const STATUS_UPDATE_RETRIES = 3;

export interface PodGCControllerOptions {
  gcCheckPeriodMs?: number;
  quarantineTimeMs?: number;
  terminatedPodThreshold?: number;
  now?: () => number;
}

export class PodGCController extends InformerController {
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly period: number;
  private readonly quarantineTime: number;
  private readonly terminatedPodThreshold: number;
  private readonly now: () => number;
  /** nodes pods are bound to that the cache lacks, and since when (upstream nodeQueue) */
  private readonly quarantine = new Map<string, number>();
  private readonly stopping = new AbortController();

  constructor(ctx: ControllerContext, opts: PodGCControllerOptions = {}) {
    super('pod_garbage_collector', ctx);
    this.period = opts.gcCheckPeriodMs ?? DEFAULT_GC_CHECK_PERIOD_MS;
    this.quarantineTime = opts.quarantineTimeMs ?? DEFAULT_QUARANTINE_TIME_MS;
    this.terminatedPodThreshold = opts.terminatedPodThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD;
    this.now = opts.now ?? Date.now;
    this.pods = ctx.informers.forResource<Pod>(Resources.pods);
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    // the passes read the caches only; the handlers are there so run() waits for both to sync
    this.handle(this.pods, {});
    this.handle(this.nodes, {});
  }

  override async run(workers: number, signal: AbortSignal): Promise<void> {
    const done = AbortSignal.any([signal, this.stopping.signal]);
    if (done.aborted) return;
    // waits for the caches; there is no work queue, so it returns then
    await super.run(workers, done);
    if (done.aborted) return;
    let pass: Promise<void> | undefined;
    const tick = setInterval(() => {
      if (pass) return;
      pass = this.gc()
        .catch((e) => this.ctx.log(`pod-garbage-collector: ${(e as Error).message}`))
        .finally(() => (pass = undefined));
    }, this.period);
    try {
      await new Promise<void>((resolve) => done.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      clearInterval(tick);
      await pass;
    }
  }

  override async stop(): Promise<void> {
    this.stopping.abort();
    await super.stop();
  }

  /** One pass, as upstream gc(): the four collections in upstream's order. */
  async gc(): Promise<void> {
    const pods = this.pods.store.list();
    const nodes = this.nodes.store.list();
    if (this.terminatedPodThreshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter(isPodTerminated);
    const excess = terminated.length - this.terminatedPodThreshold;
    if (excess <= 0) return;
    this.ctx.log(`pod-garbage-collector: ${terminated.length} terminated pods, over the threshold of ${this.terminatedPodThreshold}: deleting ${excess}`);
    terminated.sort(byEvictionAndCreationTimestamp);
    await this.forceDeleteAll(terminated.slice(0, excess), undefined, 'terminated');
  }

  private async gcTerminating(pods: Pod[]): Promise<void> {
    const terminating = pods.filter((pod) => {
      if (!pod.metadata?.deletionTimestamp || !pod.spec?.nodeName) return false;
      const node = this.nodes.store.getByKey(pod.spec.nodeName);
      return !!node && !isNodeReady(node) && (node.spec?.taints ?? []).some((t) => t.key === TAINT_OUT_OF_SERVICE);
    });
    if (!terminating.length) return;
    terminating.sort(byEvictionAndCreationTimestamp);
    await this.forceDeleteAll(terminating, undefined, `terminating on a node tainted ${TAINT_OUT_OF_SERVICE}`);
  }

  private async gcOrphaned(pods: Pod[], nodes: Node[]): Promise<void> {
    const existing = new Set(nodes.map((n) => n.metadata!.name!));
    const now = this.now();
    for (const pod of pods) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName && !existing.has(nodeName) && !this.quarantine.has(nodeName)) this.quarantine.set(nodeName, now);
    }
    const deleted = await this.discoverDeletedNodes(existing, now);
    if (!deleted.size) return;
    const orphaned = pods.filter((p) => !!p.spec?.nodeName && deleted.has(p.spec.nodeName));
    const condition: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' };
    await this.forceDeleteAll(orphaned, condition, 'orphaned');
  }

  /**
   * upstream discoverDeletedNodes: the quarantined nodes whose time is up leave the
   * quarantine; those still missing from the cache are looked up on the apiserver, and
   * the ones it does not know are deleted. A failed lookup is tried again after another
   * quarantine, as upstream's requeue.
   */
  private async discoverDeletedNodes(existing: Set<string>, now: number): Promise<Set<string>> {
    const deleted = new Set<string>();
    for (const [name, since] of [...this.quarantine]) {
      if (now - since < this.quarantineTime) continue;
      this.quarantine.delete(name);
      if (existing.has(name)) continue;
      try {
        await this.ctx.client.get<Node>({ ...Resources.nodes, name });
      } catch (e) {
        if (isNotFound(e)) deleted.add(name);
        else this.ctx.log(`pod-garbage-collector: looking up node ${name}: ${(e as Error).message}`);
      }
    }
    return deleted;
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    const unscheduled = pods.filter((p) => !!p.metadata?.deletionTimestamp && !p.spec?.nodeName);
    await this.forceDeleteAll(unscheduled, undefined, 'unscheduled and terminating');
  }

  /** Deletes the pods, a bounded number at a time; a failure is logged, the next pass retries. */
  private async forceDeleteAll(pods: Pod[], condition: PodCondition | undefined, why: string): Promise<void> {
    const errors = await forEachLimited(pods, DELETE_CONCURRENCY, (pod) => this.markFailedAndDeletePod(pod, condition));
    errors.forEach((e, i) => {
      if (e) this.ctx.log(`pod-garbage-collector: force-deleting ${why} pod ${metaNamespaceKey(pods[i]!)}: ${(e as Error).message}`);
    });
  }

  /**
   * upstream markFailedAndDeletePodWithCondition: a pod not yet terminal is set Failed
   * (with `condition`, if any), then deleted with grace period 0. A pod already gone, or
   * replaced by a new one of the same name, is left alone.
   */
  private async markFailedAndDeletePod(pod: Pod, condition: PodCondition | undefined): Promise<void> {
    const ref = { ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name };
    const uid = pod.metadata!.uid;
    this.ctx.log(`pod-garbage-collector: force deleting pod ${metaNamespaceKey(pod)}`);
    try {
      await this.markFailed(ref, pod, condition);
      await this.ctx.client.delete(ref, { gracePeriodSeconds: 0, preconditions: { uid } });
    } catch (e) {
      if (isNotFound(e) || e instanceof PodReplaced) return;
      // the uid precondition failed: the pod we meant is gone, another took its name
      if (isConflict(e) && (await this.replaced(ref, uid))) return;
      throw e;
    }
  }

  /**
   * Sets a pod not yet terminal Failed (upstream applies phase and condition as the
   * PodGC field manager). Written as an update of the resourceVersion read, so it never
   * lands on a pod recreated under the same name; a conflict is retried on a fresh read.
   */
  private async markFailed(ref: ResourceRef, cached: Pod, condition: PodCondition | undefined): Promise<void> {
    let pod = cached;
    for (let attempt = 1; ; attempt++) {
      if (pod.metadata?.uid !== cached.metadata?.uid) throw new PodReplaced();
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return;
      const conditions = [...(pod.status?.conditions ?? [])];
      if (condition) {
        const stamped = { ...condition, lastTransitionTime: metaTime(this.now()) };
        const i = conditions.findIndex((c) => c.type === condition.type);
        if (i < 0) conditions.push(stamped);
        else if (conditions[i]!.status !== condition.status || conditions[i]!.reason !== condition.reason) conditions[i] = stamped;
      }
      const status = { ...pod.status, phase: 'Failed', ...(conditions.length ? { conditions } : {}) };
      try {
        await this.ctx.client.updateStatus<Pod>(ref, { ...pod, apiVersion: 'v1', kind: 'Pod', status });
        return;
      } catch (e) {
        if (!isConflict(e) || attempt >= STATUS_UPDATE_RETRIES) throw new Error(`setting pod ${ref.namespace}/${ref.name} Failed: ${(e as Error).message}`, { cause: e });
        pod = await this.ctx.client.get<Pod>(ref);
      }
    }
  }

  /** True when the pod of that name is gone or is another one than uid. */
  private async replaced(ref: ResourceRef, uid: string | undefined): Promise<boolean> {
    try {
      return (await this.ctx.client.get<Pod>(ref)).metadata?.uid !== uid;
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
  }
}

/** The name now belongs to a pod other than the one collected. */
class PodReplaced extends Error {
  constructor() {
    super('the pod was replaced by another of the same name');
  }
}

/** upstream isPodTerminated: any phase but Pending, Running and Unknown. */
export function isPodTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Pending' && phase !== 'Running' && phase !== 'Unknown';
}

/** upstream eviction.PodIsEvicted */
function podIsEvicted(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted';
}

/** upstream byEvictionAndCreationTimestamp: evicted pods first, then oldest first, then by name. */
export function byEvictionAndCreationTimestamp(a: Pod, b: Pod): number {
  const ea = podIsEvicted(a);
  const eb = podIsEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** upstream nodeutil.IsNodeReady: the Ready condition is True. */
function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
