/**
 * The CronJob controller (upstream pkg/controller/cronjob, the v2 controller of v1.31):
 * at each time the schedule names, creates a Job from spec.jobTemplate named
 * <cronjob>-<scheduled time in minutes since the epoch>, so a run is created at most
 * once however often the CronJob is synced. concurrencyPolicy decides what a due run
 * does while an earlier Job still runs (Allow: run both; Forbid: skip; Replace: delete
 * the running Jobs first); startingDeadlineSeconds drops runs that are too late; finished
 * Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted, oldest
 * first. Status keeps active (the running Jobs), lastScheduleTime and lastSuccessfulTime.
 *
 * The controller is level-triggered like the others: every sync recomputes the most
 * recent due time from lastScheduleTime and the clock, then requeues itself for the
 * next one. The clock is injectable so tests can move time instead of waiting for it.
 */
import { CronExpressionParser } from 'cron-parser';
import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../lib/api/errors.js';
import { CRONJOBS, type DeletedFinalStateUnknown, deletedObject, type EventRecorder, JOBS, NAMESPACE_INDEX, type SharedInformer, splitMetaNamespaceKey } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { getControllerOf, newControllerRef } from '../shared/controllerref.js';
import { isFinished } from './job.js';
import { metaTime } from '../../../lib/api/time.js';

export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const KIND = 'CronJob';
const API_VERSION = 'batch/v1';
/** upstream warns (TooManyMissedTimes) past this many missed runs */
const MAX_MISSED = 100;

export interface CronJobControllerOptions {
  now?: () => number;
}

/** A parsed schedule, in ms since the epoch. */
export interface Schedule {
  /** the first run time strictly after `after` */
  next(after: number): number;
  /** the last run time at or before `now` */
  latest(now: number): number;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a standard five-field cron schedule or a macro (robfig/cron ParseStandard), read
 * in timeZone (the controller's local zone when unset). Throws on a bad schedule.
 */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const s = schedule.trim();
  const every = /^@every\s+(.+)$/.exec(s);
  if (every) {
    let ms = 0;
    const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
    let m: RegExpExecArray | null;
    let consumed = 0;
    while ((m = re.exec(every[1]!))) {
      ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
      consumed = re.lastIndex;
    }
    if (consumed !== every[1]!.length || ms < 1000) throw new Error(`unparseable schedule "${schedule}": bad @every duration`);
    // robfig's ConstantDelaySchedule: whole seconds, counted from the previous time
    const step = Math.floor(ms / 1000) * 1000;
    return { next: (after) => Math.floor(after / 1000) * 1000 + step, latest: (now) => Math.floor(now / 1000) * 1000 };
  }
  const expr = s.startsWith('@') ? MACROS[s] : s;
  if (!expr) throw new Error(`unparseable schedule "${schedule}": unrecognized descriptor`);
  const fields = expr.split(/\s+/);
  if (fields.length !== 5) throw new Error(`unparseable schedule "${schedule}": expected exactly 5 fields, found ${fields.length}`);
  const tz = timeZone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  // validate now, so a bad schedule fails the sync with a clear message rather than later
  CronExpressionParser.parse(expr, { tz, currentDate: new Date(0) });
  return {
    next: (after) => CronExpressionParser.parse(expr, { tz, currentDate: new Date(after) }).next().getTime(),
    // prev() is strict, so start just after now
    latest: (now) => CronExpressionParser.parse(expr, { tz, currentDate: new Date(now + 1) }).prev().getTime(),
  };
}

/**
 * The most recent run time in (earliest, now], and how many run times that window holds
 * (upstream mostRecentScheduleTime). Counting stops just past MAX_MISSED.
 */
export function mostRecentScheduleTime(schedule: Schedule, earliest: number, now: number): { time?: number; missed: number } {
  let time: number | undefined;
  let missed = 0;
  for (let t = schedule.next(earliest); t <= now; t = schedule.next(t)) {
    time = t;
    missed++;
    if (missed > MAX_MISSED) return { time: schedule.latest(now), missed };
  }
  return { time, missed };
}

/** The Job name for a run: <cronjob>-<minutes since the epoch> (upstream getJobName). */
export function jobNameFor(cronJobName: string, scheduledMs: number): string {
  return `${cronJobName}-${Math.floor(scheduledMs / 60_000)}`;
}

export class CronJobController extends QueueController {
  private readonly cronInformer: SharedInformer<CronJob>;
  private readonly jobInformer: SharedInformer<Job>;
  private readonly recorder: EventRecorder;
  private readonly now: () => number;

