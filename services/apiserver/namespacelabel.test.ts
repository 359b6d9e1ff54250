import assert from 'node:assert/strict';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const LABEL = 'kubernetes.io/metadata.name';

describe('every Namespace carries the immutable label kubernetes.io/metadata.name', () => {
  let api: ConnectedApiServer;
  before(async () => {
    api = await connectedApiServer('namespace-label-test');
  });
  after(() => api?.stop());

  it('is set on create, also for a generated name, and on the namespaces the apiserver creates', async () => {
    const ns = await api.client.create<any>(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { [LABEL]: 'other', env: 'prod' } } });
    assert.deepEqual(ns.metadata.labels, { [LABEL]: 'team-a', env: 'prod' });
    const gen = await api.client.create<any>(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { generateName: 'gen-' } });
    assert.equal(gen.metadata.labels[LABEL], gen.metadata.name);
    const system = await api.client.get<any>({ ...NAMESPACES, name: 'kube-system' });
    assert.equal(system.metadata.labels[LABEL], 'kube-system');
  });

  it('is restored when an update or a patch removes or changes it', async () => {
    await api.client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
    const cur = await api.client.get<any>({ ...NAMESPACES, name: 'team-b' });
    const updated = await api.client.update<any>({ ...NAMESPACES, name: 'team-b' }, { ...cur, metadata: { ...cur.metadata, labels: { env: 'dev' } } });
    assert.deepEqual(updated.metadata.labels, { env: 'dev', [LABEL]: 'team-b' });
    const patched = await api.client.patch<any>({ ...NAMESPACES, name: 'team-b' }, 'merge', { metadata: { labels: { [LABEL]: 'stolen' } } });
    assert.equal(patched.metadata.labels[LABEL], 'team-b');
    const removed = await api.client.patch<any>({ ...NAMESPACES, name: 'team-b' }, 'json', [{ op: 'remove', path: '/metadata/labels/kubernetes.io~1metadata.name' }]);
    assert.equal(removed.metadata.labels[LABEL], 'team-b');
  });
});
