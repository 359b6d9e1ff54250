import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { ApiClient, connectNats, Resources } from '../../../lib/client/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { runTestController, startControllers, type RunningTestController } from '../testing/controllers.js';
import { freshNats } from '../../../test/harness.js';
import { waitFor } from '../../../test/wait.js';
import { PodGCController, TAINT_OUT_OF_SERVICE, type PodGCControllerOptions } from './podgc.js';
import { metaTime } from '../../../lib/api/time.js';

const NS = 'default';
/** a user finalizer: keeps a deleted pod readable, so what the collector did to it shows */
const HOLD = 'example.com/hold';
const FAST = { gcCheckPeriodMs: 100, quarantineTimeMs: 500 };

describe('pod garbage collector against a real apiserver', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let running: RunningTestController<PodGCController> | undefined;

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url });
    nc = await connectNats(nats.url, { name: 'podgc-test' });
    client = new ApiClient(nc);
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    // every test's leftovers go, so the terminated-pod count of the next one starts at zero
    for (const p of (await client.list<Pod>({ ...Resources.pods, namespace: NS })).items) {
      if (p.metadata?.finalizers?.length) await client.patch(podRef(p.metadata.name), 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
      await client.delete(podRef(p.metadata!.name), { gracePeriodSeconds: 0 }).catch(() => undefined);
    }
    for (const n of (await client.list<Node>({ ...Resources.nodes })).items) await client.delete({ ...Resources.nodes, name: n.metadata!.name }).catch(() => undefined);
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const nodeRef = (name: string) => ({ ...Resources.nodes, name });

  const startGC = async (opts: PodGCControllerOptions = {}) => {
    running = await runTestController(server.natsUrl, 'pod-garbage-collector', 1, (ctx) => new PodGCController(ctx, { ...FAST, ...opts }));
  };

  async function addNode(name: string, ready: 'True' | 'False', taints?: Taint[]): Promise<void> {
    await client.create({ ...Resources.nodes }, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints } });
    const n = await client.get<Node>(nodeRef(name));
    const now = metaTime();
    const condition: NodeCondition = { type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady', lastHeartbeatTime: now, lastTransitionTime: now };
    await client.updateStatus(nodeRef(name), { ...n, status: { conditions: [condition] } });
  }

  async function addPod(name: string, o: { nodeName?: string; finalizers?: string[]; phase?: string; reason?: string } = {}): Promise<Pod> {
    const pod = await client.create<Pod>(podRef(), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, finalizers: o.finalizers },
      spec: { nodeName: o.nodeName, containers: [{ name: 'c', image: 'nginx' }] },
    });
    if (!o.phase) return pod;
    return client.updateStatus<Pod>(podRef(name), { ...pod, status: { ...pod.status, phase: o.phase, reason: o.reason } });
  }

  async function getPod(name: string): Promise<Pod | undefined> {
    try {
      return await client.get<Pod>(podRef(name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  const gone = async (name: string) => (await getPod(name)) === undefined;

  it('force-deletes, as Failed with DisruptionTarget DeletionByPodGC, the pods of a node that was deleted, and keeps those of a live node', async () => {
    await addNode('live', 'True');
    await addNode('doomed', 'True');
    await addPod('on-live', { nodeName: 'live', phase: 'Running' });
    await addPod('orphan', { nodeName: 'doomed', phase: 'Running' });
    // held by a finalizer, so its state after the collector's delete can be read
    const held = await addPod('orphan-held', { nodeName: 'doomed', phase: 'Running', finalizers: [HOLD] });
    await startGC();
    await client.delete(nodeRef('doomed'));

    await waitFor('the orphaned pod deleted', () => gone('orphan'), 15_000);
    const h = await waitFor('the held orphan marked for deletion', async () => {
      const p = await getPod('orphan-held');
      return p?.metadata?.deletionTimestamp ? p : undefined;
    });
    assert.equal(h.metadata?.uid, held.metadata?.uid);
    assert.equal(h.metadata?.deletionGracePeriodSeconds, 0, 'force-deleted');
    assert.equal(h.status?.phase, 'Failed');
    const target = h.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.equal(target?.status, 'True');
    assert.equal(target?.reason, 'DeletionByPodGC');
    assert.equal(target?.message, 'PodGC: node no longer exists');

    const live = await getPod('on-live');
    assert.ok(live, 'the pod of the live node is kept');
    assert.equal(live.metadata?.deletionTimestamp, undefined);
    assert.equal(live.status?.phase, 'Running');
  });

  it('force-deletes a terminating pod on a not-Ready node tainted out-of-service, and keeps one on a not-Ready node without the taint', async () => {
    await addNode('oos', 'False', [{ key: TAINT_OUT_OF_SERVICE, value: 'nodeshutdown', effect: 'NoExecute' }]);
    await addNode('down', 'False', [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]);
    await addNode('up-oos', 'True', [{ key: TAINT_OUT_OF_SERVICE, effect: 'NoExecute' }]);
    for (const [pod, node] of [
      ['on-oos', 'oos'],
      ['on-down', 'down'],
      ['on-up-oos', 'up-oos'],
    ] as const) {
      await addPod(pod, { nodeName: node, phase: 'Running' });
      // bound and running: a graceful delete waits for a kubelet that will never confirm
      await client.delete(podRef(pod));
      assert.ok((await getPod(pod))?.metadata?.deletionTimestamp, `${pod} terminating`);
    }
    await startGC();

    await waitFor('the pod on the out-of-service node deleted', () => gone('on-oos'), 15_000);
    for (const name of ['on-down', 'on-up-oos']) {
      const p = await getPod(name);
      assert.ok(p, `${name} is kept`);
      assert.equal(p.metadata?.deletionGracePeriodSeconds, 30, `${name} keeps its grace period`);
      assert.equal(p.status?.phase, 'Running', `${name} is not set Failed`);
    }
  });

  it('with a threshold of 3, deletes the evicted and then the oldest terminated pods beyond it and no running pod', async () => {
    await addPod('old-1', { phase: 'Succeeded' });
    await addPod('old-2', { phase: 'Failed' });
    // a later creationTimestamp (second resolution) under names that sort first: age, not name, decides
    await new Promise((r) => setTimeout(r, 1100));
    await addPod('a-new-1', { phase: 'Succeeded' });
    await addPod('a-new-2', { phase: 'Succeeded' });
    await addPod('a-new-3', { phase: 'Succeeded' });
    await addPod('z-evicted', { phase: 'Failed', reason: 'Evicted' });
    await addPod('a-running', { phase: 'Running' });
    await startGC({ terminatedPodThreshold: 3 });

    await waitFor('the evicted pod and the two oldest deleted', async () => (await gone('z-evicted')) && (await gone('old-1')) && (await gone('old-2')), 15_000);
    const left = (await client.list<Pod>({ ...Resources.pods, namespace: NS })).items.map((p) => p.metadata!.name).sort();
    assert.deepEqual(left, ['a-new-1', 'a-new-2', 'a-new-3', 'a-running']);
  });

  it('sets Failed and force-deletes a terminating pod never bound to a node, not a terminating pod of a healthy node', async () => {
    // the apiserver removes an unbound pod at once unless a finalizer holds it
    await addPod('unscheduled', { finalizers: [HOLD] });
    await client.delete(podRef('unscheduled'));
    // a bound terminating pod on a healthy node is the kubelet's, not the collector's
    await addNode('healthy', 'True');
    await addPod('bound', { nodeName: 'healthy', finalizers: [HOLD] });
    await client.delete(podRef('bound'));
    await startGC();

    const p = await waitFor('the unscheduled terminating pod set Failed', async () => {
      const pod = await getPod('unscheduled');
      return pod?.status?.phase === 'Failed' ? pod : undefined;
    });
    assert.ok(p.metadata?.deletionTimestamp);
    assert.deepEqual(p.metadata?.finalizers, [HOLD], 'a force delete does not override finalizers');
    const bound = await getPod('bound');
    assert.equal(bound?.status?.phase, 'Pending');
    assert.equal(bound?.metadata?.deletionGracePeriodSeconds, 30);
  });

  it('runs in the controller manager as pod-garbage-collector', async () => {
    const cm = await startControllers(server.natsUrl, ['pod-garbage-collector']);
    try {
      assert.deepEqual(cm.controllers, ['pod-garbage-collector']);
      assert.ok(cm.running().some((c) => c instanceof PodGCController));
    } finally {
      await cm.stop();
    }
  });
});
