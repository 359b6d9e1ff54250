import assert from 'node:assert/strict';
import { FieldSet } from './fieldset.js';
import { comparePathElements, pathText } from './pathelement.js';

/** managedFields written by hand in upstream's shape (the Server-Side Apply docs' examples and real kubectl output). */
const UPDATE_FIXTURE = {
  'f:metadata': { 'f:finalizers': { '.': {}, 'v:"example.com/a"': {}, 'v:"example.com/b"': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:containers': {
      'k:{"name":"nginx"}': {
        '.': {},
        'f:image': {},
        'f:name': {},
        'f:ports': {
          '.': {},
          'k:{"containerPort":9000,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
          'k:{"containerPort":10000,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} },
        },
      },
    },
    'f:selector': {},
  },
};

describe('FieldsV1 field sets', () => {
  it('decodes and encodes upstream FieldsV1 unchanged, key order included', () => {
    const s = FieldSet.fromFieldsV1(UPDATE_FIXTURE);
    assert.equal(JSON.stringify(s.toFieldsV1()), JSON.stringify(UPDATE_FIXTURE));
  });

  it('sorts elements as upstream: fields, then keys, then values; keys and values by value, numbers numerically', () => {
    const pes = ['v:"b"', 'k:{"containerPort":10000,"protocol":"TCP"}', 'f:b', 'i:2', 'k:{"containerPort":9000,"protocol":"TCP"}', 'f:a', 'v:1'];
    assert.deepEqual(pes.sort(comparePathElements), ['f:a', 'f:b', 'k:{"containerPort":9000,"protocol":"TCP"}', 'k:{"containerPort":10000,"protocol":"TCP"}', 'v:1', 'v:"b"', 'i:2']);
  });

  it('prints paths as upstream conflict messages do, a node\'s members before its children', () => {
    const s = FieldSet.fromFieldsV1(UPDATE_FIXTURE);
    const paths = s.paths().map(pathText);
    assert.equal(paths[0], '.metadata.finalizers');
    assert.ok(paths.includes('.metadata.finalizers[="example.com/a"]'));
    assert.ok(paths.includes('.spec.selector'));
    assert.ok(paths.includes('.spec.containers[name="nginx"].ports[containerPort=9000,protocol="TCP"].containerPort'));
    assert.ok(paths.indexOf('.spec.selector') < paths.indexOf('.spec.containers[name="nginx"]'), 'members first');
    assert.ok(!paths.includes('.spec'), 'a node that only leads somewhere is not a member');
  });

  it('treats a node without children as a member, and skips element types it does not know', () => {
    const s = FieldSet.fromFieldsV1({ 'f:data': {}, 'x:future': {}, 'f:spec': { 'f:a': {} } });
    assert.ok(s.has(['f:data']));
    assert.ok(!s.has(['f:spec']));
    assert.deepEqual(s.toFieldsV1(), { 'f:data': {}, 'f:spec': { 'f:a': {} } });
  });

  it('computes union, difference and intersection by path', () => {
    const a = FieldSet.fromFieldsV1({ 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } });
    const b = FieldSet.fromFieldsV1({ 'f:data': { 'f:b': {}, 'f:c': {} } });
    assert.deepEqual(a.union(b).toFieldsV1(), { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {}, 'f:c': {} } });
    assert.deepEqual(a.difference(b).toFieldsV1(), { 'f:data': { '.': {}, 'f:a': {} } });
    assert.deepEqual(a.intersection(b).toFieldsV1(), { 'f:data': { 'f:b': {} } });
    const data = FieldSet.fromFieldsV1({ 'f:data': {} });
    assert.deepEqual(a.difference(data).toFieldsV1(), { 'f:data': { 'f:a': {}, 'f:b': {} } }, 'a member removes only itself');
    assert.ok(a.difference(a).empty());
  });
});
