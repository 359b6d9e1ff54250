/**
 * Taint-based eviction (upstream pkg/controller/tainteviction, TaintEvictionController,
 * v1.31). Upstream runs it as a controller of its own; here the node lifecycle controller
 * owns it and hands it each node it syncs, so it needs no queue or --controllers name.
 *
 * A pod on a node with NoExecute taints is deleted at once if one of them has no
 * toleration in the pod (for each taint the pod's first toleration matching it is used),
 * else once the shortest tolerationSeconds of those tolerations has run from when the
 * controller first saw it tainted; with none it stays. The DefaultTolerationSeconds
 * admission gives every pod 300 s tolerations of not-ready and unreachable, so a pod
 * without them (set its own, or created before that admission) is evicted as soon as the
 * taint lands, as upstream. Evicted pods get the DisruptionTarget condition before they
 * are deleted.
 */
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../../lib/api/errors.js';
import { toleratesTaint } from '../../../../lib/api/tolerations.js';
import { type EventRecorder, metaNamespaceKey, Resources } from '../../../../lib/client/mod.js';
import type { ControllerContext } from '../../../../lib/controller/mod.js';
import { metaTime } from '../../../../lib/api/time.js';

/** A pod's pending eviction (upstream TimedWorkerQueue entry). */
interface ScheduledEviction {
  createdAt: number;
  fireAt: number;
}

export class TaintEvictionController {
  private readonly recorder: EventRecorder;
  /** pending evictions by node, then pod key */
  private readonly evictions = new Map<string, Map<string, ScheduledEviction>>();

  /**
   * `podsOnNode` reads the pods bound to a node from the owner's informer cache;
   * `requeueAfter` brings a node back to processNode when its next eviction is due.
   */
  constructor(
    private readonly ctx: ControllerContext,
    private readonly podsOnNode: (nodeName: string) => Pod[],
    private readonly requeueAfter: (nodeName: string, ms: number) => void,
    private readonly now: () => number,
  ) {
    this.recorder = ctx.recorder('taint-eviction-controller');
  }

  /** Forgets a deleted pod's pending eviction. */
  podDeleted(pod: Pod): void {
    if (pod.spec?.nodeName) this.evictions.get(pod.spec.nodeName)?.delete(metaNamespaceKey(pod));
  }

  /** Forgets the pending evictions of a deleted node. */
  nodeDeleted(nodeName: string): void {
    this.evictions.delete(nodeName);
  }

  /**
   * upstream taint eviction for the pods of one node: deletes those whose tolerations ran
   * out, schedules the others, cancels what no longer applies; comes back when the next
   * scheduled eviction is due.
   */
  async processNode(node: Node): Promise<void> {
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
    for (const pod of this.podsOnNode(nodeName)) {
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
    if (next !== Infinity) this.requeueAfter(nodeName, Math.max(0, next - now) + 1);
  }

  /** upstream addConditionAndDeletePod: the DisruptionTarget condition, then the delete. */
  private async evict(pod: Pod, nodeName: string): Promise<void> {
    const key = metaNamespaceKey(pod);
    const ref = { ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name };
    this.recorder.eventf(pod, undefined, 'Normal', 'TaintManagerEviction', 'Delete', `Marking for deletion Pod ${key}`);
    try {
      const marked = pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'DeletionByTaintManager');
      if (!marked) {
        const condition = {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByTaintManager',
          message: 'Taint manager: deleting due to NoExecute taint',
          lastTransitionTime: metaTime(this.now()),
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
    this.recorder.eventf({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name } }, undefined, 'Normal', 'TaintManagerEviction', 'Cancel', `Cancelling deletion of Pod ${podKey}`);
  }
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

