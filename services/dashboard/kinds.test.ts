/** The pure parts of the any-kind views: printer columns, discovery's listable resources, search queries, a Secret kept back. */
import assert from 'node:assert/strict';
import type { ApiClient } from '../../lib/client/mod.js';
import { kindColumns } from './printercolumns.js';
import { listableResources } from './discovery.js';
import { parseQuery } from './search.js';
import { redactSecret } from './secrets.js';
import { QueryError } from './tables.js';

describe('dashboard: any kind', () => {
  it("gives a kind without columns of its own the apiserver's printer columns, Age as a time", () => {
    const k = kindColumns({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' });
    assert.deepEqual(k.columns.map((c) => c.name), ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy']);
    const created = '2026-01-02T03:04:05Z';
    assert.deepEqual(k.cells({ metadata: { name: 'high', creationTimestamp: created }, value: 7, preemptionPolicy: 'Never' }), ['high', 7, 'false', Date.parse(created), 'Never']);
    const svc = kindColumns({ group: '', version: 'v1', resource: 'services' });
    assert.deepEqual(svc.columns.slice(0, 3).map((c) => c.name), ['Name', 'Namespace', 'Type']);
    // a kind this build does not define: name, namespace, age
    assert.deepEqual(kindColumns({ group: 'example.com', version: 'v1', resource: 'widgets' }).columns.map((c) => c.name), ['Name', 'Namespace', 'Age']);
    // the dashboard's own columns are for their own group only
    assert.equal(kindColumns({ group: 'events.k8s.io', version: 'v1', resource: 'events' }).columns[0]!.name, 'Name');
  });

  it('lists every listable resource of every group version, preferred first, without subresources', async () => {
    const reply = {
      groups: {
        groups: [
          { name: '', versions: [{ groupVersion: 'v1', version: 'v1' }], preferredVersion: { groupVersion: 'v1', version: 'v1' } },
          { name: 'x.io', versions: [{ groupVersion: 'x.io/v1', version: 'v1' }, { groupVersion: 'x.io/v2', version: 'v2' }], preferredVersion: { groupVersion: 'x.io/v2', version: 'v2' } },
        ],
      },
      resources: [
        { groupVersion: 'v1', resources: [{ name: 'pods', kind: 'Pod', namespaced: true, verbs: ['list', 'watch', 'get'] }, { name: 'pods/status', kind: 'Pod', namespaced: true, verbs: ['get', 'list', 'watch'] }, { name: 'bindings', kind: 'Binding', namespaced: true, verbs: ['create'] }] },
        { groupVersion: 'x.io/v1', resources: [{ name: 'widgets', kind: 'Widget', namespaced: false, verbs: ['list', 'watch'] }] },
        { groupVersion: 'x.io/v2', resources: [{ name: 'widgets', kind: 'Widget', namespaced: false, verbs: ['list', 'watch'], shortNames: ['wd'] }] },
      ],
    };
    const rs = await listableResources({ discovery: async () => reply } as unknown as ApiClient);
    assert.deepEqual(rs.map((r) => `${r.group}/${r.version}/${r.resource}:${r.preferred}`), ['/v1/pods:true', 'x.io/v2/widgets:true', 'x.io/v1/widgets:false']);
    assert.deepEqual(rs[1]!.shortNames, ['wd']);
  });

  it('reads a query with a selector operator as a label selector, anything else as a part of a name', () => {
    assert.deepEqual(parseQuery(' Web '), { text: 'web' });
    for (const q of ['app=web', 'tier!=db', 'env in (a,b)', 'app=web,tier']) assert.ok('selector' in parseQuery(q), q);
    assert.ok((parseQuery('app=web') as any).selector.matches({ app: 'web' }));
    assert.throws(() => parseQuery('app in (web'), QueryError);
    assert.throws(() => parseQuery('  '), QueryError);
  });

  it("sends a Secret without its values: each key's size instead", () => {
    const s = { kind: 'Secret', metadata: { name: 's', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"p":"c2VjcmV0"}}' } }, data: { p: Buffer.from('secret').toString('base64') }, stringData: { q: 'ab' } };
    const r = redactSecret({ group: '', resource: 'secrets' }, s as any) as any;
    assert.equal(r.data, undefined);
    assert.equal(r.stringData, undefined);
    assert.deepEqual(r.dataSizes, { p: 6, q: 2 });
    assert.doesNotMatch(JSON.stringify(r), /c2VjcmV0|secret"/);
    assert.equal(s.data.p, Buffer.from('secret').toString('base64'), 'the original is left alone');
    const cm = { kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } };
    assert.equal(redactSecret({ group: '', resource: 'configmaps' }, cm as any), cm);
  });
});
