import assert from 'node:assert/strict';
import { encodeStored, withResourceVersion } from './objectjson.js';

/** What the stored text must be: the object without resourceVersion and selfLink. */
const storedText = (obj: any) => {
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = obj.metadata ?? {};
  return JSON.stringify({ ...obj, metadata: meta });
};

/** The object as a write answers it: resourceVersion appended last to metadata. */
const written = (obj: any, rev: number) => {
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: { ...meta, resourceVersion: String(rev) } };
};

describe('objectjson: one encoding per write', () => {
  const cases: Array<[string, any]> = [
    ['a pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', resourceVersion: '7', labels: { '10': 'a', b: 'c', '2': 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: {} }],
    ['empty metadata', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {}, data: { a: '1' } }],
    ['metadata of only a resourceVersion and selfLink', { kind: 'X', metadata: { resourceVersion: '3', selfLink: '/x' } }],
    ['no metadata', { apiVersion: 'v1', kind: 'Namespace', spec: { finalizers: ['kubernetes'] } }],
    ['metadata first, undefined fields and odd text', { metadata: { name: 'ü\u2028"\\', annotations: { 'a/b': 'é\n', z: undefined } }, data: { x: undefined, y: null, n: -0, f: 1e21 }, kind: 'ConfigMap' }],
  ];
  for (const [what, obj] of cases) {
    it(`${what}: the stored text and the written JSON are JSON.stringify's, byte for byte`, () => {
      const enc = encodeStored(obj);
      assert.equal(enc.text, storedText(obj));
      assert.equal(enc.text[enc.metaEnd], '}');
      assert.equal(withResourceVersion(enc, 42), JSON.stringify(written(obj, 42)));
      // what the watch cache holds: the stored text parsed, its revision set
      const cached = JSON.parse(enc.text);
      cached.metadata.resourceVersion = '42';
      assert.equal(withResourceVersion(enc, 42), JSON.stringify(cached));
    });
  }
});
