/**
 * DefaultPreemption (upstream pkg/scheduler/framework/plugins/defaultpreemption): the
 * PostFilter plugin that, when a pod fits nowhere, finds the node where evicting the
 * fewest, least important lower-priority pods makes room, nominates the pod to it
 * (the scheduler writes status.nominatedNodeName), marks the victims with the
 * DisruptionTarget condition and deletes them gracefully. The pod itself is scheduled on a
 * later attempt, when the victims are gone and the queue moves it back.
 *
 * The victims' API calls run after postFilter returns, as upstream's async preemption
 * (KEP-4832, on by default since 1.33): the scheduling loop goes on with other pods while
 * they are in flight, and the preemptor waits (inFlight) until they finish, then is
 * activated through onPreemptionDone.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { isNotFound } from '../../../../lib/api/errors.js';
import { type ApiClient, type EventRecorder, PODDISRUPTIONBUDGETS as PDBS, PODS } from '../../../../lib/client/mod.js';
import { podKey as podKeyOf, type Diagnosis, type PodInfo, type PostFilterPlugin, type PostFilterResult, type Snapshot } from '../../framework/types.js';
import {
  DEFAULT_PREEMPTION_ARGS,
  NOT_HELPFUL_MESSAGE,
  nodesAvailableMessage,
  pickOneNodeForPreemption,
  podPriority,
  PreemptionEvaluator,
  type DefaultPreemptionArgs,
  type ReasonRenderer,
} from './preemption.js';
import { metaTime } from '../../../../lib/api/time.js';

export const NAME = 'DefaultPreemption';

/** upstream v1.DisruptionTarget / v1.PodReasonPreemptionByScheduler */
export const DISRUPTION_TARGET = 'DisruptionTarget';
export const REASON_PREEMPTION_BY_SCHEDULER = 'PreemptionByScheduler';

const TERMINATING_VICTIM = 'not eligible due to a terminating pod on the nominated node.';

/** preemptors whose victims are remembered (DefaultPreemption.victimsOf) */
const MAX_REMEMBERED = 16_384;

/** What the scheduler's metrics object offers (services/scheduler/metrics.ts SchedulerMetrics fits). */
export interface PreemptionMetrics {
  preemptionAttempts: { inc(): void };
  preemptionVictims: { observe(v: number): void };
}

export interface DefaultPreemptionDeps {
  client: ApiClient;
  /** unused: the snapshot comes with each postFilter call; accepted for registry uniformity */
  snapshot?: Snapshot;
  metrics?: PreemptionMetrics;
  /** "Preempted" events on the victims */
  recorder?: EventRecorder;
  /** renders core reasons as the framework's filter plugins do (default: upstream's fixed texts) */
  reasons?: ReasonRenderer;
  /** PodDisruptionBudgets from an informer; default: a list through the client per attempt */
  listPDBs?: () => readonly PodDisruptionBudget[] | Promise<readonly PodDisruptionBudget[]>;
  /** the scheduler name for the DisruptionTarget message (default: the pod's spec.schedulerName) */
  schedulerName?: string;
  /**
   * a preemption's API calls finished (error: one failed, and the room may not be made):
   * the scheduler activates the preemptor, as upstream's async preemption does, once its
   * cache has seen the victims (their keys) go
   */
  onPreemptionDone?: (pod: Pod, error: Error | undefined, victims: readonly string[]) => void;
}

/** upstream podTerminatingByPreemption: deleting, and marked as preempted by a scheduler. */
export function podTerminatingByPreemption(pod: Pod): boolean {
  if (!pod.metadata?.deletionTimestamp) return false;
  const c = pod.status?.conditions?.find((x) => x.type === DISRUPTION_TARGET);
  return !!c && c.status === 'True' && c.reason === REASON_PREEMPTION_BY_SCHEDULER;
}

