/**
 * The container lifecycle on a real node (containerd through CRI, needs root): restart
 * policies with the crash-loop back-off (shortened to 1 s doubling to 4 s for the suite),
 * CrashLoopBackOff and lastState, OOMKilled, init containers, postStart and preStop hooks,
 * graceful deletion, the kubelet's container events, and Jobs (the Job controller
 * in-process) whose pods run here.
 * One containerd for the file; pods run in parallel.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { JOBS, Resources } from '../../lib/client/mod.js';
import { JobController } from '../controller-manager/controllers/job.js';
import { runTestController, type RunningTestController } from '../controller-manager/testing/controllers.js';
import { isNotFound } from '../../lib/api/errors.js';
import { PODS_DEFAULT } from '../../test/realnode.js';
import { writeKubeconfig } from '../../cli/kubeconfig.js';
import { kubectlRunner } from '../../test/kubectl.js';
import { startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';

describe('kubelet --runtime cri: container lifecycle (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode;
  let jobs: RunningTestController<JobController> | undefined;
  let kubeconfig = '';
  const { k } = kubectlRunner('1.33', () => ({ dir: rn.host.dir, kubeconfig }));

  before(async () => {
    rn = await startRealNode('the lifecycle suite', {
      prefix: 'lc',
      kubelet: (o) => ({ ...o, pod: { ...o.pod, backOff: { initialMs: 1000, maxMs: 4000 } } }),
    });
    kubeconfig = writeKubeconfig(path.join(rn.host.dir, 'kubeconfig'), rn.api.httpUrl);
  });
  after(async () => {
    await jobs?.stop();
    await rn?.stop();
  });

  const eventsOf = async (pod: string) =>
    (await rn.client.list<Event>({ ...Resources.events, namespace: 'default' })).items.filter((e) => e.involvedObject.name === pod && e.involvedObject.kind === 'Pod');
  const status = (p: Pod, name: string) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].find((s) => s.name === name);

  it('restarts a failing container with a growing back-off: CrashLoopBackOff, lastState.terminated, restartCount, BackOff events; OnFailure too', async () => {
    const always = await rn.createPod({ containers: [{ name: 'crash', image: 'busybox', command: ['sh', '-c', 'sleep 0.2; exit 3'] }] });
    const onFailure = await rn.createPod({ restartPolicy: 'OnFailure', containers: [{ name: 'crash', image: 'busybox', command: ['sh', '-c', 'exit 5'] }] });
    const name = always.metadata!.name!;
    const messages = new Set<string>();
    const pod = await waitFor(`${name} restarted 3 times`, async () => {
      const p = await rn.getPod(name);
      const st = status(p, 'crash');
      if (st?.state?.waiting?.reason === 'CrashLoopBackOff') messages.add(st.state.waiting.message ?? '');
      return (st?.restartCount ?? 0) >= 3 && messages.size >= 2 && p;
    }, 60_000);
    const st = status(pod, 'crash')!;
    for (const m of messages) assert.match(m, new RegExp(`^back-off [124]s restarting failed container=crash pod=${name}_default\\(${always.metadata!.uid}\\)$`));
    // the back-off grew: at least two different steps were seen
    assert.ok(messages.size >= 2, [...messages].join(', '));
    const last = st.lastState?.terminated;
    assert.equal(last?.exitCode, 3);
    assert.equal(last?.reason, 'Error');
    assert.ok(last?.startedAt && last.finishedAt && last.startedAt <= last.finishedAt, JSON.stringify(last));
    assert.match(last?.containerID ?? '', /^containerd:\/\//);
    assert.equal(pod.status?.phase, 'Running');

    const of = await waitFor('the OnFailure pod restarted', async () => {
      const p = await rn.getPod(onFailure.metadata!.name!);
      return (status(p, 'crash')?.restartCount ?? 0) >= 2 && p;
    }, 30_000);
    assert.equal(status(of, 'crash')?.lastState?.terminated?.exitCode, 5);

    const evs = await waitFor('Created, Started and BackOff events', async () => {
      const e = await eventsOf(name);
      return ['Created', 'Started', 'BackOff'].every((r) => e.some((x) => x.reason === r)) && e;
    });
    const backOff = evs.find((e) => e.reason === 'BackOff')!;
    assert.equal(backOff.type, 'Warning');
    assert.equal(backOff.message, `Back-off restarting failed container crash in pod ${name}_default(${always.metadata!.uid})`);
    assert.equal(backOff.involvedObject.fieldPath, 'spec.containers{crash}');
    const started = evs.find((e) => e.reason === 'Started')!;
    assert.equal(started.message, 'Started container crash');
    assert.equal(started.reportingComponent, 'kubelet');
    assert.equal(started.reportingInstance, rn.nodeName);
  });

  it('ends a container over its memory limit terminated with reason OOMKilled, exit code 137', async () => {
    const created = await rn.createPod({
      restartPolicy: 'Never',
      containers: [{ name: 'hog', image: 'busybox', command: ['sh', '-c', 'x=0123456789; while :; do x=$x$x; done'], resources: { limits: { memory: '20Mi' } } }],
    });
    const pod = await rn.podIn(created.metadata!.name!, 'Failed', 60_000);
    const t = status(pod, 'hog')?.state?.terminated;
    assert.equal(t?.reason, 'OOMKilled');
    assert.equal(t?.exitCode, 137);
  });

  it('runs init containers in order before the app container: Pending/Init:N/M, Initialized, then Running; a failed one fails a Never pod and crash-loops an Always pod', async () => {
    const ordered = await rn.createPod({
      initContainers: [
        { name: 'first', image: 'busybox', command: ['sh', '-c', 'sleep 1.5'] },
        { name: 'second', image: 'busybox', command: ['sh', '-c', 'sleep 1'] },
      ],
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
    });
    const never = await rn.createPod({
      restartPolicy: 'Never',
      initContainers: [{ name: 'bad', image: 'busybox', command: ['sh', '-c', 'exit 2'] }],
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
    });
    const always = await rn.createPod({
      initContainers: [{ name: 'bad', image: 'busybox', command: ['sh', '-c', 'exit 2'] }],
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }],
    });
    const name = ordered.metadata!.name!;
    // while the first runs: Pending, not Initialized, the app waits in PodInitializing; kubectl says Init:0/2
    const early = await waitFor(`${name}'s first init container running`, async () => {
      const p = await rn.getPod(name);
      return status(p, 'first')?.state?.running && p;
    });
    assert.equal(early.status?.phase, 'Pending');
    const init = early.status?.conditions?.find((c) => c.type === 'Initialized');
    assert.equal(init?.status, 'False');
    assert.equal(init?.reason, 'ContainersNotInitialized');
    assert.equal(init?.message, 'containers with incomplete status: [first second]');
    assert.equal(status(early, 'app')?.state?.waiting?.reason, 'PodInitializing');
    assert.match(await k('get', 'pod', name, '--no-headers'), /Init:0\/2/);

    const pod = await rn.podIn(name, 'Running');
    const [first, second] = pod.status!.initContainerStatuses!;
    assert.deepEqual([first!.name, second!.name], ['first', 'second']);
    for (const s of [first!, second!]) {
      assert.equal(s.state?.terminated?.exitCode, 0);
      assert.equal(s.state?.terminated?.reason, 'Completed');
      assert.equal(s.ready, true);
    }
    // in order: the second started after the first finished, the app after the second
    assert.ok(first!.state!.terminated!.finishedAt! <= second!.state!.terminated!.startedAt!, JSON.stringify(pod.status!.initContainerStatuses));
    assert.ok(first!.state!.terminated!.startedAt! < second!.state!.terminated!.startedAt!);
    assert.ok(second!.state!.terminated!.finishedAt! <= status(pod, 'app')!.state!.running!.startedAt!);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');

    const failed = await rn.podIn(never.metadata!.name!, 'Failed');
    assert.equal(status(failed, 'bad')?.state?.terminated?.exitCode, 2);
    assert.equal(status(failed, 'app')?.state?.waiting?.reason, 'PodInitializing');

    const looping = await waitFor('the Always pod’s init container crash-looping', async () => {
      const p = await rn.getPod(always.metadata!.name!);
      const st = status(p, 'bad');
      return (st?.restartCount ?? 0) >= 2 && st?.state?.waiting?.reason === 'CrashLoopBackOff' && p;
    }, 30_000);
    assert.equal(looping.status?.phase, 'Pending');
    assert.equal(status(looping, 'bad')?.lastState?.terminated?.exitCode, 2);
    assert.equal(status(looping, 'app')?.state?.waiting?.reason, 'PodInitializing');
    // the back-off is short here: ask until kubectl catches the pod waiting
    await waitFor('kubectl showing Init:CrashLoopBackOff', async () => /Init:CrashLoopBackOff/.test(await k('get', 'pod', always.metadata!.name!, '--no-headers')), 20_000);
  });

  it('runs postStart after the start (a failing one: FailedPostStartHook, the container killed)', async () => {
    const ok = await rn.createPod({
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo hooked > /tmp/poststart'] } } } }],
    });
    const bad = await rn.createPod({
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 1'] } } } }],
    });
    const running = await rn.podIn(ok.metadata!.name!, 'Running');
    const out = await rn.cri.execSync(status(running, 'c')!.containerID!.replace('containerd://', ''), ['cat', '/tmp/poststart'], 10);
    assert.equal(out.stdout.toString(), 'hooked\n');
    const failed = await rn.podIn(bad.metadata!.name!, 'Failed');
    assert.ok(status(failed, 'c')?.state?.terminated, JSON.stringify(status(failed, 'c')));
    const evs = await waitFor('FailedPostStartHook and Killing events', async () => {
      const e = await eventsOf(bad.metadata!.name!);
      return e.some((x) => x.reason === 'FailedPostStartHook') && e.some((x) => x.reason === 'Killing') && e;
    });
    const hook = evs.find((e) => e.reason === 'FailedPostStartHook')!;
    assert.equal(hook.type, 'Warning');
    assert.equal(hook.message, 'PostStartHook failed');
    assert.equal(evs.find((e) => e.reason === 'Killing')!.message, 'FailedPostStartHook');
  });

  it('deletes a pod gracefully: preStop, then SIGTERM, SIGKILL after the grace period; the object goes only then', async () => {
    // preStop leaves a file, then takes 2 s; the shell's SIGTERM trap logs the file and itself
    const graceful = await rn.createPod({
      containers: [{
        name: 'c',
        image: 'busybox',
        command: ['sh', '-c', 'trap "cat /tmp/prestop; echo got-TERM; exit 0" TERM; echo started; while :; do sleep 0.1; done'],
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /tmp/prestop; sleep 2'] } } },
      }],
    });
    // ignores SIGTERM: only SIGKILL at the end of the 3 s given on delete ends it
    const stubborn = await rn.createPod({
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'] }],
    });
    const failing = await rn.createPod({
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], lifecycle: { preStop: { exec: { command: ['sh', '-c', 'exit 3'] } } } }],
    });
    const pods = await Promise.all([graceful, stubborn, failing].map((p) => rn.podIn(p.metadata!.name!, 'Running')));
    const logFile = path.join(rn.options().cri!.rootDir, 'pods', `default_${graceful.metadata!.name}_${graceful.metadata!.uid}`, 'c', '0.log');
    let log = '';
    const readLog = () => {
      try {
        log = readFileSync(logFile, 'utf8');
      } catch {
        // removed with the container: keep what was read
      }
    };
    const gone = (name: string) => rn.getPod(name).then(() => false, (e) => isNotFound(e));
    const timeGone = async (name: string, grace: number) => {
      const t0 = Date.now();
      await rn.client.delete({ ...PODS_DEFAULT, name }, { gracePeriodSeconds: grace });
      for (;;) {
        readLog();
        if (await gone(name)) return Date.now() - t0;
        if (Date.now() - t0 > 60_000) throw new Error(`pod ${name} not removed after 60 s`);
        await sleep(100);
      }
    };
    const [tGraceful, tStubborn] = await Promise.all([
      timeGone(pods[0]!.metadata!.name!, 10),
      timeGone(pods[1]!.metadata!.name!, 3),
      timeGone(pods[2]!.metadata!.name!, 1),
    ]);
    assert.ok(log.includes('prestop-ran') && log.includes('got-TERM') && log.indexOf('prestop-ran') < log.indexOf('got-TERM'), log);
    assert.ok(tGraceful! >= 2000, `removed after ${tGraceful} ms, before its 2 s preStop ended`);
    assert.ok(tStubborn! >= 3000, `removed after ${tStubborn} ms, within its 3 s grace`);
    // the delete's grace, not the spec's 30 s
    assert.ok(tStubborn! < 25_000, `removed after ${tStubborn} ms: the delete's grace period was not used`);
    const evs = await eventsOf(pods[0]!.metadata!.name!);
    assert.ok(evs.some((e) => e.reason === 'Killing' && e.message === 'Stopping container c'), JSON.stringify(evs.map((e) => e.message)));
    const failedHook = await waitFor('the FailedPreStopHook event', async () => (await eventsOf(pods[2]!.metadata!.name!)).find((e) => e.reason === 'FailedPreStopHook'));
    assert.equal(failedHook.message, 'PreStopHook failed');
  });

  it('completes a Job whose container exits 0, and fails one whose container exits 1 after backoffLimit retries (BackoffLimitExceeded)', async () => {
    // a short replacement back-off so the failing Job reaches its limit quickly
    jobs = await runTestController(rn.api.natsUrl, 'lifecycle-job', 2, (ctx) => new JobController(ctx, { podFailureBackoffMs: 200 }));
    const job = (name: string, script: string, backoffLimit: number): Job => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: 'default' },
      spec: {
        backoffLimit,
        // bound to this node: no scheduler runs in this suite
        template: { spec: { nodeName: rn.nodeName, restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['sh', '-c', script] }] } },
      },
    });
    const ref = (name?: string) => ({ ...JOBS, namespace: 'default', name });
    await rn.client.create(ref(), job('job-ok', 'echo done; exit 0', 2));
    await rn.client.create(ref(), job('job-bad', 'exit 1', 2));
    const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
    const ok = await waitFor('job-ok Complete', async () => {
      const j = await rn.client.get<Job>(ref('job-ok'));
      return condition(j, 'Complete') && j;
    }, 60_000);
    assert.equal(ok.status?.succeeded, 1);
    const bad = await waitFor('job-bad Failed', async () => {
      const j = await rn.client.get<Job>(ref('job-bad'));
      return condition(j, 'Failed') && j;
    }, 90_000);
    assert.equal(condition(bad, 'Failed')!.reason, 'BackoffLimitExceeded');
    assert.equal(bad.status?.failed, 3);
    const podsOfBad = (await rn.client.list<Pod>({ ...PODS_DEFAULT }, { labelSelector: 'batch.kubernetes.io/job-name=job-bad' })).items;
    assert.equal(podsOfBad.length, 3);
    for (const p of podsOfBad) {
      assert.equal(p.status?.phase, 'Failed');
      assert.equal(status(p, 'work')?.state?.terminated?.exitCode, 1);
    }
  });
});
