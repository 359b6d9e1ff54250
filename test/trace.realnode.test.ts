/**
 * A pod's trace on a real node (containerd through CRI; run under
 * `flock /tmp/flt-containerd.lock`): apiserver, scheduler and kubelet sample every create,
 * the pod is scheduled onto this machine and `flotilla trace pod` shows its steps, the
 * sandbox and container spans timing the real CRI calls.
 */
import assert from 'node:assert/strict';
import { startScheduler, type RunningScheduler } from '../services/scheduler/server.js';
import { TRACEPARENT_ANNOTATION, traceIdOf } from '../lib/tracing/mod.js';
import { traceCli } from './trace.js';
import { startRealNode, type RealNode } from './realnode.js';

describe('tracing on a real node (needs root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;
  let scheduler: RunningScheduler | undefined;
  const tracing = { samplingRate: 1, exportDelayMs: 100 };

  before(async function () {
    rn = await startRealNode('the tracing suite', { prefix: 'tr', api: { tracing }, kubelet: (o) => ({ ...o, tracing }) });
    scheduler = await startScheduler({ natsUrl: rn.api.natsUrl, port: 0, leaderElect: false, tracing, log: () => {} });
  });
  after(async () => {
    await scheduler?.stop();
    await rn?.stop();
  });

  it('`flotilla trace pod` shows create → scheduled → bound → sandbox → started for a busybox pod', async () => {
    const created = await rn!.createPod({ nodeName: undefined, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] });
    const traceId = traceIdOf(created.metadata?.annotations?.[TRACEPARENT_ANNOTATION]);
    assert.ok(traceId, 'the create was sampled');
    const running = await rn!.podIn(created.metadata!.name!, 'Running', 60_000);
    assert.equal(running.spec?.nodeName, rn!.nodeName, 'the scheduler placed it on the real node');
    const out = await traceCli(['pod', created.metadata!.name!, '--nats', rn!.api.natsUrl], 30_000);
    assert.match(out, new RegExp(`^trace ${traceId} `));
    assert.match(out, new RegExp(`bindingCycle\\s+kube-scheduler\\s.*node=${rn!.nodeName}`));
    assert.match(out, new RegExp(`syncPod\\s+kubelet\\s.*node=${rn!.nodeName}`));
    assert.match(out, /runtime\.v1\.RuntimeService\/RunPodSandbox\s+kubelet\s/);
    assert.match(out, /runtime\.v1\.RuntimeService\/StartContainer\s+kubelet\s.*container=app/);
    assert.match(out, /\ncreate [\d.]+ m?s → scheduled [\d.]+ m?s → bound [\d.]+ m?s → sandbox [\d.]+ m?s → started [\d.]+ m?s \([\d.]+ m?s in all\)\n$/);
  });
});