function ref(pod: Pod) {
  return { ...PODS, namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = NAME;
  readonly evaluator: PreemptionEvaluator;
  /** the preemptions whose victims' API calls are in flight, by preemptor key */
  private readonly preempting = new Map<string, Promise<void>>();
  /**
   * The node each preemptor was nominated to and the uids of the victims this plugin deleted
   * for it, until the cache has seen them go (at most MAX_REMEMBERED, oldest dropped first).
   */
  private readonly victimsOf = new Map<string, { node: string; victims: Set<string> }>();

  constructor(
    readonly args: DefaultPreemptionArgs,
    private readonly deps: DefaultPreemptionDeps,
  ) {
    this.evaluator = new PreemptionEvaluator(args, deps.reasons);
  }

  inFlight(key: string): boolean {
    return this.preempting.has(key);
  }

  async drain(): Promise<void> {
    while (this.preempting.size > 0) await Promise.all(this.preempting.values());
  }

  async postFilter(snapshot: Snapshot, pod: Pod, diagnosis: Diagnosis): Promise<PostFilterResult> {
    try {
      const r = await this.preempt(snapshot, pod, diagnosis);
      return { ...r, message: r.message ? `preemption: ${r.message}` : '' };
    } finally {
      this.deps.metrics?.preemptionAttempts.inc();
    }
  }

  /**
   * upstream PodEligibleToPreemptOthers: Never forbids it; a pod already nominated to a
   * node where lower-priority victims are still terminating waits for them instead of
   * preempting again, unless that node can no longer help. Victims deleted at once (a grace
   * period of 0) are never seen terminating: the preemptor, activated when their deletes
   * are answered, may be tried before the cache has seen them go, and would preempt again,
   * elsewhere. So the victims this plugin deleted count as terminating until the cache
   * drops them.
   */
  eligible(snapshot: Snapshot, pod: Pod, diagnosis: Diagnosis): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const key = podKeyOf(pod);
    const mine = this.victimsOf.get(key);
    const nominated = mine?.node ?? pod.status?.nominatedNodeName;
    if (!nominated) return undefined;
    const node = snapshot.node(nominated);
    if (!node || !diagnosis.resolvableSlots.includes(node.slot)) {
      this.victimsOf.delete(key);
      return undefined;
    }
    const priority = podPriority(pod);
    let pending = false;
    for (const p of node.pods.values()) {
      if (p.priority >= priority) continue;
      if (podTerminatingByPreemption(p.pod)) return TERMINATING_VICTIM;
      if (mine && mine.victims.has(p.pod.metadata?.uid ?? p.key)) pending = true;
    }
    if (pending) return TERMINATING_VICTIM;
    this.victimsOf.delete(key);
    return undefined;
  }

  private async preempt(snapshot: Snapshot, pod: Pod, diagnosis: Diagnosis): Promise<Omit<PostFilterResult, 'message'> & { message: string }> {
    const notEligible = this.eligible(snapshot, pod, diagnosis);
    if (notEligible) return { message: notEligible };
    const numAllNodes = diagnosis.nodeCount;
    if (diagnosis.resolvableSlots.length === 0) {
      await this.clearNomination(pod);
      return { message: nodesAvailableMessage(numAllNodes, new Map([[NOT_HELPFUL_MESSAGE, numAllNodes]])) };
    }
    const pdbs = await this.pdbs();
    // synchronous from here to the pick: the core holds trial usage only inside it
    const { candidates, statuses } = this.evaluator.findCandidates(snapshot, pod, diagnosis.classId, diagnosis.resolvableSlots, pdbs);
    const best = pickOneNodeForPreemption(candidates);
    if (!best) {
      const histogram = new Map<string, number>();
      for (const reasons of statuses.values()) for (const r of reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
      const unresolvable = numAllNodes - diagnosis.resolvableSlots.length;
      if (unresolvable > 0) histogram.set(NOT_HELPFUL_MESSAGE, (histogram.get(NOT_HELPFUL_MESSAGE) ?? 0) + unresolvable);
      await this.clearNomination(pod);
      return { message: nodesAvailableMessage(numAllNodes, histogram) };
    }
    this.deps.metrics?.preemptionVictims.observe(best.victims.length);
    this.prepareCandidateAsync(pod, best.nodeName, best.victims);
    return { nominatedNodeName: best.nodeName, message: '' };
  }

  /** upstream prepareCandidateAsync: the victims' API calls run beside the scheduling loop. */
  private prepareCandidateAsync(pod: Pod, nodeName: string, victims: readonly PodInfo[]): void {
    const key = podKeyOf(pod);
    this.victimsOf.delete(key);
    if (this.victimsOf.size >= MAX_REMEMBERED) this.victimsOf.delete(this.victimsOf.keys().next().value!);
    this.victimsOf.set(key, { node: nodeName, victims: new Set(victims.map((v) => v.pod.metadata?.uid ?? v.key)) });
    const run = async (): Promise<void> => {
      let error: Error | undefined;
      try {
        await this.prepareCandidate(pod, nodeName, victims);
      } catch (e) {
        error = e as Error;
        // a victim may stay: the next attempt may preempt again
        this.victimsOf.delete(key);
      }
      // out of flight before the callback: the activated preemptor must not find itself waiting
      if (this.preempting.get(key) === running) this.preempting.delete(key);
      this.deps.onPreemptionDone?.(pod, error, victims.map((v) => v.key));
    };
    const running = run();
    this.preempting.set(key, running);
  }

  private async pdbs(): Promise<readonly PodDisruptionBudget[]> {
    if (this.deps.listPDBs) return this.deps.listPDBs();
    const list = await this.deps.client.list<PodDisruptionBudget>(PDBS);
    return list.items;
  }

  /** upstream prepareCandidate: mark each victim DisruptionTarget, delete it gracefully, record Preempted. */
  private async prepareCandidate(pod: Pod, nodeName: string, victims: readonly PodInfo[]): Promise<void> {
    const schedulerName = this.deps.schedulerName ?? pod.spec?.schedulerName ?? 'default-scheduler';
    const condition = {
      type: DISRUPTION_TARGET,
      status: 'True',
      reason: REASON_PREEMPTION_BY_SCHEDULER,
      message: `${schedulerName}: preempting to accommodate a higher priority pod`,
      lastTransitionTime: metaTime(),
    };
    await Promise.all(
      victims.map(async (v) => {
        // already going (an earlier preemption's victim): no second call, as upstream
        if (v.pod.metadata?.deletionTimestamp) return;
        const r = ref(v.pod);
        try {
          await this.deps.client.patch({ ...r, subresource: 'status' }, 'strategic', { status: { conditions: [condition] } });
          await this.deps.client.delete(r, { preconditions: v.pod.metadata?.uid ? { uid: v.pod.metadata.uid } : undefined });
        } catch (e) {
          if (isNotFound(e)) return; // already gone: the room is made all the same
          throw new Error(`preemption of ${v.key} on ${nodeName} for ${pod.metadata?.namespace}/${pod.metadata?.name} failed: ${(e as Error).message}`, { cause: e });
        }
        this.deps.recorder?.eventf(v.pod, pod, 'Normal', 'Preempted', 'Preempting', `Preempted by pod ${pod.metadata?.uid ?? ''} on node ${nodeName}`);
      }),
    );
  }

  /** upstream ClearNominatedNodeName when preemption cannot help. */
  private async clearNomination(pod: Pod): Promise<void> {
    if (!pod.status?.nominatedNodeName) return;
    try {
      await this.deps.client.patch({ ...ref(pod), subresource: 'status' }, 'merge', { status: { nominatedNodeName: null } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** The registry's factory: `args` is the profile's DefaultPreemptionArgs (partial; defaults filled in). */
export function newDefaultPreemption(args: Partial<DefaultPreemptionArgs> | undefined, deps: DefaultPreemptionDeps): DefaultPreemption {
  return new DefaultPreemption({ ...DEFAULT_PREEMPTION_ARGS, ...(args ?? {}) }, deps);
}
