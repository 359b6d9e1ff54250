/**
 * Issue 5's "done means", as a user tries it: the README's first command (`flotilla up`)
 * with 100 hollow nodes, the stock kubectl against it, and a watcher of the test's own
 * that sees every change. The steps share one cluster and run in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Pod, Node } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { readState } from '../cli/datafolder.js';
import { ApiClient, connectNats, Resources, SharedInformer } from '../lib/client/mod.js';
import { descendants, kubectl, launchUp, spawnFlotilla, stopChild, type Launch } from './cluster.js';
import { waitFor } from './wait.js';

const NODES = 100;

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function nodeReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A Job of hollow containers that each exit 0 after a second. */
function hollowJob(name: string, completions: number, parallelism?: number): unknown {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      completions,
      parallelism,
      template: {
        metadata: { annotations: { 'flotilla.io/hollow-run-seconds': '1' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'work' }] },
      },
    },
  };
}

/** Pods that count: not being deleted (a terminating pod is no replica any more). */
function live(pods: Pod[]): Pod[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp);
}

describe('a cluster from `flotilla up --hollow-nodes 100`, driven by the stock kubectl', function () {
  this.timeout(300_000);
  let dataDir: string;
  let cluster: Launch;
  let nc: NatsConnection;
  let client: ApiClient;
  let natsUrl: string;
  let lateKubelet: ReturnType<typeof spawnFlotilla> | undefined;
  let standby: ReturnType<typeof spawnFlotilla> | undefined;
  const k = (...args: string[]) => kubectl(cluster.kubeconfig, ...args);
  const apply = (name: string, manifest: unknown) => {
    const file = path.join(dataDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(manifest));
    return k('apply', '-f', file);
  };
  const pods = async (namespace: string, labelSelector: string) =>
    (await client.list<Pod>({ ...Resources.pods, namespace }, { labelSelector })).items;
  /**
   * `kubectl cordon` (or uncordon) of every node but one: ten nodes to a kubectl, all at
   * once. kubectl's client-side rate limiter lets a burst of 10 requests through, then 5 a
   * second: one kubectl over 100 nodes waited 18 s.
   */
  const everyNodeBut = async (verb: 'cordon' | 'uncordon', except: string) => {
    const names = (await client.list<Node>(Resources.nodes)).items.map((n) => n.metadata!.name!).filter((n) => n !== except);
    const groups: string[][] = [];
    for (let i = 0; i < names.length; i += 10) groups.push(names.slice(i, i + 10));
    await Promise.all(groups.map((g) => k(verb, ...g)));
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-e2e-'));
    // hollow nodes only: the assertions below count on every pod landing on one. A grace
    // period of 20 s, not upstream's 40 s: twice the kubelets' Lease renewal, and the node
    // whose heartbeats stop is marked unreachable 20 s sooner
    cluster = await launchUp(dataDir, ['--hollow-nodes', String(NODES), '--no-real-node', '--node-monitor-grace-period', '20s']);
    natsUrl = readState(dataDir)!.natsUrl;
    nc = await connectNats(natsUrl, { name: 'cluster-e2e-test' });
    client = new ApiClient(nc);
    await waitFor(
      `${NODES} Ready hollow nodes`,
      async () => (await client.list<Node>(Resources.nodes)).items.filter(nodeReady).length === NODES,
      120_000,
    );
  });

  after(async () => {
    await stopChild(standby);
    await stopChild(lateKubelet);
    client?.close();
    await nc?.close();
    if (cluster) {
      cluster.child.kill('SIGINT');
      await cluster.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a 50-replica Deployment that `kubectl rollout status` sees through', async () => {
    assert.match(await k('create', 'deployment', 'web', '--image=web', '--replicas=50'), /deployment.apps\/web created/);
    assert.match(await k('rollout', 'status', 'deployment/web', '--timeout=180s'), /successfully rolled out/);
    const running = live(await pods('default', 'app=web')).filter((p) => p.status?.phase === 'Running' && isReady(p));
    assert.equal(running.length, 50);
    assert.ok(running.every((p) => p.spec?.nodeName?.startsWith('hollow-') && p.status?.podIP), 'every pod runs on a hollow node with an IP');
  });

  it('rolls `kubectl set image` within maxSurge and maxUnavailable at every change a watcher sees', async () => {
    // defaults: 25% of 50 is 12.5, so maxSurge rounds up to 13 and maxUnavailable down to 12
    const maxPods = 50 + 13;
    const minReady = 50 - 12;
    const podInf = new SharedInformer<Pod>(client, Resources.pods, { namespace: 'default', labelSelector: 'app=web' });
    const rsInf = new SharedInformer<ReplicaSet>(client, Resources.replicasets, { namespace: 'default', labelSelector: 'app=web' });
    const violations: string[] = [];
    let changes = 0;
    let peakPods = 0;
    let lowReady = Infinity;
    let peakReplicas = 0;
    // the initial lists arrive one object at a time: judge only from a whole picture on
    let armed = false;
    const checkPods = () => {
      if (!armed) return;
      changes++;
      const now = live(podInf.store.list());
      const ready = now.filter(isReady).length;
      peakPods = Math.max(peakPods, now.length);
      lowReady = Math.min(lowReady, ready);
      if (now.length > maxPods) violations.push(`${now.length} pods (more than ${maxPods})`);
      if (ready < minReady) violations.push(`${ready} ready pods (fewer than ${minReady})`);
    };
    const checkReplicaSets = () => {
      if (!armed) return;
      const sum = rsInf.store.list().reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      peakReplicas = Math.max(peakReplicas, sum);
      if (sum > maxPods) violations.push(`ReplicaSets ask for ${sum} replicas (more than ${maxPods})`);
    };
    podInf.addEventHandler({ onAdd: checkPods, onUpdate: checkPods, onDelete: checkPods });
    rsInf.addEventHandler({ onAdd: checkReplicaSets, onUpdate: checkReplicaSets, onDelete: checkReplicaSets });
    podInf.start();
    rsInf.start();
    try {
      await podInf.waitForSync();
      await rsInf.waitForSync();
      armed = true;
      checkPods();
      checkReplicaSets();
      assert.match(await k('set', 'image', 'deployment/web', 'web=web:v2'), /image updated/);
      assert.match(await k('rollout', 'status', 'deployment/web', '--timeout=180s'), /successfully rolled out/);
      await waitFor('the watcher to see only new pods', () => {
        const now = live(podInf.store.list());
        return now.length === 50 && now.every((p) => p.spec?.containers[0]?.image === 'web:v2' && isReady(p));
      }, 60_000);
    } finally {
      await podInf.stop();
      await rsInf.stop();
    }
    assert.deepEqual(violations.slice(0, 5), [], 'the limits held at every step');
    assert.ok(changes > 150, `the watcher saw the rollout step by step (${changes} pod changes)`);
    assert.ok(peakPods > 50, `the rollout surged (peak ${peakPods} pods, ${peakReplicas} replicas asked for)`);
    assert.ok(lowReady >= minReady, `lowest ready count ${lowReady}`);
  });

  it('restores the previous template with `kubectl rollout undo`', async () => {
    assert.match(await k('rollout', 'undo', 'deployment/web'), /rolled back/);
    assert.match(await k('rollout', 'status', 'deployment/web', '--timeout=180s'), /successfully rolled out/);
    const d = await client.get<Deployment>({ ...Resources.deployments, namespace: 'default', name: 'web' });
    assert.equal(d.spec?.template.spec?.containers[0]?.image, 'web');
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '3');
    await waitFor('only pods of the first template', async () => {
      const now = live(await pods('default', 'app=web'));
      return now.length === 50 && now.every((p) => p.spec?.containers[0]?.image === 'web' && isReady(p));
    }, 60_000);
    const described = await k('describe', 'deployment', 'web');
    assert.match(described, /ScalingReplicaSet\s.*deployment-controller\s+Scaled (up|down) replica set web-[a-z0-9]+ (from \d+ )?to \d+/);
    assert.match(await k('describe', 'replicaset', '-l', 'app=web'), /SuccessfulCreate\s.*replicaset-controller\s+Created pod: web-/);
    const history = await k('rollout', 'history', 'deployment/web');
    assert.match(history, /^2\s/m);
    assert.match(history, /^3\s/m);
  });

  it('runs a DaemonSet pod on every node, including one that joins later', async () => {
    await apply('agent', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent' }] } },
      },
    });
    const covered = async (nodes: number) => {
      const ds = JSON.parse(await k('get', 'daemonset', 'agent', '-o', 'json'));
      return ds.status?.desiredNumberScheduled === nodes && ds.status?.numberReady === nodes && ds.status?.updatedNumberScheduled === nodes;
    };
    await waitFor(`the DaemonSet ready on ${NODES} nodes`, () => covered(NODES), 120_000);
    lateKubelet = spawnFlotilla(['kubelet', '--nats', natsUrl, '--runtime', 'hollow', '--nodes', '1', '--first-index', String(NODES)]);
    const late = `hollow-${NODES}`;
    await waitFor(`the DaemonSet ready on ${NODES + 1} nodes`, () => covered(NODES + 1), 120_000);
    const onLate = live(await pods('default', 'app=agent')).filter((p) => p.spec?.nodeName === late);
    assert.equal(onLate.length, 1, `one agent pod on ${late}`);
    assert.equal(onLate[0]!.status?.phase, 'Running');
    assert.match(await k('describe', 'daemonset', 'agent'), /SuccessfulCreate\s.*daemonset-controller\s+Created pod: agent-/);
  });

  it("moves a node's pods to other nodes once its heartbeats stop", async () => {
    const late = `hollow-${NODES}`;
    // only the late node takes new pods, so the Deployment lands there
    await everyNodeBut('cordon', late);
    await apply('mover', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'mover', namespace: 'default' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'mover' } },
        template: {
          metadata: { labels: { app: 'mover' } },
          spec: {
            containers: [{ name: 'mover', image: 'mover' }],
            // leave an unreachable node at once rather than after the default 300 s
            tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }],
          },
        },
      },
    });
    await k('rollout', 'status', 'deployment/mover', '--timeout=120s');
    const before = live(await pods('default', 'app=mover'));
    assert.ok(before.length === 4 && before.every((p) => p.spec?.nodeName === late), before.map((p) => p.spec?.nodeName).join(','));
    await everyNodeBut('uncordon', late);
    const kcm = descendants(cluster.child.pid!).find((p) => p.cmdline.includes(' controller-manager '));
    assert.match(kcm?.cmdline ?? '', / --node-monitor-grace-period 20s( |$)/, 'up passes its grace period on');
    lateKubelet!.child.kill('SIGKILL');
    await lateKubelet!.exited;
    // after the grace period (20 s, see before()): Ready=Unknown, the unreachable taints and eviction
    const node = await waitFor(`${late} marked unreachable`, async () => {
      const n = await client.get<Node>({ ...Resources.nodes, name: late });
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
    }, 120_000);
    assert.ok(node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'));
    const moved = await waitFor('the Deployment running again elsewhere', async () => {
      const now = live(await pods('default', 'app=mover'));
      return now.length === 4 && now.every((p) => p.spec?.nodeName && p.spec.nodeName !== late && p.status?.phase === 'Running' && isReady(p)) ? now : undefined;
    }, 120_000);
    assert.equal(new Set(moved.map((p) => p.metadata?.uid)).size, 4);
    assert.match(await k('describe', 'node', late), /NodeNotReady/);
    assert.ok(moved.every((p) => !before.some((b) => b.metadata?.uid === p.metadata?.uid)), 'the pods are replacements');
  });

  it('finishes a Job of 100 completions, 10 at a time', async () => {
    const jobPods = new SharedInformer<Pod>(client, Resources.pods, { namespace: 'default', labelSelector: 'job-name=batch' });
    let peakActive = 0;
    const count = () => {
      const active = live(jobPods.store.list()).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
      peakActive = Math.max(peakActive, active);
    };
    jobPods.addEventHandler({ onAdd: count, onUpdate: count, onDelete: count });
    jobPods.start();
    try {
      await jobPods.waitForSync();
      await apply('batch', hollowJob('batch', 100, 10));
      assert.match(await k('wait', '--for=condition=complete', 'job/batch', '--timeout=240s'), /condition met/);
    } finally {
      await jobPods.stop();
    }
    const job = JSON.parse(await k('get', 'job', 'batch', '-o', 'json'));
    assert.equal(job.status.succeeded, 100);
    const described = await k('describe', 'job', 'batch');
    assert.match(described, /SuccessfulCreate\s.*job-controller\s+Created pod: batch-/);
    assert.match(described, /Completed\s.*job-controller\s+Job completed/);
    assert.ok(!job.status.failed, `no pod failed (${job.status.failed})`);
    assert.ok(peakActive <= 10 && peakActive > 1, `at most 10 pods ran at once, and more than one (peak ${peakActive})`);
  });

  it('deletes a namespace and everything in it', async () => {
    await k('create', 'namespace', 'scratch');
    await k('-n', 'scratch', 'create', 'deployment', 'app', '--image=app', '--replicas=5');
    await k('-n', 'scratch', 'expose', 'deployment', 'app', '--port=80');
    await k('-n', 'scratch', 'create', 'configmap', 'settings', '--from-literal=a=1');
    await k('-n', 'scratch', 'rollout', 'status', 'deployment/app', '--timeout=120s');
    await waitFor('an EndpointSlice with the five pods', async () => {
      const slices = JSON.parse(await k('-n', 'scratch', 'get', 'endpointslices', '-o', 'json')).items;
      return slices.reduce((n: number, s: { endpoints?: unknown[] }) => n + (s.endpoints?.length ?? 0), 0) === 5;
    }, 60_000);
    assert.match(await k('delete', 'namespace', 'scratch', '--timeout=180s'), /namespace "scratch" deleted/);
    await assert.rejects(k('get', 'namespace', 'scratch'), /not found/);
    const kinds = (await k('api-resources', '--namespaced=true', '--verbs=list', '-o', 'name')).trim().split('\n');
    assert.ok(kinds.length > 10, kinds.join(','));
    const left = await k('get', kinds.join(','), '-n', 'scratch', '-o', 'name', '--ignore-not-found');
    assert.equal(left.trim(), '', `left behind in scratch:\n${left}`);
  });

  it('hands over to a standby controller-manager when the leader is killed, losing no work', async () => {
    const leaseRef = { ...Resources.leases, namespace: 'kube-system', name: 'kube-controller-manager' };
    const before = await client.get<Lease>(leaseRef);
    const leader = before.spec?.holderIdentity;
    assert.ok(leader && cluster.output().includes(`${leader} is the leader`), `the cluster's controller-manager leads (${leader})`);
    standby = spawnFlotilla(['controller-manager', '--nats', natsUrl, '--port', '0']);
    const standbyIdentity = (await waitFor('the standby to start', () => /controller-manager: (\S+) serving/.exec(standby!.output())?.[1], 60_000))!;
    const proc = descendants(cluster.child.pid!).find((p) => p.cmdline.includes(' controller-manager '));
    assert.ok(proc, 'the cluster runs a controller-manager process');
    process.kill(proc.pid, 'SIGKILL');
    // work handed in while nobody leads
    await k('scale', 'deployment/web', '--replicas=60');
    await apply('after-failover', hollowJob('after-failover', 3));
    const after = await waitFor('a new lease holder', async () => {
      const l = await client.get<Lease>(leaseRef);
      return l.spec?.holderIdentity && l.spec.holderIdentity !== leader ? l : undefined;
    }, 60_000);
    assert.ok((after.spec?.leaseTransitions ?? 0) > (before.spec?.leaseTransitions ?? 0), 'the lease changed hands');
    // the restarted replica logs "is the leader" only after its Lease write, which the read above may see first
    const holder = after.spec?.holderIdentity;
    await waitFor(`the holder ${holder} to be a running replica`, () => holder === standbyIdentity || cluster.output().includes(`${holder} is the leader`), 10_000);
    assert.match(await k('rollout', 'status', 'deployment/web', '--timeout=180s'), /successfully rolled out/);
    assert.equal(live(await pods('default', 'app=web')).filter(isReady).length, 60);
    assert.match(await k('wait', '--for=condition=complete', 'job/after-failover', '--timeout=120s'), /condition met/);
  });
});
