import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type ApiClient, CONTROLLER_REVISIONS, Resources, STATEFULSETS } from '../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { fakeKubelet, setPodStatus } from '../testing/pods.js';
import { CONTROLLER_REVISION_HASH_LABEL } from '../shared/revisions.js';
import { ordinalOf, POD_INDEX_LABEL, STATEFULSET_POD_NAME_LABEL } from './statefulset.js';

const NS = 'default';

function statefulSet(name: string, replicas: number, extra: Partial<NonNullable<StatefulSet['spec']>> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
      ...extra,
    },
  };
}

describe('StatefulSet controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const setRef = (name?: string) => ({ ...STATEFULSETS, namespace: NS, name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const getSet = (name: string) => client.get<StatefulSet>(setRef(name));
  /** the live pods of app, sorted by ordinal */
  const podsOf = async (app: string) =>
    (await client.list<Pod>(podRef(), { labelSelector: `app=${app}` })).items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .sort((a, b) => ordinalOf(app, a.metadata!.name)! - ordinalOf(app, b.metadata!.name)!);
  const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name);
  /** what a kubelet writes once the pod's containers run and pass readiness */
  const markReady = (name: string) => setPodStatus(client, name, undefined, true);

  before(async () => {
    cluster = await startControllerCluster('statefulset-test', ['statefulset-controller']);
    client = cluster.client;
  });
  after(() => cluster?.stop());

  it('OrderedReady creates web-0, and web-1 only after web-0 is Running and Ready, with stable identities', async () => {
    const set = await client.create(setRef(), statefulSet('web', 3));
    const [web0] = await waitFor('web-0', async () => {
      const p = await podsOf('web');
      return p.length ? p : undefined;
    });
    assert.equal(web0!.metadata!.name, 'web-0');
    assert.equal(web0!.metadata!.labels![STATEFULSET_POD_NAME_LABEL], 'web-0');
    assert.equal(web0!.metadata!.labels![POD_INDEX_LABEL], '0');
    assert.equal(web0!.spec!.hostname, 'web-0');
    assert.equal(web0!.spec!.subdomain, 'web');
    assert.deepEqual(web0!.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    const revName = web0!.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]!;
    const rev = await client.get<ControllerRevision>({ ...CONTROLLER_REVISIONS, namespace: NS, name: revName });
    assert.equal(rev.revision, 1);
    assert.equal(rev.metadata!.ownerReferences![0]!.uid, set.metadata!.uid);

    // web-0 is not ready yet: no web-1, even after the controller has had time to act
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(names(await podsOf('web')), ['web-0']);

    await markReady('web-0');
    await waitFor('web-1', async () => (await podsOf('web')).length === 2);
    assert.deepEqual(names(await podsOf('web')), ['web-0', 'web-1']);
    await markReady('web-1');
    await waitFor('web-2', async () => (await podsOf('web')).length === 3);
    assert.deepEqual(names(await podsOf('web')), ['web-0', 'web-1', 'web-2']);
    await markReady('web-2');

    const status = await waitFor('status of 3 ready replicas', async () => {
      const s = (await getSet('web')).status;
      return s?.readyReplicas === 3 ? s : undefined;
    });
    assert.equal(status.replicas, 3);
    assert.equal(status.availableReplicas, 3);
    assert.equal(status.currentReplicas, 3);
    assert.equal(status.updatedReplicas, 3);
    assert.equal(status.currentRevision, revName);
    assert.equal(status.updateRevision, revName);
    assert.equal(status.observedGeneration, 1);
  });

  it('recreates a deleted pod under the same name', async () => {
    const before = (await podsOf('web')).find((p) => p.metadata!.name === 'web-1')!;
    await client.delete(podRef('web-1'));
    const after = await waitFor('a new web-1', async () => {
      const p = (await podsOf('web')).find((x) => x.metadata!.name === 'web-1');
      return p && p.metadata!.uid !== before.metadata!.uid ? p : undefined;
    });
    assert.equal(after.spec!.hostname, 'web-1');
    assert.equal(after.metadata!.labels![POD_INDEX_LABEL], '1');
    await markReady('web-1');
    await waitFor('3 ready replicas again', async () => (await getSet('web')).status?.readyReplicas === 3);
  });

  it('scales down from the highest ordinal, one at a time', async () => {
    const deleted: string[] = [];
    const watch = client.watch<Pod>(podRef(), { labelSelector: 'app=web' });
    const watching = (async () => {
      for await (const ev of watch) if (ev.type === 'DELETED') deleted.push(ev.object.metadata!.name!);
    })();
    try {
      await client.patch(setRef('web'), 'merge', { spec: { replicas: 1 } });
      await waitFor('web scaled to 1', async () => (await podsOf('web')).length === 1 && deleted.length === 2);
      assert.deepEqual(names(await podsOf('web')), ['web-0']);
      assert.deepEqual(deleted, ['web-2', 'web-1']);
      const status = await waitFor('status.replicas 1', async () => {
        const s = (await getSet('web')).status;
        return s?.replicas === 1 ? s : undefined;
      });
      assert.equal(status.readyReplicas, 1);
      assert.equal(status.observedGeneration, 2);
    } finally {
      watch.stop();
      await watching.catch(() => undefined);
    }
  });

  it('Parallel creates every pod at once, without waiting for readiness', async () => {
    await client.create(setRef(), statefulSet('par', 3, { podManagementPolicy: 'Parallel' }));
    await waitFor('3 pods', async () => (await podsOf('par')).length === 3);
    const pods = await podsOf('par');
    assert.deepEqual(names(pods), ['par-0', 'par-1', 'par-2']);
    assert.ok(pods.every((p) => p.status?.phase !== 'Running'), 'no pod was ready when the others were created');
  });

  it('a RollingUpdate with partition 2 of 3 replicas updates only the pod of ordinal 2', async () => {
    const kubelet = fakeKubelet(client, 'app=roll');
    try {
      await client.create(setRef(), statefulSet('roll', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
      const first = await waitFor('3 ready replicas', async () => {
        const s = (await getSet('roll')).status;
        return s?.readyReplicas === 3 && s.currentReplicas === 3 ? s : undefined;
      });
      const oldRev = first.currentRevision!;

      const cur = await getSet('roll');
      cur.spec!.template!.spec!.containers[0]!.image = 'nginx:2';
      await client.update(setRef('roll'), cur);

      const status = await waitFor('roll-2 updated and ready', async () => {
        const s = (await getSet('roll')).status;
        return s?.updatedReplicas === 1 && s.readyReplicas === 3 && s.observedGeneration === 2 ? s : undefined;
      });
      assert.notEqual(status.updateRevision, oldRev);
      assert.equal(status.currentRevision, oldRev);
      assert.equal(status.currentReplicas, 2);
      assert.equal(status.replicas, 3);

      const pods = await podsOf('roll');
      assert.deepEqual(
        pods.map((p) => [p.metadata!.name, p.spec!.containers[0]!.image, p.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]]),
        [
          ['roll-0', 'nginx:1', oldRev],
          ['roll-1', 'nginx:1', oldRev],
          ['roll-2', 'nginx:2', status.updateRevision],
        ],
      );
      const revisions = (await client.list<ControllerRevision>({ ...CONTROLLER_REVISIONS, namespace: NS })).items.filter((r) => r.metadata!.name!.startsWith('roll-'));
      assert.deepEqual(revisions.map((r) => [r.metadata!.name, r.revision]).sort(), [
        [oldRev, 1],
        [status.updateRevision, 2],
      ].sort());

      // lowering the partition to 0 rolls the rest, highest first, and completes the update
      await client.patch(setRef('roll'), 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
      const done = await waitFor('rollout complete', async () => {
        const s = (await getSet('roll')).status;
        return s && s.currentRevision === status.updateRevision && s.readyReplicas === 3 ? s : undefined;
      });
      assert.equal(done.updatedReplicas, 3);
      assert.equal(done.currentReplicas, 3);
      assert.ok((await podsOf('roll')).every((p) => p.spec!.containers[0]!.image === 'nginx:2'));
    } finally {
      await kubelet.stop();
    }
  });
});
