import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { ApiClient, JOBS, Resources } from '../../../lib/client/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { runTestController, type RunningTestController } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION } from '../../kubelet/hollow.js';
import { startKubelet, type RunningKubelet } from '../../kubelet/server.js';
import { startScheduler, type RunningScheduler } from '../../scheduler/server.js';
import { formatIndexes, JOB_COMPLETION_INDEX, JOB_TRACKING_FINALIZER, JobController, parseIndexes } from './job.js';

const NS = 'default';

function job(name: string, spec: Partial<NonNullable<Job['spec']>>, annotations: Record<string, string> = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      ...spec,
      template: { metadata: { annotations }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } },
    },
  };
}

describe('Job controller with a real apiserver, scheduler and hollow kubelet', function () {
  this.timeout(60_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let client: ApiClient;
  let kubelet: RunningKubelet;
  let scheduler: RunningScheduler;
  let running: RunningTestController<JobController>;

  const jobRef = (name?: string) => ({ ...JOBS, namespace: NS, name });
  const getJob = (name: string) => client.get<Job>(jobRef(name));
  const podsOf = async (name: string) => (await client.list<Pod>({ ...Resources.pods, namespace: NS }, { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');

  before(async () => {
    api = await testApiServer();
    kubelet = await startKubelet({ natsUrl: api.natsUrl, nodes: 2, namePrefix: 'job-', pod: { flushMs: 20 }, startDelayMs: 50, log: () => {} });
    scheduler = await startScheduler({ natsUrl: api.natsUrl, port: 0, leaderElect: false, log: () => {} });
    // a short replacement back-off so a failing Job reaches its limit quickly
    running = await runTestController(api.natsUrl, 'job-test', 3, (ctx) => new JobController(ctx, { podFailureBackoffMs: 200 }));
    ({ client } = running);
  });
  after(async () => {
    await running?.stop();
    await scheduler?.stop();
    await kubelet?.stop();
    await api?.stop();
  });

  it('runs completions 5 with parallelism 2 to Complete, never more than 2 active', async () => {
    await client.create(jobRef(), job('five', { completions: 5, parallelism: 2 }, { [RUN_SECONDS_ANNOTATION]: '0.3' }));
    let maxRunning = 0;
    const done = await waitFor('Job five Complete', async () => {
      const pods = await podsOf('five');
      maxRunning = Math.max(maxRunning, pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length);
      const j = await getJob('five');
      maxRunning = Math.max(maxRunning, j.status?.active ?? 0);
      return condition(j, 'Complete') ? j : undefined;
    }, 40_000);
    assert.ok(maxRunning <= 2, `at most parallelism pods at once, saw ${maxRunning}`);
    assert.equal(done.status!.succeeded, 5);
    assert.equal(done.status!.failed ?? 0, 0);
    assert.equal(done.status!.active ?? 0, 0);
    assert.ok(done.status!.startTime && done.status!.completionTime);
    assert.ok(condition(done, 'SuccessCriteriaMet'), 'SuccessCriteriaMet precedes Complete');
    const pods = await podsOf('five');
    assert.equal(pods.length, 5);
    for (const p of pods) {
      assert.equal(p.status?.phase, 'Succeeded');
      assert.equal(p.metadata!.labels!['batch.kubernetes.io/controller-uid'], done.metadata!.uid);
      assert.equal(p.metadata!.labels!['controller-uid'], done.metadata!.uid);
      assert.equal(p.metadata!.labels!['job-name'], 'five');
      assert.ok(!p.metadata!.finalizers?.includes(JOB_TRACKING_FINALIZER), 'counted pods lose the tracking finalizer');
      assert.deepEqual(p.metadata!.ownerReferences!.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Job', 'five', done.metadata!.uid, true]]);
    }
  });

  it('fails a Job whose pods fail past backoffLimit with BackoffLimitExceeded', async () => {
    await client.create(jobRef(), job('crash', { completions: 3, parallelism: 1, backoffLimit: 1 }, { [RUN_SECONDS_ANNOTATION]: '0.1', [EXIT_CODE_ANNOTATION]: '3' }));
    const failed = await waitFor('Job crash Failed', async () => {
      const j = await getJob('crash');
      return condition(j, 'Failed') ? j : undefined;
    }, 40_000);
    const c = condition(failed, 'Failed')!;
    assert.equal(c.reason, 'BackoffLimitExceeded');
    assert.equal(condition(failed, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(failed.status!.failed, 2);
    assert.equal(failed.status!.succeeded ?? 0, 0);
    assert.ok(!condition(failed, 'Complete'));
    assert.equal(failed.status!.completionTime, undefined);
    const pods = await podsOf('crash');
    assert.equal(pods.length, 2, 'no pod after the limit');
    for (const p of pods) assert.equal(p.status?.phase, 'Failed');
  });

  it('gives each pod of an Indexed Job its index and records completedIndexes', async () => {
    await client.create(jobRef(), job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, { [RUN_SECONDS_ANNOTATION]: '0.2' }));
    const done = await waitFor('Job idx Complete', async () => {
      const j = await getJob('idx');
      return condition(j, 'Complete') ? j : undefined;
    }, 40_000);
    assert.equal(done.status!.completedIndexes, '0-2');
    assert.equal(done.status!.succeeded, 3);
    const pods = await podsOf('idx');
    const indexes = pods.map((p) => p.metadata!.annotations![JOB_COMPLETION_INDEX]).sort();
    assert.deepEqual(indexes, ['0', '1', '2']);
    for (const p of pods) {
      const i = p.metadata!.annotations![JOB_COMPLETION_INDEX];
      assert.equal(p.metadata!.labels![JOB_COMPLETION_INDEX], i);
      assert.equal(p.spec!.hostname, `idx-${i}`);
      assert.match(p.metadata!.name!, new RegExp(`^idx-${i}-[a-z0-9]{5}$`));
      const env = p.spec!.containers[0]!.env!.find((e) => e.name === 'JOB_COMPLETION_INDEX');
      assert.equal(env?.valueFrom?.fieldRef?.fieldPath, `metadata.annotations['${JOB_COMPLETION_INDEX}']`);
    }
  });

  it('fails a Job past activeDeadlineSeconds and deletes its running pods', async () => {
    await client.create(jobRef(), job('slow', { completions: 2, parallelism: 2, activeDeadlineSeconds: 1 }));
    const failed = await waitFor('Job slow Failed', async () => {
      const j = await getJob('slow');
      return condition(j, 'Failed') ? j : undefined;
    }, 30_000);
    assert.equal(condition(failed, 'Failed')!.reason, 'DeadlineExceeded');
    await waitFor('its pods gone', async () => (await podsOf('slow')).length === 0, 20_000);
    assert.equal((await getJob('slow')).status!.active ?? 0, 0);
  });

  it('creates no pods while suspended, and runs once resumed', async () => {
    await client.create(jobRef(), job('later', { completions: 1, suspend: true }, { [RUN_SECONDS_ANNOTATION]: '0.1' }));
    const suspended = await waitFor('Suspended condition', async () => {
      const j = await getJob('later');
      return condition(j, 'Suspended') ? j : undefined;
    });
    assert.equal(condition(suspended, 'Suspended')!.reason, 'JobSuspended');
    assert.equal((await podsOf('later')).length, 0);
    await client.patch(jobRef('later'), 'merge', { spec: { suspend: false } });
    const done = await waitFor('Job later Complete', async () => {
      const j = await getJob('later');
      return condition(j, 'Complete') ? j : undefined;
    }, 30_000);
    assert.equal(done.status!.conditions!.find((c) => c.type === 'Suspended')!.status, 'False');
    assert.equal(done.status!.succeeded, 1);
  });

  it('deletes a finished Job after ttlSecondsAfterFinished', async () => {
    await client.create(jobRef(), job('brief', { completions: 1, ttlSecondsAfterFinished: 1 }, { [RUN_SECONDS_ANNOTATION]: '0.1' }));
    await waitFor('Job brief Complete', async () => condition(await getJob('brief'), 'Complete'), 30_000);
    await waitFor('Job brief deleted', async () => {
      try {
        await getJob('brief');
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    }, 20_000);
  });
});

describe('completed index intervals', () => {
  it('formats and parses "1,3-5,7"', () => {
    assert.equal(formatIndexes(new Set([7, 1, 3, 4, 5])), '1,3-5,7');
    assert.deepEqual([...parseIndexes('1,3-5,7')].sort((a, b) => a - b), [1, 3, 4, 5, 7]);
    assert.equal(formatIndexes(new Set()), '');
  });
});
