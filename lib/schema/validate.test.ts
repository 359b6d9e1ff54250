import assert from 'node:assert/strict';
import './kinds/meta-v1.js';
import { define, defineObject, field, META, fieldType } from './dsl.js';
import { checkFieldValidation, findDuplicateFields, findDuplicateYamlKeys, findUnknownFields, strictDecodingError } from './fieldvalidation.js';
import { conformsTo, isBase64, isRFC3339, schemaErrors, validateObject } from './validate.js';
import { typeDef } from './registry.js';
import type { FieldError } from './types.js';
import { randomEdits } from '../../test/randomedits.js';

// A small schema of its own, so these tests do not depend on the real kinds.
const TYPE_PREFIX = 'test.validate.v1.';
define(TYPE_PREFIX + 'Port', 'A port.', {
  name: field(1, fieldType.string, 'Port name.'),
  containerPort: field(2, fieldType.int32, 'Port number.', { required: true }),
  protocol: field(3, fieldType.enum('TCP', 'UDP', 'SCTP'), 'Protocol.'),
});
define(TYPE_PREFIX + 'Resources', 'Compute resources.', {
  limits: field(1, fieldType.map(fieldType.quantity), 'Limits.'),
  requests: field(2, fieldType.map(fieldType.quantity), 'Requests.'),
});
define(TYPE_PREFIX + 'Container', 'A container.', {
  name: field(1, fieldType.string, 'Name.', { required: true }),
  image: field(2, fieldType.string, 'Image.'),
  args: field(3, fieldType.array(fieldType.string), 'Arguments.'),
  ports: field(4, fieldType.array(fieldType.ref(TYPE_PREFIX + 'Port')), 'Ports.'),
  resources: field(5, fieldType.ref(TYPE_PREFIX + 'Resources'), 'Resources.'),
});
define(TYPE_PREFIX + 'Free', 'Anything goes beside the known field.', { known: field(1, fieldType.string, 'Known.') }, { preserveUnknown: true });
define(TYPE_PREFIX + 'ThingSpec', 'The spec.', {
  containers: field(1, fieldType.array(fieldType.ref(TYPE_PREFIX + 'Container')), 'Containers.', { required: true }),
  replicas: field(2, fieldType.int32, 'Replicas.'),
  size: field(3, fieldType.int64, 'Size.'),
  ratio: field(4, fieldType.double, 'Ratio.'),
  paused: field(5, fieldType.boolean, 'Paused.'),
  maxSurge: field(6, fieldType.intOrString, 'Max surge.'),
  startTime: field(7, fieldType.time, 'Start.'),
  renewTime: field(8, fieldType.microTime, 'Renew.'),
  data: field(9, fieldType.bytes, 'Data.'),
  selector: field(10, fieldType.ref(META + 'LabelSelector'), 'Selector.'),
  extension: field(11, fieldType.any, 'Raw extension.'),
  byName: field(12, fieldType.map(fieldType.ref(TYPE_PREFIX + 'Container')), 'Containers by name.'),
  free: field(13, fieldType.ref(TYPE_PREFIX + 'Free'), 'Free-form.'),
  stamp: field(14, { type: 'string', format: 'date-time' }, 'A date-time string.'),
});
defineObject(TYPE_PREFIX + 'Thing', 'A thing.', {
  spec: field(2, fieldType.ref(TYPE_PREFIX + 'ThingSpec'), 'Spec.'),
});
const THING = TYPE_PREFIX + 'Thing';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function thing(overrides: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    apiVersion: 'test/v1',
    kind: 'Thing',
    metadata: { name: 'web', namespace: 'default', ...overrides.metadata },
    spec: {
      containers: [{ name: 'app', image: 'nginx', resources: { limits: { cpu: '500m', memory: '1.5Gi' } } }],
      ...overrides.spec,
    },
  };
}

const ns = { namespaced: true };
const find = (errs: FieldError[], fieldPath: string): FieldError | undefined => errs.find((e) => e.field === fieldPath);

