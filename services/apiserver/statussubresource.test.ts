import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

/** upstream ResetObjectMetaForStatus and the pod status strategy: a status write changes status alone */
describe('apiserver status subresource writes', () => {
  let api: ConnectedApiServer;
  before(async () => {
    api = await connectedApiServer('status-subresource-test');
  });
  after(() => api?.stop());

  async function created(name: string): Promise<Pod> {
    return api.client.create<Pod>(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: 'a' }, annotations: { note: 'n' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
  }

  it('a status patch keeps the status it brings and drops its changes to labels, annotations and spec', async () => {
    const pod = await created('patched');
    const body = {
      metadata: { labels: { app: 'changed', extra: 'x' }, annotations: { note: 'changed' } },
      spec: { activeDeadlineSeconds: 5, containers: [{ name: 'c', image: 'nginx' }] },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };

    const answered = await api.client.patch<Pod>({ ...PODS, name: 'patched', subresource: 'status' }, 'strategic', body);

    const stored = await api.client.get<Pod>({ ...PODS, name: 'patched' });
    assert.deepEqual(answered, stored, 'the reply is the object as written, managedFields and resourceVersion included');
    for (const p of [answered, stored]) {
      assert.equal(p.status?.phase, 'Running');
      assert.deepEqual(p.status?.conditions?.map((c) => [c.type, c.status]), [['Ready', 'True']]);
      assert.deepEqual(p.metadata?.labels, { app: 'a' });
      assert.deepEqual(p.metadata?.annotations, { note: 'n' });
      assert.deepEqual(p.spec, pod.spec);
      assert.notEqual(p.metadata?.resourceVersion, pod.metadata?.resourceVersion);
    }
  });

  it('a status update (PUT) does the same, and a later status write starts from what was stored', async () => {
    const pod = await created('updated');
    const sent = { ...pod, metadata: { ...pod.metadata, labels: { app: 'changed' } }, spec: { ...pod.spec, activeDeadlineSeconds: 9 }, status: { phase: 'Succeeded' as const } };

    await api.client.updateStatus(PODS, sent);
    await api.client.patch({ ...PODS, name: 'updated', subresource: 'status' }, 'merge', { status: { message: 'done' } });

    const stored = await api.client.get<Pod>({ ...PODS, name: 'updated' });
    assert.equal(stored.status?.phase, 'Succeeded');
    assert.equal(stored.status?.message, 'done');
    assert.deepEqual(stored.metadata?.labels, { app: 'a' });
    assert.equal(stored.spec?.activeDeadlineSeconds, undefined);
    assert.deepEqual(Object.keys(stored), Object.keys(pod), 'the members in their order');
  });
});
