import assert from 'node:assert/strict';
import { define, field, fieldType } from '../../schema/dsl.js';
import { StatusError } from '../errors.js';
import { applyPatch, parsePatchBody, patchTypeOf } from './mod.js';

define('test.patch.v1.Dispatch', 'an object with one merging list', {
  items: field(1, fieldType.array(fieldType.ref('test.patch.v1.DispatchItem')), 'items', { mergeKey: 'name', strategy: 'merge' }),
});
define('test.patch.v1.DispatchItem', 'an item', {
  name: field(1, fieldType.string, 'name'),
  value: field(2, fieldType.string, 'value'),
});

describe('patch dispatch', () => {
  const original = { items: [{ name: 'a', value: '1' }] };

  it('merges list items by key for a strategic merge patch and replaces the list for a merge patch', () => {
    const patch = { items: [{ name: 'b', value: '2' }] };
    assert.deepEqual(applyPatch('strategic', original, patch, 'test.patch.v1.Dispatch'), { items: [{ name: 'b', value: '2' }, { name: 'a', value: '1' }] });
    assert.deepEqual(applyPatch('merge', original, patch, 'test.patch.v1.Dispatch'), { items: [{ name: 'b', value: '2' }] });
  });

  it('applies JSON patch operations for a json patch', () => {
    const out = applyPatch('json', original, [{ op: 'replace', path: '/items/0/value', value: '9' }], 'test.patch.v1.Dispatch');
    assert.deepEqual(out, { items: [{ name: 'a', value: '9' }] });
  });

  it('rejects a strategic merge patch body that is not an object with 400', () => {
    assert.throws(() => applyPatch('strategic', original, [], 'test.patch.v1.Dispatch'), (e: unknown) => e instanceof StatusError && e.code === 400);
  });

  it('maps the upstream patch Content-Types, ignoring parameters and case', () => {
    assert.equal(patchTypeOf('application/json-patch+json'), 'json');
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeOf('Application/Strategic-Merge-Patch+JSON'), 'strategic');
    assert.equal(patchTypeOf('application/apply-patch+yaml'), undefined);
    assert.equal(patchTypeOf(undefined), undefined);
  });

  it('parses JSON bodies and answers malformed JSON with 400 "invalid JSON patch"', () => {
    assert.deepEqual(parsePatchBody(Buffer.from('{"a":1}')), { a: 1 });
    assert.deepEqual(parsePatchBody('[]'), []);
    assert.throws(
      () => parsePatchBody('{"a":'),
      (e: unknown) => e instanceof StatusError && e.code === 400 && e.reason === 'BadRequest' && e.message === 'invalid JSON patch',
    );
  });
});