  constructor(ctx: ControllerContext, opts: CronJobControllerOptions = {}) {
    super('cronjob', ctx);
    this.now = opts.now ?? Date.now;
    this.recorder = ctx.recorder('cronjob-controller');
    this.cronInformer = ctx.informers.forResource<CronJob>(CRONJOBS);
    this.jobInformer = ctx.informers.forResource<Job>(JOBS);
    this.handle(this.cronInformer, {
      onAdd: (cj) => this.enqueue(cj),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (cj) => this.enqueue(cj),
    });
    const jobChanged = (obj: Job | DeletedFinalStateUnknown<Job>) => {
      const job = deletedObject(obj);
      const ref = getControllerOf(job);
      if (ref?.kind === KIND) this.enqueueKey(`${job.metadata?.namespace}/${ref.name}`);
    };
    this.handle<Job>(this.jobInformer, { onAdd: (j) => jobChanged(j), onUpdate: (_old, cur) => jobChanged(cur), onDelete: (j) => jobChanged(j) });
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.cronInformer.store.getByKey(key);
    if (!cached) return;
    const cj: CronJob = { apiVersion: API_VERSION, kind: KIND, ...cached };
    const { namespace } = splitMetaNamespaceKey(key);
    const uid = cj.metadata!.uid!;
    const jobs = this.jobInformer.store.byIndex(NAMESPACE_INDEX, namespace).filter((j) => getControllerOf(j)?.uid === uid);
    const status: CronJobStatus = structuredClone(cj.status ?? {});
    const now = this.now();

    this.reconcileActive(cj, status, jobs);
    let requeueAt: number | undefined;
    let failure: Error | undefined;
    try {
      requeueAt = await this.startDueRun(cj, status, jobs, now);
    } catch (e) {
      failure = e as Error;
    }
    await this.writeStatus(cj, status);
    await this.cleanupHistory(cj, jobs);
    if (failure) throw failure;
    if (requeueAt !== undefined) this.enqueueAfter(cj, Math.max(0, requeueAt - now) + 100);
  }

