import assert from 'node:assert/strict';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { ApiClient, CRONJOBS, JOBS, Resources } from '../../../lib/client/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { runTestController, type RunningTestController } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { CRONJOB_SCHEDULED_TIMESTAMP, CronJobController, jobNameFor, mostRecentScheduleTime, parseSchedule } from './cronjob.js';
import { metaTime } from '../../../lib/api/time.js';

const NS = 'default';
const MINUTE = 60_000;

function cronJob(name: string, spec: Partial<NonNullable<CronJob['spec']>> = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: NS },
    spec: {
      schedule: '* * * * *',
      ...spec,
      jobTemplate: { metadata: { labels: { run: name } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
    },
  };
}

describe('CronJob controller against a real apiserver, with an injected clock', function () {
  this.timeout(60_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let client: ApiClient;
  let controller: CronJobController;
  let running: RunningTestController<CronJobController>;
  // no Job controller runs here: the test finishes Jobs itself by writing their status
  let clock = 0;

  const cjRef = (name?: string) => ({ ...CRONJOBS, namespace: NS, name });
  const jobRef = (name?: string) => ({ ...JOBS, namespace: NS, name });
  const jobsOf = async (cj: string) => (await client.list<Job>(jobRef(), { labelSelector: `run=${cj}` })).items.filter((j) => !j.metadata?.deletionTimestamp);
  const events = async (reason: string, name: string) => (await client.list<Event>({ ...Resources.events, namespace: NS })).items.filter((e) => e.reason === reason && e.involvedObject.name === name);

  /** Creates the CronJob and sets the clock to its creation time; returns that time. */
  async function create(cj: CronJob): Promise<number> {
    const created = await client.create<CronJob>(cjRef(), cj);
    clock = Date.parse(created.metadata!.creationTimestamp!);
    controller.enqueueKey(`${NS}/${cj.metadata!.name}`);
    return clock;
  }
  /** Moves the clock to `seconds` past the minute `minutes` after t, and makes the controller look. */
  function moveTo(t: number, minutes: number, seconds = 5): number {
    clock = Math.floor(t / MINUTE) * MINUTE + minutes * MINUTE + seconds * 1000;
    return clock;
  }
  async function finish(name: string, type: 'Complete' | 'Failed', startTime: number): Promise<void> {
    const j = await client.get<Job>(jobRef(name));
    const at = metaTime(clock);
    const start = metaTime(startTime);
    const conditions =
      type === 'Complete'
        ? [{ type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: at }, { type: 'Complete', status: 'True', lastTransitionTime: at }]
        : [{ type: 'FailureTarget', status: 'True', lastTransitionTime: at }, { type: 'Failed', status: 'True', lastTransitionTime: at }];
    await client.updateStatus<Job>(jobRef(name), {
      ...j,
      status: { startTime: start, ...(type === 'Complete' ? { completionTime: at, succeeded: 1 } : { failed: 1 }), conditions },
    });
  }

  before(async () => {
    api = await testApiServer();
    running = await runTestController(api.natsUrl, 'cronjob-test', 2, (ctx) => new CronJobController(ctx, { now: () => clock }));
    ({ client, controller } = running);
  });
  after(async () => {
    await running?.stop();
    await api?.stop();
  });

  it('creates a Job named <cronjob>-<minutes since the epoch> at the scheduled minute, not before', async () => {
    const t0 = await create(cronJob('tick'));
    await waitFor('the CronJob seen by the controller', async () => (await client.get<CronJob>(cjRef('tick'))).metadata?.uid);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await jobsOf('tick')).length, 0, 'nothing is due in the minute of creation');

    moveTo(t0, 1);
    controller.enqueueKey(`${NS}/tick`);
    const due = Math.floor(t0 / MINUTE) * MINUTE + MINUTE;
    const [job] = await waitFor('the first Job', async () => {
      const j = await jobsOf('tick');
      return j.length ? j : undefined;
    });
    assert.equal(job!.metadata!.name, jobNameFor('tick', due));
    assert.equal(job!.metadata!.name, `tick-${due / MINUTE}`);
    assert.equal(job!.metadata!.annotations![CRONJOB_SCHEDULED_TIMESTAMP], new Date(due).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const cj = await waitFor('status.active', async () => {
      const c = await client.get<CronJob>(cjRef('tick'));
      return c.status?.active?.length ? c : undefined;
    });
    assert.deepEqual(job!.metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.uid, r.controller]), [['CronJob', 'tick', cj.metadata!.uid, true]]);
    assert.equal(cj.status!.active![0]!.name, job!.metadata!.name);
    assert.equal(Date.parse(cj.status!.lastScheduleTime!), due);

    // another sync in the same minute does not run it twice
    controller.enqueueKey(`${NS}/tick`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await jobsOf('tick')).length, 1);
  });

  it('with concurrencyPolicy Forbid skips a run while the previous Job runs, and starts it once that Job completes', async () => {
    const t0 = await create(cronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    moveTo(t0, 1);
    controller.enqueueKey(`${NS}/forbid`);
    const [first] = await waitFor('the first Job', async () => {
      const j = await jobsOf('forbid');
      return j.length ? j : undefined;
    });
    await waitFor('status.active', async () => (await client.get<CronJob>(cjRef('forbid'))).status?.active?.length === 1);

    moveTo(t0, 2);
    controller.enqueueKey(`${NS}/forbid`);
    await waitFor('a JobAlreadyActive event', async () => (await events('JobAlreadyActive', 'forbid')).length > 0);
    assert.equal((await jobsOf('forbid')).length, 1, 'no second Job while the first runs');

    await finish(first!.metadata!.name!, 'Complete', clock);
    const second = Math.floor(t0 / MINUTE) * MINUTE + 2 * MINUTE;
    await waitFor('the skipped run started after the first Job completed', async () => (await jobsOf('forbid')).some((j) => j.metadata!.name === jobNameFor('forbid', second)));
    const cj = await waitFor('status after the second run', async () => {
      const c = await client.get<CronJob>(cjRef('forbid'));
      return c.status?.lastSuccessfulTime && Date.parse(c.status.lastScheduleTime!) === second ? c : undefined;
    });
    assert.deepEqual(cj.status!.active!.map((r) => r.name), [jobNameFor('forbid', second)]);
  });

  it('with concurrencyPolicy Replace deletes the running Job before starting the next', async () => {
    const t0 = await create(cronJob('replace', { concurrencyPolicy: 'Replace' }));
    moveTo(t0, 1);
    controller.enqueueKey(`${NS}/replace`);
    const [first] = await waitFor('the first Job', async () => {
      const j = await jobsOf('replace');
      return j.length ? j : undefined;
    });
    await waitFor('status.active', async () => (await client.get<CronJob>(cjRef('replace'))).status?.active?.length === 1);
    moveTo(t0, 2);
    controller.enqueueKey(`${NS}/replace`);
    const now = await waitFor('only the second Job', async () => {
      const j = await jobsOf('replace');
      return j.length === 1 && j[0]!.metadata!.name !== first!.metadata!.name ? j : undefined;
    });
    assert.equal(now[0]!.metadata!.name, jobNameFor('replace', Math.floor(t0 / MINUTE) * MINUTE + 2 * MINUTE));
  });

  it('keeps only successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs, deleting the oldest', async () => {
    const t0 = await create(cronJob('history', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }));
    const names: string[] = [];
    for (let m = 1; m <= 4; m++) {
      moveTo(t0, m);
      controller.enqueueKey(`${NS}/history`);
      const name = jobNameFor('history', Math.floor(t0 / MINUTE) * MINUTE + m * MINUTE);
      await waitFor(`Job ${name}`, async () => (await jobsOf('history')).some((j) => j.metadata!.name === name));
      names.push(name);
      // runs 1 and 2 succeed, 3 and 4 fail
      await finish(name, m <= 2 ? 'Complete' : 'Failed', clock);
    }
    const left = await waitFor('history pruned to one success and one failure', async () => {
      const j = (await jobsOf('history')).map((x) => x.metadata!.name!).sort();
      return j.length === 2 ? j : undefined;
    });
    assert.deepEqual(left, [names[1], names[3]].sort());
    const cj = await waitFor('no active Jobs', async () => {
      const c = await client.get<CronJob>(cjRef('history'));
      return (c.status?.active ?? []).length === 0 ? c : undefined;
    });
    assert.ok(cj.status!.lastSuccessfulTime);
    assert.ok((await events('SuccessfulDelete', 'history')).length >= 2);
  });

  it('starts nothing while suspended', async () => {
    const t0 = await create(cronJob('paused', { suspend: true }));
    moveTo(t0, 3);
    controller.enqueueKey(`${NS}/paused`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await jobsOf('paused')).length, 0);
    await client.patch(cjRef('paused'), 'merge', { spec: { suspend: false } });
    // the missed run (no startingDeadlineSeconds) starts once resumed
    await waitFor('a Job after resuming', async () => (await jobsOf('paused')).length === 1);
  });
});

