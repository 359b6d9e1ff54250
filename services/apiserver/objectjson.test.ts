import assert from 'node:assert/strict';
import { encodeStored, frameParts, isPlainJson, objectJson, objectJsonWithoutManagedFields, rememberJson, storedBytes, withResourceVersionParts, writtenText } from './objectjson.js';

const joined = (parts: readonly Uint8Array[]) => Buffer.concat(parts).toString();

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
      const sb = storedBytes(enc);
      assert.deepEqual(sb.bytes, Buffer.from(storedText(obj)));
      assert.equal(sb.bytes[sb.metaEnd], 0x7d); // the same "}", counted in bytes
      assert.equal(joined(withResourceVersionParts(sb, 42)), JSON.stringify(written(obj, 42)));
      // the text the watch cache keeps: spliced from the stored text, or decoded when only the bytes are known
      assert.equal(writtenText(sb, 42), JSON.stringify(written(obj, 42)));
      assert.equal(writtenText({ bytes: sb.bytes, metaEnd: sb.metaEnd }, 42), JSON.stringify(written(obj, 42)));
      // what the watch cache holds: the stored text parsed, its revision set
      const cached = JSON.parse(enc.text);
      cached.metadata.resourceVersion = '42';
      assert.equal(joined(withResourceVersionParts(sb, 42)), JSON.stringify(cached));
      // a change event: the object wrapped
      const event = [Buffer.from('{"type":"ADDED","object":'), ...withResourceVersionParts(sb, 42), Buffer.from('}')];
      assert.equal(joined(event), JSON.stringify({ type: 'ADDED', object: cached }));
    });
  }
});

describe('objectjson: where metadata.managedFields starts, recorded by the encoding', () => {
  const managed = [{ manager: 'kübectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:ä/b': {} } } } }];
  // [what, metadata, whether the member is metadata's last and not its only one]
  const cases: Array<[string, any, boolean]> = [
    ['last', { name: 'p', labels: { 'ä/b': 'ü' }, managedFields: managed }, true],
    ['last but for resourceVersion and selfLink', { name: 'p', managedFields: managed, resourceVersion: '4', selfLink: '/p' }, true],
    ['between members', { name: 'p', managedFields: managed, uid: 'u' }, false],
    ['alone', { managedFields: managed }, false],
    ['alone but for resourceVersion', { managedFields: managed, resourceVersion: '4' }, false],
    ['absent', { name: 'p', labels: { managedFields: 'x' } }, false],
  ];
  for (const [what, metadata, recorded] of cases) {
    it(`${what}: ${recorded ? 'the member is the text from the recorded comma to metadata\'s end, in characters and in bytes' : 'nothing recorded, the text still JSON.stringify\'s'}`, () => {
      const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { managedFields: '[]', é: 'ü' } };
      const enc = encodeStored(obj);
      assert.equal(enc.text, storedText(obj));
      const sb = storedBytes(enc);
      const member = `,"managedFields":${JSON.stringify(managed)}`;
      if (!recorded) return void (assert.equal(enc.managedFields, undefined), assert.equal(sb.managedFields, undefined));
      assert.equal(enc.text.slice(enc.managedFields, enc.metaEnd), member);
      assert.equal(sb.bytes.toString('utf8', sb.managedFields, sb.metaEnd), member);
      // a watch that omits managedFields is sent the written parts less the member, cut from the stored bytes
      const cached = JSON.parse(sb.bytes.toString());
      cached.metadata.resourceVersion = '5';
      const parts = withResourceVersionParts(sb, 5);
      rememberJson(cached, parts);
      const { managedFields: _mf, ...meta } = cached.metadata;
      const trimmed = objectJsonWithoutManagedFields(cached);
      assert.equal(joined(trimmed), JSON.stringify({ ...cached, metadata: meta }));
      assert.equal(trimmed[0]!.buffer, sb.bytes.buffer);
      assert.equal(trimmed[0]!.length, sb.managedFields);
    });
  }
});

describe('objectjson: a write spliced once', () => {
  it('gives the watch cache and the change event the same parts, views of the stored bytes, not copies', () => {
    const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} };
    const sb = storedBytes(encodeStored(obj));
    const parts = withResourceVersionParts(sb, 9);
    assert.equal(joined(parts), JSON.stringify({ ...obj, metadata: { name: 'p', resourceVersion: '9' } }));
    assert.equal(withResourceVersionParts(sb, '9'), parts, 'made once per write');
    // the object's bytes are the stored bytes' own memory
    assert.equal(parts[0]!.buffer, sb.bytes.buffer);
    assert.equal(parts[2]!.buffer, sb.bytes.buffer);
    assert.equal(parts[0]!.byteOffset, sb.bytes.byteOffset);
    assert.equal(parts[2]!.byteOffset, sb.bytes.byteOffset + sb.metaEnd);
    // another revision (a write retried under the same encoding) is spliced anew, leaving the first as it was
    assert.equal(joined(withResourceVersionParts(sb, 10)), JSON.stringify({ ...obj, metadata: { name: 'p', resourceVersion: '10' } }));
    assert.equal(joined(parts), JSON.stringify({ ...obj, metadata: { name: 'p', resourceVersion: '9' } }));
  });
});

