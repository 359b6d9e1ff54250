import assert from 'node:assert/strict';
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from '../backend/cache/cache.js';
import { compileWith, diagnoseWith, harness, placeClass, scoreClass } from '../testing/harness.js';
import { ConstraintKind, Filter } from '../core/types.js';
import {
  ErrReasonConstraintsNotMatch,
  ErrReasonNodeLabelNotMatch,
  LABEL_HOSTNAME,
  LABEL_ZONE,
  newPodTopologySpread,
  type PodTopologySpreadPlugin,
} from './podtopologyspread.js';

function node(name: string, zone?: string, extra: Partial<Node['spec']> = {}): Node {
  const labels: Record<string, string> = { [LABEL_HOSTNAME]: name };
  if (zone) labels[LABEL_ZONE] = zone;
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { ...extra }, status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' } } };
}

function pod(name: string, labels: Record<string, string>, spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels, ...meta },
    spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
  };
}

const boundTo = (p: Pod, nodeName: string): Pod => ({ ...p, spec: { ...p.spec!, nodeName } });

const zoneSpread = (maxSkew: number, extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew,
  topologyKey: LABEL_ZONE,
  whenUnsatisfiable: 'DoNotSchedule',
  labelSelector: { matchLabels: { app: 'web' } },
  ...extra,
});

/** A cluster: nodes by name -> zone (undefined = no zone label), and the pods bound to them. */
function cluster(nodes: Record<string, string | undefined>, pods: Array<[Pod, string]> = []): SchedulerCache {
  const cache = new SchedulerCache({ dims: { nodes: 8 } });
  for (const [n, z] of Object.entries(nodes)) cache.addNode(node(n, z));
  for (const [p, n] of pods) cache.addPod(boundTo(p, n));
  return cache;
}


const web = (name: string): Pod => pod(name, { app: 'web' });