describe('cron schedules', () => {
  const at = (s: string) => Date.parse(s);
  it('reads macros and five-field schedules in the given time zone', () => {
    assert.equal(parseSchedule('@hourly', 'UTC').next(at('2024-01-01T10:30:00Z')), at('2024-01-01T11:00:00Z'));
    assert.equal(parseSchedule('@daily', 'UTC').next(at('2024-01-01T10:30:00Z')), at('2024-01-02T00:00:00Z'));
    // 09:00 in New York in January is 14:00 UTC
    assert.equal(parseSchedule('0 9 * * *', 'America/New_York').next(at('2024-01-01T10:30:00Z')), at('2024-01-01T14:00:00Z'));
    assert.equal(parseSchedule('*/15 * * * *', 'UTC').latest(at('2024-01-01T10:31:00Z')), at('2024-01-01T10:30:00Z'));
    assert.throws(() => parseSchedule('0 0 * * * *', 'UTC'), /5 fields/);
    assert.throws(() => parseSchedule('@fortnightly', 'UTC'), /unrecognized/);
  });

  it('finds the most recent missed time and counts the missed ones', () => {
    const s = parseSchedule('*/10 * * * *', 'UTC');
    assert.deepEqual(mostRecentScheduleTime(s, at('2024-01-01T10:00:00Z'), at('2024-01-01T10:35:00Z')), { time: at('2024-01-01T10:30:00Z'), missed: 3 });
    assert.deepEqual(mostRecentScheduleTime(s, at('2024-01-01T10:30:00Z'), at('2024-01-01T10:35:00Z')), { time: undefined, missed: 0 });
    const many = mostRecentScheduleTime(parseSchedule('* * * * *', 'UTC'), at('2024-01-01T00:00:00Z'), at('2024-01-02T00:00:30Z'));
    assert.equal(many.time, at('2024-01-02T00:00:00Z'));
    assert.ok(many.missed > 100);
  });
});
