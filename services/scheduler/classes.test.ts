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
});