  /** status.active = the owned Jobs still running; finished ones leave it (and may set lastSuccessfulTime). */
  private reconcileActive(cj: CronJob, status: CronJobStatus, jobs: Job[]): void {
    const byUid = new Map(jobs.map((j) => [j.metadata!.uid!, j]));
    const active: ObjectReference[] = [];
    for (const ref of status.active ?? []) {
      const job = ref.uid ? byUid.get(ref.uid) : undefined;
      if (!job) {
        // a Job we created may not be in the cache yet; keep it until the apiserver says otherwise
        if (ref.name && !this.jobInformer.store.getByKey(`${cj.metadata!.namespace}/${ref.name}`) && this.recentlyScheduled(cj, ref)) active.push(ref);
        else this.recorder.eventf(cj, undefined, 'Normal', 'MissingJob', 'Sync', `Active job went missing: ${ref.name}`);
        continue;
      }
      if (isFinished(job)) {
        this.recorder.eventf(cj, job, 'Normal', 'SawCompletedJob', 'Sync', `Saw completed job: ${job.metadata!.name}, condition: ${finishedCondition(job)}`);
        continue;
      }
      active.push(ref);
    }
    // a running Job of ours that status does not list (status lost, or written before a crash)
    for (const job of jobs) {
      if (isFinished(job) || job.metadata?.deletionTimestamp) continue;
      if (!active.some((r) => r.uid === job.metadata!.uid)) active.push(jobRef(job));
    }
    for (const job of jobs) {
      const c = job.status?.conditions?.find((x) => x.type === 'Complete' && x.status === 'True');
      const at = job.status?.completionTime ?? c?.lastTransitionTime;
      if (c && at && (!status.lastSuccessfulTime || Date.parse(at) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = at;
    }
    if (active.length) status.active = active;
    else delete status.active;
  }

  /** The run listed in active whose Job is this sync's own, created moments ago. */
  private recentlyScheduled(cj: CronJob, ref: ObjectReference): boolean {
    const last = cj.status?.lastScheduleTime;
    return last !== undefined && ref.name === jobNameFor(cj.metadata!.name!, Date.parse(last));
  }

  /** Starts the most recent due run if policy allows; returns when to look again. */
  private async startDueRun(cj: CronJob, status: CronJobStatus, jobs: Job[], now: number): Promise<number | undefined> {
    const spec = cj.spec!;
    if (cj.metadata?.deletionTimestamp || spec.suspend) return undefined;
    let schedule: Schedule;
    try {
      schedule = parseSchedule(spec.schedule, spec.timeZone);
    } catch (e) {
      // retrying cannot fix a bad schedule: report it and wait for an update
      this.recorder.eventf(cj, undefined, 'Warning', 'UnparseableSchedule', 'Sync', (e as Error).message);
      return undefined;
    }
    const created = Date.parse(cj.metadata!.creationTimestamp ?? new Date(now).toISOString());
    let earliest = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : created;
    const deadline = spec.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null) earliest = Math.max(earliest, now - deadline * 1000);
    const { time, missed } = mostRecentScheduleTime(schedule, earliest, now);
    const next = schedule.next(now);
    if (time === undefined) return next;
    if (missed > MAX_MISSED) {
      this.recorder.eventf(cj, undefined, 'Warning', 'TooManyMissedTimes', 'Sync', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    if (deadline !== undefined && deadline !== null && time + deadline * 1000 < now) {
      this.recorder.eventf(cj, undefined, 'Warning', 'MissSchedule', 'Sync', `Missed scheduled time to start a job: ${metaTime(time)}`);
      return next;
    }
    const name = jobNameFor(cj.metadata!.name!, time);
    if (jobs.some((j) => j.metadata!.name === name) || (status.active ?? []).some((r) => r.name === name)) return next;
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && status.active?.length) {
      this.recorder.eventf(cj, undefined, 'Normal', 'JobAlreadyActive', 'Sync', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return next;
    }
    if (policy === 'Replace') {
      for (const ref of status.active ?? []) {
        try {
          await this.ctx.client.delete({ ...JOBS, namespace: cj.metadata!.namespace, name: ref.name }, { propagationPolicy: 'Background', preconditions: ref.uid ? { uid: ref.uid } : undefined });
          this.recorder.eventf(cj, undefined, 'Normal', 'SuccessfulDelete', 'Delete', `Deleted job ${ref.name}`);
        } catch (e) {
          if (!isNotFound(e)) throw new Error(`replacing job ${ref.name} of CronJob ${cj.metadata!.namespace}/${cj.metadata!.name}: ${(e as Error).message}`);
        }
      }
      delete status.active;
    }

    let job: Job;
    try {
      job = await this.ctx.client.create<Job>({ ...JOBS, namespace: cj.metadata!.namespace }, jobFromTemplate(cj, name, time));
      this.recorder.eventf(cj, job, 'Normal', 'SuccessfulCreate', 'Create', `Created job ${name}`);
    } catch (e) {
      if (!isAlreadyExists(e)) {
        this.recorder.eventf(cj, undefined, 'Warning', 'FailedCreate', 'Create', `Error creating job: ${(e as Error).message}`);
        throw e;
      }
      // created by an earlier sync whose status write was lost: it is this run's job if we own it
      job = await this.ctx.client.get<Job>({ ...JOBS, namespace: cj.metadata!.namespace, name });
      if (getControllerOf(job)?.uid !== cj.metadata!.uid) return next;
    }
    if (!isFinished(job)) status.active = [...(status.active ?? []).filter((r) => r.uid !== job.metadata!.uid), jobRef(job)];
    status.lastScheduleTime = metaTime(time);
    return next;
  }

  /** Deletes finished Jobs beyond the history limits, oldest first. */
  private async cleanupHistory(cj: CronJob, jobs: Job[]): Promise<void> {
    const successfulLimit = cj.spec?.successfulJobsHistoryLimit ?? 3;
    const failedLimit = cj.spec?.failedJobsHistoryLimit ?? 1;
    const live = jobs.filter((j) => !j.metadata?.deletionTimestamp);
    const succeeded = live.filter((j) => finishedCondition(j) === 'Complete');
    const failed = live.filter((j) => finishedCondition(j) === 'Failed');
    const victims = [...oldest(succeeded, successfulLimit), ...oldest(failed, failedLimit)];
    const errors: string[] = [];
    for (const job of victims) {
      try {
        await this.ctx.client.delete({ ...JOBS, namespace: job.metadata!.namespace, name: job.metadata!.name }, { propagationPolicy: 'Background', preconditions: { uid: job.metadata!.uid } });
        this.recorder.eventf(cj, job, 'Normal', 'SuccessfulDelete', 'Delete', `Deleted job ${job.metadata!.name}`);
      } catch (e) {
        if (!isNotFound(e)) errors.push(`${job.metadata!.name}: ${(e as Error).message}`);
      }
    }
    if (errors.length) throw new Error(`deleting old jobs of CronJob ${cj.metadata!.namespace}/${cj.metadata!.name}: ${errors.join('; ')}`);
  }

  /**
   * Writes status computed from the cached CronJob, guarded by its resourceVersion: a
   * conflict means the cache is behind (often our own previous write), and the retry
   * recomputes from fresher state rather than writing this stale result over it.
   */
  private async writeStatus(cj: CronJob, status: CronJobStatus): Promise<void> {
    if (JSON.stringify(cj.status ?? {}) === JSON.stringify(status)) return;
    const ref = { ...CRONJOBS, namespace: cj.metadata!.namespace, name: cj.metadata!.name };
    await this.ctx.client.updateStatus<CronJob>(ref, { ...cj, status });
  }
}

/** The Job for one run: the template, owned by the CronJob, stamped with its scheduled time. */
export function jobFromTemplate(cj: CronJob, name: string, scheduledMs: number): Job {
  const tmpl = cj.spec!.jobTemplate;
  return {
    apiVersion: API_VERSION,
    kind: 'Job',
    metadata: {
      name,
      namespace: cj.metadata!.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP]: metaTime(scheduledMs) },
      ownerReferences: [newControllerRef(cj, API_VERSION, KIND)],
    },
    spec: structuredClone(tmpl.spec!),
  };
}

function jobRef(job: Job): ObjectReference {
  return { apiVersion: API_VERSION, kind: 'Job', namespace: job.metadata!.namespace, name: job.metadata!.name, uid: job.metadata!.uid, resourceVersion: job.metadata!.resourceVersion };
}

function finishedCondition(job: Job): 'Complete' | 'Failed' | undefined {
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type as 'Complete' | 'Failed' | undefined;
}

/** All but the newest `keep` jobs, by start time (creation time when never started). */
function oldest(jobs: Job[], keep: number): Job[] {
  if (jobs.length <= keep) return [];
  const t = (j: Job) => Date.parse(j.status?.startTime ?? j.metadata?.creationTimestamp ?? '') || 0;
  return [...jobs].sort((a, b) => t(a) - t(b) || (a.metadata!.name! < b.metadata!.name! ? -1 : 1)).slice(0, jobs.length - keep);
}
