import assert from 'node:assert/strict';
import { encodeStored, isPlainJson, joinJson, objectJson, rememberJson, storedBytes, withResourceVersionBytes, writtenText } from './objectjson.js';

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
      assert.equal(withResourceVersionBytes(sb, 42).toString(), JSON.stringify(written(obj, 42)));
      // the text the watch cache keeps: spliced from the stored text, or decoded when only the bytes are known
      assert.equal(writtenText(sb, 42), JSON.stringify(written(obj, 42)));
      assert.equal(writtenText({ bytes: sb.bytes, metaEnd: sb.metaEnd }, 42), JSON.stringify(written(obj, 42)));
      // what the watch cache holds: the stored text parsed, its revision set
      const cached = JSON.parse(enc.text);
      cached.metadata.resourceVersion = '42';
      assert.deepEqual(withResourceVersionBytes(sb, 42), Buffer.from(JSON.stringify(cached)));
      // a change event: the object wrapped, in one buffer
      const event = withResourceVersionBytes(sb, 42, Buffer.from('{"type":"ADDED","object":'), Buffer.from('}'));
      assert.deepEqual(event, Buffer.from(JSON.stringify({ type: 'ADDED', object: cached })));
    });
  }
});

describe('objectjson: a write spliced once', () => {
  it('gives the watch cache and the change event views of one buffer, the object untouched by the event\'s wrapping', () => {
    const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} };
    const sb = storedBytes(encodeStored(obj));
    const json = withResourceVersionBytes(sb, 9);
    const head = Buffer.from('{"type":"MODIFIED","object":');
    const event = withResourceVersionBytes(sb, '9', head, Buffer.from('}'));
    // the same memory: the event is the object's bytes with its wrapping around them
    assert.equal(event.buffer, json.buffer);
    assert.equal(event.byteOffset + head.length, json.byteOffset);
    assert.equal(json.toString(), JSON.stringify({ ...obj, metadata: { name: 'p', resourceVersion: '9' } }));
    assert.equal(event.toString(), `{"type":"MODIFIED","object":${json.toString()}}`);
    // another revision (a write retried under the same encoding) is spliced anew, leaving the first as it was
    assert.equal(withResourceVersionBytes(sb, 10).toString(), JSON.stringify({ ...obj, metadata: { name: 'p', resourceVersion: '10' } }));
    assert.equal(json.toString(), JSON.stringify({ ...obj, metadata: { name: 'p', resourceVersion: '9' } }));
  });
});

describe('objectjson: a watch frame\'s object', () => {
  it('is its write\'s bytes once, then encoded for the rest of the turn; later turns encode what the object is then', async () => {
    const obj: any = { kind: 'Pod', metadata: { name: 'p', resourceVersion: '3' } };
    const json = Buffer.from(JSON.stringify(obj));
    rememberJson(obj, json);
    assert.equal(objectJson(obj), json); // the write's own bytes
    assert.equal(objectJson(obj), json); // shared by every watcher this turn
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(objectJson(obj), json); // encoded again: what was remembered went with its first use
    assert.notEqual(objectJson(obj), json);
  });
});

describe('objectjson: joinJson', () => {
  it('is head, the items comma-separated and tail, items whole or in pieces', () => {
    const b = (s: string) => Buffer.from(s);
    assert.equal(joinJson(b('{"events":['), [], b(']}')).toString(), '{"events":[]}');
    assert.equal(joinJson(b('['), [b('{"a":"é"}')], b(']')).toString(), '[{"a":"é"}]');
    assert.equal(joinJson(b('['), [[b('{"type":"ADDED","object":'), b('{"x":1}'), b('}')], b('2'), [b('"ü"')]], b(']')).toString(), '[{"type":"ADDED","object":{"x":1}},2,"ü"]');
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
