import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../../lib/api/errors.js';
import { metaTime } from '../../../../lib/api/time.js';
import { ApiClient, connectNats, Resources } from '../../../../lib/client/mod.js';
import { testApiServer } from '../../../../test/apiserver.js';
import { runTestController, type RunningTestController } from '../../testing/controllers.js';
import { freshNats } from '../../../../test/harness.js';
import { waitFor } from '../../../../test/wait.js';
import { LABEL_TOPOLOGY_ZONE, zoneKey } from './zonestates.js';
import { NodeLifecycleController, TAINT_NOT_READY, TAINT_UNREACHABLE, type NodeLifecycleControllerOptions } from './nodelifecycle.js';

const NS = 'default';
/** a Lease's MicroTime */
const microTime = () => new Date().toISOString().replace('Z', '000Z');
const zoneOf = (zone: string) => zoneKey({ metadata: { labels: { [LABEL_TOPOLOGY_ZONE]: zone } } });
/** tolerates unreachable by key and effect, so admission adds no default for it, but not the taint's (empty) value */
const UNTOLERATED: Toleration[] = [{ key: TAINT_UNREACHABLE, operator: 'Equal', value: 'x', effect: 'NoExecute' }];
const TIMING = { nodeMonitorGracePeriodMs: 1500, nodeMonitorPeriodMs: 200 };

/**
 * An apiserver on a nats-server of its own, a node lifecycle controller with `opts`, and
 * playing the kubelets: nodes that post Ready once and renew their Leases while alive.
 */
class Cluster {
  server!: Awaited<ReturnType<typeof testApiServer>>;
  nc!: NatsConnection;
  client!: ApiClient;
  running?: RunningTestController<NodeLifecycleController>;
  readonly alive = new Set<string>();
  private renewing?: NodeJS.Timeout;

  async start(): Promise<void> {
    const nats = await freshNats();
    this.server = await testApiServer({ natsUrl: nats.url });
    this.nc = await connectNats(nats.url, { name: 'nodelifecycle-test' });
    this.client = new ApiClient(this.nc);
    this.renewing = setInterval(() => {
      for (const name of this.alive) void this.renewLease(name).catch(() => undefined);
    }, 300);
  }

  /** Starts the controller: after the nodes it should find in its first list, if any. */
  async startController(opts: NodeLifecycleControllerOptions): Promise<NodeLifecycleController> {
    this.running = await runTestController(this.server.natsUrl, 'node-lifecycle', 2, (ctx) => new NodeLifecycleController(ctx, { ...TIMING, ...opts }));
    return this.running.controller;
  }

  async stop(): Promise<void> {
    clearInterval(this.renewing);
    await this.running?.stop();
    this.client?.close();
    await this.nc?.close();
    await this.server?.stop();
  }