describe('objectjson: a watch frame\'s object without managedFields', () => {
  const managed = [{ manager: 'm', operation: 'Update', fieldsV1: { 'f:data': { 'f:a': {} } } }];
  const cases: Array<[string, any]> = [
    ['managedFields between other members', { kind: 'ConfigMap', metadata: { name: 'a', managedFields: managed, uid: 'u' }, data: { a: '1' } }],
    ['managedFields last in metadata', { kind: 'ConfigMap', metadata: { name: 'b', labels: { managedFields: 'x' }, managedFields: managed }, data: { managedFields: '[]' } }],
    ['managedFields alone in metadata', { kind: 'ConfigMap', metadata: { managedFields: managed }, data: {} }],
  ];
  for (const [what, obj] of cases) {
    it(`${what}: the written parts less the member are JSON.stringify of the object without it`, () => {
      const sb = storedBytes(encodeStored(obj));
      const cached = JSON.parse(sb.bytes.toString());
      cached.metadata.resourceVersion = '5';
      rememberJson(cached, withResourceVersionParts(sb, 5));
      const { managedFields: _mf, ...meta } = cached.metadata;
      const parts = objectJsonWithoutManagedFields(cached);
      assert.equal(joined(parts), JSON.stringify({ ...cached, metadata: meta }));
      // cut from the stored bytes themselves, but for metadata whose only member it was
      const field = withResourceVersionParts(sb, 5)[1];
      const inStored = (p: Uint8Array) => p.buffer === sb.bytes.buffer && p.byteOffset >= sb.bytes.byteOffset && p.byteOffset + p.length <= sb.bytes.byteOffset + sb.bytes.length;
      if (Object.keys(obj.metadata).length > 1) assert.ok(parts.every((p) => p === field || inStored(p)), 'no copy of the object');
    });
  }
});

describe('objectjson: a watch frame\'s object', () => {
  it('is its write\'s bytes once, then encoded for the rest of the turn; later turns encode what the object is then', async () => {
    const obj: any = { kind: 'Pod', metadata: { name: 'p', resourceVersion: '3' } };
    const json = [Buffer.from(JSON.stringify(obj))];
    rememberJson(obj, json);
    assert.equal(objectJson(obj), json); // the write's own bytes
    assert.equal(objectJson(obj), json); // shared by every watcher this turn
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(objectJson(obj), json); // encoded again: what was remembered went with its first use
    assert.notEqual(objectJson(obj), json);
  });
});

describe('objectjson: frameParts', () => {
  it('is head, the items comma-separated and tail, each item\'s parts the very buffers given', () => {
    const b = (s: string) => Buffer.from(s);
    assert.equal(joined(frameParts(b('{"events":['), [], b(']}'))), '{"events":[]}');
    assert.equal(joined(frameParts(b('['), [[b('{"a":"é"}')]], b(']'))), '[{"a":"é"}]');
    const object = b('{"x":1}');
    const parts = frameParts(b('['), [[b('{"type":"ADDED","object":'), object, b('}')], [b('2')], [b('"ü"')]], b(']'));
    assert.equal(joined(parts), '[{"type":"ADDED","object":{"x":1}},2,"ü"]');
    assert.ok(parts.includes(object));
  });
});

describe('objectjson: isPlainJson', () => {
  it('accepts what JSON.parse gives back unchanged', () => {
    const pod = { apiVersion: 'v1', metadata: { name: 'p', labels: { '1': 'a' } }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], x: [null, true, 1.5, ''] } };
    assert.equal(isPlainJson(pod), true);
    assert.equal(isPlainJson(JSON.parse(JSON.stringify(pod))), true);
  });
  it('rejects what a round trip through JSON would change', () => {
    const cases: Array<[string, unknown]> = [
      ['an undefined field', { a: { b: undefined } }],
      ['an undefined list item', { a: [1, undefined] }],
      ['a hole in a list', { a: [1, , 2] }],
      ['-0', { a: -0 }],
      ['NaN', { a: [NaN] }],
      ['Infinity', { a: Infinity }],
      ['a Date', { a: new Date(0) }],
      ['a bigint', { a: 1n }],
      ['a function', { a: () => 1 }],
      ['a class instance', { a: new (class X { y = 1; })() }],
      ['a Map', { a: new Map() }],
      ['an object without a prototype', { a: Object.create(null) }],
    ];
    for (const [what, v] of cases) assert.equal(isPlainJson(v), false, what);
  });
});
