import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { writeKubeconfig } from '../../../cli/kubeconfig.js';
import { ApiClient, Resources } from '../../../lib/client/mod.js';
import { startControllerCluster, testReplicaSet, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { podsToDelete } from './replicaset.js';
import { setPodStatus } from '../testing/pods.js';

const exec = promisify(execFile);
const NS = 'default';

const replicaSet = (name: string, replicas: number, spec: Partial<NonNullable<ReplicaSet['spec']>> = {}) => testReplicaSet(name, replicas, { podLabels: { tier: 'web' }, spec });

describe('ReplicaSet controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const rsRef = (name?: string) => ({ ...Resources.replicasets, namespace: NS, name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const podsOf = async (app: string) => (await client.list<Pod>(podRef(), { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
  const ownedBy = (pods: Pod[], rs: ReplicaSet) => pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === rs.metadata!.uid && r.controller));
  const getRs = (name: string) => client.get<ReplicaSet>(rsRef(name));
  const events = async (reason: string) => (await client.list<Event>({ ...Resources.events, namespace: NS })).items.filter((e) => e.reason === reason);
  const markReady = (pod: Pod) => setPodStatus(client, pod.metadata!.name!, undefined, true);

  before(async () => {
    cluster = await startControllerCluster('replicaset-test', ['replicaset-controller']);
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('creates spec.replicas pods with a controller ownerReference and reports them in status', async () => {
    const rs = await client.create(rsRef(), replicaSet('five', 5));
    const pods = await waitFor('5 pods', async () => {
      const p = await podsOf('five');
      return p.length === 5 ? p : undefined;
    });
    for (const p of pods) {
      const refs = p.metadata!.ownerReferences!;
      assert.deepEqual(refs, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'five', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
      assert.match(p.metadata!.name!, /^five-[a-z0-9]{5}$/);
      assert.equal(p.metadata!.labels!.tier, 'web');
    }
    const status = await waitFor('status.replicas 5', async () => {
      const s = (await getRs('five')).status;
      return s?.replicas === 5 ? s : undefined;
    });
    assert.equal(status.fullyLabeledReplicas, 5);
    assert.equal(status.readyReplicas ?? 0, 0);
    assert.equal(status.availableReplicas ?? 0, 0);
    assert.equal(status.observedGeneration, 1);
    const created = await waitFor('SuccessfulCreate events', async () => {
      const e = (await events('SuccessfulCreate')).filter((x) => x.involvedObject.name === 'five');
      return e.length >= 5 ? e : undefined;
    });
    assert.equal(created[0]!.involvedObject.kind, 'ReplicaSet');
    assert.match(created[0]!.message!, /^Created pod: five-/);
    // no more than asked for, even after the controller has seen its own creates
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await podsOf('five')).length, 5);
  });

  it('creates pods in slow-start batches of 1, 2, 4, ... each one batchCreate request', async () => {
    // listening beside the apiserver (not in its queue group) sees every batch request
    const sizes: number[] = [];
    const sub = cluster.nc.subscribe('flotilla.api.batch.create', {
      callback: (_err, msg) => {
        const req = msg.json<{ items: Array<{ body: Pod }> }>();
        if (req.items[0]?.body.metadata?.generateName === 'batches-') sizes.push(req.items.length);
      },
    });
    try {
      await client.create(rsRef(), replicaSet('batches', 10));
      await waitFor('10 pods', async () => (await podsOf('batches')).length === 10);
      assert.deepEqual(sizes, [1, 2, 4, 3]);
    } finally {
      sub.unsubscribe();
    }
  });

  it('deletes 3 pods when scaled from 5 to 2, and records observedGeneration', async () => {
    const rs = await getRs('five');
    await client.update(rsRef('five'), { ...rs, spec: { ...rs.spec!, replicas: 2 } });
    await waitFor('2 pods', async () => (await podsOf('five')).length === 2);
    const status = await waitFor('status.replicas 2', async () => {
      const s = (await getRs('five')).status;
      return s?.replicas === 2 ? s : undefined;
    });
    assert.equal(status.observedGeneration, 2);
    const deleted = await waitFor('SuccessfulDelete events', async () => {
      const e = (await events('SuccessfulDelete')).filter((x) => x.involvedObject.name === 'five');
      return e.length >= 3 ? e : undefined;
    });
    assert.match(deleted[0]!.message!, /^Deleted pod: five-/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await podsOf('five')).length, 2);
  });

  it('adopts a matching orphan pod instead of creating one more', async () => {
    await client.create(podRef(), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', namespace: NS, labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    const rs = await client.create(rsRef(), replicaSet('adopt', 3));
    const pods = await waitFor('3 owned pods', async () => {
      const p = await podsOf('adopt');
      return p.length === 3 && ownedBy(p, rs).length === 3 ? p : undefined;
    });
    assert.ok(pods.some((p) => p.metadata!.name === 'orphan'), 'the orphan was adopted');
    const s = await waitFor('status', async () => ((await getRs('adopt')).status?.replicas === 3 ? (await getRs('adopt')).status : undefined));
    // the orphan lacks the template's tier label
    assert.equal(s!.fullyLabeledReplicas, 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await podsOf('adopt')).length, 3);
  });

  it('releases a pod whose labels stop matching and creates a replacement', async () => {
    const rs = await client.create(rsRef(), replicaSet('release', 2));
    const pods = await waitFor('2 pods', async () => {
      const p = await podsOf('release');
      return p.length === 2 ? p : undefined;
    });
    const victim = pods[0]!;
    await client.patch(podRef(victim.metadata!.name), 'merge', { metadata: { labels: { app: 'elsewhere' } } });
    const released = await waitFor('the relabelled pod to be released', async () => {
      const p = await client.get<Pod>(podRef(victim.metadata!.name));
      return (p.metadata?.ownerReferences ?? []).some((r) => r.uid === rs.metadata!.uid) ? undefined : p;
    });
    assert.equal(released.metadata!.labels!.app, 'elsewhere');
    const now = await waitFor('a replacement', async () => {
      const p = await podsOf('release');
      return p.length === 2 && ownedBy(p, rs).length === 2 ? p : undefined;
    });
    assert.ok(!now.some((p) => p.metadata!.name === victim.metadata!.name));
  });

  it('replaces a deleted pod', async () => {
    const rs = await client.create(rsRef(), replicaSet('replace', 2));
    const pods = await waitFor('2 pods', async () => {
      const p = await podsOf('replace');
      return p.length === 2 ? p : undefined;
    });
    await client.delete(podRef(pods[0]!.metadata!.name));
    const after = await waitFor('a replacement', async () => {
      const p = await podsOf('replace');
      return p.length === 2 && !p.some((x) => x.metadata!.name === pods[0]!.metadata!.name) ? p : undefined;
    });
    assert.equal(ownedBy(after, rs).length, 2);
  });

  it('counts ready and available pods, honouring minReadySeconds', async () => {
    await client.create(rsRef(), replicaSet('ready', 3));
    await client.create(rsRef(), replicaSet('slow', 2, { minReadySeconds: 2 }));
    const ready = await waitFor('3 pods', async () => {
      const p = await podsOf('ready');
      return p.length === 3 ? p : undefined;
    });
    const slow = await waitFor('2 pods', async () => {
      const p = await podsOf('slow');
      return p.length === 2 ? p : undefined;
    });
    await markReady(ready[0]!);
    await markReady(ready[1]!);
    for (const p of slow) await markReady(p);
    const s = await waitFor('readyReplicas 2', async () => {
      const st = (await getRs('ready')).status;
      return st?.readyReplicas === 2 ? st : undefined;
    });
    assert.equal(s.availableReplicas, 2);
    assert.equal(s.replicas, 3);
    // ready but not yet for minReadySeconds: not available
    const early = await waitFor('slow readyReplicas 2', async () => {
      const st = (await getRs('slow')).status;
      return st?.readyReplicas === 2 ? st : undefined;
    });
    assert.equal(early.availableReplicas ?? 0, 0);
    // the controller looks again once minReadySeconds have passed, with no event to prompt it
    await waitFor('slow availableReplicas 2', async () => (await getRs('slow')).status?.availableReplicas === 2, 10_000);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'rs-kubectl-'));
    const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), cluster.server.httpUrl);
    const { stdout } = await exec('kubectl', ['--kubeconfig', kubeconfig, 'get', 'rs', 'ready', 'slow', '-n', NS, '--no-headers', '-o', 'custom-columns=N:.metadata.name,D:.spec.replicas,C:.status.replicas,R:.status.readyReplicas'], { timeout: 30_000 });
    assert.deepEqual(stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['ready', '3', '3', '2'], ['slow', '2', '2', '2']]);
    const table = await exec('kubectl', ['--kubeconfig', kubeconfig, 'get', 'rs', 'ready', '-n', NS], { timeout: 30_000 });
    const [header, row] = table.stdout.trim().split('\n');
    assert.deepEqual(header!.trim().split(/\s+/), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    assert.deepEqual(row!.trim().split(/\s+/).slice(0, 4), ['ready', '3', '3', '2']);
  });

  it('exposes the workqueue metrics of the replicaset queue', async () => {
    const text = await (await fetch(cluster.cm.metricsUrl)).text();
    for (const m of ['workqueue_adds_total', 'workqueue_depth', 'workqueue_retries_total', 'workqueue_unfinished_work_seconds', 'workqueue_longest_running_processor_seconds'])
      assert.match(text, new RegExp(`^${m}\\{name="replicaset"\\} \\d`, 'm'), m);
    assert.match(text, /^workqueue_work_duration_seconds_bucket\{le="1e-8",name="replicaset"\}/m);
    assert.match(text, /^workqueue_queue_duration_seconds_count\{name="replicaset"\} [1-9]/m);
  });
});