describe('validateObject: metadata', () => {
  it('accepts a valid object', () => {
    assert.deepEqual(validateObject(thing(), THING, ns), []);
  });

  it('rejects a bad name with the upstream DNS-1123 subdomain message', () => {
    const errs = validateObject(thing({ metadata: { name: 'Bad_Name' } }), THING, ns);
    assert.deepEqual(errs, [{ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${SUBDOMAIN_MSG}` }]);
  });

  it('requires a name unless the kind has no name rule', () => {
    const errs = validateObject(thing({ metadata: { name: undefined } }), THING, ns);
    assert.deepEqual(errs, [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }]);
    assert.deepEqual(validateObject(thing({ metadata: { name: undefined } }), THING, { namespaced: true, nameRule: 'none' }), []);
  });

  it('applies the kind name rule to name and generateName', () => {
    const label = validateObject(thing({ metadata: { name: 'a.b' } }), THING, { namespaced: true, nameRule: 'label' });
    assert.equal(label[0].message, 'Invalid value: "a.b": must not contain dots');
    assert.deepEqual(validateObject(thing({ metadata: { generateName: 'web-' } }), THING, ns), []);
    const gen = validateObject(thing({ metadata: { generateName: 'Web-' } }), THING, ns);
    assert.equal(gen[0].field, 'metadata.generateName');
    const seg = validateObject(thing({ metadata: { name: 'a/b' } }), THING, { namespaced: true, nameRule: 'path-segment' });
    assert.equal(seg[0].message, `Invalid value: "a/b": may not contain '/'`);
  });

  it('requires a namespace on namespaced kinds and forbids it on cluster-scoped ones', () => {
    const missing = validateObject(thing({ metadata: { namespace: '' } }), THING, ns);
    assert.deepEqual(missing, [{ field: 'metadata.namespace', reason: 'FieldValueRequired', message: 'Required value' }]);
    const bad = validateObject(thing({ metadata: { namespace: 'Kube_System' } }), THING, ns);
    assert.equal(bad[0].field, 'metadata.namespace');
    assert.equal(bad[0].reason, 'FieldValueInvalid');
    const cluster = validateObject(thing(), THING, { namespaced: false });
    assert.deepEqual(cluster, [{ field: 'metadata.namespace', reason: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type' }]);
  });

  it('checks label keys and values on metadata.labels', () => {
    const errs = validateObject(thing({ metadata: { labels: { 'ok/key': 'v', '-bad': 'ok', good: 'bad value' } } }), THING, ns);
    assert.equal(errs.length, 2);
    assert.ok(errs.every((e) => e.field === 'metadata.labels' && e.reason === 'FieldValueInvalid'));
    assert.match(errs[0].message, /^Invalid value: "-bad": name part must consist of/);
    assert.match(errs[1].message, /^Invalid value: "bad value": a valid label must be an empty string/);
  });

  it('checks annotation keys and the 256 KiB total', () => {
    const keyErr = validateObject(thing({ metadata: { annotations: { 'Example.com/Fine': 'x', 'not ok': 'x' } } }), THING, ns);
    assert.equal(keyErr.length, 1);
    assert.equal(keyErr[0].field, 'metadata.annotations');
    const big = validateObject(thing({ metadata: { annotations: { a: 'x'.repeat(256 * 1024) } } }), THING, ns);
    assert.deepEqual(big, [{ field: 'metadata.annotations', reason: 'FieldValueTooLong', message: 'Too long: may not be more than 262144 bytes' }]);
    assert.deepEqual(validateObject(thing({ metadata: { annotations: { a: 'x'.repeat(256 * 1024 - 1) } } }), THING, ns), []);
  });

  it('checks owner references and finalizers with upstream messages', () => {
    const errs = validateObject(
      thing({
        metadata: {
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true },
            { apiVersion: '', kind: '', name: '', uid: '', controller: true },
          ],
          finalizers: ['example.com/cleanup', 'bad finalizer'],
        },
      }),
      THING,
      ns,
    );
    const byField = (f: string) => errs.filter((e) => e.field === f).map((e) => e.message);
    assert.deepEqual(byField('metadata.ownerReferences.apiVersion'), ['Invalid value: "": version must not be empty']);
    assert.deepEqual(byField('metadata.ownerReferences.kind'), ['Invalid value: "": kind must not be empty']);
    assert.deepEqual(byField('metadata.ownerReferences.name'), ['Invalid value: "": name must not be empty']);
    assert.deepEqual(byField('metadata.ownerReferences.uid'), ['Invalid value: "": uid must not be empty']);
    assert.match(byField('metadata.ownerReferences')[0], /Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/rs and \//);
    assert.equal(byField('metadata.finalizers').length, 1);
    assert.ok(!errs.some((e) => e.reason === 'FieldValueRequired'), 'owner references use their own messages, not Required');
  });
});

describe('validateObject: schema types', () => {
  it('reports type mismatches with upstream paths', () => {
    const errs = validateObject(
      thing({ spec: { replicas: '3', size: 1.5, ratio: 'x', paused: 'yes', maxSurge: true, selector: 'app=web', extension: { anything: [1, 'x'] } } }),
      THING,
      ns,
    );
    assert.deepEqual(
      errs.map((e) => [e.field, e.reason]),
      [
        ['spec.replicas', 'FieldValueTypeInvalid'],
        ['spec.size', 'FieldValueTypeInvalid'],
        ['spec.ratio', 'FieldValueTypeInvalid'],
        ['spec.paused', 'FieldValueTypeInvalid'],
        ['spec.maxSurge', 'FieldValueTypeInvalid'],
        ['spec.selector', 'FieldValueTypeInvalid'],
      ],
    );
    assert.equal(find(errs, 'spec.replicas')!.message, 'Invalid value: "3": must be of type int32');
  });

  it('accepts JSON integers for int64 and intOrString strings or ints', () => {
    assert.deepEqual(validateObject(thing({ spec: { size: 9007199254740991, maxSurge: '25%' } }), THING, ns), []);
    assert.deepEqual(validateObject(thing({ spec: { maxSurge: 1 } }), THING, ns), []);
    assert.equal(validateObject(thing({ spec: { replicas: 2 ** 31 } }), THING, ns)[0].reason, 'FieldValueInvalid');
  });

  it('parses quantities and reports bad ones at the map key path', () => {
    const errs = validateObject(
      thing({ spec: { containers: [{ name: 'app', resources: { limits: { cpu: '1.5', memory: '1Gb' }, requests: { cpu: 2, memory: '2e3' } } }] } }),
      THING,
      ns,
    );
    assert.deepEqual(errs, [
      {
        field: 'spec.containers[0].resources.limits[memory]',
        reason: 'FieldValueInvalid',
        message: "Invalid value: \"1Gb\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      },
    ]);
  });

  it('requires required fields, treating "" and [] as missing', () => {
    const errs = validateObject(thing({ spec: { containers: [{ name: '', ports: [{ protocol: 'TCP' }] }] } }), THING, ns);
    assert.deepEqual(
      errs.map((e) => [e.field, e.message]),
      [
        ['spec.containers[0].name', 'Required value'],
        ['spec.containers[0].ports[0].containerPort', 'Required value'],
      ],
    );
    assert.deepEqual(validateObject(thing({ spec: { containers: [] } }), THING, ns), [
      { field: 'spec.containers', reason: 'FieldValueRequired', message: 'Required value' },
    ]);
    assert.deepEqual(validateObject(thing({ spec: { containers: null } }), THING, ns)[0].field, 'spec.containers');
  });

  it('rejects values outside an enum as not supported', () => {
    const errs = validateObject(thing({ spec: { containers: [{ name: 'a', ports: [{ containerPort: 80, protocol: 'tcp' }] }] } }), THING, ns);
    assert.deepEqual(errs, [
      {
        field: 'spec.containers[0].ports[0].protocol',
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "tcp": supported values: "TCP", "UDP", "SCTP"',
      },
    ]);
  });

  it('checks time, micro time, date-time strings and base64 bytes', () => {
    assert.deepEqual(
      validateObject(
        thing({ spec: { startTime: '2024-02-29T23:59:59Z', renewTime: '2024-01-01T00:00:00.123456+02:00', stamp: '2024-01-01T00:00:00Z', data: 'aGVsbG8=' } }),
        THING,
        ns,
      ),
      [],
    );
    const errs = validateObject(
      thing({ spec: { startTime: '2023-02-29T00:00:00Z', renewTime: 'yesterday', stamp: '2024-01-01 00:00:00', data: 'not base64!' } }),
      THING,
      ns,
    );
    assert.deepEqual(
      errs.map((e) => [e.field, e.reason]),
      [
        ['spec.startTime', 'FieldValueInvalid'],
        ['spec.renewTime', 'FieldValueInvalid'],
        ['spec.stamp', 'FieldValueInvalid'],
        ['spec.data', 'FieldValueInvalid'],
      ],
    );
  });

  it('accepts null as absent and rejects a non-object document', () => {
    assert.deepEqual(validateObject(thing({ spec: { replicas: null, selector: null } }), THING, ns), []);
    assert.equal(validateObject([], THING, ns)[0].reason, 'FieldValueTypeInvalid');
    assert.equal(validateObject('x', THING, ns)[0].reason, 'FieldValueTypeInvalid');
  });

  it('walks nested named types such as metav1.LabelSelector', () => {
    const errs = validateObject(thing({ spec: { selector: { matchExpressions: [{ key: 'a', values: ['x'] }] } } }), THING, ns);
    assert.deepEqual(errs.map((e) => e.field), ['spec.selector.matchExpressions[0].operator']);
  });
});

describe('conformsTo: the generated check', () => {
  /** every field of the test schema set, valid */
  const full = (): Record<string, any> =>
    thing({
      spec: {
        containers: [
          { name: 'app', image: 'nginx', args: ['-v'], ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '500m' }, requests: { memory: 2 } } },
        ],
        replicas: 3,
        size: 2 ** 40,
        ratio: 0.5,
        paused: false,
        maxSurge: '25%',
        startTime: '2024-02-29T23:59:59Z',
        renewTime: '2024-01-01T00:00:00.123456Z',
        data: 'aGVsbG8=',
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
        extension: { anything: [1] },
        byName: { app: { name: 'app' } },
        free: { known: 'k', other: 1 },
        stamp: '2024-01-01T00:00:00Z',
      },
    });
  const def = typeDef(THING);

  it('passes valid objects, so their validation skips the walk', () => {
    assert.equal(conformsTo(full(), def), true);
    assert.equal(conformsTo(thing(), def), true);
    assert.deepEqual(schemaErrors(full(), def), []);
  });

  it('never passes an object the walk finds an error in (random changes anywhere in it)', () => {
    const values: unknown[] = [undefined, null, '', 'x', 'TCP', '25%', '1Gb', '100m', '2024-01-01T00:00:00Z', 'aGVsbG8=', 0, 1, 1.5, 2 ** 31, -0, NaN, 10n, true, [], ['x'], [null], {}, { name: 'n' }, { containerPort: 1 }];
    let rejected = 0;
    for (const { obj } of randomEdits(full, values, { seed: 42, rounds: 5000 })) {
      const errs = schemaErrors(obj, def);
      if (errs.length) {
        rejected++;
        assert.equal(conformsTo(obj, def), false, `passed ${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}, which has ${JSON.stringify(errs)}`);
      }
    }
    // the changes did reach errors of many kinds
    assert.ok(rejected > 1000, `only ${rejected} rounds made an error`);
  });

  it('is what validateObject reports through: a valid object has no errors, an invalid one the walk\'s', () => {
    assert.deepEqual(validateObject(full(), THING, ns), []);
    const bad = full();
    bad.spec.containers[0].ports[0].protocol = 'tcp';
    assert.deepEqual(validateObject(bad, THING, ns).map((e) => e.field), ['spec.containers[0].ports[0].protocol']);
  });
});

describe('format checks', () => {
  it('isRFC3339 follows Go time.RFC3339 parsing', () => {
    for (const ok of ['2006-01-02T15:04:05Z', '2006-01-02T15:04:05.999999999-07:00', '2000-02-29T00:00:00+00:00']) assert.ok(isRFC3339(ok), ok);
    for (const bad of ['', '2006-01-02', '2006-01-02T15:04:05', '2006-13-02T15:04:05Z', '1900-02-29T00:00:00Z', '2006-01-02T24:00:00Z', '2006-01-02T15:04:60Z', '2006-01-02T15:04:05+7:00']) {
      assert.ok(!isRFC3339(bad), bad);
    }
  });

  it('isBase64 accepts padded standard base64 and line breaks', () => {
    for (const ok of ['', 'YQ==', 'YWI=', 'YWJj', 'YWJj\nZGVm']) assert.ok(isBase64(ok), ok);
    for (const bad of ['YQ', 'YQ=', 'Y===', 'YW-j', 'YWJj ']) assert.ok(!isBase64(bad), bad);
  });
});

describe('findUnknownFields', () => {
  it('reports unknown fields with strict-decoding paths', () => {
    const obj = thing({
      metadata: { bogus: 1 },
      spec: {
        foo: 1,
        containers: [{ name: 'a', imagePullPolicy: 'x', ports: [{ containerPort: 1, hostIP: 'x' }] }],
        byName: { web: { name: 'web', what: 1 } },
        extension: { anything: { goes: 1 } },
        free: { known: 'x', whatever: { deep: 1 } },
      },
    });
    (obj as Record<string, unknown>).Spec = {};
    assert.deepEqual(findUnknownFields(obj, THING), [
      'metadata.bogus',
      'spec.containers[0].imagePullPolicy',
      'spec.containers[0].ports[0].hostIP',
      'spec.foo',
      'spec.byName.web.what',
      'Spec',
    ]);
  });

  it('finds nothing in a valid object', () => {
    assert.deepEqual(findUnknownFields(thing(), THING), []);
  });
});

describe('findDuplicateFields', () => {
  it('reports repeated keys by path in document order', () => {
    const text = '{"a":1,"spec":{"x":1,"list":[{"n":1,"n":2},{"n":1}],"x":2},"a":3,"\\u0061":4}';
    assert.deepEqual(findDuplicateFields(text), ['spec.list[0].n', 'spec.x', 'a']);
  });

  it('handles strings with escapes and nesting without confusion', () => {
    assert.deepEqual(findDuplicateFields('{"s":"a\\"b\\\\","t":{"s":"}"},"u":[[],{},"]"]}'), []);
    assert.deepEqual(findDuplicateFields('{"k":"\\\\","k":1}'), ['k']);
    assert.deepEqual(findDuplicateFields('{"a\\u0001":1,"a\\u0001":2}'), ['a\u0001']);
    const text = '{"metadata":{"x\\u0001":1,"x\\u0001":2,"labels":{"a\\u0001":"1","a\\u0001":"2"}}}';
    // a repeated unknown struct member is reported once, as unknown; map keys are checked for repeats
    assert.deepEqual(checkFieldValidation(text, JSON.parse(text), THING, 'Strict').errors, [
      'unknown field "metadata.x\\x01"',
      'duplicate field "metadata.labels.a\\x01"',
    ]);
  });

  it('returns nothing for malformed JSON and survives deep nesting', () => {
    assert.deepEqual(findDuplicateFields('{"a":1,"a":'), []);
    assert.deepEqual(findDuplicateFields('{"a" 1}'), []);
    assert.deepEqual(findDuplicateFields('[1,2]x'), []);
    const deep = '['.repeat(200000) + ']'.repeat(200000);
    assert.deepEqual(findDuplicateFields(deep), []);
    assert.deepEqual(findDuplicateFields('{"a":' + '['.repeat(50000) + '{"b":1,"b":2}' + ']'.repeat(50000) + '}'), ['a' + '[0]'.repeat(50000) + '.b']);
  });
});

describe('checkFieldValidation', () => {
  const body = JSON.stringify(thing()).replace('"spec":{', '"spec":{"foo":1,"replicas":1,"replicas":2,');
  const withDupName = body.replace('"name":"web"', '"name":"web","name":"web2"');

  it('Strict reports unknown and duplicate fields in document order', () => {
    const r = checkFieldValidation(withDupName, JSON.parse(withDupName), THING, 'Strict');
    assert.deepEqual(r, {
      errors: ['duplicate field "metadata.name"', 'unknown field "spec.foo"', 'duplicate field "spec.replicas"'],
      warnings: [],
    });
    const e = strictDecodingError(r.errors);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    assert.equal(e.message, 'strict decoding error: duplicate field "metadata.name", unknown field "spec.foo", duplicate field "spec.replicas"');
  });

  it('Warn returns the same problems as warnings', () => {
    assert.deepEqual(checkFieldValidation(body, JSON.parse(body), THING, 'Warn'), {
      errors: [],
      warnings: ['unknown field "spec.foo"', 'duplicate field "spec.replicas"'],
    });
  });

  it('Ignore does nothing', () => {
    assert.deepEqual(checkFieldValidation(body, JSON.parse(body), THING, 'Ignore'), { errors: [], warnings: [] });
  });

  it('a clean body has no problems', () => {
    const clean = JSON.stringify(thing());
    assert.deepEqual(checkFieldValidation(clean, JSON.parse(clean), THING, 'Strict'), { errors: [], warnings: [] });
  });

  it('does not look inside unknown, raw or preserve-unknown values', () => {
    const text = '{"metadata":{"name":"a"},"spec":{"bogus":{"x":1,"x":2},"extension":{"y":1,"y":2},"free":{"z":{"q":1}}}}';
    assert.deepEqual(checkFieldValidation(text, JSON.parse(text), THING, 'Strict').errors, ['unknown field "spec.bogus"']);
  });

  it('caps the list at 100 distinct problems as upstream', () => {
    const keys = Array.from({ length: 150 }, (_, i) => `"u${i}":1`).join(',');
    const text = `{"spec":{${keys}}}`;
    assert.equal(checkFieldValidation(text, JSON.parse(text), THING, 'Strict').errors.length, 100);
  });

  it('checks YAML bodies: duplicate keys with line numbers, then unknown fields', () => {
    const yaml = ['apiVersion: test/v1', 'kind: Thing', 'metadata:', '  name: a', '  name: b', 'spec:', '  foo: 1', '  containers:', '  - name: c', '    name: d', ''].join('\n');
    const obj = { apiVersion: 'test/v1', kind: 'Thing', metadata: { name: 'b' }, spec: { foo: 1, containers: [{ name: 'd' }] } };
    assert.deepEqual(checkFieldValidation(yaml, obj, THING, 'Strict').errors, [
      'yaml: unmarshal errors:\n  line 5: key "name" already set in map\n  line 10: key "name" already set in map',
      'unknown field "spec.foo"',
    ]);
    assert.equal(findDuplicateYamlKeys('a: 1\nb: 2\n'), undefined);
  });

  it('falls back to the decoded object when there is no usable text', () => {
    const obj = thing({ spec: { foo: 1 } });
    assert.deepEqual(checkFieldValidation(undefined, obj, THING, 'Warn').warnings, ['unknown field "spec.foo"']);
    assert.deepEqual(checkFieldValidation('{"spec":', obj, THING, 'Strict', 'json').errors, ['unknown field "spec.foo"']);
  });
});
