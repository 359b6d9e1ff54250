import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { ApiClient, PODDISRUPTIONBUDGETS as PDBS, Resources } from '../../../lib/client/mod.js';
import { startControllerCluster, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { scaledIntOrPercent } from './disruption.js';
import { setPodStatus } from '../testing/pods.js';

const NS = 'default';

describe('disruption controller against a real apiserver', function () {
  this.timeout(60_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const pdbRef = (name?: string) => ({ ...PDBS, namespace: NS, name });
  const podRef = (name?: string) => ({ ...Resources.pods, namespace: NS, name });
  const setReady = (name: string, ready: boolean) => setPodStatus(client, name, undefined, ready);
  const createPod = async (name: string, app: string, owner?: ReplicaSet) => {
    await client.create(podRef(), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: NS,
        labels: { app },
        ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true }] : undefined,
      },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    } satisfies Pod);
  };
  const statusWhere = (name: string, want: Partial<PodDisruptionBudgetStatus>) =>
    waitFor(`${name} status ${JSON.stringify(want)}`, async () => {
      const s = (await client.get<PodDisruptionBudget>(pdbRef(name))).status;
      if (!s) return undefined;
      for (const [k, v] of Object.entries(want)) if ((s as unknown as Record<string, unknown>)[k] !== v) return undefined;
      return s;
    });
  const condition = (s: PodDisruptionBudgetStatus) => s.conditions?.find((c) => c.type === 'DisruptionAllowed');

  before(async () => {
    cluster = await startControllerCluster('disruption-test', ['disruption-controller']);
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('minAvailable as an integer counts the selected pods and allows currentHealthy - minAvailable disruptions', async () => {
    for (const n of ['m1', 'm2', 'm3']) await createPod(n, 'min');
    await createPod('other', 'elsewhere');
    await setReady('m1', true);
    await setReady('m2', true);
    await setReady('other', true);
    await client.create(pdbRef(), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'min', namespace: NS }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'min' } } } });
    const s = await statusWhere('min', { currentHealthy: 2, expectedPods: 3 });
    assert.equal(s.desiredHealthy, 1);
    assert.equal(s.disruptionsAllowed, 1);
    assert.equal(s.observedGeneration, 1);
    assert.equal(condition(s)?.status, 'True');
    assert.equal(condition(s)?.reason, 'SufficientPods');

    await setReady('m2', false);
    const after = await statusWhere('min', { currentHealthy: 1 });
    assert.equal(after.disruptionsAllowed, 0);
    assert.equal(condition(after)?.status, 'False');
    assert.equal(condition(after)?.reason, 'InsufficientPods');

    // a spec change is observed
    const pdb = await client.get<PodDisruptionBudget>(pdbRef('min'));
    await client.update(pdbRef('min'), { ...pdb, spec: { ...pdb.spec, minAvailable: 0 } });
    const relaxed = await statusWhere('min', { observedGeneration: 2 });
    assert.equal(relaxed.desiredHealthy, 0);
    assert.equal(relaxed.disruptionsAllowed, 1);
  });

  it('maxUnavailable and percentage minAvailable count against the scale of the pods controller, rounding up', async () => {
    const rs = await client.create<ReplicaSet>({ ...Resources.replicasets, namespace: NS }, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: NS },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    // only 3 of the 4 replicas exist; the scale (4) is the denominator, not the pods present
    for (const n of ['w1', 'w2', 'w3']) {
      await createPod(n, 'web', rs);
      await setReady(n, true);
    }
    await client.create(pdbRef(), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'maxu', namespace: NS }, spec: { maxUnavailable: '30%', selector: { matchLabels: { app: 'web' } } } });
    await client.create(pdbRef(), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pct', namespace: NS }, spec: { minAvailable: '30%', selector: { matchLabels: { app: 'web' } } } });
    // maxUnavailable 30% of 4 = 1.2, rounded up to 2: desiredHealthy 2
    const m = await statusWhere('maxu', { expectedPods: 4, currentHealthy: 3 });
    assert.equal(m.desiredHealthy, 2);
    assert.equal(m.disruptionsAllowed, 1);
    assert.equal(condition(m)?.reason, 'SufficientPods');
    // minAvailable 30% of 4 = 1.2, rounded up to 2
    const p = await statusWhere('pct', { expectedPods: 4, currentHealthy: 3 });
    assert.equal(p.desiredHealthy, 2);
    assert.equal(p.disruptionsAllowed, 1);

    await setReady('w1', false);
    const m2 = await statusWhere('maxu', { currentHealthy: 2 });
    assert.equal(m2.disruptionsAllowed, 0);
    assert.equal(condition(m2)?.status, 'False');

    // a pod of a kind without a scale cannot be counted: no disruptions at all, SyncFailed
    await client.create(podRef(), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'w-ds', namespace: NS, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: '00000000-0000-0000-0000-000000000001', controller: true }] },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    } satisfies Pod);
    await setReady('w1', true);
    const failed = await waitFor('SyncFailed', async () => {
      const s = (await client.get<PodDisruptionBudget>(pdbRef('maxu'))).status!;
      return condition(s)?.reason === 'SyncFailed' ? s : undefined;
    });
    assert.equal(failed.disruptionsAllowed, 0);
    assert.match(condition(failed)!.message!, /DaemonSet default\/ds does not implement the scale subresource/);
  });

  it('scales int-or-percent values like intstr.GetScaledValueFromIntOrPercent', () => {
    assert.equal(scaledIntOrPercent(3, 10, true), 3);
    assert.equal(scaledIntOrPercent('25%', 10, true), 3);
    assert.equal(scaledIntOrPercent('25%', 10, false), 2);
    assert.throws(() => scaledIntOrPercent('x', 10, true), /invalid value/);
  });
});
