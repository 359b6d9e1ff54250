import assert from 'node:assert/strict';
import { define, field, fieldType } from '../../schema/dsl.js';
import { StatusError } from '../errors.js';
import { applyStrategicMergePatch } from './strategic.js';

// A small schema of our own that mirrors the shapes of Deployment / PodSpec that matter
// to strategic merge patch, so these tests do not depend on the io.k8s.* kind modules.
const TYPE_PREFIX = 'test.patch.v1.';
define(TYPE_PREFIX + 'OwnerRef', 'owner', {
  uid: field(1, fieldType.string, 'uid'),
  name: field(2, fieldType.string, 'name'),
});
define(TYPE_PREFIX + 'Meta', 'object meta', {
  name: field(1, fieldType.string, 'name'),
  labels: field(2, fieldType.map(fieldType.string), 'labels'),
  annotations: field(3, fieldType.map(fieldType.string), 'annotations'),
  finalizers: field(4, fieldType.array(fieldType.string), 'finalizers', { strategy: 'merge', listType: 'set' }),
  ownerReferences: field(5, fieldType.array(fieldType.ref(TYPE_PREFIX + 'OwnerRef')), 'owners', { mergeKey: 'uid', strategy: 'merge' }),
});
define(TYPE_PREFIX + 'RollingUpdate', 'rolling update', {
  maxSurge: field(1, fieldType.intOrString, 'surge'),
  maxUnavailable: field(2, fieldType.intOrString, 'unavailable'),
});
define(TYPE_PREFIX + 'Strategy', 'strategy', {
  type: field(1, fieldType.string, 'type'),
  rollingUpdate: field(2, fieldType.ref(TYPE_PREFIX + 'RollingUpdate'), 'rolling update'),
});
define(TYPE_PREFIX + 'Port', 'port', {
  containerPort: field(1, fieldType.int32, 'port'),
  protocol: field(2, fieldType.string, 'protocol'),
  name: field(3, fieldType.string, 'name'),
});
define(TYPE_PREFIX + 'EnvVar', 'env var', {
  name: field(1, fieldType.string, 'name'),
  value: field(2, fieldType.string, 'value'),
  valueFrom: field(3, fieldType.any, 'source'),
});
define(TYPE_PREFIX + 'Container', 'container', {
  name: field(1, fieldType.string, 'name'),
  image: field(2, fieldType.string, 'image'),
  args: field(3, fieldType.array(fieldType.string), 'args', { listType: 'atomic' }),
  ports: field(4, fieldType.array(fieldType.ref(TYPE_PREFIX + 'Port')), 'ports', { mergeKey: 'containerPort', strategy: 'merge' }),
  env: field(5, fieldType.array(fieldType.ref(TYPE_PREFIX + 'EnvVar')), 'env', { mergeKey: 'name', strategy: 'merge' }),
  resources: field(6, fieldType.ref(TYPE_PREFIX + 'Resources'), 'resources'),
});
define(TYPE_PREFIX + 'Resources', 'resources', {
  limits: field(1, fieldType.map(fieldType.quantity), 'limits'),
});
define(TYPE_PREFIX + 'ConfigMapSource', 'config map source', {
  name: field(1, fieldType.string, 'name'),
});
define(TYPE_PREFIX + 'EmptyDirSource', 'empty dir source', {
  medium: field(1, fieldType.string, 'medium'),
});
define(TYPE_PREFIX + 'Volume', 'volume', {
  name: field(1, fieldType.string, 'name'),
  configMap: field(2, fieldType.ref(TYPE_PREFIX + 'ConfigMapSource'), 'config map'),
  emptyDir: field(3, fieldType.ref(TYPE_PREFIX + 'EmptyDirSource'), 'empty dir'),
});
define(TYPE_PREFIX + 'Toleration', 'toleration', {
  key: field(1, fieldType.string, 'key'),
  effect: field(2, fieldType.string, 'effect'),
});
define(TYPE_PREFIX + 'PodSpec', 'pod spec', {
  containers: field(1, fieldType.array(fieldType.ref(TYPE_PREFIX + 'Container')), 'containers', { mergeKey: 'name', strategy: 'merge' }),
  volumes: field(2, fieldType.array(fieldType.ref(TYPE_PREFIX + 'Volume')), 'volumes', { mergeKey: 'name', strategy: 'merge,retainKeys' }),
  tolerations: field(3, fieldType.array(fieldType.ref(TYPE_PREFIX + 'Toleration')), 'tolerations'),
  nodeSelector: field(4, fieldType.map(fieldType.string), 'node selector'),
});
define(TYPE_PREFIX + 'Template', 'pod template', {
  metadata: field(1, fieldType.ref(TYPE_PREFIX + 'Meta'), 'metadata'),
  spec: field(2, fieldType.ref(TYPE_PREFIX + 'PodSpec'), 'spec'),
});
define(TYPE_PREFIX + 'Selector', 'selector', {
  matchLabels: field(1, fieldType.map(fieldType.string), 'labels'),
});
define(TYPE_PREFIX + 'ThingSpec', 'spec', {
  replicas: field(1, fieldType.int32, 'replicas'),
  strategy: field(2, fieldType.ref(TYPE_PREFIX + 'Strategy'), 'strategy', { strategy: 'retainKeys' }),
  template: field(3, fieldType.ref(TYPE_PREFIX + 'Template'), 'template'),
  tags: field(4, fieldType.array(fieldType.string), 'a replaced list of primitives'),
  ports: field(5, fieldType.array(fieldType.int32), 'a merged list of numbers', { strategy: 'merge' }),
  matrix: field(6, fieldType.array(fieldType.array(fieldType.int32)), 'a list of lists', { strategy: 'merge' }),
  selector: field(7, fieldType.ref(TYPE_PREFIX + 'Selector'), 'a map replaced as a whole', { strategy: 'replace' }),
});
define(
  TYPE_PREFIX + 'Free',
  'keeps unknown fields',
  { known: field(1, fieldType.string, 'known') },
  { preserveUnknown: true },
);
define(TYPE_PREFIX + 'Thing', 'a deployment-like object', {
  apiVersion: field(0, fieldType.string, 'apiVersion'),
  kind: field(0, fieldType.string, 'kind'),
  metadata: field(1, fieldType.ref(TYPE_PREFIX + 'Meta'), 'metadata'),
  spec: field(2, fieldType.ref(TYPE_PREFIX + 'ThingSpec'), 'spec'),
  raw: field(3, fieldType.any, 'free-form JSON'),
  free: field(4, fieldType.ref(TYPE_PREFIX + 'Free'), 'preserve unknown fields'),
});

