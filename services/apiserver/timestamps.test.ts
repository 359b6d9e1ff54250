import assert from 'node:assert/strict';
import { call, testApiServer } from '../../test/apiserver.js';
import type { ApiServer } from './server.js';

describe('the apiserver stores and serves timestamps as upstream serialises them', () => {
  let s: ApiServer;
  before(async () => {
    s = await testApiServer();
  });
  after(() => s?.stop());

  it('a Lease renewTime with milliseconds comes back with microseconds, on create, update and patch', async () => {
    const base = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    const c = await call(s.httpUrl, 'POST', base, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a', renewTime: '2026-01-01T00:00:00.123Z', acquireTime: '2026-01-01T00:00:00Z' } });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.spec.renewTime, '2026-01-01T00:00:00.123000Z');
    assert.equal(c.body.spec.acquireTime, '2026-01-01T00:00:00.000000Z');
    const u = await call(s.httpUrl, 'PUT', `${base}/l`, { ...c.body, spec: { ...c.body.spec, renewTime: '2026-01-01T01:00:00.5+01:00' } });
    assert.equal(u.body.spec.renewTime, '2026-01-01T00:00:00.500000Z');
    const p = await call(s.httpUrl, 'PATCH', `${base}/l`, { spec: { renewTime: '2026-01-01T00:00:02.1234567Z' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(p.body.spec.renewTime, '2026-01-01T00:00:02.123456Z');
    assert.equal((await call(s.httpUrl, 'GET', `${base}/l`)).body.spec.renewTime, '2026-01-01T00:00:02.123456Z', 'stored that way');
  });

  it('a Time with a fraction comes back in whole seconds (status writes too)', async () => {
    const base = '/api/v1/namespaces/default/pods';
    await call(s.httpUrl, 'POST', base, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const r = await call(s.httpUrl, 'PATCH', `${base}/p/status`, { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00.987Z' }] } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime, '2026-01-01T00:00:00Z');
  });
});
