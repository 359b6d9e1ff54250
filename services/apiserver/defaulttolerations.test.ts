import assert from 'node:assert/strict';
import type { Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { call, connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { ApiClient } from '../../lib/client/mod.js';
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from './defaulttolerations.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

const pod = (name: string, tolerations?: Toleration[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], tolerations },
});

const notReady300: Toleration = { key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
const unreachable300: Toleration = { key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };

describe('DefaultTolerationSeconds admission (real apiserver)', () => {
  let api: ConnectedApiServer;
  let client: ApiClient;

  before(async () => {
    api = await connectedApiServer('default-tolerations-test');
    client = api.client;
  });
  after(() => api?.stop());

  it('gives a pod without tolerations the not-ready and unreachable NoExecute tolerations for 300 s', async () => {
    const created = await client.create<Pod>(PODS, pod('plain'));
    assert.deepEqual(created.spec?.tolerations, [notReady300, unreachable300]);
    const stored = await client.get<Pod>({ ...PODS, name: 'plain' });
    assert.deepEqual(stored.spec?.tolerations, [notReady300, unreachable300]);
  });

  it('keeps a pod\'s own unreachable toleration and adds only not-ready', async () => {
    const own: Toleration = { key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6 };
    const other: Toleration = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };
    const created = await client.create<Pod>(PODS, pod('own-unreachable', [other, own]));
    assert.deepEqual(created.spec?.tolerations, [other, own, notReady300]);
  });

  it('counts a toleration with an empty effect as covering NoExecute, but not one for NoSchedule only', async () => {
    const anyEffect: Toleration = { key: TAINT_NODE_NOT_READY, operator: 'Exists' };
    const noSchedule: Toleration = { key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' };
    const created = await client.create<Pod>(PODS, pod('effects', [anyEffect, noSchedule]));
    assert.deepEqual(created.spec?.tolerations, [anyEffect, noSchedule, unreachable300]);
  });

  it('adds nothing to a pod created over HTTP (as kubectl does) that tolerates everything', async () => {
    const everything: Toleration = { operator: 'Exists' };
    const res = await call(api.server.httpUrl, 'POST', '/api/v1/namespaces/default/pods', pod('tolerates-all', [everything]));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.spec.tolerations, [everything]);
    const got = await call(api.server.httpUrl, 'GET', '/api/v1/namespaces/default/pods/tolerates-all');
    assert.deepEqual(got.body.spec.tolerations, [everything]);
  });

  it('puts the defaults back when an update drops them, as upstream admits updates too', async () => {
    const created = await client.create<Pod>(PODS, pod('updated'));
    const updated = await client.update<Pod>(PODS, { ...created, spec: { ...created.spec!, tolerations: undefined, activeDeadlineSeconds: 60 } });
    assert.equal(updated.spec?.activeDeadlineSeconds, 60);
    assert.deepEqual(updated.spec?.tolerations, [notReady300, unreachable300]);
  });
});
