import assert from 'node:assert/strict';
import { withoutManagedFields, withoutMetadataManagedFields } from './managedfields.js';

const cut = (o: unknown) => JSON.parse(Buffer.from(withoutManagedFields(Buffer.from(JSON.stringify(o)))).toString('utf8'));

describe('withoutManagedFields', () => {
  const mf = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': { 'k:{"name":"c]}"}': { '.': {} } }, 'f:x': { 'k:{"port":80,"q":"\\"]["}': {} } } }];

  it('removes the member wherever it stands in its object, keeping the JSON valid', () => {
    assert.deepEqual(cut({ metadata: { name: 'a', managedFields: mf, resourceVersion: '3' } }), { metadata: { name: 'a', resourceVersion: '3' } });
    assert.deepEqual(cut({ metadata: { managedFields: mf, name: 'a' } }), { metadata: { name: 'a' } });
    assert.deepEqual(cut({ metadata: { name: 'a', managedFields: mf } }), { metadata: { name: 'a' } });
    assert.deepEqual(cut({ metadata: { managedFields: mf } }), { metadata: {} });
    assert.deepEqual(cut({ metadata: { managedFields: [] }, x: 1 }), { metadata: {}, x: 1 });
  });

  it('cuts every object of a watch frame and leaves strings that merely mention the key', () => {
    const pod = (n: string) => ({ type: 'MODIFIED', object: { metadata: { name: n, annotations: { note: '"managedFields":[ in a string ]' }, managedFields: mf }, spec: { nodeName: 'ñode-1' } } });
    const frame = { events: [pod('a'), pod('b'), pod('c')] };
    const want = { events: ['a', 'b', 'c'].map((n) => ({ type: 'MODIFIED', object: { metadata: { name: n, annotations: { note: '"managedFields":[ in a string ]' } }, spec: { nodeName: 'ñode-1' } } })) };
    assert.deepEqual(cut(frame), want);
  });

  it('returns the bytes it was given when there is nothing to cut', () => {
    const data = Buffer.from(JSON.stringify({ events: [{ type: 'ADDED', object: { metadata: { name: 'a' } } }] }));
    assert.equal(withoutManagedFields(data), data);
    // spaced JSON is not cut (the API writes compact JSON)
    const spaced = Buffer.from('{"metadata": {"managedFields": [{"a": 1}]}}');
    assert.equal(withoutManagedFields(spaced), spaced);
  });
});

describe('withoutMetadataManagedFields', () => {
  const mf = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': { 'k:{"name":"c]}"}': { '.': {} } } } }];
  const cut = (o: unknown) => JSON.parse(Buffer.from(withoutMetadataManagedFields(Buffer.from(JSON.stringify(o)))).toString('utf8'));

  it("removes the object's own metadata.managedFields, wherever it stands in metadata", () => {
    assert.deepEqual(cut({ kind: 'Pod', metadata: { name: 'a', managedFields: mf, resourceVersion: '3' } }), { kind: 'Pod', metadata: { name: 'a', resourceVersion: '3' } });
    assert.deepEqual(cut({ metadata: { managedFields: mf } }), { metadata: {} });
    assert.deepEqual(cut({ metadata: { labels: { 'a"b': '"managedFields":[' }, managedFields: mf, name: 'ñ' } }), { metadata: { labels: { 'a"b': '"managedFields":[' }, name: 'ñ' } });
  });

  it('leaves a member of that name anywhere else: before metadata, in its template, after it', () => {
    const tpl = { metadata: { name: 't', managedFields: mf }, spec: { x: { managedFields: [1] } } };
    const obj = { spec: { template: tpl, list: [{ managedFields: [2] }] }, metadata: { name: 'd', annotations: { k: 'v' }, managedFields: mf }, status: { managedFields: [3] } };
    const { managedFields: _mf, ...meta } = obj.metadata;
    assert.deepEqual(cut(obj), { ...obj, metadata: meta });
    const none = Buffer.from(JSON.stringify({ spec: { template: tpl }, metadata: { name: 'd' } }));
    assert.equal(withoutMetadataManagedFields(none), none);
  });
});
