import assert from 'node:assert/strict';
import { canonicalJson, isNullish, isUnset, jsonEqual } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }, 3], c: 'z' } }), '{"a":{"c":"z","d":[{"x":2,"y":1},3]},"b":1}');
    assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
  });

  it('drops only the values omit names, never array elements', () => {
    const v = { a: undefined, b: null, c: '', d: [null, ''], e: {} };
    assert.equal(canonicalJson(v), '{"b":null,"c":"","d":[null,""],"e":{}}');
    assert.equal(canonicalJson(v, isNullish), '{"c":"","d":[null,""],"e":{}}');
    assert.equal(canonicalJson(v, isUnset), '{"d":[null,""],"e":{}}');
  });
});

describe('jsonEqual', () => {
  it('compares members in any order and counts an undefined member as absent, as JSON does', () => {
    assert.ok(jsonEqual({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 }));
    assert.ok(jsonEqual({ a: 1, gone: undefined }, { a: 1 }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: null }), 'null is a value');
    assert.ok(!jsonEqual([1, 2], [2, 1]), 'array order counts');
    assert.ok(!jsonEqual({ a: [] }, { a: {} }));
    assert.ok(!jsonEqual({ a: { b: 1 } }, { a: { b: 2 } }));
  });
});
