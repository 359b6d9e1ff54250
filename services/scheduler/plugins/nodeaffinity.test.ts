import type { Pod } from 'kubernetes-types/core/v1.js';
import { mkNode, mkPod, harness, oneProfile, onlyScore } from '../testing/harness.js';
import assert from 'node:assert/strict';
import type { NodeSelectorRequirement } from 'kubernetes-types/core/v1.js';

function required(...terms: NodeSelectorRequirement[][]): Partial<NonNullable<Pod['spec']>> {
  return { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms.map((t) => ({ matchExpressions: t })) } } } };
}

function cluster() {
  const h = harness();
  h.cache.addNode(mkNode('a', { labels: { zone: 'z1', cores: '4', gpu: 'yes' } }));
  h.cache.addNode(mkNode('b', { labels: { zone: 'z2', cores: '16' } }));
  h.cache.addNode(mkNode('c', { labels: { zone: 'z3', cores: 'many' } }));
  return h;
}

describe('NodeAffinity', () => {
  it('nodeSelector picks the labelled node and the message names the affinity/selector', () => {
    const h = cluster();
    assert.equal(h.schedule(mkPod('p', {}, { nodeSelector: { zone: 'z2' } })).node, 'b');
    const r = h.schedule(mkPod('q', {}, { nodeSelector: { zone: 'z9' } }));
    assert.equal(r.message, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    assert.equal(r.diag!.resolvableSlots.length, 0);
  });

  it('In, NotIn, Exists and DoesNotExist', () => {
    const h = cluster();
    const where = (r: NodeSelectorRequirement[]): string | undefined => h.schedule(mkPod('p', {}, required(r))).node;
    assert.equal(where([{ key: 'zone', operator: 'In', values: ['z3', 'z9'] }]), 'c');
    assert.equal(where([{ key: 'zone', operator: 'NotIn', values: ['z1', 'z2'] }]), 'c');
    assert.equal(where([{ key: 'gpu', operator: 'Exists' }]), 'a');
    assert.equal(where([{ key: 'gpu', operator: 'DoesNotExist' }, { key: 'zone', operator: 'In', values: ['z1', 'z2'] }]), 'b');
  });

  it('Gt and Lt compare integers; a non-integer label matches neither', () => {
    const h = cluster();
    assert.equal(h.schedule(mkPod('p', {}, required([{ key: 'cores', operator: 'Gt', values: ['8'] }]))).node, 'b');
    assert.equal(h.schedule(mkPod('q', {}, required([{ key: 'cores', operator: 'Lt', values: ['8'] }]))).node, 'a');
    assert.match(h.schedule(mkPod('r', {}, required([{ key: 'cores', operator: 'Gt', values: ['100'] }]))).message!, /3 node\(s\) didn't match/);
  });

  it('terms are ORed, requirements within a term ANDed', () => {
    const h = cluster();
    const p = mkPod('p', {}, required([{ key: 'zone', operator: 'In', values: ['z1'] }, { key: 'gpu', operator: 'DoesNotExist' }], [{ key: 'zone', operator: 'In', values: ['z3'] }]));
    assert.equal(h.schedule(p).node, 'c');
  });

  it('matchFields metadata.name', () => {
    const h = cluster();
    const p = mkPod('p', {}, {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }] } } },
    });
    assert.equal(h.schedule(p).node, 'b');
  });

  it('re-evaluates requirements when a node is relabelled', () => {
    const h = cluster();
    const p = () => mkPod('p', {}, { nodeSelector: { tier: 'gold' } });
    assert.equal(h.schedule(p()).node, undefined);
    h.cache.updateNode(mkNode('c', { labels: { zone: 'z3', tier: 'gold' } }));
    assert.equal(h.schedule(p()).node, 'c');
    h.cache.updateNode(mkNode('c', { labels: { zone: 'z3' } }));
    assert.equal(h.schedule(p()).node, undefined);
  });

  it('preferred terms raise the score of matching nodes by weight', () => {
    const h = cluster();
    const p = mkPod('p', {}, {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] } },
            { weight: 5, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z3'] }] } },
          ],
        },
      },
    });
    assert.equal(h.schedule(p).node, 'b');
    const s = harness(onlyScore('NodeAffinity'));
    for (const n of ['a', 'b', 'c']) s.cache.addNode(mkNode(n, { labels: { zone: n === 'a' ? 'z1' : n === 'b' ? 'z2' : 'z3' } }));
    assert.deepEqual(s.scores(p), { a: 0, b: 100, c: 50 });
  });

  it('addedAffinity applies to every pod of the profile, together with the pod’s own', () => {
    const h = harness(oneProfile(`pluginConfig:
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions: [{key: zone, operator: In, values: [z2, z3]}]
`));
    h.cache.addNode(mkNode('a', { labels: { zone: 'z1' } }));
    h.cache.addNode(mkNode('b', { labels: { zone: 'z2', disk: 'ssd' } }));
    h.cache.addNode(mkNode('c', { labels: { zone: 'z3' } }));
    assert.notEqual(h.schedule(mkPod('p')).node, 'a');
    assert.equal(h.schedule(mkPod('q', {}, required([{ key: 'zone', operator: 'In', values: ['z1', 'z3'] }]))).node, 'c');
    assert.equal(h.schedule(mkPod('r', {}, { nodeSelector: { zone: 'z1' } })).node, undefined);
  });
});
