import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { BadRequestError } from '../api/errors.js';
import { define, defineObject, field, fieldType } from './dsl.js';
import { registerKind } from './registry.js';
import { decodeDeleteOptionsProtobuf, decodeKubernetesProtobuf } from './protobuf.js';
import './kinds/mod.js';

// Test kinds in a group of their own, with upstream's field numbers for ConfigMap and Namespace.
const TYPE_PREFIX = 'io.flotilla.test.protobuf.v1.';
const GROUP = 'protobuf.test.flotilla.io';
const API_VERSION = `${GROUP}/v1`;

defineObject(TYPE_PREFIX + 'ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
  immutable: field(4, fieldType.boolean, 'Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated.', { pointer: true }),
  data: field(2, fieldType.map(fieldType.string), 'Data contains the configuration data.'),
  binaryData: field(3, fieldType.map(fieldType.bytes), 'BinaryData contains the binary data.'),
});
defineObject(TYPE_PREFIX + 'Namespace', 'Namespace provides a scope for Names.', {
  spec: field(2, fieldType.ref(TYPE_PREFIX + 'NamespaceSpec'), 'Spec defines the behavior of the Namespace.'),
  status: field(3, fieldType.ref(TYPE_PREFIX + 'NamespaceStatus'), 'Status describes the current status of a Namespace.'),
});
define(TYPE_PREFIX + 'NamespaceSpec', 'NamespaceSpec describes the attributes on a Namespace.', {
  finalizers: field(1, fieldType.array(fieldType.string), 'Finalizers is an opaque list of values that must be empty to permanently remove object from storage.'),
});
define(TYPE_PREFIX + 'NamespaceStatus', 'NamespaceStatus is information about the current status of a Namespace.', {
  phase: field(1, fieldType.string, 'Phase is the current lifecycle phase of the namespace.'),
});
defineObject(TYPE_PREFIX + 'Gizmo', 'Gizmo exercises every field shape.', {
  small: field(2, fieldType.int32, 'int32'),
  big: field(3, fieldType.int64, 'int64'),
  ratio: field(4, fieldType.double, 'double'),
  on: field(5, fieldType.boolean, 'boolean'),
  blob: field(6, fieldType.bytes, 'bytes'),
  size: field(7, fieldType.quantity, 'quantity'),
  portNumber: field(8, fieldType.intOrString, 'intOrString holding an int'),
  portName: field(9, fieldType.intOrString, 'intOrString holding a string'),
  packed: field(10, fieldType.array(fieldType.int32), 'packed repeated int32'),
  unpacked: field(11, fieldType.array(fieldType.int64), 'unpacked repeated int64'),
  parts: field(12, fieldType.array(fieldType.ref(TYPE_PREFIX + 'GizmoPart')), 'repeated message'),
  partsByName: field(13, fieldType.map(fieldType.ref(TYPE_PREFIX + 'GizmoPart')), 'map of messages'),
  extra: field(14, fieldType.any, 'RawExtension'),
  renewTime: field(15, fieldType.microTime, 'microTime'),
  names: field(16, fieldType.array(fieldType.string), 'repeated string'),
});
define(TYPE_PREFIX + 'GizmoPart', 'A part.', {
  name: field(1, fieldType.string, 'name'),
  count: field(2, fieldType.int32, 'count'),
});
for (const [kind, plural, namespaced] of [['ConfigMap', 'configmaps', true], ['Namespace', 'namespaces', false], ['Gizmo', 'gizmos', true]] as const) {
  registerKind({ group: GROUP, version: 'v1', kind, plural, singular: kind.toLowerCase(), namespaced, definition: TYPE_PREFIX + kind, columns: [] });
}

const GO_ZERO_SECONDS = -62135596800;

