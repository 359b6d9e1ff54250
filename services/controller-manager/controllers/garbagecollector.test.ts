import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { writeKubeconfig } from '../../../cli/kubeconfig.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { ApiClient, type ResourceRef, Resources } from '../../../lib/client/mod.js';
import { startControllerCluster, startControllers, testReplicaSet, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { FOREGROUND_DELETION_FINALIZER, garbageCollectedResources, ORPHAN_FINALIZER } from './garbagecollector.js';

const exec = promisify(execFile);
const NS = 'default';
const HOLD = 'example.com/hold';

function ownerRef(rs: ReplicaSet, o: { controller?: boolean; block?: boolean } = {}): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata!.name!, uid: rs.metadata!.uid!, controller: o.controller, blockOwnerDeletion: o.block };
}

function pod(name: string, owners: OwnerReference[], finalizers?: string[]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, ownerReferences: owners, finalizers }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
}

describe('garbage collector against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const rsRef = (name?: string) => ({ ...Resources.replicasets, namespace: NS, name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const gone = async (ref: ResourceRef) => {
    try {
      await client.get(ref);
      return false;
    } catch (e) {
      if (isNotFound(e)) return true;
      throw e;
    }
  };
  const getPod = (name: string) => client.get<Pod>(podRef(name));
  const getRs = (name: string) => client.get<ReplicaSet>(rsRef(name));
  const unhold = (name: string) => client.patch(podRef(name), 'merge', { metadata: { finalizers: null } });

  before(async () => {
    cluster = await startControllerCluster('garbagecollector-test', ['garbagecollector-controller']);
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('watches the served kinds that carry ownerReferences, but not events or leases', () => {
    const names = garbageCollectedResources().map((r) => `${r.group}/${r.resource}`);
    for (const r of ['/pods', 'apps/replicasets', 'apps/deployments', 'apps/controllerrevisions', 'batch/jobs', 'discovery.k8s.io/endpointslices', '/configmaps'])
      assert.ok(names.includes(r), `${r} is collected`);
    for (const r of ['/events', 'events.k8s.io/events', 'coordination.k8s.io/leases']) assert.ok(!names.includes(r), `${r} is ignored`);
  });

  it('deletes the pods of a ReplicaSet deleted in the background (with the replicaset controller making them)', async () => {
    const rsc = await startControllers(cluster.natsUrl, ['replicaset-controller']);
    try {
      const rs = await client.create(rsRef(), testReplicaSet('bg', 3));
      const pods = await waitFor('3 pods', async () => {
        const p = (await client.list<Pod>(podRef(), { labelSelector: 'app=bg' })).items;
        return p.length === 3 ? p : undefined;
      });
      assert.ok(pods.every((p) => p.metadata!.ownerReferences?.[0]?.uid === rs.metadata!.uid));
      await client.delete(rsRef('bg'), { propagationPolicy: 'Background' });
      assert.ok(await gone(rsRef('bg')), 'a background delete removes the owner at once');
      await waitFor('the pods of bg to be deleted', async () => (await client.list<Pod>(podRef(), { labelSelector: 'app=bg' })).items.length === 0);
    } finally {
      await rsc.stop();
    }
  });

  it('deletes a dependent whose owner never existed (by uid) and keeps one whose owner does', async () => {
    const rs = await client.create(rsRef(), testReplicaSet('real', 0));
    await client.create(podRef(), pod('ghost-child', [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'real', uid: '00000000-0000-0000-0000-00000000dead' }]));
    await client.create(podRef(), pod('real-child', [ownerRef(rs)]));
    await waitFor('ghost-child to be collected', () => gone(podRef('ghost-child')));
    // the owner of real-child was looked up too, and is alive
    assert.deepEqual((await getPod('real-child')).metadata!.ownerReferences!.map((r) => r.uid), [rs.metadata!.uid]);
  });

  it('keeps a foreground-deleted owner, with deletionTimestamp and the finalizer, until its blocking dependents are gone', async () => {
    const rs = await client.create(rsRef(), testReplicaSet('fg', 0));
    await client.create(podRef(), pod('fg-blocking', [ownerRef(rs, { controller: true, block: true })], [HOLD]));
    await client.create(podRef(), pod('fg-plain', [ownerRef(rs, { controller: true, block: true })]));
    await client.delete(rsRef('fg'), { propagationPolicy: 'Foreground' });

    await waitFor('fg-plain to be deleted', () => gone(podRef('fg-plain')));
    const lingering = await waitFor('fg-blocking to be marked deleted', async () => {
      const p = await getPod('fg-blocking');
      return p.metadata!.deletionTimestamp ? p : undefined;
    });
    assert.deepEqual(lingering.metadata!.finalizers, [HOLD]);
    const owner = await getRs('fg');
    assert.ok(owner.metadata!.deletionTimestamp, 'the owner is being deleted');
    assert.deepEqual(owner.metadata!.finalizers, [FOREGROUND_DELETION_FINALIZER]);
    // still there after the collector had time to act on everything it could
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await getRs('fg')).metadata!.finalizers, [FOREGROUND_DELETION_FINALIZER]);

    await unhold('fg-blocking');
    await waitFor('fg-blocking to go', () => gone(podRef('fg-blocking')));
    await waitFor('the owner to go once its blocking dependent is gone', () => gone(rsRef('fg')));
  });

  it('does not hold a foreground-deleted owner for a dependent without blockOwnerDeletion', async () => {
    const rs = await client.create(rsRef(), testReplicaSet('fg-nb', 0));
    await client.create(podRef(), pod('fg-nb-child', [ownerRef(rs, { block: false })], [HOLD]));
    await client.delete(rsRef('fg-nb'), { propagationPolicy: 'Foreground' });
    await waitFor('the owner to go', () => gone(rsRef('fg-nb')));
    // the dependent was deleted too; only its own finalizer keeps it
    const child = await getPod('fg-nb-child');
    assert.ok(child.metadata!.deletionTimestamp);
    await unhold('fg-nb-child');
    await waitFor('fg-nb-child to go', () => gone(podRef('fg-nb-child')));
  });

  it('orphans the dependents of an owner deleted with propagationPolicy Orphan', async () => {
    const rs = await client.create(rsRef(), testReplicaSet('orph', 0));
    const other = await client.create(rsRef(), testReplicaSet('orph-other', 0));
    await client.create(podRef(), pod('orph-a', [ownerRef(rs, { controller: true, block: true })]));
    await client.create(podRef(), pod('orph-b', [ownerRef(rs, { controller: true, block: true }), ownerRef(other)]));
    const deleting = (await client.delete(rsRef('orph'), { propagationPolicy: 'Orphan' })) as ReplicaSet;
    assert.deepEqual(deleting.metadata!.finalizers, [ORPHAN_FINALIZER], 'the apiserver adds the orphan finalizer');

    await waitFor('the owner to go once its dependents are orphaned', () => gone(rsRef('orph')));
    const a = await getPod('orph-a');
    assert.equal(a.metadata!.ownerReferences, undefined);
    const b = await getPod('orph-b');
    assert.deepEqual(b.metadata!.ownerReferences!.map((r) => r.uid), [other.metadata!.uid]);
    // orphans stay orphans: nothing deletes them later
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!(await getPod('orph-a')).metadata!.deletionTimestamp);
  });

  it('keeps a dependent with two owners until both are gone', async () => {
    const first = await client.create(rsRef(), testReplicaSet('owner-1', 0));
    const second = await client.create(rsRef(), testReplicaSet('owner-2', 0));
    await client.create(podRef(), pod('shared', [ownerRef(first, { block: true }), ownerRef(second, { block: true })]));

    await client.delete(rsRef('owner-1'));
    // the reference to the owner that went is dropped, the dependent stays
    const p = await waitFor('the dangling reference to be removed', async () => {
      const cur = await getPod('shared');
      return cur.metadata!.ownerReferences?.length === 1 ? cur : undefined;
    });
    assert.equal(p.metadata!.ownerReferences![0]!.uid, second.metadata!.uid);
    assert.ok(!p.metadata!.deletionTimestamp);

    await client.delete(rsRef('owner-2'));
    await waitFor('shared to be collected once both owners are gone', () => gone(podRef('shared')));
  });

  it('serves kubectl delete --cascade=orphan and --cascade=foreground', async () => {
    const kubeconfig = writeKubeconfig(path.join(mkdtempSync(path.join(os.tmpdir(), 'gc-kubectl-')), 'kubeconfig'), cluster.server.httpUrl);
    const kubectl = (...args: string[]) => exec('kubectl', ['--kubeconfig', kubeconfig, '-n', NS, ...args], { timeout: 30_000 });
    const kept = await client.create(rsRef(), testReplicaSet('kc-orphan', 0));
    await client.create(podRef(), pod('kc-orphan-child', [ownerRef(kept, { controller: true, block: true })]));
    // kubectl waits for the owner to be gone, which takes the collector's orphaning
    await kubectl('delete', 'rs', 'kc-orphan', '--cascade=orphan');
    assert.ok(await gone(rsRef('kc-orphan')));
    assert.equal((await getPod('kc-orphan-child')).metadata!.ownerReferences, undefined);

    const fg = await client.create(rsRef(), testReplicaSet('kc-fg', 0));
    await client.create(podRef(), pod('kc-fg-child', [ownerRef(fg, { controller: true, block: true })]));
    await kubectl('delete', 'rs', 'kc-fg', '--cascade=foreground');
    // with foreground deletion the owner goes only after its dependents
    assert.ok(await gone(rsRef('kc-fg')));
    assert.ok(await gone(podRef('kc-fg-child')));
  });

  it('cascades through several levels: owner -> ReplicaSet -> pods, in the foreground', async () => {
    const top = await client.create(rsRef(), testReplicaSet('top', 0));
    const mid = await client.create(rsRef(), { ...testReplicaSet('mid', 0), metadata: { name: 'mid', namespace: NS, ownerReferences: [ownerRef(top, { controller: true, block: true })] } });
    await client.create(podRef(), pod('leaf', [ownerRef(mid, { controller: true, block: true })], [HOLD]));
    await client.delete(rsRef('top'), { propagationPolicy: 'Foreground' });
    // the middle object is itself deleted in the foreground, since it has dependents (it
    // unblocks its reference to top first, as upstream does, so top need not wait for it)
    const m = await waitFor('mid to be deleting its dependents', async () => {
      const cur = await getRs('mid');
      return cur.metadata!.deletionTimestamp ? cur : undefined;
    });
    assert.deepEqual(m.metadata!.finalizers, [FOREGROUND_DELETION_FINALIZER]);
    await waitFor('leaf to be marked deleted', async () => !!(await getPod('leaf')).metadata!.deletionTimestamp);
    await unhold('leaf');
    await waitFor('leaf, mid and top to go', async () => (await gone(podRef('leaf'))) && (await gone(rsRef('mid'))) && (await gone(rsRef('top'))));
  });
});
