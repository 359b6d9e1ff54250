import assert from 'node:assert/strict';
import { call, testApiServer } from '../../test/apiserver.js';
import { StoreTimeoutError } from '../../lib/store/kvstore.js';
import { errorBody, errorCode } from './handler.js';
import type { ApiServer } from './server.js';

const cm = (name: string, data: Record<string, string> = { a: '1' }, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...extra },
  data,
});

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'nginx:1.25' }], ...extra },
});

describe('apiserver REST semantics', () => {
  let s: ApiServer;
  let u: string;
  before(async () => {
    s = await testApiServer({ bookmarkIntervalMs: 200, watchCacheSize: 50 });
    u = s.httpUrl;
  });
  after(async () => {
    await s.stop();
  });

  it('creates system namespaces at start', async () => {
    const r = await call(u, 'GET', '/api/v1/namespaces');
    const names = r.body.items.map((n: any) => n.metadata.name);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.ok(names.includes(n), n);
  });

  it('fills uid, creationTimestamp and resourceVersion = store revision on create, and reads it back', async () => {
    const r = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('cm1'));
    assert.equal(r.status, 201);
    assert.match(r.body.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(r.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const g = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/cm1');
    assert.equal(g.status, 200);
    assert.equal(g.body.metadata.resourceVersion, r.body.metadata.resourceVersion);
    assert.deepEqual(g.body.data, { a: '1' });
  });

  it('generateName makes a unique name', async () => {
    const r = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', { ...cm(''), metadata: { generateName: 'gen-' } });
    assert.equal(r.status, 201);
    assert.match(r.body.metadata.name, /^gen-[a-z0-9]{5}$/);
  });

  it('answers 404 NotFound with a Status', async () => {
    const r = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.reason, 'NotFound');
    assert.equal(r.body.message, 'configmaps "nope" not found');
    assert.equal(r.body.details.name, 'nope');
  });

  it('answers 409 AlreadyExists for a duplicate create', async () => {
    await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('dup'));
    const r = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('dup', { b: '2' }));
    assert.equal(r.status, 409);
    assert.equal(r.body.reason, 'AlreadyExists');
    const g = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/dup');
    assert.deepEqual(g.body.data, { a: '1' });
  });

  it('answers 409 Conflict for an update with a stale resourceVersion, and keeps the newer data', async () => {
    const c = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('cas'));
    const stale = c.body.metadata.resourceVersion;
    const up = await call(u, 'PUT', '/api/v1/namespaces/default/configmaps/cas', { ...c.body, data: { a: '2' } });
    assert.equal(up.status, 200);
    assert.notEqual(up.body.metadata.resourceVersion, stale);
    const r = await call(u, 'PUT', '/api/v1/namespaces/default/configmaps/cas', { ...c.body, data: { a: '3' } });
    assert.equal(r.status, 409);
    assert.equal(r.body.reason, 'Conflict');
    assert.match(r.body.message, /the object has been modified/);
    assert.deepEqual((await call(u, 'GET', '/api/v1/namespaces/default/configmaps/cas')).body.data, { a: '2' });
  });

  it('answers 422 Invalid with field causes for a bad name and a bad pod', async () => {
    const r = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('Bad_Name'));
    assert.equal(r.status, 422);
    assert.equal(r.body.reason, 'Invalid');
    assert.ok(r.body.details.causes.some((c: any) => c.field === 'metadata.name'));
    const p = await call(u, 'POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } });
    assert.equal(p.status, 422);
    assert.ok(p.body.details.causes.some((c: any) => c.field === 'spec.containers[0].image'), JSON.stringify(p.body));
  });

  it('answers 400 BadRequest for malformed JSON and YAML and leaves stored data alone', async () => {
    const before = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/cm1');
    const r = await call(u, 'PUT', '/api/v1/namespaces/default/configmaps/cm1', '{"kind": "ConfigMap", "data": {', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.body.reason, 'BadRequest');
    const y = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', 'kind: [unclosed', { 'content-type': 'application/yaml' });
    assert.equal(y.status, 400);
    const after = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/cm1');
    assert.deepEqual(after.body, before.body);
  });

  it('answers 405 MethodNotAllowed, 415 UnsupportedMediaType and 413 RequestEntityTooLarge', async () => {
    const m = await call(u, 'POST', '/api/v1/namespaces/default/configmaps/cm1', cm('cm1'));
    assert.equal(m.status, 405);
    assert.equal(m.body.reason, 'MethodNotAllowed');
    const t = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', 'x', { 'content-type': 'text/csv' });
    assert.equal(t.status, 415);
    assert.equal(t.body.reason, 'UnsupportedMediaType');
    const big = JSON.stringify(cm('big', { a: 'x'.repeat(4 * 1024 * 1024) }));
    const b = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', big);
    assert.equal(b.status, 413);
    assert.equal(b.body.reason, 'RequestEntityTooLarge');
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/configmaps/big')).status, 404);
  });

  it('answers a watch from a resourceVersion older than the watch cache ring with one ERROR event: 410 Expired', async () => {
    const first = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('ring0'));
    for (let i = 0; i < 60; i++) await call(u, 'PUT', '/api/v1/namespaces/default/configmaps/ring0', { ...cm('ring0', { i: String(i) }) });
    const res = await fetch(`${u}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${first.body.metadata.resourceVersion}`);
    // upstream's cacher: 200, then the Status as an ERROR event, then the stream ends
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].type, 'ERROR');
    assert.equal(lines[0].object.code, 410);
    assert.equal(lines[0].object.reason, 'Expired');
    assert.match(lines[0].object.message, /^too old resource version: \d+ \(\d+\)$/);
  });

  it('serves the pages of a continued list from the first page\'s snapshot, and 410 once the ring has moved past it', async () => {
    await call(u, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pager' } });
    for (const n of ['pg-a', 'pg-b', 'pg-c', 'pg-d']) await call(u, 'POST', '/api/v1/namespaces/pager/configmaps', cm(n));
    const first = await call(u, 'GET', '/api/v1/namespaces/pager/configmaps?limit=2');
    assert.deepEqual(first.body.items.map((c: any) => c.metadata.name), ['pg-a', 'pg-b']);
    const listRV = first.body.metadata.resourceVersion;
    // written after the first page: none of it may show in the later pages
    await call(u, 'DELETE', '/api/v1/namespaces/pager/configmaps/pg-c');
    await call(u, 'PUT', '/api/v1/namespaces/pager/configmaps/pg-d', cm('pg-d', { changed: 'yes' }));
    await call(u, 'POST', '/api/v1/namespaces/pager/configmaps', cm('pg-e'));
    const rest = await call(u, 'GET', `/api/v1/namespaces/pager/configmaps?limit=10&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    assert.equal(rest.status, 200);
    assert.equal(rest.body.metadata.resourceVersion, listRV);
    assert.deepEqual(rest.body.items.map((c: any) => c.metadata.name), ['pg-c', 'pg-d']);
    assert.deepEqual(rest.body.items[1].data, { a: '1' }, 'pg-d as it was at the snapshot');
    // resourceVersionMatch=Exact reads the same snapshot
    const exact = await call(u, 'GET', `/api/v1/namespaces/pager/configmaps?resourceVersion=${listRV}&resourceVersionMatch=Exact`);
    assert.deepEqual(exact.body.items.map((c: any) => c.metadata.name), ['pg-a', 'pg-b', 'pg-c', 'pg-d']);
    // the ring (50 events in this suite's apiserver) moves past the snapshot
    for (let i = 0; i < 60; i++) await call(u, 'PUT', '/api/v1/namespaces/pager/configmaps/pg-a', cm('pg-a', { i: String(i) }));
    const gone = await call(u, 'GET', `/api/v1/namespaces/pager/configmaps?limit=10&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.reason, 'Expired');
    assert.match(gone.body.message, /^The provided continue parameter is too old/);
  });

  it('refuses a create in a namespace that does not exist', async () => {
    const r = await call(u, 'POST', '/api/v1/namespaces/ghost/configmaps', cm('x'));
    assert.equal(r.status, 404);
    assert.match(r.body.message, /namespaces "ghost" not found/);
  });

  it('dryRun=All validates and answers but stores nothing', async () => {
    const r = await call(u, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'));
    assert.equal(r.status, 201);
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404);
    const p = await call(u, 'PATCH', '/api/v1/namespaces/default/configmaps/cm1?dryRun=All', { data: { z: '9' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(p.status, 200);
    assert.equal(p.body.data.z, '9');
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/configmaps/cm1')).body.data.z, undefined);
  });

  it('fieldValidation=Strict rejects unknown fields with 400, Warn answers with a Warning header', async () => {
    const strict = await call(u, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', { ...cm('fv'), bogus: 1 });
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /unknown field "bogus"/);
    const warn = await call(u, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { ...cm('fv'), bogus: 1 });
    assert.equal(warn.status, 201);
    assert.match(warn.headers.get('warning') ?? '', /unknown field/);
  });

  it('bumps generation only on spec changes for kinds with a spec', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gen' },
      spec: { selector: { matchLabels: { app: 'g' } }, template: { metadata: { labels: { app: 'g' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    };
    const c = await call(u, 'POST', '/apis/apps/v1/namespaces/default/deployments', d);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.metadata.generation, 1);
    const l = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(l.body.metadata.generation, 1);
    const sp = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(sp.body.metadata.generation, 2);
    const st = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { status: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(st.body.metadata.generation, 2);
    assert.equal(st.body.status.replicas, 3);
    const scale = await call(u, 'GET', '/apis/apps/v1/namespaces/default/deployments/gen/scale');
    assert.equal(scale.body.kind, 'Scale');
    assert.equal(scale.body.spec.replicas, 3);
    assert.equal(scale.body.status.selector, 'app=g');
  });

  it('takes a uid in an update as a precondition (409) and refuses a patch that changes it (422)', async () => {
    const made = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('uid-guard', { a: '1' }));
    const uid = made.body.metadata.uid;
    const stale = { ...made.body, metadata: { ...made.body.metadata, uid: 'not-' + uid, resourceVersion: undefined }, data: { a: '2' } };
    const put = await call(u, 'PUT', '/api/v1/namespaces/default/configmaps/uid-guard', stale);
    assert.equal(put.status, 409);
    assert.equal(put.body.reason, 'Conflict');
    assert.match(put.body.message, new RegExp(`Precondition failed: UID in precondition: not-${uid}, UID in object meta: ${uid}`));
    const patch = await call(u, 'PATCH', '/api/v1/namespaces/default/configmaps/uid-guard', { metadata: { uid: 'other' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(patch.status, 422);
    assert.match(patch.body.message, /metadata\.uid: Invalid value: "other": field is immutable/);
    const kept = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/uid-guard');
    assert.equal(kept.body.metadata.uid, uid);
    assert.equal(kept.body.data.a, '1');
    const same = await call(u, 'PUT', '/api/v1/namespaces/default/configmaps/uid-guard', { ...made.body, metadata: { ...made.body.metadata, resourceVersion: undefined }, data: { a: '3' } });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.data.a, '3');
  });

  it('holds an object with a finalizer until the finalizer is removed', async () => {
    await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('fin', { a: '1' }, { finalizers: ['example.com/hold'] }));
    const d = await call(u, 'DELETE', '/api/v1/namespaces/default/configmaps/fin');
    assert.equal(d.status, 200);
    const held = await call(u, 'GET', '/api/v1/namespaces/default/configmaps/fin');
    assert.equal(held.status, 200);
    assert.ok(held.body.metadata.deletionTimestamp);
    await call(u, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/configmaps/fin')).status, 404);
  });

  it('deleting a namespace: Terminating, no new content (403), held by its kubernetes finalizer until /finalize removes it', async () => {
    await call(u, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const created = await call(u, 'GET', '/api/v1/namespaces/doomed');
    assert.deepEqual(created.body.spec.finalizers, ['kubernetes']);
    const d = await call(u, 'DELETE', '/api/v1/namespaces/doomed');
    assert.equal(d.status, 200);
    assert.equal(d.body.status.phase, 'Terminating');
    const refused = await call(u, 'POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /unable to create new content in namespace doomed because it is being terminated/);
    // emptying it is the namespace controller's work: the apiserver only keeps it
    const held = await call(u, 'GET', '/api/v1/namespaces/doomed');
    assert.equal(held.status, 200);
    assert.ok(held.body.metadata.deletionTimestamp);
    assert.deepEqual(held.body.spec.finalizers, ['kubernetes']);
    const fin = await call(u, 'PUT', '/api/v1/namespaces/doomed/finalize', { ...held.body, spec: { finalizers: [] } });
    assert.equal(fin.status, 200);
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/doomed')).status, 404);
  });

  it('deletes with uid and resourceVersion preconditions', async () => {
    const c = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('pre'));
    const bad = await call(u, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { preconditions: { uid: 'not-it' } });
    assert.equal(bad.status, 409);
    assert.match(bad.body.message, /Precondition failed: UID/);
    const ok = await call(u, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', { preconditions: { uid: c.body.metadata.uid, resourceVersion: c.body.metadata.resourceVersion } });
    assert.equal(ok.status, 200);
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/configmaps/pre')).status, 404);
  });

  it('pods bound to a node are deleted gracefully; binding sets nodeName once', async () => {
    await call(u, 'POST', '/api/v1/namespaces/default/pods', pod('gp'));
    const b = await call(u, 'POST', '/api/v1/namespaces/default/pods/gp/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'gp' }, target: { kind: 'Node', name: 'n1' } });
    assert.equal(b.status, 201);
    const again = await call(u, 'POST', '/api/v1/namespaces/default/pods/gp/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'gp' }, target: { kind: 'Node', name: 'n2' } });
    assert.equal(again.status, 409);
    const p = await call(u, 'GET', '/api/v1/namespaces/default/pods/gp');
    assert.equal(p.body.spec.nodeName, 'n1');
    assert.equal(p.body.status.conditions.find((c: any) => c.type === 'PodScheduled').status, 'True');
    const d = await call(u, 'DELETE', '/api/v1/namespaces/default/pods/gp');
    assert.equal(d.status, 200);
    assert.equal(d.body.metadata.deletionGracePeriodSeconds, 30);
    // a status write to the terminating pod (a kubelet's, a scheduler's) does not remove it
    const patched = await call(u, 'PATCH', '/api/v1/namespaces/default/pods/gp/status', { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] } }, { 'content-type': 'application/strategic-merge-patch+json' });
    assert.equal(patched.status, 200);
    const terminating = await call(u, 'GET', '/api/v1/namespaces/default/pods/gp');
    assert.equal(terminating.status, 200);
    assert.ok(terminating.body.metadata.deletionTimestamp);
    assert.equal(terminating.body.status.conditions.find((c: any) => c.type === 'DisruptionTarget').reason, 'PreemptionByScheduler');
    const now = await call(u, 'DELETE', '/api/v1/namespaces/default/pods/gp', { gracePeriodSeconds: 0 });
    assert.equal(now.status, 200);
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/pods/gp')).status, 404);
  });

  it('a grace-0 delete of a terminating pod held by a finalizer shortens its grace, so it goes with the finalizer', async () => {
    await call(u, 'POST', '/api/v1/namespaces/default/pods', { ...pod('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    await call(u, 'POST', '/api/v1/namespaces/default/pods/held/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'held' }, target: { kind: 'Node', name: 'n1' } });
    const d = await call(u, 'DELETE', '/api/v1/namespaces/default/pods/held');
    assert.equal(d.body.metadata.deletionGracePeriodSeconds, 30);
    // the kubelet's delete once the containers stopped
    const now = await call(u, 'DELETE', '/api/v1/namespaces/default/pods/held', { gracePeriodSeconds: 0 });
    assert.equal(now.status, 200);
    assert.equal(now.body.metadata.deletionGracePeriodSeconds, 0);
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/pods/held')).body.metadata.deletionGracePeriodSeconds, 0);
    // the finalizer's owner lets go: the pod is gone
    const released = await call(u, 'PATCH', '/api/v1/namespaces/default/pods/held', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(released.status, 200);
    assert.equal((await call(u, 'GET', '/api/v1/namespaces/default/pods/held')).status, 404);
  });

  it('lists with label selectors (all operators), field selectors and limit/continue paging', async () => {
    await call(u, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sel' } });
    for (let i = 0; i < 7; i++) {
      await call(u, 'POST', '/api/v1/namespaces/sel/configmaps', cm(`c${i}`, { i: String(i) }, { labels: { tier: i % 2 ? 'odd' : 'even', n: String(i) } }));
    }
    const q = async (sel: string) =>
      (await call(u, 'GET', `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent(sel)}`)).body.items.map((x: any) => x.metadata.name);
    assert.deepEqual(await q('tier=odd'), ['c1', 'c3', 'c5']);
    assert.deepEqual(await q('tier!=odd'), ['c0', 'c2', 'c4', 'c6']);
    assert.deepEqual(await q('n in (1,2)'), ['c1', 'c2']);
    assert.deepEqual(await q('n notin (0,1,2,3,4),tier'), ['c5', 'c6']);
    assert.deepEqual(await q('!tier'), []);
    const f = await call(u, 'GET', '/api/v1/namespaces/sel/configmaps?fieldSelector=metadata.name%3Dc3');
    assert.deepEqual(f.body.items.map((x: any) => x.metadata.name), ['c3']);
    const bad = await call(u, 'GET', '/api/v1/namespaces/sel/configmaps?fieldSelector=spec.nope%3D1');
    assert.equal(bad.status, 400);
    const seen: string[] = [];
    let cont = '';
    let pages = 0;
    do {
      const r = await call(u, 'GET', `/api/v1/namespaces/sel/configmaps?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      seen.push(...r.body.items.map((x: any) => x.metadata.name));
      cont = r.body.metadata.continue ?? '';
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  });

  it('streams watch events in order from a resourceVersion, with selector transitions and bookmarks', async () => {
    const c = await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('w1', { a: '1' }, { labels: { watch: 'yes' } }));
    const rv = c.body.metadata.resourceVersion;
    const ac = new AbortController();
    const res = await fetch(`${u}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&labelSelector=watch%3Dyes&allowWatchBookmarks=true`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const events: any[] = [];
    const reader = (async () => {
      let buf = '';
      for await (const chunk of res.body as any) {
        buf += Buffer.from(chunk).toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      }
    })().catch(() => undefined);
    await call(u, 'PATCH', '/api/v1/namespaces/default/configmaps/w1', { data: { a: '2' } }, { 'content-type': 'application/merge-patch+json' });
    await call(u, 'PATCH', '/api/v1/namespaces/default/configmaps/w1', { metadata: { labels: { watch: 'no' } } }, { 'content-type': 'application/merge-patch+json' });
    await call(u, 'POST', '/api/v1/namespaces/default/configmaps', cm('w2', { a: '1' }, { labels: { watch: 'yes' } }));
    await call(u, 'DELETE', '/api/v1/namespaces/default/configmaps/w2');
    const deadline = Date.now() + 5000;
    const lastRv = () => Math.max(0, ...events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.object.metadata.resourceVersion)));
    const done = () => events.filter((e) => e.type !== 'BOOKMARK').length >= 4 && events.some((e) => e.type === 'BOOKMARK' && Number(e.object.metadata.resourceVersion) >= lastRv());
    while (Date.now() < deadline && !done()) {
      await new Promise((r) => setTimeout(r, 50));
    }
    ac.abort();
    await reader;
    const seq = events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type}:${e.object.metadata.name}`);
    assert.deepEqual(seq, ['MODIFIED:w1', 'DELETED:w1', 'ADDED:w2', 'DELETED:w2']);
    const revs = events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual([...revs].sort((a, b) => a - b), revs);
    assert.ok(events.some((e) => e.type === 'BOOKMARK' && Number(e.object.metadata.resourceVersion) >= revs[revs.length - 1]));
  });

  it('serves server-side Tables for kubectl', async () => {
    await call(u, 'POST', '/api/v1/namespaces/default/pods', pod('tbl'));
    const r = await call(u, 'GET', '/api/v1/namespaces/default/pods', undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    });
    assert.equal(r.body.kind, 'Table');
    const cols = r.body.columnDefinitions.map((c: any) => c.name.toUpperCase());
    assert.deepEqual(cols.slice(0, 5), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const row = r.body.rows.find((x: any) => x.cells[0] === 'tbl');
    assert.equal(row.cells[1], '0/1');
    assert.equal(row.cells[2], 'Pending');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
  });

  it('answers discovery, aggregated discovery with the matching Content-Type, and /version', async () => {
    const v = await call(u, 'GET', '/version');
    assert.equal(v.body.major, '1');
    const agg = await fetch(`${u}/apis`, { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    assert.equal(agg.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const body: any = await agg.json();
    assert.equal(body.kind, 'APIGroupDiscoveryList');
    const apps = body.items.find((g: any) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
    assert.deepEqual(deploy.shortNames, ['deploy']);
    assert.ok(deploy.subresources.some((s: any) => s.subresource === 'scale'));
    const old = await fetch(`${u}/api`, { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' } });
    assert.equal(old.headers.get('content-type'), 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
    const core = await call(u, 'GET', '/api/v1');
    const pods = core.body.resources.find((r: any) => r.name === 'pods');
    assert.equal(pods.namespaced, true);
    assert.ok(core.body.resources.some((r: any) => r.name === 'pods/binding'));
    // the streaming subresources, as upstream lists them
    for (const [name, kind, verbs] of [['pods/exec', 'PodExecOptions', ['create', 'get']], ['pods/attach', 'PodAttachOptions', ['create', 'get']], ['pods/portforward', 'PodPortForwardOptions', ['create', 'get']], ['pods/log', 'Pod', ['get']]] as const) {
      const r = core.body.resources.find((x: any) => x.name === name);
      assert.ok(r, `${name} is listed`);
      assert.equal(r.kind, kind, name);
      assert.deepEqual(r.verbs, verbs, name);
      assert.equal(r.namespaced, true, name);
    }
  });

  it('serves /metrics with apiserver_request_total by verb, resource and code, and health endpoints', async () => {
    await call(u, 'GET', '/api/v1/namespaces/default/configmaps/nope-metrics');
    const m = await fetch(`${u}/metrics`).then((r) => r.text());
    assert.match(m, /apiserver_request_total\{[^}]*verb="GET"[^}]*resource="configmaps"[^}]*code="404"[^}]*\} \d+/);
    assert.match(m, /apiserver_request_duration_seconds_bucket\{/);
    assert.match(m, /apiserver_current_inflight_requests/);
    for (const p of ['/healthz', '/livez', '/readyz']) assert.equal((await fetch(u + p)).status, 200);
  });
});

describe('apiserver errors from the store', () => {
  it('answers a write the store did not acknowledge in time with upstream 504 Timeout, not 500', () => {
    const e = new StoreTimeoutError('create pods.default.web', 30_000);
    assert.equal(errorCode(e), 504);
    assert.deepEqual(errorBody(e), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Timeout: request did not complete within requested timeout - store: create pods.default.web: no acknowledgement from JetStream within 30 s (the write may or may not have been stored)',
      reason: 'Timeout',
      code: 504,
    });
    assert.equal(errorCode(new Error('boom')), 500);
  });
});