type ProtobufWriter = protobuf.Writer;
const msg = (w: ProtobufWriter, num: number, body: (w: ProtobufWriter) => void): ProtobufWriter => {
  w.uint32((num << 3) | 2).fork();
  body(w);
  return w.ldelim();
};
const str = (w: ProtobufWriter, num: number, s: string) => w.uint32((num << 3) | 2).string(s);
const bytes = (w: ProtobufWriter, num: number, b: Uint8Array) => w.uint32((num << 3) | 2).bytes(b);
const timestamp = (w: ProtobufWriter, num: number, seconds: number, nanos: number) =>
  msg(w, num, (t) => t.uint32(8).int64(seconds).uint32(16).int32(nanos));

/** ObjectMeta as Go's generated marshaller writes it: every non-pointer field, empty or not. */
function objectMeta(w: ProtobufWriter, name: string, extra: (w: ProtobufWriter) => void = () => {}) {
  msg(w, 1, (m) => {
    str(m, 1, name);
    str(m, 2, '');
    str(m, 3, '');
    str(m, 4, '');
    str(m, 5, '');
    str(m, 6, '');
    m.uint32(7 << 3).int64(0);
    timestamp(m, 8, GO_ZERO_SECONDS, 0);
    extra(m);
  });
}

/** The "k8s\0" + runtime.Unknown envelope around a raw object. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const w = protobuf.Writer.create();
  msg(w, 1, (t) => {
    str(t, 1, apiVersion);
    str(t, 2, kind);
  });
  bytes(w, 2, raw);
  str(w, 3, '');
  str(w, 4, '');
  const u = w.finish();
  return Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...u]);
}

/** What kubectl 1.32 sends for `kubectl create configmap x --from-literal=a=b`. */
function configMapBody(): Uint8Array {
  const w = protobuf.Writer.create();
  objectMeta(w, 'x');
  msg(w, 2, (e) => str(str(e, 1, 'a'), 2, 'b'));
  msg(w, 2, (e) => str(str(e, 1, 'empty'), 2, ''));
  return envelope(API_VERSION, 'ConfigMap', w.finish());
}

const varint = (w: ProtobufWriter, num: number, v: number) => w.uint32(num << 3).int64(v);
const bool = (w: ProtobufWriter, num: number, v: boolean) => w.uint32(num << 3).bool(v);
/** intstr.IntOrString as Go writes it: type, intVal and strVal, always all three. */
const intOrString = (w: ProtobufWriter, num: number, v: number | string) =>
  msg(w, num, (m) => str(varint(varint(m, 1, typeof v === 'number' ? 0 : 1), 2, typeof v === 'number' ? v : 0), 3, typeof v === 'string' ? v : ''));
const mapEntry = (w: ProtobufWriter, num: number, k: string, v: string) => msg(w, num, (e) => str(str(e, 1, k), 2, v));

/** core/v1 Container with only name, image and command set, every non-pointer field written as Go does. */
function container(w: ProtobufWriter, num: number, c: { name: string; image: string; command?: string[] }, extra: (w: ProtobufWriter) => void = () => {}) {
  msg(w, num, (m) => {
    str(m, 1, c.name);
    str(m, 2, c.image);
    for (const a of c.command ?? []) str(m, 3, a);
    str(m, 5, ''); // workingDir
    msg(m, 8, () => {}); // resources: a non-pointer struct, empty
    extra(m);
    str(m, 13, ''); // terminationMessagePath
    str(m, 14, ''); // imagePullPolicy
    bool(m, 16, false); // stdin
    bool(m, 17, false); // stdinOnce
    bool(m, 18, false); // tty
    str(m, 20, ''); // terminationMessagePolicy
  });
}

/** core/v1 PodSpec's non-pointer scalars, which Go writes even when unset. */
function podSpecScalars(w: ProtobufWriter, restartPolicy: string) {
  str(w, 3, restartPolicy);
  for (const n of [6, 8, 9, 10]) str(w, n, ''); // dnsPolicy, serviceAccountName, serviceAccount, nodeName
  for (const n of [11, 12, 13]) bool(w, n, false); // hostNetwork, hostPID, hostIPC
  for (const n of [16, 17, 19, 24]) str(w, n, ''); // hostname, subdomain, schedulerName, priorityClassName
}

