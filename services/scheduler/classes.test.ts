import { mkNode, mkPod, harness, oneProfile } from './testing/harness.js';
import assert from 'node:assert/strict';

describe('ClassTable', () => {
  it('pods with equal signatures share a class; different requests do not', () => {
    const h = harness();
    h.cache.addNode(mkNode('n'));
    const a = h.classes.resolve(mkPod('a', { cpu: '1' }), h.fw);
    const b = h.classes.resolve(mkPod('b', { cpu: '1' }), h.fw);
    const c = h.classes.resolve(mkPod('c', { cpu: '2' }), h.fw);
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, c.id);
    assert.equal(h.classes.size, 2);
  });

  it('evicts the least recently used class when the core is full, and the evicted class is recompiled on use', () => {
    const h = harness(undefined, { classes: 2 });
    h.cache.addNode(mkNode('n', { cpu: '10' }));
    const one = h.classes.resolve(mkPod('a', { cpu: '1' }), h.fw);
    const two = h.classes.resolve(mkPod('b', { cpu: '2' }), h.fw);
    h.classes.resolve(mkPod('a2', { cpu: '1' }), h.fw); // touch "1 cpu": "2 cpu" is now the oldest
    const three = h.classes.resolve(mkPod('c', { cpu: '3' }), h.fw);
    assert.equal(three.id, two.id);
    assert.equal(h.classes.size, 2);
    // the class behind "three" places 3 cpu, not 2
    const out = new Int32Array(4);
    assert.equal(h.cache.core.place(three.id, 4, out), 3);
    assert.equal(h.classes.resolve(mkPod('a3', { cpu: '1' }), h.fw).id, one.id);
  });

  it('recompiles everything when the cache makes a new core', () => {
    const h = harness(undefined, { labelWords: 1 });
    h.cache.addNode(mkNode('n', { labels: { k0: 'v' } }));
    const before = h.classes.resolve(mkPod('a', {}, { nodeSelector: { k0: 'v' } }), h.fw);
    const gen = h.cache.generation;
    for (let i = 0; i < 40; i++) h.cache.requirementBit({ key: `k${i}`, operator: 'Exists' });
    assert.ok(h.cache.generation > gen);
    const after = h.classes.resolve(mkPod('a', {}, { nodeSelector: { k0: 'v' } }), h.fw);
    assert.equal(after.spec.selector.length, h.cache.words().labels);
    assert.notEqual(after.spec, before.spec);
    assert.equal(h.schedule(mkPod('a', {}, { nodeSelector: { k0: 'v' } })).node, 'n');
  });

  it('recompiles volatile classes once per cycle and keeps the others', () => {
    // without the pod-counting plugins, only NodeName (for pods that name a node) is volatile
    const h = harness(oneProfile(`plugins:
    multiPoint:
      disabled: [{name: PodTopologySpread}, {name: InterPodAffinity}]
`));
    h.cache.addNode(mkNode('n'));
    const plain = mkPod('p');
    const named = mkPod('q', {}, { nodeName: 'n' });
    h.classes.beginCycle();
    const p1 = h.classes.resolve(plain, h.fw).spec;
    const q1 = h.classes.resolve(named, h.fw).spec;
    assert.equal(h.classes.resolve(named, h.fw).spec, q1, 'same cycle: cached');
    h.classes.beginCycle();
    assert.equal(h.classes.resolve(plain, h.fw).spec, p1);
    assert.notEqual(h.classes.resolve(named, h.fw).spec, q1);
  });

  it('recompiles a volatile class from the pod it was first compiled from, with the counts of the pods placed since', () => {
    const h = harness();
    const zone = 'topology.kubernetes.io/zone';
    h.cache.addNode(mkNode('a', { labels: { [zone]: 'z1' } }));
    h.cache.addNode(mkNode('b', { labels: { [zone]: 'z2' } }));
    const spread = (name: string) => {
      const p = mkPod(name, { cpu: '10m' }, { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] });
      p.metadata!.labels = { app: 'web' };
      return p;
    };
    const compiled: unknown[] = [];
    const compile = h.fw.compile.bind(h.fw);
    h.fw.compile = (pod) => {
      compiled.push(pod);
      return compile(pod);
    };
    const first = spread('p1');
    const counts = (spec: ReturnType<typeof h.classes.resolve>['spec']) => {
      const c = spec.constraints[0]!;
      const { values } = h.cache.snapshot.domains(c.key);
      return Object.fromEntries(values.map((v, d) => [v, c.counts[d]]));
    };
    h.classes.beginCycle();
    assert.deepEqual(counts(h.classes.resolve(first, h.fw).spec), { z1: 0, z2: 0 });
    h.cache.assumePod(spread('placed'), 'a');
    h.classes.beginCycle();
    const second = spread('p2');
    assert.deepEqual(counts(h.classes.resolve(second, h.fw).spec), { z1: 1, z2: 0 }, 'the pod placed in z1 counts');
    assert.equal(compiled.length, 2);
    assert.equal(compiled[1], first, 'compiled again from the first pod, not the one at hand');
  });
});
