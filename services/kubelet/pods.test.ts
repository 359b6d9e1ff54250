import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { waitFor } from '../../test/wait.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { isNotFound } from '../../lib/api/errors.js';
import { EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION } from './hollow.js';
import { startKubelet, type RunningKubelet } from './server.js';
import { cidrContains } from '../../lib/net/mod.js';
import { podPhase } from './pods.js';

describe('kubelet pod phase (upstream getPhase)', () => {
  const run = { state: { running: { startedAt: 't' } } };
  const exited = (exitCode: number) => ({ state: { terminated: { exitCode } } });
  const crashing = { state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } };
  const creating = { state: { waiting: { reason: 'ContainerCreating' } } };
  const s = (...xs: object[]) => xs.map((x, i) => ({ name: `c${i}`, image: 'i', imageID: '', ready: false, restartCount: 0, ...x }));
  it('is Pending while a container has not run, Running while one runs', () => {
    assert.equal(podPhase(s(creating, run), 'Always'), 'Pending');
    assert.equal(podPhase(s(run, exited(0)), 'Never'), 'Running');
  });
  it('is Succeeded or Failed once every container exited for good, Running while restarts are due', () => {
    assert.equal(podPhase(s(exited(0), exited(0)), 'Never'), 'Succeeded');
    assert.equal(podPhase(s(exited(0), exited(2)), 'Never'), 'Failed');
    assert.equal(podPhase(s(exited(0)), 'OnFailure'), 'Succeeded');
    assert.equal(podPhase(s(crashing), 'OnFailure'), 'Running');
    assert.equal(podPhase(s(crashing), 'Always'), 'Running');
  });
  it('is Pending until every init container exited 0, Failed when one failed under Never', () => {
    const initWaiting = { state: { waiting: { reason: 'PodInitializing' } } };
    assert.equal(podPhase(s(initWaiting), 'Always', s(exited(0), run)), 'Pending');
    assert.equal(podPhase(s(initWaiting), 'Always', s(crashing)), 'Pending');
    assert.equal(podPhase(s(initWaiting), 'Never', s(exited(2))), 'Failed');
    assert.equal(podPhase(s(run), 'Always', s(exited(0), exited(0))), 'Running');
  });
});