/** Drops JSON nulls: kubectl sends `creationTimestamp: null`, which means the same as absent. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

function decodeError(body: Uint8Array): BadRequestError {
  try {
    decodeKubernetesProtobuf(body);
  } catch (e) {
    assert.ok(e instanceof BadRequestError, `expected BadRequestError, got ${(e as Error)?.stack}`);
    assert.equal(e.code, 400);
    return e;
  }
  assert.fail('decoding should have failed');
}

describe('decodeKubernetesProtobuf', () => {
  it('decodes a ConfigMap as kubectl create configmap sends it, dropping Go zero values of non-pointer fields', () => {
    const out = decodeKubernetesProtobuf(configMapBody());
    assert.equal(out.apiVersion, API_VERSION);
    assert.equal(out.kind, 'ConfigMap');
    assert.deepEqual(out.object, {
      apiVersion: API_VERSION,
      kind: 'ConfigMap',
      metadata: { name: 'x' },
      data: { a: 'b', empty: '' },
    });
  });

  it('decodes a Namespace with nested messages, maps, binary data and set timestamps', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'team-a', (m) => {
      msg(m, 11, (e) => str(str(e, 1, 'env'), 2, 'prod'));
      str(m, 14, 'example.com/hold');
    });
    msg(w, 2, (s) => str(s, 1, 'kubernetes'));
    msg(w, 3, (s) => str(s, 1, 'Active'));
    const out = decodeKubernetesProtobuf(envelope(API_VERSION, 'Namespace', w.finish()));
    assert.deepEqual(out.object, {
      apiVersion: API_VERSION,
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { env: 'prod' }, finalizers: ['example.com/hold'] },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });

    const cm = protobuf.Writer.create();
    objectMeta(cm, 'bin', (m) => timestamp(m, 9, 1704164645, 0));
    msg(cm, 3, (e) => bytes(str(e, 1, 'k'), 2, Uint8Array.from([0, 1, 255])));
    cm.uint32((4 << 3) | 0).bool(false);
    const bin = decodeKubernetesProtobuf(envelope(API_VERSION, 'ConfigMap', cm.finish())).object;
    assert.equal(bin.metadata.deletionTimestamp, '2024-01-02T03:04:05Z');
    assert.deepEqual(bin.binaryData, { k: 'AAH/' });
    assert.equal(bin.immutable, false, 'a pointer bool present on the wire is kept');
  });

  it('decodes every field shape and skips unknown fields of every wire type', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'g');
    w.uint32(2 << 3).int32(-7);
    w.uint32(3 << 3).int64(2 ** 40 + 3);
    w.uint32((4 << 3) | 1).double(0.25);
    w.uint32(5 << 3).bool(true);
    bytes(w, 6, Uint8Array.from([104, 105]));
    msg(w, 7, (q) => str(q, 1, '500m'));
    msg(w, 8, (q) => q.uint32(8).int64(0).uint32(16).int32(8080));
    msg(w, 9, (q) => str(q.uint32(8).int64(1), 3, 'http'));
    msg(w, 10, (p) => p.int32(1).int32(-2).int32(300));
    w.uint32(11 << 3).int64(5).uint32(11 << 3).int64(6);
    msg(w, 12, (p) => str(p, 1, 'a').uint32(16).int32(1));
    msg(w, 12, (p) => str(p, 1, 'b'));
    msg(w, 13, (e) => msg(str(e, 1, 'x'), 2, (p) => p.uint32(16).int32(9)));
    msg(w, 14, (r) => bytes(r, 1, Buffer.from('{"any":["json",1]}')));
    timestamp(w, 15, 1704164645, 123456789);
    str(w, 16, '');
    str(w, 16, 'second');
    // unknown fields: varint, fixed64, length-delimited, fixed32
    w.uint32(90 << 3).uint64(12345).uint32((91 << 3) | 1).fixed64(1).uint32((92 << 3) | 2).bytes(Uint8Array.from([1, 2, 3])).uint32((93 << 3) | 5).fixed32(7);
    const out = decodeKubernetesProtobuf(envelope(API_VERSION, 'Gizmo', w.finish())).object;
    assert.deepEqual(out, {
      apiVersion: API_VERSION,
      kind: 'Gizmo',
      metadata: { name: 'g' },
      small: -7,
      big: 2 ** 40 + 3,
      ratio: 0.25,
      on: true,
      blob: 'aGk=',
      size: '500m',
      portNumber: 8080,
      portName: 'http',
      packed: [1, -2, 300],
      unpacked: [5, 6],
      parts: [{ name: 'a', count: 1 }, { name: 'b' }],
      partsByName: { x: { count: 9 } },
      extra: { any: ['json', 1] },
      renewTime: '2024-01-02T03:04:05.123456Z',
      names: ['', 'second'],
    });
  });

  it('rejects malformed bodies with BadRequest and a message that says what is wrong', () => {
    const good = configMapBody();
    assert.match(decodeError(Uint8Array.from([0x7b, 0x7d])).message, /k8s/);
    assert.match(decodeError(Uint8Array.from([0x6b, 0x38, 0x73, 0x01, 0x0a, 0x00])).message, /k8s/);
    assert.match(decodeError(Uint8Array.from([0x6b, 0x38, 0x73, 0x00])).message, /no apiVersion and kind/);
    assert.match(decodeError(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x80])).message, /truncated varint/);
    assert.match(decodeError(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0x05, 0x01])).message, /length 5 runs past the end/);
    assert.match(decodeError(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x08, ...Array(11).fill(0xff)])).message, /longer than 10 bytes/);
    assert.match(decodeError(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0b])).message, /wire type 3/);
    assert.match(decodeError(envelope(API_VERSION, 'Nope', new Uint8Array())).message, /no kind "Nope" is registered for version/);
    assert.match(decodeError(envelope(API_VERSION, 'ConfigMap', Uint8Array.from([0x10, 0x01]))).message, /ConfigMap\.data: map entry with wire type 0/);
    // the raw object cut short inside metadata
    const raw = protobuf.Writer.create();
    objectMeta(raw, 'x');
    const cut = raw.finish().subarray(0, 12);
    assert.match(decodeError(envelope(API_VERSION, 'ConfigMap', cut)).message, /runs past the end|truncated/);
    assert.match(decodeError(good.subarray(0, good.length - 3)).message, /invalid protobuf body/);
    const badJson = protobuf.Writer.create();
    msg(badJson, 14, (r) => bytes(r, 1, Buffer.from('{nope')));
    assert.match(decodeError(envelope(API_VERSION, 'Gizmo', badJson.finish())).message, /Gizmo\.extra: embedded raw object is not JSON/);
  });

  it('never throws anything but BadRequest, nor hangs, on thousands of corrupted bodies', () => {
    const good = configMapBody();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Uint8Array.from(good.subarray(0, 4 + rand(good.length - 3)));
      for (let j = rand(4); j >= 0; j--) b[4 + rand(b.length - 4 || 1)] = rand(256);
      try {
        decodeKubernetesProtobuf(b);
      } catch (e) {
        assert.ok(e instanceof BadRequestError, `body ${Buffer.from(b).toString('hex')}: ${(e as Error).stack}`);
        rejected++;
      }
    }
    assert.ok(rejected > 1000, `only ${rejected} corrupted bodies were rejected`);
  });
});

describe('decodeKubernetesProtobuf with the registered kinds', () => {
  it('decodes the Job of `kubectl create job j --image=busybox -- sleep 5` (kubectl 1.32) as its JSON', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'j');
    msg(w, 2, (spec) =>
      msg(spec, 6, (template) => {
        objectMeta(template, '');
        msg(template, 2, (pod) => {
          container(pod, 2, { name: 'j', image: 'busybox', command: ['sleep', '5'] });
          podSpecScalars(pod, 'Never');
        });
      }),
    );
    msg(w, 3, (status) => str(varint(varint(varint(status, 4, 0), 5, 0), 6, 0), 7, '')); // active, succeeded, failed, completedIndexes
    const out = decodeKubernetesProtobuf(envelope('batch/v1', 'Job', w.finish()));
    assert.equal(out.kind, 'Job');
    assert.deepEqual(
      out.object,
      withoutNulls({
        kind: 'Job',
        apiVersion: 'batch/v1',
        metadata: { name: 'j', creationTimestamp: null },
        spec: {
          template: {
            metadata: { creationTimestamp: null },
            spec: { containers: [{ name: 'j', image: 'busybox', command: ['sleep', '5'], resources: {} }], restartPolicy: 'Never' },
          },
        },
        status: {},
      }),
    );
  });

  it('keeps a zero pointer field (Deployment replicas: 0) but drops zero non-pointer fields (paused, minReadySeconds)', () => {
    // `kubectl create deployment web --image=nginx --replicas=0` (kubectl 1.32)
    const w = protobuf.Writer.create();
    objectMeta(w, 'web', (m) => mapEntry(m, 11, 'app', 'web'));
    msg(w, 2, (spec) => {
      varint(spec, 1, 0); // replicas: *int32, set to 0
      msg(spec, 2, (sel) => mapEntry(sel, 1, 'app', 'web'));
      msg(spec, 3, (template) => {
        objectMeta(template, '', (m) => mapEntry(m, 11, 'app', 'web'));
        msg(template, 2, (pod) => {
          container(pod, 2, { name: 'nginx', image: 'nginx' });
          podSpecScalars(pod, '');
        });
      });
      msg(spec, 4, (strategy) => str(strategy, 1, '')); // strategy: a non-pointer struct
      varint(spec, 5, 0); // minReadySeconds: int32
      bool(spec, 7, false); // paused: bool
    });
    // observedGeneration, replicas, updatedReplicas, availableReplicas, unavailableReplicas, readyReplicas
    msg(w, 3, (status) => [1, 2, 3, 4, 5, 7].forEach((n) => varint(status, n, 0)));
    const out = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', w.finish()));
    assert.deepEqual(
      out.object,
      withoutNulls({
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { creationTimestamp: null, labels: { app: 'web' } },
            spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] },
          },
          strategy: {},
        },
        status: {},
      }),
    );

    // the same for every pointer shape: a set int64 and bool survive at their zero value
    const job = protobuf.Writer.create();
    objectMeta(job, 'j');
    msg(job, 2, (spec) => {
      varint(spec, 3, 0); // activeDeadlineSeconds: *int64
      bool(spec, 5, false); // manualSelector: *bool
      bool(spec, 10, false); // suspend: *bool
    });
    const decodedJob = decodeKubernetesProtobuf(envelope('batch/v1', 'Job', job.finish())).object;
    assert.deepEqual(decodedJob.spec, { activeDeadlineSeconds: 0, manualSelector: false, suspend: false });
  });

  it('flattens embedded structs: Volume sources, Probe handlers and LocalObjectReference names', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'tpl');
    msg(w, 2, (template) => {
      objectMeta(template, '');
      msg(template, 2, (pod) => {
        // Volume{name = 1; VolumeSource volumeSource = 2 {emptyDir = 2 | configMap = 19}}: hostPath is
        // number 1 inside the VolumeSource, the same number as the volume's name outside it.
        msg(pod, 1, (v) => {
          str(v, 1, 'data');
          msg(v, 2, (src) => msg(src, 2, (e) => str(e, 1, ''))); // emptyDir{medium: ""}
        });
        msg(pod, 1, (v) => {
          str(v, 1, 'cfg');
          msg(v, 2, (src) => msg(src, 19, (cm) => msg(cm, 1, (ref) => str(ref, 1, 'x')))); // configMap{LocalObjectReference{name}}
        });
        container(pod, 2, { name: 'app', image: 'nginx' }, (c) => {
          // env[0].valueFrom.configMapKeyRef{LocalObjectReference{name} = 1; key = 2}
          msg(c, 7, (env) => {
            str(env, 1, 'MODE');
            str(env, 2, '');
            msg(env, 3, (from) => msg(from, 3, (sel) => str(msg(sel, 1, (ref) => str(ref, 1, 'x')), 2, 'mode')));
          });
          // Probe{ProbeHandler handler = 1 {httpGet = 2}; initialDelaySeconds = 2; ...}: httpGet and
          // initialDelaySeconds share number 2, one inside the handler, one outside.
          msg(c, 10, (probe) => {
            msg(probe, 1, (h) =>
              msg(h, 2, (get) => {
                str(get, 1, '/');
                intOrString(get, 2, 8080);
                str(get, 3, '');
                str(get, 4, '');
              }),
            );
            varint(probe, 2, 3);
            for (const n of [3, 4, 5, 6]) varint(probe, n, 0); // timeoutSeconds .. failureThreshold
          });
        });
        podSpecScalars(pod, '');
      });
    });
    const out = decodeKubernetesProtobuf(envelope('v1', 'PodTemplate', w.finish()));
    assert.deepEqual(
      out.object,
      withoutNulls({
        kind: 'PodTemplate',
        apiVersion: 'v1',
        metadata: { name: 'tpl', creationTimestamp: null },
        template: {
          metadata: { creationTimestamp: null },
          spec: {
            volumes: [
              { name: 'data', emptyDir: {} },
              { name: 'cfg', configMap: { name: 'x' } },
            ],
            containers: [
              {
                name: 'app',
                image: 'nginx',
                env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'x', key: 'mode' } } }],
                resources: {},
                livenessProbe: { httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 3 },
              },
            ],
          },
        },
      }),
    );
  });

  it('rejects an embedded struct that is not a length-delimited message', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'tpl');
    msg(w, 2, (template) => msg(template, 2, (pod) => msg(pod, 1, (v) => varint(str(v, 1, 'data'), 2, 7))));
    assert.match(decodeError(envelope('v1', 'PodTemplate', w.finish())).message, /io\.k8s\.api\.core\.v1\.Volume: embedded message 2 with wire type 0/);
  });

  it('decodes the Secret of `kubectl create secret generic s --from-literal=...` with its bytes map', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 's');
    msg(w, 2, (e) => bytes(str(e, 1, 'password'), 2, Buffer.from('s3cr3t')));
    msg(w, 2, (e) => bytes(str(e, 1, 'empty'), 2, new Uint8Array()));
    msg(w, 2, (e) => bytes(str(e, 1, 'binary'), 2, Uint8Array.from([0, 0xff, 0x80])));
    str(w, 3, ''); // type: left for the apiserver to default
    const out = decodeKubernetesProtobuf(envelope('v1', 'Secret', w.finish()));
    assert.deepEqual(
      out.object,
      withoutNulls({
        kind: 'Secret',
        apiVersion: 'v1',
        metadata: { name: 's', creationTimestamp: null },
        data: { password: 'czNjcjN0', empty: '', binary: 'AP+A' },
      }),
    );
  });

  it('decodes the Service of `kubectl create service clusterip web --tcp=80:8080`', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'web', (m) => mapEntry(m, 11, 'app', 'web'));
    msg(w, 2, (spec) => {
      msg(spec, 1, (p) => {
        str(p, 1, '80-8080');
        str(p, 2, 'TCP');
        varint(p, 3, 80);
        intOrString(p, 4, 8080);
        varint(p, 5, 0); // nodePort
      });
      mapEntry(spec, 2, 'app', 'web');
      str(spec, 3, ''); // clusterIP
      str(spec, 4, 'ClusterIP');
      for (const n of [7, 8, 10, 11]) str(spec, n, ''); // sessionAffinity, loadBalancerIP, externalName, externalTrafficPolicy
      varint(spec, 12, 0); // healthCheckNodePort
      bool(spec, 13, false); // publishNotReadyAddresses
    });
    msg(w, 3, (status) => msg(status, 1, () => {})); // loadBalancer: {}
    const out = decodeKubernetesProtobuf(envelope('v1', 'Service', w.finish()));
    assert.deepEqual(
      out.object,
      withoutNulls({
        kind: 'Service',
        apiVersion: 'v1',
        metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
        spec: {
          ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
          selector: { app: 'web' },
          type: 'ClusterIP',
        },
        status: { loadBalancer: {} },
      }),
    );
  });

  it('decodes the ServiceAccount of `kubectl create serviceaccount sa`', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, 'sa');
    const out = decodeKubernetesProtobuf(envelope('v1', 'ServiceAccount', w.finish()));
    assert.deepEqual(
      out.object,
      withoutNulls({ kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'sa', creationTimestamp: null } }),
    );
  });

  it('decodes the TokenRequest of `kubectl create token`, a subresource body with no kind of its own', () => {
    const w = protobuf.Writer.create();
    objectMeta(w, '');
    msg(w, 2, (spec) => {
      str(spec, 1, 'https://kubernetes.default.svc');
      msg(spec, 3, (ref) => {
        str(ref, 1, 'Pod');
        str(ref, 2, 'v1');
        str(ref, 3, 'web-0');
        str(ref, 4, '0b5c1e52-8a1d-4f7e-9d55-3c4f8e2a9b10');
      });
      varint(spec, 4, 600);
    });
    msg(w, 3, (status) => {
      str(status, 1, '');
      timestamp(status, 2, GO_ZERO_SECONDS, 0);
    });
    const out = decodeKubernetesProtobuf(envelope('authentication.k8s.io/v1', 'TokenRequest', w.finish()));
    assert.equal(out.kind, 'TokenRequest');
    assert.deepEqual(
      out.object,
      withoutNulls({
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: {
          audiences: ['https://kubernetes.default.svc'],
          expirationSeconds: 600,
          boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: '0b5c1e52-8a1d-4f7e-9d55-3c4f8e2a9b10' },
        },
        // kubectl's JSON has `token: ""` here; an empty string is dropped like every other
        status: { expirationTimestamp: null },
      }),
    );
    // the fallback finds only object types, never a nested one named in the envelope
    assert.match(decodeError(envelope('v1', 'Container', new Uint8Array())).message, /no kind "Container" is registered for version "v1"/);
    assert.match(decodeError(envelope('authentication.k8s.io/v1', 'TokenRequestSpec', new Uint8Array())).message, /no kind "TokenRequestSpec"/);
  });
});

describe('decodeDeleteOptionsProtobuf', () => {
  it('reads every DeleteOptions field by its generated.proto number, under any group version', () => {
    const w = protobuf.Writer.create();
    varint(w, 1, 30);
    msg(w, 2, (p) => str(str(p, 1, 'uid-1'), 2, '42'));
    w.uint32((3 << 3) | 0).bool(false);
    str(w, 4, 'Foreground');
    str(str(w, 5, 'All'), 5, 'Other');
    varint(w, 6, 1);
    const out = decodeDeleteOptionsProtobuf(envelope('apps/v1', 'DeleteOptions', w.finish()));
    assert.deepEqual(out.object, {
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 30,
      preconditions: { uid: 'uid-1', resourceVersion: '42' },
      orphanDependents: false,
      propagationPolicy: 'Foreground',
      dryRun: ['All', 'Other'],
    });
  });

  it('leaves another kind for the caller to refuse, and a malformed body is a 400', () => {
    assert.equal(decodeDeleteOptionsProtobuf(envelope('v1', 'ConfigMap', new Uint8Array())).kind, 'ConfigMap');
    assert.throws(() => decodeDeleteOptionsProtobuf(envelope('v1', 'DeleteOptions', Uint8Array.from([0x0a, 0x05]))), BadRequestError);
  });
});
