/**
 * The scheduler end to end: a real nats-server, a real apiserver, the scheduler service
 * as `flotilla scheduler` runs it, and objects created through the API as a user would.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { writeKubeconfig } from '../../cli/kubeconfig.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { ServiceUnavailableError } from '../../lib/api/errors.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { startScheduler, type RunningScheduler } from './server.js';
import { statusPatchBytes } from './scheduler.js';
import { MAX_DECODED_MESSAGE_BYTES } from '../../lib/client/mod.js';
import { waitFor } from '../../test/wait.js';

const run = promisify(execFile);

function node(name: string, cpu: string, pods = '110'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { capacity: { cpu, memory: '8Gi', pods }, allocatable: { cpu, memory: '8Gi', pods } },
  };
}

function pod(name: string, cpu: string, schedulerName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { schedulerName, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
  };
}


/** A fresh nats-server and apiserver for one suite, and the helpers its tests use. */
function cluster(bucket: string) {
  const c = {
    server: undefined as unknown as Awaited<ReturnType<typeof testApiServer>>,
    natsUrl: '',
    nc: undefined as unknown as NatsConnection,
    client: undefined as unknown as ApiClient,
    /** stopped after each test */
    running: [] as RunningScheduler[],
    /** stopped after the suite, before its apiserver */
    suiteScoped: [] as RunningScheduler[],
    getPod: (name: string) => c.client.get<Pod>({ ...Resources.pods, namespace: 'default', name }),
    createPod: (p: Pod) => c.client.create<Pod>({ ...Resources.pods, namespace: 'default' }, p),
    events: async (name: string, reason: string) =>
      (await c.client.list<Event>({ ...Resources.events, namespace: 'default' }, { fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items,
    boundTo: (name: string) => waitFor(`pod ${name} to be bound`, async () => (await c.getPod(name)).spec?.nodeName),
  };
  before(async () => {
    const nats = await freshNats();
    c.natsUrl = nats.url;
    c.server = await testApiServer({ natsUrl: c.natsUrl, bucket });
    c.nc = await connectNats(c.natsUrl, { name: bucket });
    c.client = new ApiClient(c.nc);
  });
  afterEach(async () => {
    for (const r of c.running.splice(0)) await r.stop();
  });
  after(async () => {
    for (const r of c.suiteScoped.splice(0)) await r.stop();
    c.client.close();
    await c.nc.close();
    await c.server.stop();
  });
  return c;
}

const FLAKY_PROFILE = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: flaky-binder
`;

const profile = (name: string) => `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: ${name}
`;

describe('scheduler: status patch batches', () => {
  it("sizes a PodScheduled=False patch at least as large as its JSON, so a batch stays under MAX_DECODED_MESSAGE_BYTES", () => {
    const message = '0/5000 nodes are available: 5000 Insufficient cpu. preemption: 0/5000 nodes are available: 5000 No preemption victims found for incoming pod.';
    const item = {
      ...Resources.pods,
      namespace: 'namespace-1',
      name: 'pod-abcde',
      subresource: 'status',
      patchType: 'strategic' as const,
      body: { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: '2026-12-04T21:00:00Z' }], nominatedNodeName: 'node-1' } },
    };
    assert.ok(statusPatchBytes(item) >= JSON.stringify(item).length, `${statusPatchBytes(item)} < ${JSON.stringify(item).length}`);
    assert.ok(500 * JSON.stringify(item).length > MAX_DECODED_MESSAGE_BYTES, 'a full batch of 500 would be over the limit');
  });
});

describe('scheduler: one scheduler against a real apiserver', function () {
  this.timeout(90_000);
  const c = cluster('scheduler-e2e-one');
  let s: RunningScheduler;
  before(async () => {
    s = await startScheduler({ natsUrl: c.natsUrl, port: 0, leaderElect: false, coreKind: 'reference', log: () => {} });
    c.suiteScoped.push(s);
  });

  it('binds a pod to a node that fits and records a Scheduled event', async () => {
    await c.client.create(Resources.nodes, node('n1', '2'));
    await c.createPod(pod('web-1', '500m'));
    assert.equal(await c.boundTo('web-1'), 'n1');
    const ev = await waitFor('the Scheduled event', async () => (await c.events('web-1', 'Scheduled'))[0]);
    assert.equal(ev.message, 'Successfully assigned default/web-1 to n1');
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.reportingComponent, 'default-scheduler');
    const metrics = await (await fetch(s.metricsUrl)).text();
    assert.match(metrics, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 1/);
    assert.match(metrics, /scheduler_pod_scheduling_sli_duration_seconds_count\{attempts="1"\} 1/);
  });

  it('marks a pod no node fits Unschedulable with the upstream message, then schedules it once a node that fits is added', async () => {
    await c.createPod(pod('huge', '16'));
    // the node could not hold 16 cpu even empty: preemption is not tried (upstream NodeResourcesFit's Unresolvable)
    const expected = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
    const cond = await waitFor('PodScheduled=False', async () => (await c.getPod('huge')).status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False'));
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, expected);
    const ev = await waitFor('the FailedScheduling event', async () => (await c.events('huge', 'FailedScheduling'))[0]);
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, expected);
    assert.equal((await c.getPod('huge')).spec?.nodeName, undefined);
    assert.equal(s.scheduler.queue.whereIs('default/huge'), 'unschedulable');

    // kubectl describe shows the message, as a user reads it
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-scheduler-e2e-'));
    const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), c.server.httpUrl);
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'describe', 'pod', 'huge']);
    assert.match(stdout, /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/1 nodes are available: 1 Insufficient cpu\./);

    // the node add moves it out of unschedulablePods (no 5-minute wait) and it lands there
    await c.client.create(Resources.nodes, node('n-big', '32'));
    assert.equal(await c.boundTo('huge'), 'n-big');
  });

  it('ignores pods that name another scheduler', async () => {
    await c.createPod(pod('not-mine', '100m', 'nobody-scheduler'));
    await c.createPod(pod('mine-after', '100m'));
    await c.boundTo('mine-after');
    assert.equal(s.scheduler.queue.entry('default/not-mine'), undefined);
    assert.equal((await c.getPod('not-mine')).spec?.nodeName, undefined);
  });
});

describe('scheduler: binding failure', function () {
  this.timeout(90_000);
  const c = cluster('scheduler-e2e-binding');

  it('forgets the assumed pod when its binding fails and binds it on the retry', async () => {
    await c.client.create(Resources.nodes, node('one-slot', '4', '1'));
    let failures = 0;
    const s = await startScheduler({
      natsUrl: c.natsUrl,
      port: 0,
      leaderElect: false,
      coreKind: 'reference',
      log: () => {},
      configText: FLAKY_PROFILE,
      bindClient: (api) => ({
        batchBindOutcomes: async (items) => {
          if (failures++ === 0) throw new ServiceUnavailableError('injected: the first binding request fails');
          return api.batchBindOutcomes(items);
        },
      }),
    });
    c.running.push(s);
    await c.createPod(pod('retry-me', '100m', 'flaky-binder'));
    // the node takes one pod: had the failed binding's assumption stayed, the retry would find it full
    assert.equal(await c.boundTo('retry-me'), 'one-slot');
    assert.equal(failures, 2);
    const rejected = await waitFor('the FailedScheduling event', async () => (await c.events('retry-me', 'FailedScheduling'))[0]);
    assert.match(rejected.message ?? '', /^Binding rejected: injected: the first binding request fails/);
    assert.match(await (await fetch(s.metricsUrl)).text(), /scheduler_schedule_attempts_total\{result="error",profile="flaky-binder"\} 1/);
  });
});

describe('scheduler: two schedulers side by side', function () {
  this.timeout(90_000);
  const c = cluster('scheduler-e2e-two');

  it('each binds only the pods that name it', async () => {
    await c.client.create(Resources.nodes, node('shared', '8'));
    const a = await startScheduler({ natsUrl: c.natsUrl, port: 0, leaderElect: false, coreKind: 'reference', configText: profile('alpha'), identity: 'alpha-1', log: () => {} });
    c.running.push(a);
    const b = await startScheduler({ natsUrl: c.natsUrl, port: 0, leaderElect: false, coreKind: 'reference', configText: profile('beta'), identity: 'beta-1', log: () => {} });
    c.running.push(b);
    await c.createPod(pod('for-alpha', '100m', 'alpha'));
    await c.createPod(pod('for-beta', '100m', 'beta'));
    await c.boundTo('for-alpha');
    await c.boundTo('for-beta');
    const byA = await waitFor('alpha Scheduled event', async () => (await c.events('for-alpha', 'Scheduled'))[0]);
    const byB = await waitFor('beta Scheduled event', async () => (await c.events('for-beta', 'Scheduled'))[0]);
    assert.equal(byA.reportingComponent, 'alpha');
    assert.equal(byA.reportingInstance, 'alpha-1');
    assert.equal(byB.reportingComponent, 'beta');
    assert.equal(byB.reportingInstance, 'beta-1');
    // the counters every profile starts with at 0 aside
    const attempts = async (r: RunningScheduler) => ((await (await fetch(r.metricsUrl)).text()).match(/scheduler_schedule_attempts_total\{[^}]*\} \d+/g) ?? []).filter((l) => !l.endsWith(' 0'));
    assert.deepEqual(await attempts(a), ['scheduler_schedule_attempts_total{result="scheduled",profile="alpha"} 1']);
    assert.deepEqual(await attempts(b), ['scheduler_schedule_attempts_total{result="scheduled",profile="beta"} 1']);
  });
});

describe('scheduler: leader election', function () {
  this.timeout(90_000);
  const c = cluster('scheduler-e2e-leader');

  it('only the leader schedules, and the standby takes over within 15 s once the leader stops', async () => {
    await c.client.create(Resources.nodes, node('ha', '8'));
    const one = await startScheduler({ natsUrl: c.natsUrl, port: 0, coreKind: 'reference', identity: 'replica-1', log: () => {} });
    c.running.push(one);
    const two = await startScheduler({ natsUrl: c.natsUrl, port: 0, coreKind: 'reference', identity: 'replica-2', log: () => {} });
    c.running.push(two);
    await waitFor('a leader', async () => one.isLeader() || two.isLeader() || undefined);
    const [leader, standby] = one.isLeader() ? [one, two] : [two, one];
    assert.equal(standby.isLeader(), false);
    await c.createPod(pod('before-failover', '100m'));
    await c.boundTo('before-failover');
    const first = await waitFor('Scheduled event', async () => (await c.events('before-failover', 'Scheduled'))[0]);
    assert.equal(first.reportingInstance, leader.identity);

    await leader.stop();
    await c.createPod(pod('after-failover', '100m'));
    await waitFor('the standby to bind the new pod', async () => (await c.getPod('after-failover')).spec?.nodeName, 15_000);
    assert.ok(standby.isLeader());
    const ev = await waitFor('Scheduled event', async () => (await c.events('after-failover', 'Scheduled'))[0]);
    assert.equal(ev.reportingInstance, standby.identity);
  });
});