describe('kubelet pod lifecycle on hollow nodes', function () {
  this.timeout(60_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let kubelet: RunningKubelet;
  let nc: NatsConnection;
  let client: ApiClient;
  let n = 0;

  before(async () => {
    api = await testApiServer();
    kubelet = await startKubelet({ natsUrl: api.natsUrl, nodes: 2, namePrefix: 'pl-', pod: { flushMs: 20 }, startDelayMs: 100, log: () => {} });
    nc = await connectNats(api.natsUrl, { name: 'kubelet-pods-test' });
    client = new ApiClient(nc);
  });
  after(async () => {
    await kubelet?.stop();
    client?.close();
    await nc?.close();
    await api?.stop();
  });

  const pods = (ns = 'default') => ({ ...Resources.pods, namespace: ns });
  async function createPod(spec: Partial<Pod['spec']>, annotations: Record<string, string> = {}, node = 'pl-0'): Promise<string> {
    const name = `p${++n}`;
    await client.create<Pod>(pods(), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, annotations },
      spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx' }], ...spec },
    });
    return name;
  }
  const get = (name: string) => client.get<Pod>({ ...pods(), name });

  it('moves a bound pod to Running with the four conditions, container statuses and an address from its node', async () => {
    const name = await createPod({}, {}, 'pl-1');
    const pod = await waitFor('pod Running', async () => {
      const p = await get(name);
      return p.status?.phase === 'Running' && p;
    });
    const node = await client.get<Node>({ ...Resources.nodes, name: 'pl-1' });
    const st = pod.status!;
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
      const c = st.conditions?.find((x) => x.type === type);
      assert.equal(c?.status, 'True', `${type}: ${JSON.stringify(st.conditions)}`);
      assert.ok(c?.lastTransitionTime, `${type} lastTransitionTime`);
    }
    const range = kubelet.nodes.get('pl-1')!.ipam.cidr;
    assert.ok(st.podIP && cidrContains(range, st.podIP), `${st.podIP} in ${range}`);
    assert.deepEqual(st.podIPs, [{ ip: st.podIP }]);
    assert.equal(st.hostIP, node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address);
    assert.ok(st.startTime);
    const cs = st.containerStatuses![0]!;
    assert.equal(cs.name, 'app');
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state?.running?.startedAt);
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.match(cs.imageID, /@sha256:/);
    assert.match(cs.containerID!, /^hollow:\/\/[0-9a-f]+$/);
  });

  it('gives pods on one node distinct addresses', async () => {
    const names = await Promise.all([createPod({}), createPod({}), createPod({})]);
    const ips = await waitFor('three addresses', async () => {
      const got = await Promise.all(names.map(async (nm) => (await get(nm)).status?.podIP));
      return got.every(Boolean) && got;
    });
    assert.equal(new Set(ips).size, 3);
  });

  it('fails a restartPolicy Never pod whose container exits non-zero, with the terminated state', async () => {
    const name = await createPod({ restartPolicy: 'Never' }, { [RUN_SECONDS_ANNOTATION]: '0.2', [EXIT_CODE_ANNOTATION]: '3' });
    const pod = await waitFor('pod Failed', async () => {
      const p = await get(name);
      return p.status?.phase === 'Failed' && p;
    });
    const t = pod.status!.containerStatuses![0]!.state?.terminated;
    assert.equal(t?.exitCode, 3);
    assert.equal(t?.reason, 'Error');
    assert.ok(t?.startedAt && t.finishedAt && t.containerID);
    const ready = pod.status!.conditions!.find((c) => c.type === 'Ready');
    assert.deepEqual([ready?.status, ready?.reason], ['False', 'PodCompleted']);
  });

  it('succeeds a restartPolicy Never pod whose container exits 0, and an OnFailure one', async () => {
    const never = await createPod({ restartPolicy: 'Never' }, { [RUN_SECONDS_ANNOTATION]: '0.2' });
    const onFailure = await createPod({ restartPolicy: 'OnFailure' }, { [RUN_SECONDS_ANNOTATION]: '0.2', [EXIT_CODE_ANNOTATION]: '0' });
    for (const name of [never, onFailure]) {
      const pod = await waitFor(`pod ${name} Succeeded`, async () => {
        const p = await get(name);
        return p.status?.phase === 'Succeeded' && p;
      });
      assert.equal(pod.status!.containerStatuses![0]!.state?.terminated?.exitCode, 0);
      assert.equal(pod.status!.containerStatuses![0]!.state?.terminated?.reason, 'Completed');
      assert.equal(pod.status!.containerStatuses![0]!.restartCount, 0);
    }
  });

  it('restarts a failing OnFailure container, counting restarts, then backs off in CrashLoopBackOff', async () => {
    const name = await createPod({ restartPolicy: 'OnFailure' }, { [RUN_SECONDS_ANNOTATION]: '0.3', [EXIT_CODE_ANNOTATION]: '1' });
    const pod = await waitFor('CrashLoopBackOff after a restart', async () => {
      const p = await get(name);
      const cs = p.status?.containerStatuses?.[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && p;
    });
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(pod.status!.phase, 'Running');
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.match(cs.state!.waiting!.message!, /^back-off 10s restarting failed container=app pod=p\d+_default\(/);
    assert.equal(cs.ready, false);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
  });

  it('restarts an Always container that exits 0 too', async () => {
    const name = await createPod({ restartPolicy: 'Always' }, { [RUN_SECONDS_ANNOTATION]: '0.2' });
    await waitFor('a restart', async () => ((await get(name)).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
  });

  it('stops a pod deleted gracefully and removes the object', async () => {
    const name = await createPod({}, {}, 'pl-1');
    await waitFor('pod Running', async () => (await get(name)).status?.phase === 'Running');
    const held = (await client.delete<Pod>({ ...pods(), name })) as Pod;
    // bound and running: the apiserver keeps it with a deletionTimestamp for the kubelet
    assert.ok(held.metadata?.deletionTimestamp, 'graceful: the object lingers');
    await waitFor('pod removed', async () => {
      try {
        await get(name);
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    assert.equal(kubelet.nodes.get('pl-1')!.ipam.ipOf(`default/${name}`), undefined);
  });

  it('ignores pods bound to nodes it does not carry', async () => {
    const name = await createPod({}, {}, 'elsewhere');
    await new Promise((r) => setTimeout(r, 500));
    const p = await get(name);
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.status?.containerStatuses, undefined);
  });
});
