import { mkNode, mkPod, harness } from '../testing/harness.js';
import assert from 'node:assert/strict';

describe('NodeUnschedulable', () => {
  it('cordoned nodes take no pods, unless the pod tolerates node.kubernetes.io/unschedulable', () => {
    const h = harness();
    h.cache.addNode(mkNode('cordoned', { unschedulable: true }));
    const r = h.schedule(mkPod('p'));
    assert.equal(r.message, '0/1 nodes are available: 1 node(s) were unschedulable.');
    assert.equal(r.diag!.resolvableSlots.length, 0);
    const tolerant = mkPod('t', {}, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    assert.equal(h.schedule(tolerant).node, 'cordoned');
  });

  it('uncordoning makes the node schedulable again', () => {
    const h = harness();
    h.cache.addNode(mkNode('n', { unschedulable: true }));
    assert.equal(h.schedule(mkPod('p')).node, undefined);
    h.cache.updateNode(mkNode('n'));
    assert.equal(h.schedule(mkPod('p')).node, 'n');
  });
});
