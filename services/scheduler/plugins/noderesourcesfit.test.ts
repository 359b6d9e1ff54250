import { mkNode, mkPod, harness, oneProfile, onlyScore } from '../testing/harness.js';
import assert from 'node:assert/strict';

describe('NodeResourcesFit', () => {
  it('a pod needing 2 cpu skips nodes with 1 cpu free, the message says Insufficient cpu when none has room, and only a node big enough is left to preemption', () => {
    const h = harness();
    h.cache.addNode(mkNode('n1', { cpu: '1' }));
    h.cache.addNode(mkNode('n2', { cpu: '3' }));
    h.cache.addNode(mkNode('n3', { cpu: '1' }));
    assert.equal(h.schedule(mkPod('a', { cpu: '2' })).node, 'n2');
    const r = h.schedule(mkPod('b', { cpu: '2' }));
    assert.equal(r.node, undefined);
    assert.equal(r.message, '0/3 nodes are available: 3 Insufficient cpu.');
    // upstream NodeResourcesFit's Unresolvable (kubernetes#131345): preemption can make room on n2 (3 cpu), never on a 1-cpu node
    assert.deepEqual(r.diag!.resolvableSlots.map((slot) => h.cache.nodeAt(slot)!.name), ['n2']);
    assert.ok(r.diag!.unschedulablePlugins.has('NodeResourcesFit'));
  });

  it('compiles a pod object again as it is now when its spec was replaced in place', () => {
    const h = harness();
    h.cache.addNode(mkNode('n1', { cpu: '2' }));
    const pod = mkPod('a', { cpu: '1' });
    assert.equal(h.fw.compile(pod).spec.request[0], 1000);
    pod.spec = mkPod('a', { cpu: '3' }).spec;
    assert.equal(h.fw.compile(pod).spec.request[0], 3000);
    assert.match(h.schedule(pod).message!, /Insufficient cpu/);
  });

  it('counts pods already bound to the node, and frees their room when they go', () => {
    const h = harness();
    h.cache.addNode(mkNode('n1', { cpu: '2', memory: '1Gi' }));
    const bound = mkPod('bound', { cpu: '1500m' }, { nodeName: 'n1' });
    h.cache.addPod(bound);
    assert.match(h.schedule(mkPod('x', { cpu: '1' })).message!, /1 Insufficient cpu/);
    h.cache.removePod(bound);
    assert.equal(h.schedule(mkPod('x', { cpu: '1' })).node, 'n1');
  });

  it('checks memory and the pod count (Too many pods)', () => {
    const h = harness();
    h.cache.addNode(mkNode('n1', { memory: '1Gi', pods: '1' }));
    h.cache.addNode(mkNode('n2', { memory: '256Mi' }));
    assert.equal(h.schedule(mkPod('a', { memory: '512Mi' })).node, 'n1');
    assert.equal(h.schedule(mkPod('b', { memory: '512Mi' })).message, '0/2 nodes are available: 1 Insufficient memory, 1 Too many pods.');
  });

  it('checks extended resources such as nvidia.com/gpu, which nodes without them lack', () => {
    const h = harness();
    h.cache.addNode(mkNode('cpu-only'));
    h.cache.addNode(mkNode('gpu', { extra: { 'nvidia.com/gpu': '1' } }));
    assert.equal(h.schedule(mkPod('a', { 'nvidia.com/gpu': '1' })).node, 'gpu');
    assert.equal(h.schedule(mkPod('b', { 'nvidia.com/gpu': '1' })).message, '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.');
    // a resource no node has ever offered
    assert.equal(h.schedule(mkPod('c', { 'example.com/fpga': '1' })).message, '0/2 nodes are available: 2 Insufficient example.com/fpga.');
  });

  it('applies the init-container and overhead rules', () => {
    const h = harness();
    h.cache.addNode(mkNode('n1', { cpu: '2' }));
    const init = mkPod('init', { cpu: '100m' }, { initContainers: [{ name: 'i', resources: { requests: { cpu: '3' } } }] });
    assert.match(h.schedule(init).message!, /1 Insufficient cpu/);
    const overhead = mkPod('oh', { cpu: '1900m' }, { overhead: { cpu: '200m' } });
    assert.match(h.schedule(overhead).message!, /1 Insufficient cpu/);
    assert.equal(h.schedule(mkPod('fits', { cpu: '1800m' }, { overhead: { cpu: '200m' } })).node, 'n1');
  });

  it('ignoredResources skips an extended resource', () => {
    const h = harness(oneProfile(`pluginConfig:
  - name: NodeResourcesFit
    args: {ignoredResources: [example.com/foo]}
`));
    h.cache.addNode(mkNode('n1'));
    assert.equal(h.schedule(mkPod('a', { 'example.com/foo': '5' })).node, 'n1');
  });

  it('LeastAllocated (default) prefers the emptier node, MostAllocated the fuller one', () => {
    const least = harness(onlyScore('NodeResourcesFit'));
    const most = harness(
      onlyScore(
        'NodeResourcesFit',
        `  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
`,
      ),
    );
    for (const h of [least, most]) {
      h.cache.addNode(mkNode('busy', { cpu: '4', memory: '4Gi' }));
      h.cache.addNode(mkNode('idle', { cpu: '4', memory: '4Gi' }));
      h.cache.addPod(mkPod('existing', { cpu: '2', memory: '2Gi' }, { nodeName: 'busy' }));
    }
    const p = mkPod('p', { cpu: '1', memory: '1Gi' });
    // LeastAllocated: busy (4-3)/4 = 25 for both resources, idle (4-1)/4 = 75
    assert.deepEqual(least.scores(p), { busy: 25, idle: 75 });
    assert.equal(least.schedule(p).node, 'idle');
    assert.deepEqual(most.scores(p), { busy: 75, idle: 25 });
    assert.equal(most.schedule(p).node, 'busy');
  });

  it('RequestedToCapacityRatio follows the configured shape', () => {
    const h = harness(
      onlyScore(
        'NodeResourcesFit',
        `  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{name: cpu, weight: 1}]
        requestedToCapacityRatio:
          shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]
`,
      ),
    );
    h.cache.addNode(mkNode('half', { cpu: '4' }));
    h.cache.addNode(mkNode('empty', { cpu: '4' }));
    h.cache.addPod(mkPod('e', { cpu: '1' }, { nodeName: 'half' }));
    // bin packing: 2/4 -> 50, 1/4 -> 25
    assert.deepEqual(h.scores(mkPod('p', { cpu: '1' })), { half: 50, empty: 25 });
  });
});
