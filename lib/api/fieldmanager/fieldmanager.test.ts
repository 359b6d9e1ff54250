import assert from 'node:assert/strict';
import '../../schema/kinds/mod.js';
import { applyConfiguration, conflictError, fieldManagerTarget, LAST_APPLIED_ANNOTATION, managerFromUserAgent, trackUpdate } from './fieldmanager.js';

const CM = fieldManagerTarget('io.k8s.api.core.v1.ConfigMap', 'v1', 'ConfigMap', { kind: 'main', ignoreStatus: false });
const DEPLOY = fieldManagerTarget('io.k8s.api.apps.v1.Deployment', 'apps/v1', 'Deployment', { kind: 'main', ignoreStatus: true });
const T = '2026-01-01T00:00:00Z';
const cm = (data: Record<string, string>, meta: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...meta }, data });
const fieldsOf = (obj: any, manager: string) => obj.metadata.managedFields.find((e: any) => e.manager === manager)?.fieldsV1;

describe('field manager: updates', () => {
  it('owns what a create sets, as upstream: by-value structs without ".", new maps, lists and items with it', () => {
    const d: any = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', uid: 'u', labels: { app: 'web' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
      },
    };
    trackUpdate(DEPLOY, undefined, d, 'kubectl-create', T);
    assert.deepEqual(d.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {} }, 'f:type': {} },
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('gives changed fields to the updater, takes them from their owner, and merges the updater\'s entries', () => {
    const live: any = cm({ a: '1', b: '1' });
    trackUpdate(CM, undefined, live, 'maker', T);
    const next: any = structuredClone(live);
    next.data.a = '2';
    delete next.data.b;
    trackUpdate(CM, live, next, 'editor', '2026-01-01T00:00:05Z');
    assert.deepEqual(fieldsOf(next, 'maker'), { 'f:data': {} });
    assert.deepEqual(fieldsOf(next, 'editor'), { 'f:data': { 'f:a': {} } });
    const third: any = structuredClone(next);
    third.data.c = '3';
    trackUpdate(CM, next, third, 'editor', '2026-01-01T00:00:09Z');
    assert.deepEqual(fieldsOf(third, 'editor'), { 'f:data': { 'f:a': {}, 'f:c': {} } });
    assert.equal(third.metadata.managedFields.length, 2);
  });

  it('replaces managed fields a client sends, clears them on [], and does not start tracking an untracked object', () => {
    const live: any = cm({ a: '1' });
    trackUpdate(CM, undefined, live, 'maker', T);
    const given = [{ manager: 'x', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }];
    const next: any = { ...structuredClone(live), metadata: { ...live.metadata, managedFields: given } };
    trackUpdate(CM, live, next, 'y', T);
    assert.deepEqual(next.metadata.managedFields, given);
    const cleared: any = { ...structuredClone(live), metadata: { name: 'c', managedFields: [] } };
    trackUpdate(CM, live, cleared, 'y', T);
    assert.equal(cleared.metadata.managedFields, undefined);
    const after: any = cm({ a: '2' });
    trackUpdate(CM, cleared, after, 'y', T);
    assert.equal(after.metadata.managedFields, undefined);
  });

  it('caps Update entries at ten, merging the oldest into ancient-changes', () => {
    let live: any = cm({});
    trackUpdate(CM, undefined, live, 'm0', '2026-01-01T00:00:00Z');
    live.data = { k0: 'v' };
    for (let i = 1; i <= 11; i++) {
      const next: any = structuredClone(live);
      next.data[`k${i}`] = 'v';
      trackUpdate(CM, live, next, `m${i}`, `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`);
      live = next;
    }
    const names = live.metadata.managedFields.map((e: any) => e.manager);
    assert.equal(names.length, 10);
    assert.ok(names.includes('ancient-changes'));
  });

  it('derives a manager from the User-Agent prefix', () => {
    assert.equal(managerFromUserAgent('kubectl-client-side-apply/v1.33.0 (linux/amd64) kubernetes/abc'), 'kubectl-client-side-apply');
    assert.equal(managerFromUserAgent(undefined), '');
  });
});

describe('field manager: apply', () => {
  it('conflicts on a field another manager owns with another value; force takes it', () => {
    const a = applyConfiguration(CM, undefined, cm({ k: '1' }), 'a', false, T).object;
    assert.throws(() => applyConfiguration(CM, a, cm({ k: '2' }), 'b', false, T), (e: any) => e.code === 409 && e.message === 'Apply failed with 1 conflict: conflict with "a": .data.k');
    const b = applyConfiguration(CM, a, cm({ k: '2' }), 'b', true, T).object;
    assert.equal(b.data.k, '2');
    assert.deepEqual(b.metadata.managedFields.map((e: any) => e.manager), ['b'], 'a manager left with nothing goes');
  });

  it('removes what the applier dropped, keeps what another manager owns, and shares same values', () => {
    let o = applyConfiguration(CM, undefined, cm({ x: '1', y: '1', z: '1' }), 'a', false, T).object;
    o = applyConfiguration(CM, o, cm({ z: '1' }), 'b', false, T).object;
    o = applyConfiguration(CM, o, cm({ x: '1' }), 'a', false, T).object;
    assert.deepEqual(o.data, { x: '1', z: '1' });
    assert.deepEqual(fieldsOf(o, 'b'), { 'f:data': { 'f:z': {} } });
  });

  it('owns pre-existing fields as before-first-apply, so they can conflict', () => {
    const live = cm({ k: '1' });
    assert.throws(() => applyConfiguration(CM, live, cm({ k: '2' }), 'a', false, T), /conflict with "before-first-apply" using v1: \.data\.k/);
  });

  it('lets kubectl take fields whose value is still the last client-side applied one, and updates the annotation', () => {
    const last = cm({ k: '1' });
    const live: any = cm({ k: '1' }, { annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(last) } });
    trackUpdate(CM, undefined, live, 'kubectl-client-side-apply', T);
    const r = applyConfiguration(CM, live, cm({ k: '2' }), 'kubectl', false, T).object;
    assert.equal(r.data.k, '2');
    assert.equal(JSON.parse(r.metadata.annotations[LAST_APPLIED_ANNOTATION]).data.k, '2');
    live.data.k = '5';
    assert.throws(() => applyConfiguration(CM, live, cm({ k: '2' }), 'kubectl', false, T), /conflict with "kubectl-client-side-apply" using v1: \.data\.k/);
  });

  it('words several conflicts by manager, sorted', () => {
    const e = conflictError([
      { manager: '{"manager":"z","operation":"Apply"}', path: '.a' },
      { manager: '{"manager":"m","operation":"Update","apiVersion":"v1","subresource":"status"}', path: '.b' },
    ]);
    // upstream sorts by manager identifier (its JSON), then prints each
    assert.equal(e.message, 'Apply failed with 2 conflicts: conflicts with "m" with subresource "status" using v1:\n- .b\nconflicts with "z":\n- .a');
  });
});
