import { SchedulerCache } from './cache.js';
import { mkNode, mkPod, harness } from '../../testing/harness.js';
import assert from 'node:assert/strict';
import { Dim } from '../../core/types.js';
import { ReferenceCore } from '../../core/reference.js';

describe('SchedulerCache', () => {
  it('reuses the slot of a removed node', () => {
    const { cache } = harness();
    for (const n of ['a', 'b', 'c']) cache.addNode(mkNode(n));
    const slotB = cache.node('b')!.slot;
    cache.removeNode('b');
    assert.equal(cache.node('b'), undefined);
    assert.equal(cache.nodeAt(slotB), undefined);
    cache.addNode(mkNode('d'));
    assert.equal(cache.node('d')!.slot, slotB);
    assert.equal(cache.snapshot.nodeCount(), 3);
  });

  it('a removed node takes no pods; its slot is free in the core', () => {
    const h = harness();
    h.cache.addNode(mkNode('a', { cpu: '1' }));
    h.cache.addNode(mkNode('b', { cpu: '8' }));
    h.cache.removeNode('b');
    assert.equal(h.schedule(mkPod('p', { cpu: '2' })).message, '0/1 nodes are available: 1 Insufficient cpu.');
  });

  it('regrowing the core (nodes, label words, taints, ports, resources, topology keys) keeps placements identical', () => {
    const run = (dims?: Parameters<typeof harness>[1]) => {
      const h = harness(undefined, dims);
      const gen0 = h.cache.generation;
      const placements: Array<string | undefined> = [];
      for (let i = 0; i < 40; i++) {
        h.cache.addNode(
          mkNode(`n${i}`, {
            cpu: `${1 + (i % 5)}`,
            memory: `${2 + (i % 3)}Gi`,
            labels: { zone: `z${i % 4}`, rack: `r${i % 7}` },
            taints: i % 9 === 0 ? [{ key: `t${i}`, value: 'x', effect: 'NoSchedule' }] : undefined,
            extra: i % 2 === 0 ? { 'example.com/gpu': '2' } : undefined,
          }),
        );
        if (i % 5 === 4) {
          placements.push(h.schedule(mkPod(`p${i}`, { cpu: '500m', memory: '256Mi' }, { nodeSelector: { rack: `r${i % 7}` } })).node);
          placements.push(h.schedule(mkPod(`g${i}`, { 'example.com/gpu': '1' }, { containers: [{ name: 'c', ports: [{ containerPort: 1, hostPort: 9000 + i }] }] })).node);
        }
      }
      for (let i = 0; i < 30; i++) {
        placements.push(h.schedule(mkPod(`q${i}`, { cpu: '300m' }, { nodeSelector: { zone: `z${i % 4}` } })).node);
        h.cache.topologyKey(`key-${i % 6}`);
      }
      return { placements, grew: h.cache.generation - gen0, dims: h.cache.coreDims(), h };
    };
    const big = run({ nodes: 256, labelWords: 8, taintWords: 4, portWords: 4, resources: 8, topologyKeys: 16 });
    const small = run({ nodes: 2, labelWords: 1, taintWords: 1, portWords: 1, resources: 4, topologyKeys: 1 });
    assert.equal(big.grew, 0);
    assert.ok(small.grew >= 6, `the small core was replaced ${small.grew} times`);
    assert.ok(small.dims.nodes >= 40 && small.dims.resources >= 5 && small.dims.topologyKeys >= 6);
    assert.ok(big.placements.filter(Boolean).length > 30);
    assert.deepEqual(small.placements, big.placements);
  });

  it('assumed pods count at once; forgetPod gives their room back; the informer confirms them', () => {
    const h = harness();
    h.cache.addNode(mkNode('n', { cpu: '2' }));
    const p = mkPod('p', { cpu: '1500m' });
    h.cache.assumePod(p, 'n');
    assert.equal(h.cache.isAssumed('default/p'), true);
    assert.equal(h.cache.node('n')!.requested[Dim.CPU], 1500);
    assert.equal(h.schedule(mkPod('q', { cpu: '1' })).node, undefined);
    h.cache.forgetPod('default/p');
    assert.equal(h.cache.isAssumed('default/p'), false);
    assert.equal(h.cache.node('n')!.requested[Dim.CPU], 0);
    // placed by the core, then confirmed by the informer: counted once
    assert.equal(h.schedule(mkPod('r', { cpu: '1' })).node, 'n');
    h.cache.addPod({ ...mkPod('r', { cpu: '1' }), spec: { ...mkPod('r', { cpu: '1' }).spec!, nodeName: 'n' } });
    assert.equal(h.cache.isAssumed('default/r'), false);
    assert.equal(h.cache.node('n')!.requested[Dim.CPU], 1000);
    assert.equal(h.cache.node('n')!.pods.size, 1);
    assert.equal(h.schedule(mkPod('s', { cpu: '1' })).node, 'n');
    assert.equal(h.schedule(mkPod('t', { cpu: '1' })).node, undefined);
  });

  it('pods assumed with one template share the requests and host ports derived once from the first', () => {
    const h = harness();
    h.cache.addNode(mkNode('n', { cpu: '8' }));
    const ports = { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } }, ports: [{ containerPort: 80, hostPort: 8080 }] }] };
    const a = mkPod('a', {}, ports);
    const b = mkPod('b', {}, ports);
    const t = h.fw.template(a);
    assert.equal(h.fw.template(b), t, 'pods stamped from one template share it');
    const ia = h.cache.assumePod(a, 'n', { template: t });
    const ib = h.cache.assumePod(b, 'n', { template: t });
    assert.equal(ib.request, ia.request, 'parsed once');
    assert.equal(ib.portBits, ia.portBits);
    assert.deepEqual(ib.portBits.length, 1);
    assert.equal(h.cache.node('n')!.requested[Dim.CPU], 2000);
    const c = mkPod('c', { cpu: '2' });
    const ic = h.cache.assumePod(c, 'n', { template: h.fw.template(c) });
    assert.notEqual(h.fw.template(c), t);
    assert.equal(ic.request[Dim.CPU], 2000);
    assert.equal(h.cache.node('n')!.requested[Dim.CPU], 4000);
    h.cache.forgetPod('default/a');
    assert.equal(h.cache.node('n')!.requested[Dim.CPU], 3000);
  });

  it('keeps pods bound to a node it does not know yet and attaches them when the node arrives', () => {
    const h = harness();
    h.cache.addPod(mkPod('early', { cpu: '3' }, { nodeName: 'late' }));
    assert.equal([...h.cache.snapshot.pods()].length, 0);
    h.cache.addNode(mkNode('late', { cpu: '4' }));
    assert.equal(h.cache.node('late')!.pods.has('default/early'), true);
    assert.equal(h.cache.node('late')!.requested[Dim.CPU], 3000);
    assert.equal(h.schedule(mkPod('p', { cpu: '2' })).node, undefined);
  });

  it('terminal pods do not count on their node', () => {
    const h = harness();
    h.cache.addNode(mkNode('n', { cpu: '2' }));
    const running = mkPod('job', { cpu: '2' }, { nodeName: 'n' });
    h.cache.addPod(running);
    assert.equal(h.schedule(mkPod('p', { cpu: '1' })).node, undefined);
    h.cache.updatePod(running, { ...running, status: { phase: 'Succeeded' } });
    assert.equal(h.cache.node('n')!.pods.size, 0);
    assert.equal(h.schedule(mkPod('p', { cpu: '1' })).node, 'n');
    h.cache.addPod({ ...mkPod('failed', { cpu: '2' }, { nodeName: 'n' }), status: { phase: 'Failed' } });
    assert.equal(h.cache.node('n')!.pods.size, 1);
  });

  it('takes a status-only update of a bound pod in place, and still follows label and resource changes', () => {
    let usagePushes = 0;
    const cache = new SchedulerCache({
      createCore: (d) => {
        const core = new ReferenceCore(d);
        const push = core.setNodeUsage.bind(core);
        core.setNodeUsage = (slot, usage) => {
          usagePushes++;
          push(slot, usage);
        };
        return core;
      },
    });
    cache.addNode(mkNode('n', { cpu: '4' }));
    const pod = { ...mkPod('web', { cpu: '1' }, { nodeName: 'n' }), metadata: { name: 'web', namespace: 'default', uid: 'u', labels: { app: 'web' } } };
    cache.addPod(pod);
    const before = usagePushes;
    const running = { ...pod, status: { phase: 'Running', podIP: '10.0.0.2' } };
    cache.updatePod(pod, running);
    assert.equal(usagePushes, before, 'a status write pushes no usage');
    assert.equal(cache.podInfoOf('default/web')!.pod, running, 'the cache holds the newest object');
    const relabelled = { ...running, metadata: { ...running.metadata, labels: { app: 'api' } } };
    cache.updatePod(running, relabelled);
    assert.equal(cache.podInfoOf('default/web')!.pod.metadata!.labels!.app, 'api');
    const resized = mkPod('web', { cpu: '3' }, { nodeName: 'n' });
    cache.updatePod(relabelled, { ...resized, metadata: relabelled.metadata });
    assert.equal(cache.node('n')!.requested[Dim.CPU], 3000);
  });

  it('tracks pods with pod (anti-)affinity', () => {
    const { cache } = harness();
    cache.addNode(mkNode('n'));
    const anti = mkPod('anti', {}, { nodeName: 'n', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] } } });
    cache.addPod(anti);
    cache.addPod(mkPod('plain', {}, { nodeName: 'n' }));
    assert.deepEqual([...cache.snapshot.podsWithAffinity()].map((p) => p.key), ['default/anti']);
    cache.removePod(anti);
    assert.equal([...cache.snapshot.podsWithAffinity()].length, 0);
  });

  it('gives topology domains per slot, -1 for nodes without the label, and follows relabels', () => {
    const { cache } = harness();
    cache.addNode(mkNode('a', { labels: { zone: 'z1' } }));
    cache.addNode(mkNode('b'));
    const k = cache.topologyKey('zone');
    cache.addNode(mkNode('c', { labels: { zone: 'z2' } }));
    const d = cache.domains(k);
    assert.equal(d.values[d.ids[cache.node('a')!.slot]], 'z1');
    assert.equal(d.ids[cache.node('b')!.slot], -1);
    assert.equal(d.values[d.ids[cache.node('c')!.slot]], 'z2');
    cache.updateNode(mkNode('b', { labels: { zone: 'z1' } }));
    assert.equal(cache.domains(k).ids[cache.node('b')!.slot], cache.domains(k).ids[cache.node('a')!.slot]);
  });

  it('namespaces: labels for namespaceSelector', () => {
    const { cache } = harness();
    cache.upsertNamespace({ metadata: { name: 'team-a', labels: { team: 'a' } } });
    assert.deepEqual(cache.snapshot.namespaceLabels('team-a'), { team: 'a' });
    cache.removeNamespace('team-a');
    assert.equal(cache.snapshot.namespaceLabels('team-a'), undefined);
  });
});

describe('SchedulerCache assumed pods and informer updates', () => {
  it('an update of the unbound pod while its binding is in flight keeps it assumed', () => {
    const h = harness();
    h.cache.addNode(mkNode('n', { cpu: '1' }));
    const p = mkPod('p', { cpu: '1' });
    assert.equal(h.schedule(p).node, 'n');
    h.cache.updatePod(p, { ...p, status: { nominatedNodeName: 'n' } });
    assert.equal(h.cache.isAssumed('default/p'), true);
    assert.equal(h.schedule(mkPod('q', { cpu: '1' })).node, undefined);
    h.cache.removePod(p);
    assert.equal(h.schedule(mkPod('q', { cpu: '1' })).node, 'n');
  });
});
