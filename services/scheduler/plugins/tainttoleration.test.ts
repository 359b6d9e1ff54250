import type { Taint } from 'kubernetes-types/core/v1.js';
import { mkNode, mkPod, harness, onlyScore } from '../testing/harness.js';
import assert from 'node:assert/strict';

const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('TaintToleration', () => {
  it('keeps pods off NoSchedule and NoExecute taints they do not tolerate, naming the taint', () => {
    const h = harness();
    h.cache.addNode(mkNode('gpu1', { taints: [gpu] }));
    h.cache.addNode(mkNode('gpu2', { taints: [gpu] }));
    h.cache.addNode(mkNode('evict', { taints: [{ key: 'maint', value: '', effect: 'NoExecute' }] }));
    const r = h.schedule(mkPod('p'));
    assert.equal(r.message, '0/3 nodes are available: 1 node(s) had untolerated taint {maint: }, 2 node(s) had untolerated taint {dedicated: gpu}.');
    assert.equal(r.diag!.resolvableSlots.length, 0, 'taints are UnschedulableAndUnresolvable');
  });

  it('an Equal toleration admits the pod; a wrong value or effect does not', () => {
    const h = harness();
    h.cache.addNode(mkNode('gpu1', { taints: [gpu] }));
    assert.equal(h.schedule(mkPod('wrong-value', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }] })).node, undefined);
    assert.equal(h.schedule(mkPod('wrong-effect', {}, { tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] })).node, undefined);
    assert.equal(h.schedule(mkPod('ok', {}, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] })).node, 'gpu1');
  });

  it('Exists with an empty key tolerates every taint', () => {
    const h = harness();
    h.cache.addNode(mkNode('t', { taints: [gpu, { key: 'other', value: 'x', effect: 'NoExecute' }] }));
    assert.equal(h.schedule(mkPod('all', {}, { tolerations: [{ operator: 'Exists' }] })).node, 't');
    assert.equal(h.schedule(mkPod('key', {}, { tolerations: [{ key: 'dedicated', operator: 'Exists' }] })).node, undefined);
  });

  it('sees taints that appear after the class was compiled', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    assert.equal(h.schedule(mkPod('p1')).node, 'a');
    h.cache.updateNode(mkNode('a', { taints: [gpu] }));
    assert.match(h.schedule(mkPod('p2')).message!, /untolerated taint \{dedicated: gpu\}/);
  });

  it('scores untolerated PreferNoSchedule taints lower', () => {
    const h = harness(onlyScore('TaintToleration'));
    h.cache.addNode(mkNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }));
    h.cache.addNode(mkNode('clean'));
    assert.deepEqual(h.scores(mkPod('p')), { soft: 0, clean: 100 });
    assert.equal(h.schedule(mkPod('p')).node, 'clean');
    assert.deepEqual(h.scores(mkPod('q', {}, { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }] })), { soft: 100, clean: 100 });
  });
});