const THING = TYPE_PREFIX + 'Thing';
const smp = (original: object, patch: object): any => applyStrategicMergePatch(original, patch, THING);

/** A Thing whose pod template holds the given containers. */
function withContainers(containers: unknown[], extra: Record<string, unknown> = {}) {
  return { spec: { template: { spec: { containers, ...extra } } } };
}
const containersOf = (obj: any) => obj.spec.template.spec.containers;

function expectStatus(fn: () => unknown, code: number, reason: string, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason, e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    return true;
  });
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

describe('strategic merge patch', () => {
  describe('maps', () => {
    it('merges nested maps recursively and keeps keys the patch does not mention', () => {
      const out = smp(
        { metadata: { name: 'a', labels: { app: 'web' } }, spec: { replicas: 1, template: { spec: { nodeSelector: { disk: 'ssd' } } } } },
        { spec: { replicas: 3, template: { spec: { nodeSelector: { zone: 'z1' } } } } },
      );
      assert.deepEqual(out, {
        metadata: { name: 'a', labels: { app: 'web' } },
        spec: { replicas: 3, template: { spec: { nodeSelector: { disk: 'ssd', zone: 'z1' } } } },
      });
    });

    it('deletes a key whose patch value is null and ignores null for an absent key', () => {
      const out = smp(
        { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { replicas: 2 } },
        { metadata: { labels: { tier: null, missing: null } }, spec: { replicas: null, absent: null } },
      );
      assert.deepEqual(out, { metadata: { labels: { app: 'web' } }, spec: {} });
    });

    it('replaces a live value of another type with the patch value', () => {
      const out = smp({ raw: 'text', spec: { tags: 'x' } }, { raw: { a: 1 }, spec: { tags: ['y'] } });
      assert.deepEqual(out, { raw: { a: 1 }, spec: { tags: ['y'] } });
    });

    it('drops nulls and directive keys inside a value the live object does not have yet', () => {
      const out = smp(
        { spec: {} },
        { spec: { template: { metadata: { labels: { a: 'x', b: null } }, spec: { $retainKeys: ['x'], nodeSelector: { k: 'v' } } } } },
      );
      assert.deepEqual(out, { spec: { template: { metadata: { labels: { a: 'x' } }, spec: { nodeSelector: { k: 'v' } } } } });
    });

    it('replaces a whole map for a field with patch strategy replace', () => {
      const out = smp(
        { spec: { selector: { matchLabels: { app: 'web', tier: 'fe' } } } },
        { spec: { selector: { matchLabels: { app: 'api' } } } },
      );
      assert.deepEqual(out, { spec: { selector: { matchLabels: { app: 'api' } } } });
    });

    it('replaces the map instead of merging it under $patch: replace', () => {
      const out = smp(
        { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }, replicas: 2 } },
        { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } },
      );
      assert.deepEqual(out, { spec: { strategy: { type: 'Recreate' }, replicas: 2 } });
    });

    it('empties the map under $patch: delete', () => {
      const out = smp({ metadata: { labels: { a: 'b' } }, spec: { replicas: 1 } }, { metadata: { labels: { $patch: 'delete' } } });
      assert.deepEqual(out, { metadata: { labels: {} }, spec: { replicas: 1 } });
    });

    it('merges as usual under $patch: merge', () => {
      const out = smp({ metadata: { labels: { a: '1' } } }, { metadata: { labels: { $patch: 'merge', b: '2' } } });
      assert.deepEqual(out, { metadata: { labels: { a: '1', b: '2' } } });
    });

    it('keeps the content of a new map sent with $patch: replace and drops a new map sent with $patch: delete', () => {
      const out = smp({ spec: {} }, { spec: { strategy: { $patch: 'replace', type: 'Recreate' }, selector: { $patch: 'delete' } } });
      assert.deepEqual(out, { spec: { strategy: { type: 'Recreate' } } });
    });

    it('modifies neither the original nor the patch', () => {
      const original = deepFreeze({
        metadata: { finalizers: ['a', 'b'], labels: { x: '1' } },
        spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] } } },
      });
      const patch = deepFreeze({
        metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], labels: { x: null } },
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }, { name: 'new' }],
              containers: [{ name: 'web', image: 'nginx:2', ports: [{ containerPort: 443 }, { containerPort: 80, $patch: 'delete' }] }, { name: 'new', image: 'busybox' }],
            },
          },
        },
      });
      const before = JSON.stringify([original, patch]);
      const out = smp(original, patch) as any;
      assert.equal(JSON.stringify([original, patch]), before);
      // The result shares nothing with the inputs.
      out.spec.template.spec.containers[1].image = 'changed';
      out.spec.template.spec.containers[0].ports.push({ containerPort: 1 });
      assert.equal(JSON.stringify([original, patch]), before);
    });

    it('treats a "__proto__" key as data, not as the prototype', () => {
      const out = smp({ raw: {} }, JSON.parse('{"raw":{"__proto__":{"polluted":true}}}')) as any;
      assert.equal(Object.getPrototypeOf(out.raw), Object.prototype);
      assert.deepEqual(Object.keys(out.raw), ['__proto__']);
      assert.equal(({} as any).polluted, undefined);
    });
  });

  describe('lists merged by key', () => {
    it('merges a patch item into the live item with the same merge key and keeps the other items', () => {
      const out = smp(
        withContainers([
          { name: 'web', image: 'nginx:1.24', args: ['-g'] },
          { name: 'log', image: 'fluent' },
        ]),
        withContainers([{ name: 'web', image: 'nginx:1.25' }]),
      );
      assert.deepEqual(containersOf(out), [
        { name: 'web', image: 'nginx:1.25', args: ['-g'] },
        { name: 'log', image: 'fluent' },
      ]);
    });

    it('places a new item ahead of the live-only items, as upstream does without $setElementOrder', () => {
      const out = smp(withContainers([{ name: 'a' }, { name: 'b' }]), withContainers([{ name: 'c', image: 'x' }]));
      assert.deepEqual(containersOf(out), [{ name: 'c', image: 'x' }, { name: 'a' }, { name: 'b' }]);
    });

    it('adds several new items in patch order', () => {
      const out = smp(withContainers([{ name: 'a' }]), withContainers([{ name: 'z' }, { name: 'y' }]));
      assert.deepEqual(containersOf(out).map((c: any) => c.name), ['z', 'y', 'a']);
    });

    it('keeps a live item that comes first in the live list ahead of the patched items', () => {
      const out = smp(withContainers([{ name: 'a' }, { name: 'b' }]), withContainers([{ name: 'b', image: 'i' }, { name: 'c' }]));
      assert.deepEqual(containersOf(out).map((c: any) => c.name), ['a', 'b', 'c']);
    });

    it('follows the patch order for the items the patch names (upstream "preserve the order from the patch")', () => {
      const live = withContainers([{ name: '1' }, { name: '2', image: 'b' }, { name: '3' }]);
      const all = smp(live, withContainers([{ name: '3', image: 'c' }, { name: '1', image: 'a' }, { name: '2', args: ['x'] }]));
      assert.deepEqual(containersOf(all), [
        { name: '3', image: 'c' },
        { name: '1', image: 'a' },
        { name: '2', image: 'b', args: ['x'] },
      ]);
      const some = smp(live, withContainers([{ name: '3', image: 'c' }, { name: '1', image: 'a' }]));
      assert.deepEqual(containersOf(some), [{ name: '2', image: 'b' }, { name: '3', image: 'c' }, { name: '1', image: 'a' }]);
    });

    it('removes the live item named by a $patch: delete item, every duplicate of it, and nothing when it is absent', () => {
      const out = smp(
        withContainers([{ name: 'a' }, { name: 'b' }, { name: 'a', image: 'dup' }, { name: 'c' }]),
        withContainers([{ name: 'a', $patch: 'delete' }, { name: 'zz', $patch: 'delete' }]),
      );
      assert.deepEqual(containersOf(out), [{ name: 'b' }, { name: 'c' }]);
    });

    it('adds and deletes items in one patch', () => {
      const out = smp(
        withContainers([{ name: 'a' }, { name: 'b' }]),
        withContainers([{ name: 'a', $patch: 'delete' }, { name: 'c', image: 'new' }]),
      );
      assert.deepEqual(containersOf(out), [{ name: 'c', image: 'new' }, { name: 'b' }]);
    });

    it('makes the other patch items the whole list under a $patch: replace item', () => {
      const out = smp(
        withContainers([{ name: 'a', image: 'old' }, { name: 'b' }]),
        withContainers([{ name: 'c', image: 'x', env: [{ name: 'E', value: null }] }, { $patch: 'replace' }]),
      );
      assert.deepEqual(containersOf(out), [{ name: 'c', image: 'x', env: [{ name: 'E' }] }]);
      const emptied = smp(withContainers([{ name: 'a' }]), withContainers([{ $patch: 'replace' }]));
      assert.deepEqual(containersOf(emptied), []);
    });

    it('leaves a merging list unchanged for an empty patch list and removes it for null', () => {
      const live = withContainers([{ name: 'a' }]);
      assert.deepEqual(containersOf(smp(live, withContainers([]))), [{ name: 'a' }]);
      assert.deepEqual(smp(live, { spec: { template: { spec: { containers: null } } } }), { spec: { template: { spec: {} } } });
    });

    it('merges lists nested in merged items (ports by containerPort, env by name)', () => {
      const out = smp(
        withContainers([
          {
            name: 'web',
            ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }],
            env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
          },
        ]),
        withContainers([
          { name: 'web', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'B', value: null, valueFrom: { fieldRef: { fieldPath: 'x' } } }] },
        ]),
      );
      assert.deepEqual(containersOf(out), [
        {
          name: 'web',
          ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443 }],
          env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'x' } } }],
        },
      ]);
    });

    it('replaces a list of maps that has no merge strategy', () => {
      const out = smp(
        withContainers([], { tolerations: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b' }] }),
        withContainers([], { tolerations: [{ key: 'c' }] }),
      );
      assert.deepEqual(out.spec, { template: { spec: { containers: [], tolerations: [{ key: 'c' }] } } });
    });

    it('merges metadata.ownerReferences by uid', () => {
      const out = smp(
        { metadata: { ownerReferences: [{ uid: 'u1', name: 'rs-1' }] } },
        { metadata: { ownerReferences: [{ uid: 'u2', name: 'rs-2' }, { uid: 'u1', name: 'rs-1b' }] } },
      );
      assert.deepEqual(out.metadata, { ownerReferences: [{ uid: 'u2', name: 'rs-2' }, { uid: 'u1', name: 'rs-1b' }] });
    });
  });

  describe('$setElementOrder', () => {
    it('orders a merging list by $setElementOrder and keeps live-only items near their live neighbours', () => {
      // upstream "set elements order in a list with server-only items 2"
      const live = withContainers([{ name: '1', image: 'a' }, { name: '2', args: ['2'] }, { name: '9' }, { name: '3', args: ['3'] }, { name: '4', args: ['4'] }]);
      const out = smp(live, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: '2' }, { name: '1' }, { name: '4' }, { name: '3' }] } } } });
      assert.deepEqual(containersOf(out).map((c: any) => c.name), ['2', '1', '9', '4', '3']);
      assert.deepEqual(containersOf(out)[1], { name: '1', image: 'a' });
    });

    it('keeps a run of live-only items together when reordering (upstream "server-only items 3")', () => {
      const live = withContainers(['1', '2', '7', '9', '8', '3', '4'].map((name) => ({ name })));
      const out = smp(live, { spec: { template: { spec: { '$setElementOrder/containers': ['2', '1', '4', '3'].map((name) => ({ name })) } } } });
      assert.deepEqual(containersOf(out).map((c: any) => c.name), ['2', '1', '7', '9', '8', '4', '3']);
    });

    it('puts a new item where $setElementOrder says, not ahead of the live items', () => {
      const live = withContainers([{ name: 'web', image: 'nginx' }]);
      const after = smp(live, {
        spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }], containers: [{ name: 'sidecar', image: 'envoy' }] } } },
      });
      assert.deepEqual(containersOf(after), [{ name: 'web', image: 'nginx' }, { name: 'sidecar', image: 'envoy' }]);
      const before = smp(live, {
        spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }], containers: [{ name: 'sidecar', image: 'envoy' }] } } },
      });
      assert.deepEqual(containersOf(before).map((c: any) => c.name), ['sidecar', 'web']);
    });

    it('orders a primitive merging list and keeps live-only values after their live predecessors', () => {
      const out = smp({ metadata: { finalizers: ['a', 'b', 'c'] } }, { metadata: { '$setElementOrder/finalizers': ['b', 'a'] } });
      assert.deepEqual(out.metadata, { finalizers: ['b', 'a', 'c'] });
      const added = smp({ metadata: { finalizers: ['a'] } }, { metadata: { '$setElementOrder/finalizers': ['a', 'x'], finalizers: ['x'] } });
      assert.deepEqual(added.metadata, { finalizers: ['a', 'x'] });
    });

    it('takes the patch list, without its directive items, when the live object has no such list', () => {
      const out = smp(withContainers([]), {
        spec: {
          template: {
            spec: {
              '$setElementOrder/volumes': [{ name: 'b' }, { name: 'a' }],
              volumes: [{ name: 'b', emptyDir: {} }, { name: 'gone', $patch: 'delete' }, { name: 'a' }],
            },
          },
        },
      });
      assert.deepEqual(out.spec, { template: { spec: { containers: [], volumes: [{ name: 'b', emptyDir: {} }, { name: 'a' }] } } });
    });

    it('deletes from one list and reorders another in the same patch', () => {
      const out = smp(
        { metadata: { ownerReferences: [{ uid: 'a' }, { uid: 'b' }] }, spec: { template: { spec: { containers: [{ name: 'c' }, { name: 'd' }] } } } },
        {
          metadata: { '$setElementOrder/ownerReferences': [{ uid: 'b' }], ownerReferences: [{ $patch: 'delete', uid: 'a' }] },
          spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'd' }, { name: 'c' }] } } },
        },
      );
      assert.deepEqual(out, { metadata: { ownerReferences: [{ uid: 'b' }] }, spec: { template: { spec: { containers: [{ name: 'd' }, { name: 'c' }] } } } });
    });

    it('keeps duplicate live items together at the first place $setElementOrder gives them', () => {
      const live = withContainers([{ name: '1' }, { name: '2', image: 'dup1' }, { name: '3' }, { name: '2', image: 'dup2' }, { name: '4' }]);
      const out = smp(live, { spec: { template: { spec: { '$setElementOrder/containers': ['2', '1', '4', '3', '2'].map((name) => ({ name })) } } } });
      assert.deepEqual(containersOf(out), [{ name: '2', image: 'dup1' }, { name: '2', image: 'dup2' }, { name: '1' }, { name: '4' }, { name: '3' }]);
      const ints = smp({ spec: { ports: [1, 2, 3, 2, 4] } }, { spec: { '$setElementOrder/ports': [2, 1, 4, 3, 2] } });
      assert.deepEqual(ints.spec.ports, [2, 2, 1, 4, 3]);
    });

    it('rejects a patch list whose order contradicts $setElementOrder', () => {
      expectStatus(
        () =>
          smp(withContainers([{ name: 'a' }, { name: 'b' }]), {
            spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b' }, { name: 'a' }] } } },
          }),
        400,
        'BadRequest',
        'spec.template.spec.containers',
        "doesn't match $setElementOrder",
      );
    });

    it('rejects a patch list item that $setElementOrder does not list', () => {
      expectStatus(
        () =>
          smp({ metadata: { finalizers: ['a'] } }, { metadata: { '$setElementOrder/finalizers': ['a'], finalizers: ['z'] } }),
        400,
        'BadRequest',
        'metadata.finalizers',
      );
    });

    it('rejects a $setElementOrder entry without the merge key', () => {
      expectStatus(
        () => smp(withContainers([{ name: 'a' }]), { spec: { template: { spec: { '$setElementOrder/containers': [{ image: 'x' }] } } } }),
        400,
        'BadRequest',
        'spec.template.spec.containers',
        'does not contain declared merge key: name',
      );
    });
  });

  describe('lists of primitives', () => {
    it('union-merges a primitive list with patch strategy merge', () => {
      const out = smp({ spec: { ports: [1, 2] }, metadata: { finalizers: ['a'] } }, { spec: { ports: [2, 3] }, metadata: { finalizers: ['a', 'b', 'b'] } });
      assert.deepEqual(out, { spec: { ports: [1, 2, 3] }, metadata: { finalizers: ['a', 'b'] } });
    });

    it('follows the patch order for the values the patch names', () => {
      assert.deepEqual(smp({ spec: { ports: [1, 2, 3] } }, { spec: { ports: [3, 1, 2] } }), { spec: { ports: [3, 1, 2] } });
      assert.deepEqual(smp({ spec: { ports: [1, 2, 3] } }, { spec: { ports: [3, 1] } }), { spec: { ports: [2, 3, 1] } });
    });

    it('replaces a primitive list without merge strategy', () => {
      assert.deepEqual(smp({ spec: { tags: ['a', 'b'] } }, { spec: { tags: ['c'] } }), { spec: { tags: ['c'] } });
      const args = smp(withContainers([{ name: 'w', args: ['-a', '-b'] }]), withContainers([{ name: 'w', args: ['-c'] }]));
      assert.deepEqual(containersOf(args), [{ name: 'w', args: ['-c'] }]);
    });

    it('removes the values listed by $deleteFromPrimitiveList, every duplicate included', () => {
      const out = smp({ metadata: { finalizers: ['a', 'b', 'a', 'c'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a', 'zz'] } });
      assert.deepEqual(out.metadata, { finalizers: ['b', 'c'] });
    });

    it('applies $deleteFromPrimitiveList to a list without merge strategy too', () => {
      assert.deepEqual(smp({ spec: { tags: ['a', 'b'] } }, { spec: { '$deleteFromPrimitiveList/tags': ['b'] } }), { spec: { tags: ['a'] } });
    });

    it('never adds values or lists through $deleteFromPrimitiveList', () => {
      assert.deepEqual(smp({ metadata: { finalizers: [] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }), { metadata: { finalizers: [] } });
      assert.deepEqual(smp({ metadata: {} }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }), { metadata: {} });
    });

    it('adds, deletes and orders a primitive list in one patch', () => {
      const out = smp(
        { metadata: { finalizers: ['a', 'b', 'c'] } },
        { metadata: { '$setElementOrder/finalizers': ['c', 'd', 'a'], finalizers: ['d'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
      );
      assert.deepEqual(out.metadata, { finalizers: ['c', 'd', 'a'] });
    });
  });

  describe('$retainKeys', () => {
    it('clears the live keys that $retainKeys does not list', () => {
      const out = smp(
        { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } },
        { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      );
      assert.deepEqual(out, { spec: { strategy: { type: 'Recreate' } } });
    });

    it('merges the listed keys with the live values', () => {
      const out = smp(
        { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } },
        { spec: { strategy: { $retainKeys: ['type', 'rollingUpdate'], rollingUpdate: { maxSurge: 2 } } } },
      );
      assert.deepEqual(out, { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } } } });
    });

    it('switches a volume source inside a merged list item', () => {
      const out = smp(withContainers([], { volumes: [{ name: 'v', emptyDir: { medium: 'Memory' } }, { name: 'w', emptyDir: {} }] }), {
        spec: { template: { spec: { volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' }, emptyDir: null, name: 'v' }] } } },
      });
      assert.deepEqual(out.spec.template.spec.volumes, [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', emptyDir: {} }]);
    });

    it('rejects a patch that sets a key $retainKeys does not list', () => {
      expectStatus(
        () => smp({ spec: { strategy: {} } }, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } }),
        400,
        'BadRequest',
        'spec.strategy',
        'invalid patch format of retainKeys',
        'rollingUpdate',
      );
    });

    it('rejects a $retainKeys that is not a list', () => {
      expectStatus(() => smp({ spec: { strategy: {} } }, { spec: { strategy: { $retainKeys: 'type' } } }), 400, 'BadRequest', 'spec.strategy', 'retainKeys');
    });
  });

  describe('fields the schema does not describe', () => {
    it('merges free-form (fieldType.any) values as JSON merge patch: maps merge, null deletes, lists replace', () => {
      const out = smp(
        { raw: { a: { b: 1, c: 2 }, list: [{ name: 'x' }, { name: 'y' }], keep: true } },
        { raw: { a: { c: null, d: 3 }, list: [{ name: 'z' }] } },
      );
      assert.deepEqual(out, { raw: { a: { b: 1, d: 3 }, list: [{ name: 'z' }], keep: true } });
    });

    it('replaces lists under unknown fields of a preserve-unknown type and of a plain type', () => {
      const out = smp(
        { free: { known: 'k', extra: { items: [1, 2] } }, spec: { unknownList: [{ name: 'a' }] } },
        { free: { extra: { items: [3] } }, spec: { unknownList: [{ name: 'b' }] } },
      );
      assert.deepEqual(out, { free: { known: 'k', extra: { items: [3] } }, spec: { unknownList: [{ name: 'b' }] } });
    });

    it('still honours directives under free-form values', () => {
      const out = smp({ raw: { m: { a: 1 }, n: { b: 2 } } }, { raw: { m: { $patch: 'replace', z: 1 }, n: { $patch: 'delete' } } });
      assert.deepEqual(out, { raw: { m: { z: 1 }, n: {} } });
    });
  });

  describe('errors', () => {
    it('rejects an unknown $patch directive on a map, naming the path', () => {
      expectStatus(() => smp({ spec: { strategy: {} } }, { spec: { strategy: { $patch: 'explode' } } }), 400, 'BadRequest', 'spec.strategy', 'unknown patch type', 'explode');
    });

    it('rejects an unknown $patch directive in a list item, naming the item', () => {
      expectStatus(
        () => smp(withContainers([{ name: 'a' }]), withContainers([{ name: 'a', $patch: 'explode' }])),
        400,
        'BadRequest',
        'spec.template.spec.containers[0]',
        'unknown patch type',
      );
    });

    it('rejects $patch: merge in a list as upstream does', () => {
      expectStatus(
        () => smp(withContainers([{ name: 'a' }]), withContainers([{ name: 'a', $patch: 'merge' }])),
        400,
        'BadRequest',
        'merging lists cannot yet be specified in the patch',
      );
    });

    it('rejects a merging-list item without the merge key, naming the item', () => {
      expectStatus(
        () => smp(withContainers([{ name: 'a' }]), withContainers([{ name: 'a' }, { image: 'nginx' }])),
        400,
        'BadRequest',
        'spec.template.spec.containers[1]',
        'does not contain declared merge key: name',
      );
      expectStatus(
        () => smp(withContainers([{ name: 'a', ports: [{ containerPort: 80 }] }]), withContainers([{ name: 'a', ports: [{ $patch: 'delete', name: 'http' }] }])),
        400,
        'BadRequest',
        'spec.template.spec.containers[0].ports[0]',
        'containerPort',
      );
    });

    it('rejects directive keys without a field name', () => {
      expectStatus(() => smp({ metadata: {} }, { metadata: { $setElementOrder: ['a'] } }), 400, 'BadRequest', 'metadata', 'setElementOrder');
      expectStatus(() => smp({ metadata: {} }, { metadata: { '$deleteFromPrimitiveList/': ['a'] } }), 400, 'BadRequest', 'metadata', 'primitive list');
    });

    it('rejects directive lists of the wrong shape', () => {
      expectStatus(() => smp({ metadata: { finalizers: ['a'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }), 400, 'BadRequest', 'metadata.finalizers');
      expectStatus(() => smp({ metadata: { finalizers: ['a'] } }, { metadata: { '$setElementOrder/finalizers': 'a' } }), 400, 'BadRequest', 'metadata.finalizers');
      expectStatus(() => smp(withContainers([{ name: 'a' }]), withContainers([{ name: 'a' }], { '$deleteFromPrimitiveList/containers': [{ name: 'a' }] })), 400, 'BadRequest', 'spec.template.spec.containers');
    });

    it('rejects lists of lists with 422 Invalid', () => {
      expectStatus(() => smp({ spec: { matrix: [[1]] } }, { spec: { matrix: [[2]] } }), 422, 'Invalid', 'spec.matrix', 'lists of lists are not supported');
    });

    it('rejects a merging list whose items mix types', () => {
      expectStatus(() => smp({ spec: { ports: [1] } }, { spec: { ports: ['x'] } }), 400, 'BadRequest', 'spec.ports', 'not identical');
    });

    it('rejects a patch that is not a JSON object', () => {
      expectStatus(() => smp({}, [] as unknown as object), 400, 'BadRequest', 'must be a JSON object');
      expectStatus(() => smp({}, null as unknown as object), 400, 'BadRequest', 'must be a JSON object');
    });

    it('fails loudly for a type the schema does not know', () => {
      assert.throws(() => applyStrategicMergePatch({}, {}, 'test.patch.v1.Nope'), /unknown type test\.patch\.v1\.Nope/);
    });
  });

  describe('patches as kubectl apply and kubectl diff send them', () => {
    const lastApplied = (obj: unknown) => ({ 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(obj) + '\n' });
    const live = () => ({
      apiVersion: 'test/v1',
      kind: 'Thing',
      metadata: { name: 'web', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n', other: 'x' }, finalizers: ['example.com/a', 'example.com/b'] },
      spec: {
        replicas: 2,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx:1.24',
                ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }],
                env: [{ name: 'MODE', value: 'prod' }, { name: 'DEBUG', value: '1' }],
              },
            ],
          },
        },
      },
    });

    it('updates a container image and the last-applied annotation, leaving everything else', () => {
      const annotations = lastApplied({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } } });
      const out = smp(live(), {
        metadata: { annotations },
        spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ image: 'nginx:1.25', name: 'web' }] } } },
      });
      const expected = live() as any;
      expected.metadata.annotations = { ...expected.metadata.annotations, ...annotations };
      expected.spec.template.spec.containers[0].image = 'nginx:1.25';
      assert.deepEqual(out, expected);
    });

    it('removes a container port with $patch: delete', () => {
      const out = smp(live(), {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }],
              containers: [{ '$setElementOrder/ports': [{ containerPort: 80 }], name: 'web', ports: [{ $patch: 'delete', containerPort: 443 }] }],
            },
          },
        },
      });
      assert.deepEqual(containersOf(out)[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
    });

    it('removes one env var and changes another', () => {
      const out = smp(live(), {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }],
              containers: [{ '$setElementOrder/env': [{ name: 'MODE' }], env: [{ name: 'MODE', value: 'staging' }, { $patch: 'delete', name: 'DEBUG' }], name: 'web' }],
            },
          },
        },
      });
      assert.deepEqual(containersOf(out)[0].env, [{ name: 'MODE', value: 'staging' }]);
    });

    it('switches the strategy from RollingUpdate to Recreate with $retainKeys', () => {
      const withNull = smp(live(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
      assert.deepEqual(withNull.spec, { ...live().spec, strategy: { type: 'Recreate' } });
      const withoutNull = smp(live(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
      assert.deepEqual(withoutNull.spec, { ...live().spec, strategy: { type: 'Recreate' } });
    });

    it('removes a finalizer with $deleteFromPrimitiveList', () => {
      const out = smp(live(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'], '$setElementOrder/finalizers': ['example.com/b'] } });
      assert.deepEqual(out.metadata, { ...live().metadata, finalizers: ['example.com/b'] });
    });

    it('adds a sidecar after the existing container and removes it again', () => {
      const added = smp(live(), {
        spec: {
          template: {
            spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'envoy' }], containers: [{ image: 'envoy:1', name: 'envoy' }] },
          },
        },
      });
      assert.deepEqual(containersOf(added).map((c: any) => c.name), ['web', 'envoy']);
      assert.deepEqual(containersOf(added)[1], { name: 'envoy', image: 'envoy:1' });
      const removed = smp(added, {
        spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ $patch: 'delete', name: 'envoy' }] } } },
      });
      assert.deepEqual(removed, live());
    });

    it('changes nothing for the empty patch of an unchanged apply', () => {
      assert.deepEqual(smp(live(), {}), live());
    });
  });
});