describe('PodTopologySpread', () => {
  const pl = newPodTopologySpread();

  it('rejects the zones where one more matching pod would exceed maxSkew, with the upstream message', () => {
    const cache = cluster({ a1: 'a', b1: 'b', c1: 'c' }, [
      [web('w1'), 'a1'],
      [web('w2'), 'a1'],
      [web('w3'), 'b1'],
    ]);
    const cls = compileWith(cache, pl, pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: ErrReasonConstraintsNotMatch, b1: ErrReasonConstraintsNotMatch, c1: 'fits' });
    assert.equal(ErrReasonConstraintsNotMatch, "node(s) didn't match pod topology spread constraints");
    assert.deepEqual(placeClass(cache, cls, 1), ['c1']);
  });

  it('allows a skew of maxSkew: with maxSkew 2 the zone holding one more pod still fits', () => {
    const cache = cluster({ a1: 'a', b1: 'b' }, [[web('w1'), 'a1']]);
    const cls = compileWith(cache, pl, web('new-but-skew-2'));
    assert.deepEqual(cls.constraints, []); // no constraints of its own, no owner: nothing to spread
    const cls2 = compileWith(cache, pl, pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(2)] }));
    assert.deepEqual(diagnoseWith(cache, pl, cls2), { a1: 'fits', b1: 'fits' });
  });

  it('spreads a batch over the zones, one pod at a time seeing the previous placements', () => {
    const cache = cluster({ a1: 'a', a2: 'a', b1: 'b', c1: 'c' });
    const cls = compileWith(cache, pl, pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    const placed = placeClass(cache, cls, 6);
    const zones = placed.map((n) => cache.node(n)!.node.metadata!.labels![LABEL_ZONE]);
    const perZone = (z: string): number => zones.filter((x) => x === z).length;
    assert.equal(placed.length, 6);
    assert.deepEqual([perZone('a'), perZone('b'), perZone('c')], [2, 2, 2]);
  });

  it('does not count a pod that does not match its own selector towards the skew', () => {
    const cache = cluster({ a1: 'a', b1: 'b' }, [[web('w1'), 'a1']]);
    const cls = compileWith(cache, pl, pod('other', { app: 'db' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    assert.equal(cls.constraints[0].selfIncrement, 0);
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: 'fits', b1: 'fits' });
  });

  it('treats the global minimum as 0 while fewer than minDomains domains are eligible', () => {
    const cache = cluster({ a1: 'a', b1: 'b' }, [
      [web('w1'), 'a1'],
      [web('w2'), 'b1'],
    ]);
    const without = compileWith(cache, pl, pod('n1', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    assert.deepEqual(diagnoseWith(cache, pl, without), { a1: 'fits', b1: 'fits' });
    const withMin = compileWith(cache, pl, pod('n2', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1, { minDomains: 3 })] }));
    assert.equal(withMin.constraints[0].minDomains, 3);
    assert.deepEqual(diagnoseWith(cache, pl, withMin), { a1: ErrReasonConstraintsNotMatch, b1: ErrReasonConstraintsNotMatch });
    cache.addNode(node('c1', 'c'));
    const threeZones = compileWith(cache, pl, pod('n3', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1, { minDomains: 3 })] }));
    assert.deepEqual(diagnoseWith(cache, pl, threeZones), { a1: ErrReasonConstraintsNotMatch, b1: ErrReasonConstraintsNotMatch, c1: 'fits' });
  });

  it('rejects a node without the topology key as missing the required label', () => {
    const cache = cluster({ a1: 'a', bare: undefined });
    const cls = compileWith(cache, pl, pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    const got = diagnoseWith(cache, pl, cls);
    assert.equal(got.bare, "node(s) didn't match pod topology spread constraints (missing required label)");
    assert.equal(got.bare, ErrReasonNodeLabelNotMatch);
    assert.equal(got.a1, 'fits');
  });

  it('counts only nodes matching the pod node affinity under nodeAffinityPolicy Honor (the default), all nodes under Ignore', () => {
    const cache = cluster({ a1: 'a', b1: 'b', c1: 'c' }, [
      [web('w1'), 'a1'],
      [web('w2'), 'b1'],
    ]);
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: LABEL_ZONE, operator: 'In', values: ['a', 'b'] }] }] },
      },
    };
    // Honor: zone c does not count, the minimum is 1 and zones a and b take one more each
    const honor = compileWith(cache, pl, pod('h', { app: 'web' }, { affinity, topologySpreadConstraints: [zoneSpread(1)] }));
    assert.deepEqual([...honor.constraints[0].eligible!], [1, 1, 0]);
    const h = diagnoseWith(cache, pl, honor);
    assert.equal(h.a1, 'fits');
    assert.equal(h.b1, 'fits');
    // Ignore: empty zone c holds the minimum at 0
    const ignore = compileWith(cache, pl, pod('i', { app: 'web' }, { affinity, topologySpreadConstraints: [zoneSpread(1, { nodeAffinityPolicy: 'Ignore' })] }));
    const i = diagnoseWith(cache, pl, ignore);
    assert.equal(i.a1, ErrReasonConstraintsNotMatch);
    assert.equal(i.b1, ErrReasonConstraintsNotMatch);
  });

  it('excludes nodes with untolerated taints only under nodeTaintsPolicy Honor', () => {
    const cache = new SchedulerCache({ dims: { nodes: 8 } });
    cache.addNode(node('a1', 'a'));
    cache.addNode(node('b1', 'b', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    cache.addPod(boundTo(web('w1'), 'a1'));
    const ignore = compileWith(cache, pl, pod('i', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    assert.equal(diagnoseWith(cache, pl, ignore).a1, ErrReasonConstraintsNotMatch);
    const honor = compileWith(cache, pl, pod('h', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1, { nodeTaintsPolicy: 'Honor' })] }));
    assert.equal(diagnoseWith(cache, pl, honor).a1, 'fits');
  });

  it('keeps hard eligibility only while no node changes: labels, taints, additions and removals are seen', () => {
    // one plugin instance across compiles, as a scheduler's framework keeps it
    const kept = newPodTopologySpread();
    const cache = cluster({ a1: 'a', a2: 'a', b1: 'b', c1: 'c' }, [
      [web('w1'), 'a1'],
      [web('w2'), 'a2'],
      [web('w3'), 'b1'],
    ]);
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'DoesNotExist' }] }] } } };
    const incoming = pod('new', { app: 'web' }, { affinity, topologySpreadConstraints: [zoneSpread(1, { nodeTaintsPolicy: 'Honor' })] });
    const view = (c: ReturnType<typeof compileWith>) => ({ counts: [...c.constraints[0].counts], eligible: [...c.constraints[0].eligible!] });
    // the kept plugin's compile must equal a fresh plugin's (which keeps nothing yet) after every change
    const check = (want: { counts: number[]; eligible: number[] }, what: string) => {
      assert.deepEqual(view(compileWith(cache, kept, incoming)), want, what);
      assert.deepEqual(view(compileWith(cache, newPodTopologySpread(), incoming)), want, `${what} (fresh plugin)`);
    };
    check({ counts: [2, 1, 0], eligible: [1, 1, 1] }, 'initially');
    check({ counts: [2, 1, 0], eligible: [1, 1, 1] }, 'kept');
    // a node moves zone: its pod counts in the new one
    cache.updateNode(node('a2', 'b'));
    check({ counts: [1, 2, 0], eligible: [1, 1, 1] }, 'a2 relabelled to zone b');
    // a node loses its zone label: it no longer counts
    cache.updateNode(node('b1'));
    check({ counts: [1, 1, 0], eligible: [1, 1, 1] }, 'b1 without a zone');
    // a hard taint the pod does not tolerate, under nodeTaintsPolicy Honor: zone c's only node drops out
    cache.updateNode(node('c1', 'c', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    check({ counts: [1, 1, 0], eligible: [1, 1, 0] }, 'c1 tainted');
    // a label the required node affinity excludes, under nodeAffinityPolicy Honor
    const a1 = node('a1', 'a');
    a1.metadata!.labels!.pool = 'x';
    cache.updateNode(a1);
    check({ counts: [0, 1, 0], eligible: [0, 1, 0] }, 'a1 excluded by affinity');
    // a node added, then one removed
    cache.addNode(node('c2', 'c'));
    check({ counts: [0, 1, 0], eligible: [0, 1, 1] }, 'c2 added');
    cache.removeNode('a2');
    check({ counts: [0, 0, 0], eligible: [0, 0, 1] }, 'a2 removed');
  });

  it('compiles a pod object again as it is now when its constraints, labels or tolerations were replaced in place', () => {
    // one plugin instance keeps what it parsed of a pod object; the parts it read are compared by identity
    const kept = newPodTopologySpread();
    const cache = cluster({ a1: 'a', b1: 'b', c1: 'c' }, [[web('w1'), 'a1']]);
    cache.updateNode(node('c1', 'c', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    const incoming = pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1, { nodeTaintsPolicy: 'Honor' })] });
    const view = () => {
      const c = compileWith(cache, kept, incoming).constraints[0];
      return { maxSkew: c.maxSkew, self: c.selfIncrement, eligible: [...c.eligible!] };
    };
    assert.deepEqual(view(), { maxSkew: 1, self: 1, eligible: [1, 1, 0] });
    incoming.spec!.topologySpreadConstraints = [zoneSpread(3, { nodeTaintsPolicy: 'Honor' })];
    assert.deepEqual(view(), { maxSkew: 3, self: 1, eligible: [1, 1, 0] }, 'constraints replaced');
    incoming.metadata!.labels = { app: 'db' };
    assert.deepEqual(view(), { maxSkew: 3, self: 0, eligible: [1, 1, 0] }, 'labels replaced');
    incoming.spec!.tolerations = [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }];
    assert.deepEqual(view(), { maxSkew: 3, self: 0, eligible: [1, 1, 1] }, 'tolerations replaced');
  });

  it('counts neither terminating pods nor pods of other namespaces', () => {
    const cache = cluster({ a1: 'a', b1: 'b' }, [
      [pod('gone', { app: 'web' }, {}, { deletionTimestamp: '2024-01-01T00:00:00Z' }), 'a1'],
      [pod('elsewhere', { app: 'web' }, {}, { namespace: 'other' }), 'a1'],
    ]);
    const cls = compileWith(cache, pl, pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }));
    assert.deepEqual([...cls.constraints[0].counts], [0, 0]);
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: 'fits', b1: 'fits' });
  });

  it('merges matchLabelKeys into the selector from the pod labels', () => {
    const v1 = (n: string): Pod => pod(n, { app: 'web', 'pod-template-hash': 'v1' });
    const cache = cluster({ a1: 'a', b1: 'b' }, [
      [v1('o1'), 'a1'],
      [v1('o2'), 'a1'],
    ]);
    const tsc = zoneSpread(1, { matchLabelKeys: ['pod-template-hash'] });
    const v2 = compileWith(cache, pl, pod('new', { app: 'web', 'pod-template-hash': 'v2' }, { topologySpreadConstraints: [tsc] }));
    assert.deepEqual(diagnoseWith(cache, pl, v2), { a1: 'fits', b1: 'fits' });
    const same = compileWith(cache, pl, pod('new2', { app: 'web', 'pod-template-hash': 'v1' }, { topologySpreadConstraints: [tsc] }));
    assert.equal(diagnoseWith(cache, pl, same).a1, ErrReasonConstraintsNotMatch);
  });

  it('prefers the less crowded zone for ScheduleAnyway, with log(domains + 2) as the weight', () => {
    const cache = cluster({ a1: 'a', b1: 'b' }, [
      [web('w1'), 'a1'],
      [web('w2'), 'a1'],
      [web('w3'), 'a1'],
    ]);
    const cls = compileWith(cache, pl, pod('new', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1, { whenUnsatisfiable: 'ScheduleAnyway' })] }));
    assert.equal(cls.constraints.length, 1);
    assert.equal(cls.constraints[0].kind, ConstraintKind.SpreadSoft);
    assert.equal(cls.constraints[0].weight, Math.log(4));
    assert.equal(cls.score.spreadWeight, 1);
    // soft constraints never filter
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: 'fits', b1: 'fits' });
    const s = scoreClass(cache, cls);
    assert.ok(s.b1 > s.a1, `b1 ${s.b1} should outscore a1 ${s.a1}`);
    assert.deepEqual(placeClass(cache, cls, 1), ['b1']);
  });

  it('applies the system default constraints to controller-owned pods only, selecting by the pod labels', () => {
    const cache = cluster({ n1: undefined, n2: undefined }, [
      [web('w1'), 'n1'],
      [web('w2'), 'n1'],
    ]);
    const owned = pod('rs-x', { app: 'web' }, {}, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] });
    const cls = compileWith(cache, pl, owned);
    // no node has a zone: only the hostname default remains
    assert.equal(cls.constraints.length, 1);
    assert.equal(cls.constraints[0].kind, ConstraintKind.SpreadSoft);
    assert.equal(cls.constraints[0].maxSkew, 3);
    assert.equal(cls.constraints[0].weight, Math.log(4));
    assert.deepEqual(placeClass(cache, cls, 1), ['n2']);
    assert.deepEqual(compileWith(cache, pl, web('bare')).constraints, []);
    const listed = newPodTopologySpread({ defaultingType: 'List', defaultConstraints: [] });
    assert.deepEqual(compileWith(cache, listed, owned).constraints, []);
  });

  it('rejects invalid args as upstream validation does', () => {
    assert.throws(() => newPodTopologySpread({ defaultingType: 'System', defaultConstraints: [zoneSpread(1, { labelSelector: undefined })] }), /defaultingType is "System"/);
    assert.throws(() => newPodTopologySpread({ defaultingType: 'List', defaultConstraints: [zoneSpread(0, { labelSelector: undefined })] }), /maxSkew/);
  });

  it('gives pods that differ in what it reads different signatures', () => {
    const a = pod('a', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] });
    const b = pod('b', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] });
    assert.equal(pl.signature(a), pl.signature(b));
    assert.notEqual(pl.signature(a), pl.signature(pod('c', { app: 'db' }, { topologySpreadConstraints: [zoneSpread(1)] })));
    assert.notEqual(pl.signature(a), pl.signature(pod('d', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(2)] })));
    assert.notEqual(pl.signature(a), pl.signature(pod('e', { app: 'web' }, { topologySpreadConstraints: [zoneSpread(1)] }, { namespace: 'x' })));
    assert.equal(pl.volatile, true);
    assert.equal(pl.filterBit, Filter.PodTopologySpread);
  });

  it('through the framework with the default profile: batches spread one pod per cycle and the FailedScheduling message counts both reasons', () => {
    const { cache, fw, schedule: attempt } = harness(undefined, { nodes: 8 });
    for (const [n, z] of [['a1', 'a'], ['b1', 'b'], ['c1', 'c']]) cache.addNode(node(n, z));
    const schedule = (p: Pod): string => {
      const o = attempt(p);
      return o.node ?? o.message!;
    };
    const spread = { topologySpreadConstraints: [zoneSpread(1, { minDomains: 4 })] };
    const placed = [0, 1, 2].map((i) => schedule(pod(`w${i}`, { app: 'web' }, spread)));
    assert.deepEqual([...placed].sort(), ['a1', 'b1', 'c1']);
    cache.addNode(node('bare'));
    assert.equal(
      schedule(pod('w3', { app: 'web' }, spread)),
      "0/4 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label), 3 node(s) didn't match pod topology spread constraints.",
    );
    const spreadPlugin = fw.plugin('PodTopologySpread') as PodTopologySpreadPlugin;
    assert.equal(spreadPlugin.volatileFor(pod('x', { app: 'web' }, spread)), true);
    assert.equal(spreadPlugin.volatileFor(pod('y', { app: 'web' })), false);
  });
});
