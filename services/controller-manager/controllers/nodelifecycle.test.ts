import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { ApiClient, Resources } from '../../../lib/client/client.js';
import { connectNats } from '../../../lib/client/connect.js';
import { EventRecorder } from '../../../lib/client/events.js';
import { SharedInformerFactory } from '../../../lib/client/informer.js';
import { testApiServer } from '../../../test/apiserver.js';
import { freshNats } from '../../../test/harness.js';
import { waitFor } from '../../../test/wait.js';
import { evictionTime, NodeLifecycleController, TAINT_UNREACHABLE } from './nodelifecycle.js';

const NS = 'default';
/** a Lease's MicroTime */
const microTime = () => new Date().toISOString().replace('Z', '000Z');
const iso = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('node lifecycle controller against a real apiserver', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let informers: SharedInformerFactory;
  let recorder: EventRecorder;
  let controller: NodeLifecycleController;
  const abort = new AbortController();
  let running: Promise<void>;
  let renewing: NodeJS.Timeout | undefined;
  const nodeRef = (name: string) => ({ ...Resources.nodes, name });
  const leaseRef = (name?: string) => ({ ...Resources.leases, namespace: 'kube-node-lease', name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const podGone = async (name: string) => {
    try {
      const p = await client.get<Pod>(podRef(name));
      return !!p.metadata?.deletionTimestamp;
    } catch (e) {
      return isNotFound(e);
    }
  };
  const renewLease = async (name: string) => {
    const l = await client.get<Lease>(leaseRef(name));
    await client.update(leaseRef(name), { ...l, spec: { ...l.spec, renewTime: microTime() } });
  };
  const postReady = async (name: string) => {
    const n = await client.get<Node>(nodeRef(name));
    const now = iso();
    await client.updateStatus(nodeRef(name), { ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] } });
  };

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url });
    nc = await connectNats(nats.url, { name: 'nodelifecycle-test' });
    client = new ApiClient(nc);
    informers = new SharedInformerFactory(client);
    recorder = new EventRecorder({ client, reportingController: 'node-controller', reportingInstance: 'test' });
    controller = new NodeLifecycleController(
      { client, informers, recorder: () => recorder, log: () => undefined },
      { nodeMonitorGracePeriodMs: 1500, nodeMonitorPeriodMs: 200 },
    );
    informers.start();
    running = controller.run(2, abort.signal);
  });
  after(async () => {
    clearInterval(renewing);
    abort.abort();
    await controller?.stop();
    await running;
    await recorder?.stop();
    await informers?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('marks a node whose Lease stops being renewed Unknown, taints it and evicts pods whose toleration ran out; restores it when it comes back', async () => {
    await client.create({ ...Resources.nodes }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await postReady('n1');
    await client.create(leaseRef(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: microTime() } });
    renewing = setInterval(() => void renewLease('n1').catch(() => undefined), 300);

    const pod = (name: string, tolerations?: Toleration[]): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: { nodeName: 'n1', tolerations, containers: [{ name: 'c', image: 'nginx' }] },
    });
    await client.create(podRef(), pod('short', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]));
    await client.create(podRef(), pod('forever', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }]));
    await client.create(podRef(), pod('default'));
    const d = await client.get<Pod>(podRef('default'));
    await client.updateStatus(podRef('default'), { ...d, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });

    // renewed well within the grace period: nothing happens
    await new Promise((r) => setTimeout(r, 2500));
    let n = await client.get<Node>(nodeRef('n1'));
    assert.equal(n.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
    assert.equal(n.spec?.taints, undefined);

    clearInterval(renewing);
    n = await waitFor('Ready Unknown and the unreachable taints', async () => {
      const node = await client.get<Node>(nodeRef('n1'));
      return (node.spec?.taints?.length ?? 0) === 2 ? node : undefined;
    });
    const ready = n.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    const taints = n.spec!.taints!.map((t: Taint) => [t.key, t.effect, !!t.timeAdded]);
    assert.deepEqual(taints, [[TAINT_UNREACHABLE, 'NoSchedule', false], [TAINT_UNREACHABLE, 'NoExecute', true]]);

    await waitFor('pod short evicted', () => podGone('short'), 10_000);
    await waitFor('pod default marked not ready', async () => (await client.get<Pod>(podRef('default'))).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False');
    assert.equal(await podGone('forever'), false, 'a toleration without seconds tolerates forever');
    assert.equal(await podGone('default'), false, 'the default toleration is 300 s');

    // the kubelet is back: Lease renewed and Ready posted
    renewing = setInterval(() => void renewLease('n1').catch(() => undefined), 300);
    await postReady('n1');
    await waitFor('taints removed', async () => (await client.get<Node>(nodeRef('n1'))).spec?.taints === undefined);
    assert.equal((await client.get<Node>(nodeRef('n1'))).status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
    assert.equal(await podGone('forever'), false);
  });
});

describe('evictionTime', () => {
  const added = '2024-01-01T00:00:00Z';
  const t0 = Date.parse(added);
  const unreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: added };
  const pod = (tolerations?: Toleration[]): Pod => ({ spec: { containers: [], tolerations } });

  it('gives a pod without a toleration of unreachable the default toleration seconds', () => {
    assert.equal(evictionTime(pod(), [unreachable], 300), t0 + 300_000);
  });
  it('honours the pod\'s own tolerationSeconds, and none means forever', () => {
    assert.equal(evictionTime(pod([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }]), [unreachable], 300), t0 + 5000);
    assert.equal(evictionTime(pod([{ operator: 'Exists' }]), [unreachable], 300), undefined);
  });
  it('evicts at once for a NoExecute taint the pod does not tolerate', () => {
    assert.equal(evictionTime(pod(), [unreachable, { key: 'dedicated', value: 'x', effect: 'NoExecute' }], 300), 0);
    assert.equal(evictionTime(pod([{ key: 'dedicated', operator: 'Equal', value: 'x', effect: 'NoExecute' }]), [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }], 300), undefined);
  });
});
