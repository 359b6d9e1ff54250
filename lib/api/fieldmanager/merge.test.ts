import assert from 'node:assert/strict';
import '../../schema/kinds/mod.js';
import { FieldSet } from './fieldset.js';
import { mergeValue, removeFields } from './merge.js';
import { rootShape } from './shape.js';

const POD = rootShape('io.k8s.api.core.v1.Pod');
const DEPLOY = rootShape('io.k8s.api.apps.v1.Deployment');
const merge = (shape: typeof POD, live: any, config: any) => mergeValue(shape, structuredClone(live), structuredClone(config)) as any;

describe('merging an applied configuration by list and map type', () => {
  it('merges map lists by their keys, keeping live items and the live order', () => {
    const live = { spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] }, { name: 'b', image: 'b:1' }] } };
    const out = merge(POD, live, { spec: { containers: [{ name: 'a', image: 'a:2', env: [{ name: 'Y', value: '2' }] }] } });
    assert.deepEqual(out.spec.containers, [
      { name: 'a', image: 'a:2', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] },
      { name: 'b', image: 'b:1' },
    ]);
  });

  it('keys ports by containerPort and protocol, a missing protocol taking its default', () => {
    const live = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }] }] } };
    const out = merge(POD, live, { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 80, protocol: 'UDP' }] }] } });
    assert.deepEqual(out.spec.containers[0].ports, [
      { containerPort: 80, protocol: 'TCP', name: 'http', hostPort: 8080 },
      { containerPort: 80, protocol: 'UDP' },
    ]);
  });

  it('places new items where the configuration puts them among shared ones', () => {
    const live = { spec: { containers: [{ name: 'a' }, { name: 'c' }] } };
    const out = merge(POD, live, { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } });
    assert.deepEqual(out.spec.containers.map((c: any) => c.name), ['a', 'b', 'c']);
  });

  it('unions sets and replaces atomic lists', () => {
    const live = { metadata: { finalizers: ['x', 'y'] }, spec: { containers: [{ name: 'a', args: ['1', '2'] }] } };
    const out = merge(POD, live, { metadata: { finalizers: ['z', 'x'] }, spec: { containers: [{ name: 'a', args: ['3'] }] } });
    assert.deepEqual(out.metadata.finalizers, ['z', 'x', 'y']);
    assert.deepEqual(out.spec.containers[0].args, ['3']);
  });

  it('merges granular maps key by key, replaces atomic maps and atomic structs whole', () => {
    const live = { metadata: { labels: { a: '1' } }, spec: { nodeSelector: { zone: 'x', disk: 'ssd' } } };
    const out = merge(POD, live, { metadata: { labels: { b: '2' } }, spec: { nodeSelector: { zone: 'y' } } });
    assert.deepEqual(out.metadata.labels, { a: '1', b: '2' });
    assert.deepEqual(out.spec.nodeSelector, { zone: 'y' }, 'nodeSelector is +mapType=atomic');
    const d = merge(DEPLOY, { spec: { selector: { matchLabels: { app: 'web', tier: 'x' } } } }, { spec: { selector: { matchLabels: { app: 'web' } } } });
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } }, 'a LabelSelector is +structType=atomic');
  });

  it('removes fields, map keys and list items by path, and maps left empty', () => {
    const obj: any = { metadata: { labels: { a: '1' } }, data: { x: '1', y: '2' }, spec: { containers: [{ name: 'a', image: 'i' }, { name: 'b', image: 'j' }] } };
    const remove = FieldSet.fromFieldsV1({ 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"b"}': {}, 'k:{"name":"a"}': { 'f:image': {} } } } });
    removeFields(POD, obj, remove);
    assert.deepEqual(obj.metadata, {});
    assert.deepEqual(obj.spec.containers, [{ name: 'a' }]);
  });
});
