/**
 * The Job controller (upstream pkg/controller/job, v1.31): runs pods from the template
 * until spec.completions of them succeed (NonIndexed), or until every index
 * 0..completions-1 has a succeeded pod (Indexed), with at most spec.parallelism active
 * at once. Failed pods are counted against backoffLimit (with OnFailure, container
 * restarts count too); replacements wait an exponential back-off (10 s doubling, at most
 * 6 min). Past backoffLimit or activeDeadlineSeconds the Job gets FailureTarget, its
 * pods are deleted, and once none is left running it gets Failed; reaching its
 * completions it gets SuccessCriteriaMet, then Complete. A finished Job with
 * ttlSecondsAfterFinished is deleted (background cascading) once the TTL passes.
 *
 * Pods carry the batch.kubernetes.io/job-tracking finalizer so none is removed before it
 * is counted. Counting follows upstream's three steps, each one safe to crash after:
 * a finished pod's uid is first written to status.uncountedTerminatedPods, then its
 * finalizer is removed, then it moves from the uncounted list into succeeded / failed.
 */
import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound, StatusError } from '../../../lib/api/errors.js';
import { selectorFromLabelSelector } from '../../../lib/api/labels.js';
import { type DeletedFinalStateUnknown, deletedObject, type EventRecorder, JOBS, metaNamespaceKey, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { claimPods, getControllerOf, newControllerRef } from '../shared/controllerref.js';
import { ControllerExpectations } from '../shared/expectations.js';
import { isPodReady, podFromTemplate } from '../shared/pods.js';
import { slowStartBatchCreate } from '../shared/slowstart.js';
import { metaTime } from '../../../lib/api/time.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;
const KIND = 'Job';
const API_VERSION = 'batch/v1';
/** upstream MaxUncountedPods / burst: bounds one sync's status size and round trips */
const MAX_PODS_PER_SYNC = 500;

export interface JobControllerOptions {
  now?: () => number;
  /** first delay before replacing a failed pod (upstream 10 s); doubles per failure */
  podFailureBackoffMs?: number;
}

/** Failures since the last success, for the replacement back-off (upstream backoffRecord). */
interface BackoffRecord {
  failures: number;
  lastFailure: number;
}

export class JobController extends QueueController {
  readonly expectations = new ControllerExpectations();
  private readonly jobInformer: SharedInformer<Job>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;
  private readonly backoffBase: number;
  private readonly backoff = new Map<string, BackoffRecord>();
  /** uids already folded into a job's back-off record, so a re-sync does not count them twice */
  private readonly seenFailures = new Map<string, Set<string>>();

  constructor(ctx: ControllerContext, opts: JobControllerOptions = {}) {
    super('job', ctx);
    this.now = opts.now ?? Date.now;
    this.backoffBase = opts.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS;
    this.recorder = ctx.recorder('job-controller');
    this.jobInformer = ctx.informers.forResource<Job>(JOBS);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.handle(this.jobInformer, {
      onAdd: (job) => this.enqueue(job),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (job) => {
        const key = metaNamespaceKey(deletedObject(job));
        this.expectations.delete(key);
        this.backoff.delete(key);
        this.seenFailures.delete(key);
        this.enqueue(job);
      },
    });
    this.handle(this.podInformer, {
      onAdd: (pod) => this.podChanged(pod, 'add'),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) this.podChanged(cur, 'update');
      },
      onDelete: (pod) => this.podChanged(deletedObject(pod as Pod | DeletedFinalStateUnknown<Pod>), 'delete'),
    });
  }

  private podChanged(pod: Pod, what: 'add' | 'update' | 'delete'): void {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== KIND) return;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    const job = this.jobInformer.store.getByKey(key);
    if (job && job.metadata?.uid !== ref.uid) return;
    if (job) {
      if (what === 'add' && !pod.metadata?.deletionTimestamp) this.expectations.creationObserved(key);
      if (what === 'delete' || (what === 'update' && pod.metadata?.deletionTimestamp)) this.expectations.deletionObserved(key, metaNamespaceKey(pod));
    }
    // with no job in the cache the sync still frees the pod's finalizer
    this.enqueueKey(key);
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.jobInformer.store.getByKey(key);
    const { namespace, name } = splitMetaNamespaceKey(key);
    if (!cached) {
      this.expectations.delete(key);
      await this.releaseOrphans(namespace, name);
      return;
    }
    const job: Job = { apiVersion: API_VERSION, kind: KIND, ...cached };
    const uid = job.metadata!.uid!;
    const now = this.now();
    const inNamespace = this.podInformer.store.byIndex(NAMESPACE_INDEX, namespace);

    if (isFinished(job)) {
      await this.removeFinalizers(inNamespace.filter((p) => getControllerOf(p)?.uid === uid && hasTrackingFinalizer(p)));
      await this.handleTtl(job, now);
      return;
    }

    const selector = selectorFromLabelSelector(job.spec?.selector);
    if (selector.empty() || selector.matchesNothing) {
      this.ctx.log(`job: ${key} has an empty selector; ignoring it`);
      return;
    }
    const pods = await claimPods(inNamespace, {
      client: this.ctx.client,
      owner: job,
      ownerRef: { ...JOBS, namespace, name },
      apiVersion: API_VERSION,
      kind: KIND,
      selector,
    });
    const satisfied = this.expectations.satisfied(key);
    const spec = job.spec!;
    const indexed = spec.completionMode === 'Indexed';
    const prev = job.status ?? {};
    const status: JobStatus = structuredClone(prev);
    const conditions = status.conditions ?? [];
    const stamp = metaTime(now);

    // step 1: finished pods still holding the finalizer and not yet recorded
    const uncounted = { succeeded: new Set(prev.uncountedTerminatedPods?.succeeded ?? []), failed: new Set(prev.uncountedTerminatedPods?.failed ?? []) };
    const completed = parseIndexes(prev.completedIndexes);
    const newlyFinished: Pod[] = [];
    for (const p of pods) {
      if (newlyFinished.length >= MAX_PODS_PER_SYNC) break;
      const u = p.metadata!.uid!;
      if (!hasTrackingFinalizer(p) || uncounted.succeeded.has(u) || uncounted.failed.has(u)) continue;
      if (p.status?.phase === 'Succeeded') {
        uncounted.succeeded.add(u);
        const i = podIndex(p);
        if (indexed && i !== undefined && i < (spec.completions ?? 0)) completed.add(i);
        newlyFinished.push(p);
      } else if (isPodFailed(p)) {
        uncounted.failed.add(u);
        newlyFinished.push(p);
      }
    }
    this.recordBackoff(key, pods, now);
    if (newlyFinished.length) {
      status.uncountedTerminatedPods = { succeeded: [...uncounted.succeeded], failed: [...uncounted.failed] };
      if (indexed) status.completedIndexes = formatIndexes(completed);
      job.status = await this.writeStatus(job, status);
    }
    // step 2: the finalizers of recorded pods go
    const recorded = pods.filter((p) => hasTrackingFinalizer(p) && (uncounted.succeeded.has(p.metadata!.uid!) || uncounted.failed.has(p.metadata!.uid!)));
    const released = await this.removeFinalizers(recorded);
    // step 3: released (or vanished) pods move into the counters
    const present = new Map(pods.map((p) => [p.metadata!.uid!, p]));
    const stillHeld = (u: string) => {
      const p = present.get(u);
      return p !== undefined && hasTrackingFinalizer(p) && !released.has(u);
    };
    let succeeded = prev.succeeded ?? 0;
    let failed = prev.failed ?? 0;
    for (const u of [...uncounted.succeeded]) if (!stillHeld(u)) (succeeded++, uncounted.succeeded.delete(u));
    for (const u of [...uncounted.failed]) if (!stillHeld(u)) (failed++, uncounted.failed.delete(u));
    if (indexed) succeeded = completed.size;
    status.succeeded = succeeded;
    status.failed = failed;
    status.uncountedTerminatedPods = uncounted.succeeded.size || uncounted.failed.size ? { succeeded: [...uncounted.succeeded], failed: [...uncounted.failed] } : {};
    const totalFailed = failed + uncounted.failed.size;
    const totalSucceeded = indexed ? completed.size : succeeded + uncounted.succeeded.size;

    let active = pods.filter(isPodActive);
    const suspended = spec.suspend === true;
    if (!suspended && !status.startTime) status.startTime = stamp;

    // decide whether the job has reached an end
    let target = conditions.find((c) => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    if (!target) {
      const backoffLimit = spec.backoffLimit ?? 6;
      const restarts = spec.template?.spec?.restartPolicy === 'OnFailure' ? active.reduce((n, p) => n + restartCount(p), 0) : 0;
      const completions = spec.completions;
      const done = completions !== undefined && completions !== null ? totalSucceeded >= completions : totalSucceeded > 0 && active.length === 0;
      if (done) {
        target = { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: stamp, lastTransitionTime: stamp };
      } else if (totalFailed + restarts > backoffLimit) {
        target = { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: stamp, lastTransitionTime: stamp };
      } else if (!suspended && spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null && status.startTime) {
        const deadline = Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000;
        if (now >= deadline) {
          target = { type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastProbeTime: stamp, lastTransitionTime: stamp };
        } else this.enqueueAfter(job, deadline - now + 50);
      }
      if (target) {
        conditions.push(target);
        if (target.type === 'FailureTarget') this.recorder.eventf(job, undefined, 'Warning', target.reason!, 'Sync', target.message!);
      }
    }

    let manageErr: Error | undefined;
    if (target) {
      // a job that reached its end keeps no pod running
      if (active.length) {
        try {
          await this.deletePods(key, job, active);
        } catch (e) {
          manageErr = e as Error;
        }
      }
    } else if (satisfied) {
      try {
        active = await this.manage(key, job, active, completed, totalSucceeded, now);
      } catch (e) {
        manageErr = e as Error;
      }
    }

    // Suspended tracks spec.suspend; resuming restarts the clock of activeDeadlineSeconds
    const susp = conditions.find((c) => c.type === 'Suspended');
    if (suspended && !target && susp?.status !== 'True') {
      setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: stamp, lastTransitionTime: stamp });
      this.recorder.eventf(job, undefined, 'Normal', 'Suspended', 'Sync', 'Job suspended');
    } else if (!suspended && susp?.status === 'True') {
      setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: stamp, lastTransitionTime: stamp });
      status.startTime = stamp;
      this.recorder.eventf(job, undefined, 'Normal', 'Resumed', 'Sync', 'Job resumed');
    }

    status.active = target ? 0 : active.length;
    status.ready = target ? 0 : active.filter(isPodReady).length;
    status.terminating = pods.filter((p) => p.metadata?.deletionTimestamp && !isTerminal(p)).length;
    // the terminal condition waits for the last pod to stop and be counted (upstream 1.31)
    const allCounted = uncounted.succeeded.size === 0 && uncounted.failed.size === 0;
    if (target && pods.every(isTerminal) && allCounted) {
      if (target.type === 'SuccessCriteriaMet') {
        conditions.push({ type: 'Complete', status: 'True', reason: target.reason, message: target.message, lastProbeTime: stamp, lastTransitionTime: stamp });
        status.completionTime = stamp;
        this.recorder.eventf(job, undefined, 'Normal', 'Completed', 'Sync', 'Job completed');
      } else {
        conditions.push({ type: 'Failed', status: 'True', reason: target.reason, message: target.message, lastProbeTime: stamp, lastTransitionTime: stamp });
      }
    }
    if (conditions.length) status.conditions = conditions;
    const written = await this.writeStatus(job, status);
    if (isFinished({ ...job, status: written })) await this.handleTtl({ ...job, status: written }, now);
    if (manageErr) throw manageErr;
  }

  /** Creates or deletes pods so min(parallelism, remaining) are active; returns the active pods kept. */
  private async manage(key: string, job: Job, active: Pod[], completed: Set<number>, succeeded: number, now: number): Promise<Pod[]> {
    const spec = job.spec!;
    if (spec.suspend) {
      if (active.length) await this.deletePods(key, job, active);
      return [];
    }
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions;
    let want: number;
    if (completions === undefined || completions === null) want = succeeded > 0 ? Math.min(active.length, parallelism) : parallelism;
    else want = Math.max(0, Math.min(parallelism, completions - succeeded));

    if (spec.completionMode === 'Indexed') {
      // a pod whose index already succeeded, or is out of range, or is a duplicate, goes
      const seen = new Set<number>();
      const extra: Pod[] = [];
      const keep: Pod[] = [];
      for (const p of active) {
        const i = podIndex(p);
        if (i === undefined || i >= (completions ?? 0) || completed.has(i) || seen.has(i)) extra.push(p);
        else (seen.add(i), keep.push(p));
      }
      if (keep.length > want) extra.push(...rankForDeletion(keep).slice(0, keep.length - want));
      if (extra.length) {
        await this.deletePods(key, job, extra);
        return keep.filter((p) => !extra.includes(p));
      }
      const missing: number[] = [];
      for (let i = 0; i < (completions ?? 0) && keep.length + missing.length < want; i++) if (!completed.has(i) && !seen.has(i)) missing.push(i);
      if (missing.length && this.backoffAllows(key, job, now)) await this.createPods(key, job, missing);
      return keep;
    }
    if (active.length > want) {
      const victims = rankForDeletion(active).slice(0, active.length - want);
      await this.deletePods(key, job, victims);
      return active.filter((p) => !victims.includes(p));
    }
    const n = Math.min(want - active.length, MAX_PODS_PER_SYNC);
    if (n > 0 && this.backoffAllows(key, job, now)) await this.createPods(key, job, Array.from({ length: n }, () => undefined));
    return active;
  }

  /** Folds pods that failed since the last success into the job's back-off record. */
  private recordBackoff(key: string, pods: Pod[], now: number): void {
    let seen = this.seenFailures.get(key);
    if (!seen) this.seenFailures.set(key, (seen = new Set()));
    const rec = this.backoff.get(key) ?? { failures: 0, lastFailure: 0 };
    for (const p of pods) {
      const u = p.metadata!.uid!;
      if (seen.has(u) || !isTerminal(p)) continue;
      seen.add(u);
      if (p.status?.phase === 'Succeeded') rec.failures = 0;
      else (rec.failures++, (rec.lastFailure = now));
    }
    this.backoff.set(key, rec);
  }

  /** False (and a requeue for later) while the back-off after recent failures runs. */
  private backoffAllows(key: string, job: Job, now: number): boolean {
    const rec = this.backoff.get(key);
    if (!rec || rec.failures === 0) return true;
    const delay = Math.min(this.backoffBase * 2 ** (rec.failures - 1), MAX_POD_FAILURE_BACKOFF_MS);
    const wait = rec.lastFailure + delay - now;
    if (wait <= 0) return true;
    this.enqueueAfter(job, wait + 10);
    return false;
  }

  /** One pod per entry (the completion index for Indexed jobs), in slow-start batches. */
  private async createPods(key: string, job: Job, indexes: Array<number | undefined>): Promise<void> {
    const ref = newControllerRef(job, API_VERSION, KIND);
    const namespace = job.metadata!.namespace!;
    this.expectations.expectCreations(key, indexes.length);
    const result = await slowStartBatchCreate<Pod>(
      this.ctx.client,
      indexes.length,
      (k) => ({ ...Resources.pods, namespace, body: jobPod(job, indexes[k], ref) }),
      (r) => {
        if (r instanceof StatusError) {
          this.expectations.creationObserved(key);
          this.recorder.eventf(job, undefined, 'Warning', 'FailedCreate', 'Create', `Error creating: ${r.message}`);
        } else this.recorder.eventf(job, r, 'Normal', 'SuccessfulCreate', 'Create', `Created pod: ${r.metadata!.name}`);
      },
    );
    const first = result.errors[0];
    if (first) {
      for (let i = 0; i < result.skipped; i++) this.expectations.creationObserved(key);
      throw new Error(`creating pods of Job ${key}: ${first.error.message}`);
    }
  }

  private async deletePods(key: string, job: Job, victims: Pod[]): Promise<void> {
    this.expectations.expectDeletions(key, victims.map((p) => metaNamespaceKey(p)));
    const errors: string[] = [];
    await Promise.all(
      victims.map(async (pod) => {
        try {
          await this.ctx.client.delete({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name });
          this.recorder.eventf(job, pod, 'Normal', 'SuccessfulDelete', 'Delete', `Deleted pod: ${pod.metadata!.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, metaNamespaceKey(pod));
          if (isNotFound(e)) return;
          errors.push(`${metaNamespaceKey(pod)}: ${(e as Error).message}`);
        }
      }),
    );
    if (errors.length) throw new Error(`deleting pods of Job ${key}: ${errors.join('; ')}`);
  }

  /** Removes the tracking finalizer; returns the uids it is gone from (or whose pod is gone). */
  private async removeFinalizers(pods: Pod[]): Promise<Set<string>> {
    const done = new Set<string>();
    const errors: string[] = [];
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.ctx.client.patch(
            { ...Resources.pods, namespace: p.metadata!.namespace, name: p.metadata!.name },
            'strategic',
            { metadata: { uid: p.metadata!.uid, '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER] } },
          );
          done.add(p.metadata!.uid!);
        } catch (e) {
          if (isNotFound(e)) done.add(p.metadata!.uid!);
          else errors.push(`${metaNamespaceKey(p)}: ${(e as Error).message}`);
        }
      }),
    );
    if (errors.length) throw new Error(`removing the ${JOB_TRACKING_FINALIZER} finalizer: ${errors.join('; ')}`);
    return done;
  }

  /** Pods of a deleted job must not keep its finalizer, or they could never go. */
  private async releaseOrphans(namespace: string, name: string): Promise<void> {
    const held = this.podInformer.store.byIndex(NAMESPACE_INDEX, namespace).filter((p) => {
      const ref = getControllerOf(p);
      return ref?.kind === KIND && ref.name === name && hasTrackingFinalizer(p);
    });
    if (held.length) await this.removeFinalizers(held);
  }

  /** ttlSecondsAfterFinished (upstream ttlafterfinished controller): delete once due. */
  private async handleTtl(job: Job, now: number): Promise<void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp) return;
    const finishedAt = finishTime(job);
    if (finishedAt === undefined) return;
    const due = finishedAt + ttl * 1000;
    if (now < due) {
      this.enqueueAfter(job, due - now + 50);
      return;
    }
    try {
      await this.ctx.client.delete(
        { ...JOBS, namespace: job.metadata!.namespace, name: job.metadata!.name },
        { propagationPolicy: 'Background', preconditions: { uid: job.metadata!.uid } },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Writes status unless unchanged; on a conflict, re-reads once and writes onto the fresh object. */
  private async writeStatus(job: Job, status: JobStatus): Promise<JobStatus> {
    if (JSON.stringify(job.status ?? {}) === JSON.stringify(status)) return status;
    const ref = { ...JOBS, namespace: job.metadata!.namespace, name: job.metadata!.name };
    let current = job;
    for (let attempt = 0; ; attempt++) {
      try {
        const written = await this.ctx.client.updateStatus<Job>(ref, { ...current, status });
        return written.status ?? status;
      } catch (e) {
        if (!isConflict(e) || attempt >= 1) throw e;
        current = await this.ctx.client.get<Job>(ref);
      }
    }
  }
}

/** The pod a Job creates: its template, the tracking finalizer and, for Indexed jobs, the index. */
export function jobPod(job: Job, index: number | undefined, ref: ReturnType<typeof newControllerRef>): Pod {
  const name = job.metadata!.name!;
  const pod = podFromTemplate(job.spec!.template as PodTemplateSpec, job.metadata!.namespace!, index === undefined ? name : `${name}-${index}`, ref);
  pod.metadata!.finalizers = [...(pod.metadata!.finalizers ?? []), JOB_TRACKING_FINALIZER];
  if (index !== undefined) {
    pod.metadata!.annotations![JOB_COMPLETION_INDEX] = String(index);
    pod.metadata!.labels![JOB_COMPLETION_INDEX] = String(index);
    // a stable hostname per index, so pods of one index can find each other through a headless Service
    pod.spec!.hostname ??= `${name}-${index}`;
    for (const c of [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]) {
      if (c.env?.some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) continue;
      c.env = [...(c.env ?? []), { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } } }];
    }
  }
  return pod;
}

/** "1,3-5,7" → {1,3,4,5,7} */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let i = a!; i <= (Number.isInteger(b) ? b! : a!); i++) out.add(i);
  }
  return out;
}

/** {1,3,4,5,7} → "1,3-5,7" */
export function formatIndexes(set: Set<number>): string {
  const sorted = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function podIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

function hasTrackingFinalizer(p: Pod): boolean {
  return p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

function isPodActive(p: Pod): boolean {
  return !isTerminal(p) && !p.metadata?.deletionTimestamp;
}

/** Failed, or (podReplacementPolicy TerminatingOrFailed, upstream's default) deleted before it succeeded. */
function isPodFailed(p: Pod): boolean {
  if (p.status?.phase === 'Failed') return true;
  return p.metadata?.deletionTimestamp !== undefined && p.metadata?.deletionTimestamp !== null && p.status?.phase !== 'Succeeded';
}

function restartCount(p: Pod): number {
  return [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/** Most expendable first: unscheduled, then pending, then not ready, then newest. */
function rankForDeletion(pods: Pod[]): Pod[] {
  const rank = (p: Pod) => (!p.spec?.nodeName ? 0 : p.status?.phase === 'Pending' ? 1 : !isPodReady(p) ? 2 : 3);
  const created = (p: Pod) => (p.metadata?.creationTimestamp ? Date.parse(p.metadata.creationTimestamp) : 0);
  return [...pods].sort((a, b) => rank(a) - rank(b) || created(b) - created(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
}

function setCondition(conditions: JobCondition[], c: JobCondition): void {
  const i = conditions.findIndex((x) => x.type === c.type);
  if (i >= 0) conditions[i] = c;
  else conditions.push(c);
}

/** Complete or Failed is true. */
export function isFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

function finishTime(job: Job): number | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  const t = c?.lastTransitionTime ?? job.status?.completionTime;
  return t ? Date.parse(t) : undefined;
}
