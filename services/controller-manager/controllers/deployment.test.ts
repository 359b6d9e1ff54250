import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { writeKubeconfig } from '../../../cli/kubeconfig.js';
import { type ApiClient, Resources } from '../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { fakeKubelet } from '../testing/pods.js';
import { isPodReady } from '../shared/pods.js';
import { resolveFenceposts, scaledValue } from './deployment.js';

const exec = promisify(execFile);
const NS = 'default';

function deployment(name: string, replicas: number, image: string, spec: Partial<NonNullable<Deployment['spec']>> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  };
}

describe('Deployment controller against a real apiserver', function () {
  this.timeout(90_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;
  let kubeconfig: string;
  let kubelet: ReturnType<typeof fakeKubelet>;

  const dRef = (name?: string) => ({ ...Resources.deployments, namespace: NS, name });
  const rsRef = (name?: string) => ({ ...Resources.replicasets, namespace: NS, name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const getD = (name: string) => client.get<Deployment>(dRef(name));
  const rsOf = async (app: string) => (await client.list<ReplicaSet>(rsRef(), { labelSelector: `app=${app}` })).items;
  const kubectl = (...args: string[]) => exec('kubectl', ['--kubeconfig', kubeconfig, '-n', NS, ...args], { timeout: 60_000 });
  // a strategic merge patch, as `kubectl set image` sends: no resourceVersion to conflict
  // with the controller's own writes to the Deployment
  const setImage = async (name: string, image: string) => {
    const d = await getD(name);
    const container = d.spec!.template!.spec!.containers[0]!.name;
    await client.patch(dRef(name), 'strategic', { spec: { template: { spec: { containers: [{ name: container, image }] } } } });
  };
  /** complete as kubectl rollout status sees it */
  const rolledOut = (name: string, replicas: number) =>
    waitFor(`${name} rolled out`, async () => {
      const d = await getD(name);
      const s = d.status;
      return (s?.observedGeneration ?? 0) >= d.metadata!.generation! && s?.updatedReplicas === replicas && s?.replicas === replicas && s?.availableReplicas === replicas ? d : undefined;
    }, 60_000);

  /** Watches the pods of app and calls check with the live set after every change. */
  const watchPods = async (app: string, check: (pods: Pod[]) => void) => {
    const list = await client.list<Pod>(podRef(), { labelSelector: `app=${app}` });
    const pods = new Map(list.items.map((p) => [p.metadata!.name!, p]));
    const w = client.watch<Pod>(podRef(), { labelSelector: `app=${app}`, resourceVersion: list.metadata?.resourceVersion });
    let failure: Error | undefined;
    let events = 0;
    const done = (async () => {
      for await (const ev of w) {
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') pods.set(ev.object.metadata!.name!, ev.object);
        else if (ev.type === 'DELETED') pods.delete(ev.object.metadata!.name!);
        else continue;
        events++;
        try {
          check([...pods.values()].filter((p) => !p.metadata?.deletionTimestamp));
        } catch (e) {
          failure ??= e as Error;
        }
      }
    })();
    return {
      async stop() {
        w.stop();
        await done.catch(() => undefined);
        if (failure) throw failure;
        return events;
      },
    };
  };

  before(async () => {
    cluster = await startControllerCluster('deployment-test', ['replicaset-controller', 'deployment-controller']);
    client = cluster.client;
    kubeconfig = writeKubeconfig(path.join(mkdtempSync(path.join(os.tmpdir(), 'deploy-kubectl-')), 'kubeconfig'), cluster.server.httpUrl);
    kubelet = fakeKubelet(client);
  });
  after(async () => {
    await kubelet?.stop();
    await cluster?.stop();
  });

  it('creates a ReplicaSet <name>-<hash> at revision 1 and reports the deployment available', async () => {
    const d = await client.create(dRef(), deployment('web', 4, 'web:v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    const [rs] = await waitFor('one ReplicaSet', async () => {
      const l = await rsOf('web');
      return l.length === 1 ? l : undefined;
    });
    const hash = rs!.metadata!.labels!['pod-template-hash']!;
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs!.metadata!.name, `web-${hash}`);
    assert.deepEqual(rs!.spec!.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(rs!.spec!.template!.metadata!.labels!['pod-template-hash'], hash);
    assert.equal(rs!.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
    assert.equal(rs!.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '4');
    assert.equal(rs!.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '5');
    assert.equal(rs!.metadata!.ownerReferences![0]!.uid, d.metadata!.uid);

    const done = await rolledOut('web', 4);
    assert.equal(done.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
    assert.equal(done.status!.readyReplicas, 4);
    assert.equal(done.status!.unavailableReplicas ?? 0, 0);
    const cond = (t: string) => done.status!.conditions!.find((c) => c.type === t);
    assert.equal(cond('Available')!.status, 'True');
    assert.equal(cond('Available')!.reason, 'MinimumReplicasAvailable');
    const progressing = await waitFor('Progressing NewReplicaSetAvailable', async () => {
      const c = (await getD('web')).status?.conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'NewReplicaSetAvailable' ? c : undefined;
    });
    assert.equal(progressing.status, 'True');
    const { stdout } = await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s');
    assert.match(stdout, /successfully rolled out/);
  });

  it('rolls a new image out without ever exceeding replicas+maxSurge pods or dropping below replicas-maxUnavailable available', async () => {
    const oldHash = (await rsOf('web'))[0]!.metadata!.labels!['pod-template-hash'];
    let maxTotal = 0;
    let minAvailable = Infinity;
    let sawNew = false;
    const watcher = await watchPods('web', (pods) => {
      const ready = pods.filter(isPodReady).length;
      maxTotal = Math.max(maxTotal, pods.length);
      minAvailable = Math.min(minAvailable, ready);
      if (pods.some((p) => p.metadata!.labels!['pod-template-hash'] !== oldHash)) sawNew = true;
      assert.ok(pods.length <= 5, `${pods.length} pods exist, more than replicas 4 + maxSurge 1`);
      assert.ok(ready >= 3, `${ready} pods available, fewer than replicas 4 - maxUnavailable 1`);
    });
    await setImage('web', 'web:v2');
    await rolledOut('web', 4);
    const events = await watcher.stop();
    assert.ok(sawNew && events > 8, `the watcher saw the rollout (${events} events)`);
    assert.ok(maxTotal >= 4 && minAvailable >= 3);

    const rss = await rsOf('web');
    assert.equal(rss.length, 2);
    const byRev = new Map(rss.map((r) => [r.metadata!.annotations!['deployment.kubernetes.io/revision'], r]));
    assert.equal(byRev.get('1')!.spec!.replicas, 0);
    assert.equal(byRev.get('2')!.spec!.replicas, 4);
    assert.equal(byRev.get('2')!.spec!.template!.spec!.containers[0]!.image, 'web:v2');
    const pods = (await client.list<Pod>(podRef(), { labelSelector: 'app=web' })).items;
    assert.ok(pods.every((p) => p.spec!.containers[0]!.image === 'web:v2'));
    const { stdout } = await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s');
    assert.match(stdout, /successfully rolled out/);
  });

  it('kubectl rollout undo restores the previous template as revision 3', async () => {
    const before = await rsOf('web');
    const rev1 = before.find((r) => r.metadata!.annotations!['deployment.kubernetes.io/revision'] === '1')!;
    await kubectl('rollout', 'undo', 'deployment/web');
    const d = await rolledOut('web', 4);
    assert.equal(d.spec!.template!.spec!.containers[0]!.image, 'web:v1');
    const rs = await waitFor('revision 3 on the first ReplicaSet', async () => {
      const r = await client.get<ReplicaSet>(rsRef(rev1.metadata!.name));
      return r.metadata!.annotations!['deployment.kubernetes.io/revision'] === '3' ? r : undefined;
    });
    assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(rs.spec!.replicas, 4);
    assert.equal((await rsOf('web')).length, 2, 'the old template reuses its ReplicaSet');
    await waitFor('the deployment at revision 3', async () => (await getD('web')).metadata!.annotations!['deployment.kubernetes.io/revision'] === '3');
    const { stdout } = await kubectl('rollout', 'history', 'deployment/web');
    const revisions = stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((x) => /^\d+$/.test(x!));
    assert.deepEqual(revisions, ['2', '3']);
  });

  it('pauses, scales while paused without rolling, and rolls on resume', async () => {
    await kubectl('rollout', 'pause', 'deployment/web');
    await waitFor('Progressing DeploymentPaused', async () => (await getD('web')).status?.conditions?.some((c) => c.reason === 'DeploymentPaused'));
    await setImage('web', 'web:v3');
    await kubectl('scale', 'deployment/web', '--replicas=2');
    await waitFor('the current ReplicaSet scaled to 2', async () => {
      const l = await rsOf('web');
      return l.length === 2 && l.some((r) => r.spec!.replicas === 2 && r.spec!.template!.spec!.containers[0]!.image === 'web:v1');
    });
    assert.ok(!(await rsOf('web')).some((r) => r.spec!.template!.spec!.containers[0]!.image === 'web:v3'), 'no rollout while paused');
    await kubectl('rollout', 'resume', 'deployment/web');
    const d = await rolledOut('web', 2);
    assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '4');
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=30s');
  });

  it('Recreate removes every old pod before the first new one', async () => {
    await client.create(dRef(), deployment('rec', 3, 'rec:v1', { strategy: { type: 'Recreate' } }));
    await rolledOut('rec', 3);
    const oldHash = (await rsOf('rec'))[0]!.metadata!.labels!['pod-template-hash'];
    let mixed = 0;
    const watcher = await watchPods('rec', (pods) => {
      const hashes = new Set(pods.map((p) => p.metadata!.labels!['pod-template-hash']));
      if (hashes.size > 1) mixed++;
      assert.equal(hashes.size <= 1, true, `old and new pods at once: ${[...hashes].join(', ')}`);
    });
    await setImage('rec', 'rec:v2');
    await rolledOut('rec', 3);
    await watcher.stop();
    assert.equal(mixed, 0);
    const rss = await rsOf('rec');
    assert.equal(rss.find((r) => r.metadata!.labels!['pod-template-hash'] === oldHash)!.spec!.replicas, 0);
    const pods = (await client.list<Pod>(podRef(), { labelSelector: 'app=rec' })).items;
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.metadata!.labels!['pod-template-hash'] !== oldHash));
  });

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    await client.create(dRef(), deployment('hist', 1, 'h:1', { revisionHistoryLimit: 1 }));
    await rolledOut('hist', 1);
    for (const v of ['h:2', 'h:3', 'h:4']) {
      await setImage('hist', v);
      await rolledOut('hist', 1);
    }
    const rss = await waitFor('two ReplicaSets left', async () => {
      const l = await rsOf('hist');
      return l.length === 2 ? l : undefined;
    });
    const images = rss.map((r) => r.spec!.template!.spec!.containers[0]!.image).sort();
    assert.deepEqual(images, ['h:3', 'h:4']);
    const revs = rss.map((r) => r.metadata!.annotations!['deployment.kubernetes.io/revision']).sort();
    assert.deepEqual(revs, ['3', '4']);
  });
});

describe('deployment rollout arithmetic', () => {
  it('rounds surge up and unavailable down, as upstream', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts(2, 0, 10), { surge: 2, unavailable: 0 });
    assert.deepEqual(resolveFenceposts('0%', '0%', 10), { surge: 0, unavailable: 1 });
    assert.equal(scaledValue('10%', 5, true), 1);
    assert.equal(scaledValue('10%', 5, false), 0);
  });
});
