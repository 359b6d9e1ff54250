import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../lib/api/errors.js';
import { ApiClient, type DeleteOptions } from '../../lib/client/mod.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };
/** a finalizer of no controller: it holds the object so its finalizers can be read */
const HOLD = 'example.com/hold';

describe('DELETE propagationPolicy and the garbage collector finalizers (real apiserver)', () => {
  let api: ConnectedApiServer;
  let client: ApiClient;

  before(async () => {
    api = await connectedApiServer('deletion-test');
    client = api.client;
  });
  after(() => api?.stop());

  const held = (name: string): Promise<ConfigMap> =>
    client.create<ConfigMap>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, finalizers: [HOLD] }, data: { a: '1' } });
  const finalizersAfter = async (name: string, ...deletes: DeleteOptions[]): Promise<string[] | undefined> => {
    for (const opts of deletes) await client.delete({ ...CONFIGMAPS, name }, opts);
    const cm = await client.get<ConfigMap>({ ...CONFIGMAPS, name });
    assert.ok(cm.metadata?.deletionTimestamp, 'the object is being deleted');
    return cm.metadata?.finalizers;
  };

  it('Orphan adds orphan; a later Foreground swaps it for foregroundDeletion', async () => {
    await held('orphan-then-foreground');
    assert.deepEqual(await finalizersAfter('orphan-then-foreground', { propagationPolicy: 'Orphan' }), [HOLD, 'orphan']);
    assert.deepEqual(await finalizersAfter('orphan-then-foreground', { propagationPolicy: 'Foreground' }), [HOLD, 'foregroundDeletion']);
  });

  it('Foreground adds foregroundDeletion; a later Orphan swaps it for orphan', async () => {
    await held('foreground-then-orphan');
    assert.deepEqual(await finalizersAfter('foreground-then-orphan', { propagationPolicy: 'Foreground' }), [HOLD, 'foregroundDeletion']);
    assert.deepEqual(await finalizersAfter('foreground-then-orphan', { propagationPolicy: 'Orphan' }), [HOLD, 'orphan']);
  });

  it('Background removes both', async () => {
    await held('orphan-then-background');
    assert.deepEqual(await finalizersAfter('orphan-then-background', { propagationPolicy: 'Orphan' }, { propagationPolicy: 'Background' }), [HOLD]);
    await held('foreground-then-background');
    assert.deepEqual(await finalizersAfter('foreground-then-background', { propagationPolicy: 'Foreground' }, { propagationPolicy: 'Background' }), [HOLD]);
  });

  it('a delete without a policy keeps the finalizers an earlier one set', async () => {
    await held('orphan-then-default');
    assert.deepEqual(await finalizersAfter('orphan-then-default', { propagationPolicy: 'Orphan' }, {}), [HOLD, 'orphan']);
  });

  it('removes an object at once when Background takes away the only finalizer holding it', async () => {
    await client.create<ConfigMap>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'only-orphan', finalizers: ['orphan'] } });
    await client.delete({ ...CONFIGMAPS, name: 'only-orphan' }, { propagationPolicy: 'Orphan' });
    assert.deepEqual((await client.get<ConfigMap>({ ...CONFIGMAPS, name: 'only-orphan' })).metadata?.finalizers, ['orphan']);
    await client.delete({ ...CONFIGMAPS, name: 'only-orphan' }, { propagationPolicy: 'Background' });
    await assert.rejects(client.get({ ...CONFIGMAPS, name: 'only-orphan' }), (e) => isNotFound(e));
  });

  it('bumps generation on the first deletion only, not when a later delete changes the finalizers', async () => {
    const d = await client.create<Deployment>(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gen', finalizers: [HOLD] },
      spec: { selector: { matchLabels: { app: 'gen' } }, template: { metadata: { labels: { app: 'gen' } }, spec: { containers: [{ name: 'c', image: 'web' }] } } },
    });
    await client.delete({ ...DEPLOYMENTS, name: 'gen' }, { propagationPolicy: 'Orphan' });
    const first = await client.get<Deployment>({ ...DEPLOYMENTS, name: 'gen' });
    assert.equal(first.metadata?.generation, (d.metadata?.generation ?? 0) + 1);
    await client.delete({ ...DEPLOYMENTS, name: 'gen' }, { propagationPolicy: 'Foreground' });
    const second = await client.get<Deployment>({ ...DEPLOYMENTS, name: 'gen' });
    assert.deepEqual(second.metadata?.finalizers, [HOLD, 'foregroundDeletion']);
    assert.equal(second.metadata?.generation, first.metadata?.generation);
  });
});
