import { mkNode, mkPod, harness } from '../testing/harness.js';
import assert from 'node:assert/strict';

describe('NodeName', () => {
  it('a pod naming a node goes there and nowhere else', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    h.cache.addNode(mkNode('b', { cpu: '1' }));
    assert.equal(h.schedule(mkPod('p', {}, { nodeName: 'b' })).node, 'b');
  });

  it('a pod naming a missing node fails with the upstream reason, then fits once the node arrives', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    h.cache.addNode(mkNode('b'));
    const r = h.schedule(mkPod('p', {}, { nodeName: 'late' }));
    assert.equal(r.message, "0/2 nodes are available: 2 node(s) didn't match the requested node name.");
    assert.equal(r.diag!.resolvableSlots.length, 0);
    h.cache.addNode(mkNode('late'));
    assert.equal(h.schedule(mkPod('p', {}, { nodeName: 'late' })).node, 'late');
  });
});
