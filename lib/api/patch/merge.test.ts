import assert from 'node:assert/strict';
import { StatusError } from '../errors.js';
import { applyMergePatch } from './merge.js';

describe('JSON merge patch (RFC 7386)', () => {
  it('produces the results of the RFC 7386 appendix examples whose patch is an object', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [original, patch, expected] of cases) {
      assert.deepEqual(applyMergePatch(original as object, patch), expected, `${JSON.stringify(original)} + ${JSON.stringify(patch)}`);
    }
  });

  it('replaces lists whole, keeping nulls inside them', () => {
    const out = applyMergePatch({ spec: { containers: [{ name: 'a' }, { name: 'b' }] } }, { spec: { containers: [{ name: 'c', x: null }] } });
    assert.deepEqual(out, { spec: { containers: [{ name: 'c', x: null }] } });
  });

  it('rejects a patch that is not a JSON object with 400 BadRequest', () => {
    for (const patch of [['c'], null, 'bar', 3]) {
      assert.throws(
        () => applyMergePatch({ a: 'b' }, patch),
        (e: unknown) => e instanceof StatusError && e.code === 400 && e.reason === 'BadRequest' && /Invalid JSON Patch/.test(e.message),
      );
    }
  });

  it('modifies neither input and shares no values with them', () => {
    const original = { metadata: { labels: { a: '1' } }, spec: { list: [1] } };
    const patch = { metadata: { labels: { b: '2' } }, spec: { other: { deep: true } } };
    const before = JSON.stringify([original, patch]);
    const out = applyMergePatch(original, patch) as any;
    out.spec.list.push(2);
    out.spec.other.deep = false;
    out.metadata.labels.c = '3';
    assert.equal(JSON.stringify([original, patch]), before);
  });

  it('treats a "__proto__" key as data, not as the prototype', () => {
    const out = applyMergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}')) as any;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.equal(({} as any).polluted, undefined);
  });
});
