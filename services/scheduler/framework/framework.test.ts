import type { Taint } from 'kubernetes-types/core/v1.js';
import { mkNode, mkPod, harness, oneProfile } from '../testing/harness.js';
import assert from 'node:assert/strict';
import { ErrNoNodesAvailable, fitErrorMessage } from './framework.js';

const gpuTaint: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('Framework', () => {
  it('renders the FailedScheduling message as upstream: histogram sorted as strings, then the preemption sentence', () => {
    const h = harness();
    // n1..n3 could hold the pod once their pod is gone; n6 could not hold it empty
    for (let i = 1; i <= 3; i++) {
      h.cache.addNode(mkNode(`n${i}`, { cpu: '2' }));
      h.cache.addPod(mkPod(`busy-${i}`, { cpu: '1' }, { nodeName: `n${i}` }));
    }
    for (let i = 4; i <= 5; i++) h.cache.addNode(mkNode(`n${i}`, { taints: [gpuTaint] }));
    h.cache.addNode(mkNode('n6', { cpu: '1' }));
    const r = h.schedule(mkPod('web-1', { cpu: '2' }));
    assert.equal(r.message, '0/6 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 4 Insufficient cpu.');
    assert.deepEqual([...r.diag!.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
    // upstream NodeResourcesFit: a request beyond the node's allocatable is Unresolvable (kubernetes#131345)
    assert.deepEqual(r.diag!.resolvableSlots.map((s) => h.cache.nodeAt(s)!.name), ['n1', 'n2', 'n3']);
    const withPreemption = h.fw.failureMessage(r.diag!, 'preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.');
    // one period at the end, as the FailedScheduling events users see
    assert.equal(
      withPreemption,
      '0/6 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 4 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.',
    );
  });

  it('a node failing several resources counts under each; sorting is by string, so 10 comes before 9', () => {
    const reasons = new Map([
      ['Insufficient memory', 9],
      ['Insufficient cpu', 10],
    ]);
    assert.equal(fitErrorMessage(19, reasons), '0/19 nodes are available: 10 Insufficient cpu, 9 Insufficient memory.');
    assert.equal(fitErrorMessage(0, new Map()), '0/0 nodes are available:');
  });

  it('says "no nodes available to schedule pods" when the cluster has no nodes', () => {
    const h = harness();
    assert.equal(h.schedule(mkPod('p')).message, ErrNoNodesAvailable);
  });

  it('a PreFilter rejection replaces the histogram', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    const diag = h.fw.unresolvableDiagnosis("node(s) didn't match pod affinity rules", 'InterPodAffinity');
    assert.equal(h.fw.failureMessage(diag, 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'),
      "0/1 nodes are available: node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
    assert.deepEqual(diag.resolvableSlots, []);
  });

  it('expands the default multiPoint plugins over the extension points with upstream weights', () => {
    const h = harness();
    assert.equal(h.fw.queueSortPlugin?.name, 'PrioritySort');
    assert.deepEqual(h.fw.filterPlugins.map((p) => p.name), [
      'NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity',
    ]);
    assert.deepEqual(
      Object.fromEntries(h.fw.scorePlugins.map((s) => [s.plugin.name, s.weight])),
      { TaintToleration: 3, NodeAffinity: 2, NodeResourcesFit: 1, PodTopologySpread: 2, InterPodAffinity: 2, NodeResourcesBalancedAllocation: 1 },
    );
    assert.deepEqual(h.fw.bindPlugins.map((p) => p.name), ['DefaultBinder']);
    const spec = h.fw.compile(mkPod('p')).spec;
    assert.equal(spec.filters, 0xff);
    assert.equal(spec.score.taintWeight, 3);
    assert.equal(spec.score.nodeAffinityWeight, 2);
    assert.equal(spec.score.fitWeight, 1);
    assert.equal(spec.score.balancedWeight, 1);
  });

  it('a disabled filter no longer rejects nodes and a score weight from the configuration is applied', () => {
    const h = harness(oneProfile(`plugins:
    filter:
      disabled: [{name: TaintToleration}]
    score:
      enabled: [{name: NodeResourcesFit, weight: 7}]
`));
    h.cache.addNode(mkNode('tainted', { taints: [gpuTaint] }));
    assert.equal(h.schedule(mkPod('p')).node, 'tainted');
    assert.equal(h.fw.compile(mkPod('p')).spec.score.fitWeight, 7);
    assert.equal(h.fw.compile(mkPod('p')).spec.score.taintWeight, 3, 'TaintToleration still scores');
  });

  it('signatures differ by profile and by what the plugins read, not by pod name', () => {
    const h = harness();
    const a = h.fw.signature(mkPod('a', { cpu: '1' }, { nodeSelector: { z: '1' } }));
    assert.equal(h.fw.signature(mkPod('b', { cpu: '1' }, { nodeSelector: { z: '1' } })), a);
    assert.notEqual(h.fw.signature(mkPod('c', { cpu: '1' }, { nodeSelector: { z: '2' } })), a);
    assert.notEqual(h.fw.signature(mkPod('d', { cpu: '1' }, { tolerations: [{ operator: 'Exists' }] })), a);
  });

  it('pods with equal inputs share one template whatever their members\' order; a nested difference or array order tells them apart', () => {
    const h = harness();
    const a = mkPod('a', { cpu: '1' }, { nodeSelector: { z: '1', r: '2' }, tolerations: [{ key: 'k1', operator: 'Exists' }, { key: 'k2', operator: 'Exists' }] });
    const t = h.fw.template(a);
    const reordered = mkPod('b', { cpu: '1' }, { tolerations: [{ operator: 'Exists', key: 'k1' }, { key: 'k2', operator: 'Exists' }], nodeSelector: { r: '2', z: '1' } });
    reordered.spec!.hostname = undefined;
    assert.equal(h.fw.template(reordered), t);
    const nested = mkPod('c', { cpu: '1' }, { nodeSelector: { z: '1', r: '3' }, tolerations: a.spec!.tolerations });
    assert.notEqual(h.fw.template(nested), t);
    assert.equal(h.fw.template(mkPod('d', { cpu: '1' }, { nodeSelector: { z: '1', r: '2' }, tolerations: a.spec!.tolerations })), t, 'found again after another template');
    const swapped = mkPod('e', { cpu: '1' }, { nodeSelector: { z: '1', r: '2' }, tolerations: [a.spec!.tolerations![1]!, a.spec!.tolerations![0]!] });
    assert.notEqual(h.fw.template(swapped), t);
  });

  it('a signature found again for an equal pod still tells apart namespace, labels and owners (spreading reads them)', () => {
    const h = harness();
    const base = () => mkPod('a', { cpu: '1' });
    const a = h.fw.signature(base());
    assert.equal(h.fw.signature(base()), a);
    const labelled = base();
    labelled.metadata!.labels = { app: 'web' };
    assert.notEqual(h.fw.signature(labelled), a);
    const elsewhere = base();
    elsewhere.metadata!.namespace = 'other';
    assert.notEqual(h.fw.signature(elsewhere), a);
    const owned = base();
    owned.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }];
    assert.notEqual(h.fw.signature(owned), a);
    const bigger = base();
    bigger.spec!.containers[0]!.resources = { requests: { cpu: '2' } };
    assert.notEqual(h.fw.signature(bigger), a);
  });

  it('an unknown plugin in the configuration is an error naming it', () => {
    assert.throws(
      () =>
        harness(oneProfile(`plugins:
    filter:
      enabled: [{name: NoSuchPlugin}]
`)),
      /plugin "NoSuchPlugin" does not exist/,
    );
  });
});
