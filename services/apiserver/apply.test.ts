import assert from 'node:assert/strict';
import { call, connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { servedKinds } from './kinds.js';

const APPLY = { 'content-type': 'application/apply-patch+yaml' };
const CM = '/api/v1/namespaces/default/configmaps';

function cmYaml(name: string, data: Record<string, string>, extra = ''): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${lines.join('\n')}\n`;
}

function managers(obj: any): string[] {
  return (obj.metadata.managedFields ?? []).map((e: any) => `${e.manager}/${e.operation}${e.subresource ? '/' + e.subresource : ''}`);
}

function entry(obj: any, manager: string, operation = 'Apply'): any {
  return obj.metadata.managedFields.find((e: any) => e.manager === manager && e.operation === operation);
}

describe('server-side apply over HTTP and NATS', () => {
  let c: ConnectedApiServer;
  let u: string;
  before(async () => {
    c = await connectedApiServer('apply-test');
    u = c.server.httpUrl;
  });
  after(async () => {
    await c.stop();
  });

  it('creates an absent object (201) and records the applier as an Apply entry', async () => {
    const r = await call(u, 'PATCH', `${CM}/ssa1?fieldManager=alice`, cmYaml('ssa1', { key: 'a' }), APPLY);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.data, { key: 'a' });
    assert.deepEqual(managers(r.body), ['alice/Apply']);
    const e = entry(r.body, 'alice');
    assert.equal(e.apiVersion, 'v1');
    assert.equal(e.fieldsType, 'FieldsV1');
    assert.deepEqual(e.fieldsV1, { 'f:data': { 'f:key': {} } });
    assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const again = await call(u, 'PATCH', `${CM}/ssa1?fieldManager=alice`, cmYaml('ssa1', { key: 'a' }), APPLY);
    assert.equal(again.status, 200);
    assert.equal(again.body.metadata.resourceVersion, r.body.metadata.resourceVersion, 'a no-op apply writes nothing');
  });

  it('answers a conflict with upstream wording and causes, and force takes the field over', async () => {
    await call(u, 'PATCH', `${CM}/ssa2?fieldManager=alice`, cmYaml('ssa2', { key: 'a', other: 'x' }), APPLY);
    const r = await call(u, 'PATCH', `${CM}/ssa2?fieldManager=bob`, cmYaml('ssa2', { key: 'b' }), APPLY);
    assert.equal(r.status, 409);
    assert.equal(r.body.reason, 'Conflict');
    assert.equal(r.body.message, 'Apply failed with 1 conflict: conflict with "alice": .data.key');
    assert.deepEqual(r.body.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.data.key' }]);
    const same = await call(u, 'PATCH', `${CM}/ssa2?fieldManager=bob`, cmYaml('ssa2', { key: 'a' }), APPLY);
    assert.equal(same.status, 200, 'the same value is shared ownership, not a conflict');
    assert.deepEqual(entry(same.body, 'alice').fieldsV1, { 'f:data': { 'f:key': {}, 'f:other': {} } });
    const f = await call(u, 'PATCH', `${CM}/ssa2?fieldManager=bob&force=true`, cmYaml('ssa2', { key: 'b' }), APPLY);
    assert.equal(f.status, 200, JSON.stringify(f.body));
    assert.equal(f.body.data.key, 'b');
    assert.deepEqual(entry(f.body, 'alice').fieldsV1, { 'f:data': { 'f:other': {} } });
    assert.deepEqual(entry(f.body, 'bob').fieldsV1, { 'f:data': { 'f:key': {} } });
  });

  it('names several conflicts per manager, and an Update manager with its apiVersion', async () => {
    const created = await call(u, 'POST', `${CM}?fieldManager=kubectl-client-side-apply`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa3' }, data: { a: '1', b: '2' } });
    assert.deepEqual(managers(created.body), ['kubectl-client-side-apply/Update']);
    const r = await call(u, 'PATCH', `${CM}/ssa3?fieldManager=carol`, cmYaml('ssa3', { a: '9', b: '9' }), APPLY);
    assert.equal(r.status, 409);
    assert.equal(r.body.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using v1:\n- .data.a\n- .data.b');
    assert.equal(r.body.details.causes[0].message, 'conflict with "kubectl-client-side-apply" using v1');
  });

  it('removes a field the applier no longer applies, unless another manager owns it', async () => {
    await call(u, 'PATCH', `${CM}/ssa4?fieldManager=alice`, cmYaml('ssa4', { a: '1', b: '2', c: '3' }), APPLY);
    await call(u, 'PATCH', `${CM}/ssa4?fieldManager=bob`, cmYaml('ssa4', { c: '3' }), APPLY);
    const r = await call(u, 'PATCH', `${CM}/ssa4?fieldManager=alice`, cmYaml('ssa4', { a: '1' }), APPLY);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { a: '1', c: '3' });
  });

  it('merges map lists by key and owns container fields by name', async () => {
    const dep = (image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: ${image}
${extra}`;
    const r = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=deployer', dep('nginx:1'), APPLY);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const fields = entry(r.body, 'deployer').fieldsV1;
    assert.deepEqual(fields['f:spec']['f:selector'], {}, 'a LabelSelector is atomic');
    assert.deepEqual(fields['f:spec']['f:template']['f:spec']['f:containers'], { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } });
    // another manager adds a sidecar; the deployer's next apply keeps it
    const side = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        image: busybox\n`;
    assert.equal((await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=mesh', side, APPLY)).status, 200);
    const again = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=deployer', dep('nginx:2'), APPLY);
    assert.deepEqual(again.body.spec.template.spec.containers.map((x: any) => `${x.name}=${x.image}`), ['nginx=nginx:2', 'sidecar=busybox']);
  });

  it('requires a fieldManager and refuses force on other patches, as upstream (422 PatchOptions)', async () => {
    const r = await call(u, 'PATCH', `${CM}/ssa5`, cmYaml('ssa5', { a: '1' }), APPLY);
    assert.equal(r.status, 422);
    assert.equal(r.body.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    assert.deepEqual(r.body.details, { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
    const f = await call(u, 'PATCH', `${CM}/ssa1?force=true`, { data: { x: 'y' } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(f.status, 422);
    assert.equal(f.body.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  });

  it('refuses fields the schema does not declare, a wrong kind, managedFields in the configuration; Strict finds repeated keys', async () => {
    const unknown = await call(u, 'PATCH', `${CM}/ssa6?fieldManager=a`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa6\nspec:\n  x: 1\n', APPLY);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.message, 'failed to create typed patch object (/ssa6; /v1, Kind=ConfigMap): .spec: field not declared in schema');
    const kind = await call(u, 'PATCH', `${CM}/ssa6?fieldManager=a`, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: ssa6\n', APPLY);
    assert.equal(kind.status, 400);
    assert.equal(kind.body.message, 'invalid object type: /v1, Kind=Secret');
    const mf = await call(u, 'PATCH', `${CM}/ssa6?fieldManager=a`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa6\n  managedFields: []\n', APPLY);
    assert.equal(mf.body.message, 'metadata.managedFields must be nil');
    const dup = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa6\ndata:\n  a: "1"\n  a: "2"\n';
    const strict = await call(u, 'PATCH', `${CM}/ssa6?fieldManager=a&fieldValidation=Strict`, dup, APPLY);
    assert.equal(strict.status, 400);
    assert.equal(strict.body.message, 'error strict decoding YAML: yaml: unmarshal errors:\n  line 7: key "a" already set in map');
    const lax = await call(u, 'PATCH', `${CM}/ssa6?fieldManager=a`, dup, APPLY);
    assert.equal(lax.status, 201);
    assert.equal(lax.body.data.a, '2');
  });

  it('dry-runs an apply without writing', async () => {
    const r = await call(u, 'PATCH', `${CM}/ssa7?fieldManager=a&dryRun=All`, cmYaml('ssa7', { a: '1' }), APPLY);
    assert.equal(r.status, 201);
    assert.equal((await call(u, 'GET', `${CM}/ssa7`)).status, 404);
  });

  it('records Update entries under fieldManager or the User-Agent prefix, merging the same manager', async () => {
    const created = await call(u, 'POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'upd1', labels: { app: 'x' } }, data: { a: '1' } }, { 'user-agent': 'kubectl-create/v1.33.0 (linux/amd64) kubernetes/abc' });
    assert.deepEqual(managers(created.body), ['kubectl-create/Update']);
    assert.deepEqual(entry(created.body, 'kubectl-create', 'Update').fieldsV1, { 'f:data': { '.': {}, 'f:a': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } });
    const p1 = await call(u, 'PATCH', `${CM}/upd1?fieldManager=kubectl-edit`, { data: { a: '2', b: '1' } }, { 'content-type': 'application/merge-patch+json' });
    // the edited field left its former manager, which keeps the data map itself
    assert.deepEqual(entry(p1.body, 'kubectl-create', 'Update').fieldsV1, { 'f:data': {}, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } });
    assert.deepEqual(entry(p1.body, 'kubectl-edit', 'Update').fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
    const p2 = await call(u, 'PATCH', `${CM}/upd1?fieldManager=kubectl-edit`, { data: { c: '1' } }, { 'content-type': 'application/merge-patch+json' });
    assert.deepEqual(managers(p2.body), ['kubectl-create/Update', 'kubectl-edit/Update']);
    assert.deepEqual(entry(p2.body, 'kubectl-edit', 'Update').fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {}, 'f:c': {} } });
  });

  it('lets a client replace managedFields, and an empty list clears them', async () => {
    const created = await call(u, 'POST', `${CM}?fieldManager=maker`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mf1' }, data: { a: '1' } });
    const given = [{ manager: 'someone', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }];
    const r = await call(u, 'PATCH', `${CM}/mf1?fieldManager=x`, { metadata: { managedFields: given } }, { 'content-type': 'application/merge-patch+json' });
    assert.deepEqual(r.body.metadata.managedFields, given);
    const cleared = await call(u, 'PATCH', `${CM}/mf1?fieldManager=x`, { metadata: { managedFields: [] } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(cleared.body.metadata.managedFields, undefined);
    void created;
  });

  it('applies to status and scale as their own managers', async () => {
    const dep = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sc\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: sc}\n  template:\n    metadata:\n      labels: {app: sc}\n    spec:\n      containers:\n      - {name: c, image: busybox}\n';
    await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/sc?fieldManager=deployer', dep, APPLY);
    const scale = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale?fieldManager=hpa', 'apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: sc\nspec:\n  replicas: 3\n', APPLY);
    assert.equal(scale.status, 409, 'the deployer owns spec.replicas');
    assert.match(scale.body.message, /conflict with "deployer": \.spec\.replicas/);
    const forced = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale?fieldManager=hpa&force=true', 'apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: sc\nspec:\n  replicas: 3\n', APPLY);
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.spec.replicas, 3);
    // upstream's ScaleREST answers scaleFromDeployment(...): name, namespace, uid,
    // resourceVersion and creationTimestamp, never managedFields (they live on the parent)
    assert.deepEqual(Object.keys(forced.body.metadata).sort(), ['creationTimestamp', 'name', 'namespace', 'resourceVersion', 'uid']);
    const d = await call(u, 'GET', '/apis/apps/v1/namespaces/default/deployments/sc');
    assert.deepEqual(entry(d.body, 'hpa').subresource, 'scale');
    // ScaleHandler.ToParent: the scale's replicas become the parent's, under the parent's version
    assert.equal(entry(d.body, 'hpa').apiVersion, 'apps/v1');
    assert.equal(entry(d.body, 'hpa').operation, 'Apply');
    assert.deepEqual(entry(d.body, 'hpa').fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    const st = await call(u, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/status?fieldManager=ctrl', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: sc\nstatus:\n  observedGeneration: 1\n', APPLY);
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.equal(st.body.status.observedGeneration, 1);
    const ctrl = entry(st.body, 'ctrl');
    assert.equal(ctrl.subresource, 'status');
    assert.deepEqual(ctrl.fieldsV1, { 'f:status': { 'f:observedGeneration': {} } });
  });

  it('applies to cluster-scoped kinds, and Warn reports repeated keys as a warning', async () => {
    const ns = await call(u, 'PATCH', '/api/v1/namespaces/team-a?fieldManager=platform', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels: {owner: platform}\n', APPLY);
    assert.equal(ns.status, 201, JSON.stringify(ns.body));
    assert.deepEqual(entry(ns.body, 'platform').fieldsV1, { 'f:metadata': { 'f:labels': { 'f:owner': {} } } });
    const pc = 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\nvalue: 2000\n';
    const r = await call(u, 'PATCH', '/apis/scheduling.k8s.io/v1/priorityclasses/high?fieldManager=platform&fieldValidation=Warn', pc, APPLY);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.value, 2000);
    assert.match(r.headers.get('warning') ?? '', /key \\"value\\" already set in map/);
  });

  it('serves apply on every kind: an object it creates carries the applier\'s fields; one the schema refuses is a 422', async () => {
    for (const k of servedKinds()) {
      if (k.def.verbs && !k.def.verbs.includes('patch')) continue;
      const base = k.def.group ? `/apis/${k.def.group}/${k.def.version}` : `/api/${k.def.version}`;
      const url = `${base}${k.def.namespaced ? '/namespaces/default' : ''}/${k.def.plural}/every-${k.def.singular}?fieldManager=sweeper`;
      const body = JSON.stringify({ apiVersion: k.apiVersion, kind: k.def.kind, metadata: { name: `every-${k.def.singular}`, labels: { swept: 'yes' } } });
      const r = await call(u, 'PATCH', url, body, APPLY);
      assert.ok(r.status === 201 || r.status === 422, `${k.def.plural}: ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status === 201) assert.deepEqual(entry(r.body, 'sweeper').fieldsV1, { 'f:metadata': { 'f:labels': { 'f:swept': {} } } }, k.def.plural);
      else assert.equal(r.body.reason, 'Invalid', k.def.plural);
    }
  });

  it('records nothing for the apiserver\'s own binding write, as upstream', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const created = await call(u, 'POST', '/api/v1/namespaces/default/pods?fieldManager=maker', pod);
    assert.equal(created.status, 201);
    const bind = await call(u, 'POST', '/api/v1/namespaces/default/pods/bound/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n1' } });
    assert.equal(bind.status, 201);
    const got = await call(u, 'GET', '/api/v1/namespaces/default/pods/bound');
    assert.equal(got.body.spec.nodeName, 'n1');
    assert.deepEqual(got.body.metadata.managedFields, created.body.metadata.managedFields);
  });

  it('applies over NATS with force', async () => {
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nats1' }, data: { k: 'a' } };
    const created: any = await c.client.patch({ ...ref, name: 'nats1' }, 'apply', body, { fieldManager: 'one' });
    assert.deepEqual(managers(created), ['one/Apply']);
    await assert.rejects(c.client.patch({ ...ref, name: 'nats1' }, 'apply', { ...body, data: { k: 'b' } }, { fieldManager: 'two' }), (e: any) => e.code === 409 && /conflict with "one": \.data\.k/.test(e.message));
    const forced: any = await c.client.patch({ ...ref, name: 'nats1' }, 'apply', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nats1\ndata:\n  k: b\n', { fieldManager: 'two', force: true });
    assert.equal(forced.data.k, 'b');
    assert.deepEqual(managers(forced), ['two/Apply']);
  });

  it('upgrades from client-side apply: kubectl takes the fields last-applied still sets, and keeps the annotation current', async () => {
    const last = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'csa1', namespace: 'default' }, data: { a: '1' } };
    await call(u, 'POST', `${CM}?fieldManager=kubectl-client-side-apply`, {
      ...last,
      metadata: { ...last.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(last) } },
    });
    const other = await call(u, 'PATCH', `${CM}/csa1?fieldManager=someone`, cmYaml('csa1', { a: '2' }), APPLY);
    assert.equal(other.status, 409, 'only kubectl upgrades');
    const r = await call(u, 'PATCH', `${CM}/csa1?fieldManager=kubectl`, cmYaml('csa1', { a: '2' }), APPLY);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.a, '2');
    assert.deepEqual(JSON.parse(r.body.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'csa1' }, data: { a: '2' } });
  });
});
