import { mkNode, mkPod, harness, onlyScore } from '../testing/harness.js';
import assert from 'node:assert/strict';

describe('NodeResourcesBalancedAllocation', () => {
  it('prefers the node whose cpu and memory fractions stay closest together', () => {
    const h = harness(onlyScore('NodeResourcesBalancedAllocation'));
    h.cache.addNode(mkNode('cpu-heavy', { cpu: '4', memory: '4Gi' }));
    h.cache.addNode(mkNode('even', { cpu: '4', memory: '4Gi' }));
    h.cache.addPod(mkPod('hog', { cpu: '3', memory: '0' }, { nodeName: 'cpu-heavy' }));
    h.cache.addPod(mkPod('mix', { cpu: '1', memory: '1Gi' }, { nodeName: 'even' }));
    const p = mkPod('p', { cpu: '1', memory: '1Gi' });
    // cpu-heavy: fractions 1, 0.25 -> std 0.375 -> 62; even: 0.5, 0.5 -> 100
    assert.deepEqual(h.scores(p), { 'cpu-heavy': 62, even: 100 });
    assert.equal(h.schedule(p).node, 'even');
  });
});
