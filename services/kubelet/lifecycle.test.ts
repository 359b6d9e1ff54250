/**
 * The container lifecycle on a real node (containerd through CRI, needs root): restart
 * policies with the crash-loop back-off (shortened to 1 s doubling to 4 s for the suite),
 * CrashLoopBackOff and lastState, OOMKilled, and the kubelet's container events.
 * One containerd for the file; pods run in parallel.
 */
import assert from 'node:assert/strict';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Resources } from '../../lib/client/mod.js';
import { startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';

describe('kubelet --runtime cri: container lifecycle (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode;

  before(async () => {
    rn = await startRealNode('the lifecycle suite', {
      prefix: 'lc',
      kubelet: (o) => ({ ...o, pod: { ...o.pod, backOff: { initialMs: 1000, maxMs: 4000 } } }),
    });
  });
  after(async () => {
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
});
