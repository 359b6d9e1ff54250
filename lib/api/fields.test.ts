import assert from 'node:assert/strict';
import { BadRequestError } from './errors.js';
import {
  checkSupportedFields,
  escapeFieldValue,
  everythingFields,
  fieldSelectorFromSet,
  parseFieldSelector,
  unescapeFieldValue,
} from './fields.js';

const pod: Record<string, string> = {
  'metadata.name': 'web-1',
  'metadata.namespace': 'default',
  'spec.nodeName': 'node-a',
  'status.phase': 'Running',
};
const get = (f: string): string | undefined => pod[f];

function badRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof BadRequestError && e.code === 400 && e.message === message);
}

describe('parseFieldSelector', () => {
  it('parses =, == and != terms ANDed by commas', () => {
    const sel = parseFieldSelector('status.phase=Running,spec.nodeName==node-a,metadata.name!=web-2');
    assert.deepEqual(sel.fields, ['metadata.name', 'spec.nodeName', 'status.phase']);
    assert.equal(sel.matches(get), true);
    assert.equal(parseFieldSelector('status.phase!=Running').matches(get), false);
    assert.equal(parseFieldSelector('status.phase=Pending,spec.nodeName=node-a').matches(get), false);
  });

  it('prints terms sorted, == as =, with values escaped', () => {
    assert.equal(parseFieldSelector('b==2,a!=1').toString(), 'a!=1,b=2');
    assert.equal(parseFieldSelector('a=x\\,y\\=z\\\\').toString(), 'a=x\\,y\\=z\\\\');
  });

  it('treats a missing field as the empty string', () => {
    assert.equal(parseFieldSelector('spec.other=').matches(get), true);
    assert.equal(parseFieldSelector('spec.other!=').matches(get), false);
    assert.equal(parseFieldSelector('spec.nodeName=').matches(() => undefined), true);
  });

  it('is empty for "" and for only commas', () => {
    assert.equal(parseFieldSelector('').empty(), true);
    assert.equal(parseFieldSelector(',,').empty(), true);
    assert.equal(parseFieldSelector('').matches(get), true);
    assert.equal(everythingFields().toString(), '');
  });

  it('splits on unescaped commas only and unescapes values', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b,status.phase=x\\=y');
    assert.deepEqual(
      sel.requirements.map((r) => [r.field, r.operator, r.value]),
      [
        ['metadata.name', '=', 'a,b'],
        ['status.phase', '=', 'x=y'],
      ],
    );
    assert.equal(sel.matches((f) => ({ 'metadata.name': 'a,b', 'status.phase': 'x=y' })[f]), true);
  });

  it('takes the first operator in the term and keeps spaces verbatim as upstream', () => {
    badRequest(() => parseFieldSelector('a!==b'), 'invalid field selector: unescaped character in value: 61');
    assert.deepEqual(parseFieldSelector('a!=\\=b').requirements[0], { field: 'a', operator: '!=', value: '=b' });
    const r = parseFieldSelector(' metadata.name = web ').requirements[0];
    assert.equal(r.field, ' metadata.name ');
    assert.equal(r.value, ' web ');
  });

  it('rejects malformed selectors with upstream messages', () => {
    badRequest(() => parseFieldSelector('metadata.name'), "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    badRequest(() => parseFieldSelector('a=b,c'), "invalid selector: 'a=b,c'; can't understand 'c'");
    badRequest(() => parseFieldSelector('a=b\\'), 'invalid field selector: invalid escape sequence: \\');
    badRequest(() => parseFieldSelector('a=b\\x'), 'invalid field selector: invalid escape sequence: \\x');
    badRequest(() => parseFieldSelector('a==b=c'), 'invalid field selector: unescaped character in value: 61');
  });

  it('matches unicode values exactly', () => {
    assert.equal(parseFieldSelector('metadata.name=naïve-☃').matches(() => 'naïve-☃'), true);
    assert.equal(parseFieldSelector('metadata.name=naïve-☃').matches(() => 'naive-☃'), false);
  });

  it('reports exact-match fields for indexed lookups', () => {
    const sel = parseFieldSelector('spec.nodeName=node-a,status.phase!=Failed');
    assert.equal(sel.requiresExactMatch('spec.nodeName'), 'node-a');
    assert.equal(sel.requiresExactMatch('status.phase'), undefined);
  });
});

describe('field selector helpers', () => {
  it('escape and unescape round-trip', () => {
    for (const v of ['', 'plain', 'a,b=c\\d', '\\\\,,==']) assert.equal(unescapeFieldValue(escapeFieldValue(v)), v);
  });

  it('fieldSelectorFromSet matches every pair', () => {
    const sel = fieldSelectorFromSet({ 'spec.nodeName': 'node-a', 'metadata.namespace': 'default' });
    assert.equal(sel.matches(get), true);
    assert.equal(sel.toString(), 'spec.nodeName=node-a,metadata.namespace=default');
  });

  it('checkSupportedFields rejects the first unsupported field with 400', () => {
    const supported = new Set(['metadata.name', 'metadata.namespace', 'spec.nodeName']);
    checkSupportedFields(parseFieldSelector('metadata.name=a,spec.nodeName=b'), (f) => supported.has(f));
    badRequest(
      () => checkSupportedFields(parseFieldSelector('spec.foo=1,metadata.name=a,spec.bar=2'), (f) => supported.has(f)),
      'field label not supported: spec.bar',
    );
  });
});