describe('podsToDelete', () => {
  const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string; cost?: string } = {}): Pod => ({
    metadata: { name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', annotations: o.cost ? { 'controller.kubernetes.io/pod-deletion-cost': o.cost } : {} },
    spec: { nodeName: o.node, containers: [] },
    status: { phase: o.phase ?? 'Running', conditions: o.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] : [] },
  });
  const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name);

  it('prefers unscheduled, then pending, then not-ready pods', () => {
    const pods = [pod('ready', { node: 'a', ready: true }), pod('notready', { node: 'b' }), pod('pending', { node: 'c', phase: 'Pending' }), pod('unscheduled', { phase: 'Pending' })];
    assert.deepEqual(names(podsToDelete(pods, 3)), ['unscheduled', 'pending', 'notready']);
  });

  it('prefers lower deletion cost, then pods doubled up on a node, then newer pods', () => {
    const pods = [
      pod('old', { node: 'a', ready: true }),
      pod('new', { node: 'b', ready: true, created: '2024-02-01T00:00:00Z' }),
      pod('cheap', { node: 'c', ready: true, cost: '-5' }),
      pod('twin1', { node: 'd', ready: true }),
      pod('twin2', { node: 'd', ready: true }),
    ];
    assert.deepEqual(names(podsToDelete(pods, 3)), ['cheap', 'twin2', 'twin1']);
    assert.deepEqual(names(podsToDelete(pods.filter((p) => !p.metadata!.name!.startsWith('twin') && p.metadata!.name !== 'cheap'), 1)), ['new']);
  });
});