  nodeRef = (name: string) => ({ ...Resources.nodes, name });
  leaseRef = (name?: string) => ({ ...Resources.leases, namespace: 'kube-node-lease', name });
  podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });

  /** A Ready node in `zone` with a Lease, renewed from now on. */
  async addNode(name: string, zone?: string): Promise<void> {
    const labels: Record<string, string> = { 'kubernetes.io/hostname': name };
    if (zone) labels[LABEL_TOPOLOGY_ZONE] = zone;
    await this.client.create({ ...Resources.nodes }, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
    await this.postReady(name);
    await this.client.create(this.leaseRef(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() } });
    this.alive.add(name);
  }

  async renewLease(name: string): Promise<void> {
    await this.client.patch(this.leaseRef(name), 'merge', { spec: { renewTime: microTime() } });
  }

  async postReady(name: string): Promise<void> {
    const n = await this.client.get<Node>(this.nodeRef(name));
    const now = metaTime();
    await this.client.updateStatus(this.nodeRef(name), { ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }] } });
  }

  async addPod(name: string, nodeName: string, tolerations?: Toleration[]): Promise<Pod> {
    return this.client.create<Pod>(this.podRef(), { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeName, tolerations, containers: [{ name: 'c', image: 'nginx' }] } });
  }

  /** The pod is deleted or being deleted. */
  async podGone(name: string): Promise<boolean> {
    try {
      return !!(await this.client.get<Pod>(this.podRef(name))).metadata?.deletionTimestamp;
    } catch (e) {
      return isNotFound(e);
    }
  }

  async node(name: string): Promise<Node> {
    return this.client.get<Node>(this.nodeRef(name));
  }

  async taints(name: string): Promise<Taint[]> {
    return (await this.node(name)).spec?.taints ?? [];
  }

  async hasNoExecute(name: string): Promise<boolean> {
    return (await this.taints(name)).some((t) => t.effect === 'NoExecute' && (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY));
  }

  async ready(name: string): Promise<string | undefined> {
    return (await this.node(name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  }
}

describe('node lifecycle controller against a real apiserver', function () {
  this.timeout(60_000);

  describe('one node lost while another zone is healthy', () => {
    const c = new Cluster();
    before(async () => {
      await c.start();
      await c.startController({ nodeEvictionRate: 100 });
    });
    after(() => c.stop());

    it('marks a node whose Lease stops being renewed Unknown, taints it and evicts pods as their own tolerations say; restores it when it comes back', async () => {
      await c.addNode('n1', 'a');
      await c.addNode('n2', 'b');
      await c.addPod('short', 'n1', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]);
      await c.addPod('forever', 'n1', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }]);
      await c.addPod('untolerated', 'n1', UNTOLERATED);
      const d = await c.addPod('default', 'n1');
      assert.equal(d.spec?.tolerations?.find((t) => t.key === TAINT_UNREACHABLE)?.tolerationSeconds, 300, 'DefaultTolerationSeconds admission');
      await c.client.updateStatus(c.podRef('default'), { ...d, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });

      // renewed well within the grace period: nothing happens
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await c.ready('n1'), 'True');
      assert.deepEqual(await c.taints('n1'), []);

      c.alive.delete('n1');
      const n = await waitFor('Ready Unknown and the unreachable taints', async () => {
        const node = await c.node('n1');
        return (node.spec?.taints?.length ?? 0) === 2 ? node : undefined;
      });
      const ready = n.status!.conditions!.find((x) => x.type === 'Ready')!;
      assert.equal(ready.status, 'Unknown');
      assert.equal(ready.reason, 'NodeStatusUnknown');
      assert.equal(ready.message, 'Kubelet stopped posting node status.');
      assert.deepEqual(
        n.spec!.taints!.map((t: Taint) => [t.key, t.effect, !!t.timeAdded]),
        [
          [TAINT_UNREACHABLE, 'NoSchedule', true],
          [TAINT_UNREACHABLE, 'NoExecute', true],
        ],
      );

      await waitFor('pod untolerated evicted', () => c.podGone('untolerated'), 10_000);
      await waitFor('pod short evicted', () => c.podGone('short'), 10_000);
      const short = await c.client.get<Pod>(c.podRef('short'));
      const target = short.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
      assert.equal(target?.status, 'True');
      assert.equal(target?.reason, 'DeletionByTaintManager');
      await waitFor('pod default marked not ready', async () => (await c.client.get<Pod>(c.podRef('default'))).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False');
      assert.equal(await c.podGone('forever'), false, 'a toleration without seconds tolerates forever');
      assert.equal(await c.podGone('default'), false, 'the default toleration is 300 s');
      assert.equal(await c.hasNoExecute('n2'), false);

      // the kubelet is back: Lease renewed and Ready posted
      c.alive.add('n1');
      await c.postReady('n1');
      await waitFor('taints removed', async () => (await c.taints('n1')).length === 0);
      assert.equal(await c.ready('n1'), 'True');
      assert.equal(await c.podGone('forever'), false);
      assert.equal(await c.podGone('default'), false);
    });
  });

  describe('zone disruption', () => {
    const c = new Cluster();
    let controller: NodeLifecycleController;
    const big = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    const small = ['s1', 's2', 's3', 's4'];
    const gone = ['g1', 'g2', 'g3'];
    const lost = ['b6', 's2', 's3', 's4', ...gone];
    before(async () => {
      await c.start();
      for (const n of big) await c.addNode(n, 'big');
      for (const n of small) await c.addNode(n, 'small');
      for (const n of gone) await c.addNode(n, 'gone');
      // the lost nodes stop before the controller first hears of them, so they go silent in the same pass
      for (const n of lost) c.alive.delete(n);
      await c.addPod('b6-untolerated', 'b6', UNTOLERATED);
      await c.addPod('b6-short', 'b6', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]);
      await c.addPod('s2-untolerated', 's2', UNTOLERATED);
      await c.addPod('g1-untolerated', 'g1', UNTOLERATED);
      controller = await c.startController({ nodeEvictionRate: 100 });
    });
    after(() => c.stop());

    it('taints and evicts on one lost node of many, and on a zone lost whole while other zones are healthy (upstream: the normal rate)', async () => {
      await waitFor('b6 and the gone zone tainted NoExecute', async () => {
        for (const n of ['b6', ...gone]) if (!(await c.hasNoExecute(n))) return false;
        return true;
      });
      await waitFor('the pods of b6 evicted', async () => (await c.podGone('b6-untolerated')) && (await c.podGone('b6-short')));
      await waitFor('the pod of g1 evicted', () => c.podGone('g1-untolerated'));
      assert.equal(controller.zoneState(zoneOf('big')), 'Normal');
      assert.equal(controller.zoneState(zoneOf('gone')), 'FullDisruption');
      for (const n of ['b1', 'b2', 'b3', 'b4', 'b5', 's1']) assert.equal(await c.hasNoExecute(n), false, n);
    });

    it('stops tainting in a small zone where most nodes are not ready (PartialDisruption)', async () => {
      await waitFor('s2..s4 Unknown with the unreachable NoSchedule taint', async () => {
        for (const n of ['s2', 's3', 's4']) {
          if ((await c.ready(n)) !== 'Unknown') return false;
          if (!(await c.taints(n)).some((t) => t.key === TAINT_UNREACHABLE && t.effect === 'NoSchedule')) return false;
        }
        return true;
      });
      assert.equal(controller.zoneState(zoneOf('small')), 'PartialDisruption');
      // many tainting passes at 100 nodes a second: none of them may touch the small zone
      await new Promise((r) => setTimeout(r, 1000));
      for (const n of ['s2', 's3', 's4']) assert.equal(await c.hasNoExecute(n), false, n);
      assert.equal(await c.podGone('s2-untolerated'), false);
    });
  });

  describe('the rate limit', () => {
    const c = new Cluster();
    const nodes = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'];
    const lost = ['r6', 'r7', 'r8'];
    before(async () => {
      await c.start();
      for (const n of nodes) await c.addNode(n, 'r');
      for (const n of lost) c.alive.delete(n);
      await c.startController({ nodeEvictionRate: 0.5 });
    });
    after(() => c.stop());

    it('spaces the NoExecute taints of a zone: one node at a time', async () => {
      const tainted = async () => {
        const out: string[] = [];
        for (const n of lost) if (await c.hasNoExecute(n)) out.push(n);
        return out;
      };
      // all three are queued in the same pass; tokens come one every 2 s
      await waitFor('Unknown', async () => (await Promise.all(lost.map((n) => c.ready(n)))).every((s) => s === 'Unknown'));
      const first = await waitFor('a first taint', async () => {
        const t = await tainted();
        return t.length >= 1 ? t : undefined;
      });
      assert.equal(first.length, 1, `one node tainted at the moment the first is, saw ${first.join(',')}`);
      const second = await waitFor('a second taint', async () => {
        const t = await tainted();
        return t.length >= 2 ? t : undefined;
      });
      assert.equal(second.length, 2, `two tainted at the moment the second is, saw ${second.join(',')}`);
      assert.ok(second.includes(first[0]!));
      await waitFor('all three tainted', async () => (await tainted()).length === 3);
      for (const n of ['r1', 'r2', 'r3', 'r4', 'r5']) assert.equal(await c.hasNoExecute(n), false, n);
    });
  });

  describe('every zone fully disrupted', () => {
    const c = new Cluster();
    let controller: NodeLifecycleController;
    before(async () => {
      await c.start();
      for (const n of ['x1', 'x2']) await c.addNode(n, 'x');
      for (const n of ['y1', 'y2']) await c.addNode(n, 'y');
      await c.addPod('x1-default', 'x1');
      controller = await c.startController({ nodeEvictionRate: 100 });
    });
    after(() => c.stop());

    it('taints a lost zone, then removes every NoExecute taint and taints nothing once no node is Ready, and taints again when one is back', async () => {
      c.alive.delete('x1');
      c.alive.delete('x2');
      await waitFor('zone x tainted NoExecute', async () => (await c.hasNoExecute('x1')) && (await c.hasNoExecute('x2')));

      c.alive.delete('y1');
      c.alive.delete('y2');
      const all = ['x1', 'x2', 'y1', 'y2'];
      await waitFor('every node Unknown and no NoExecute taint', async () => {
        for (const n of all) if ((await c.ready(n)) !== 'Unknown' || (await c.hasNoExecute(n))) return false;
        return true;
      });
      assert.equal(controller.zoneState(zoneOf('x')), 'FullDisruption');
      assert.equal(controller.zoneState(zoneOf('y')), 'FullDisruption');
      // many passes later: still nothing tainted NoExecute, the NoSchedule taints stay
      await new Promise((r) => setTimeout(r, 1000));
      for (const n of all) {
        const taints = await c.taints(n);
        assert.ok(!taints.some((t) => t.effect === 'NoExecute'), `${n}: ${JSON.stringify(taints)}`);
        assert.ok(taints.some((t) => t.key === TAINT_UNREACHABLE && t.effect === 'NoSchedule'), n);
      }
      assert.equal(await c.podGone('x1-default'), false);

      c.alive.add('y1');
      await c.postReady('y1');
      await waitFor('zone x tainted NoExecute again', async () => (await c.hasNoExecute('x1')) && (await c.hasNoExecute('x2')));
      assert.equal(await c.hasNoExecute('y1'), false);
    });
  });
});
