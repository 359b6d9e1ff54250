import assert from 'node:assert/strict';
import type { Affinity, Node, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from '../backend/cache/cache.js';
import { compileWith, diagnoseWith, harness, placeClass, scoreClass } from '../testing/harness.js';
import { ConstraintKind, Filter } from '../core/types.js';
import {
  ErrReasonAffinityRulesNotMatch,
  ErrReasonAntiAffinityRulesNotMatch,
  ErrReasonExistingAntiAffinityRulesNotMatch,
  newInterPodAffinity,
} from './interpodaffinity.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

function node(name: string, zone: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { [HOST]: name, [ZONE]: zone } },
    spec: {},
    status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' } },
  };
}

function pod(name: string, labels: Record<string, string>, affinity?: Affinity, namespace = 'default'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-${name}`, labels },
    spec: { containers: [{ name: 'c', image: 'i' }], affinity },
  };
}

const term = (app: string, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({
  labelSelector: { matchLabels: { app } },
  topologyKey,
  ...extra,
});

/** nodes: a1, a2 in zone a; b1 in zone b */
function cluster(pods: Array<[Pod, string]> = []): SchedulerCache {
  const cache = new SchedulerCache({ dims: { nodes: 8 } });
  cache.addNode(node('a1', 'a'));
  cache.addNode(node('a2', 'a'));
  cache.addNode(node('b1', 'b'));
  for (const [p, n] of pods) cache.addPod({ ...p, spec: { ...p.spec!, nodeName: n } });
  return cache;
}


describe('InterPodAffinity', () => {
  const pl = newInterPodAffinity();

  it('requires a matching pod in the same zone for required affinity, with the upstream message', () => {
    const cache = cluster([[pod('db', { app: 'db' }), 'a1']]);
    const cls = compileWith(cache, pl, pod('web', { app: 'web' }, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', ZONE)] } }));
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: 'fits', a2: 'fits', b1: "node(s) didn't match pod affinity rules" });
    assert.equal(ErrReasonAffinityRulesNotMatch, "node(s) didn't match pod affinity rules");
  });

  it('lets the first pod of a self-affine group go anywhere, then keeps the group together', () => {
    const cache = cluster();
    const selfAffine = pod('web', { app: 'web' }, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', ZONE)] } });
    const cls = compileWith(cache, pl, selfAffine);
    assert.equal(cls.constraints[0].passWhenEmpty, true);
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: 'fits', a2: 'fits', b1: 'fits' });
    const placed = placeClass(cache, cls, 4);
    assert.equal(placed.length, 4);
    const zones = new Set(placed.map((n) => cache.node(n)!.node.metadata!.labels![ZONE]));
    assert.equal(zones.size, 1);
    // a pod that does not match its own term has no such exemption
    const other = compileWith(cache, pl, pod('x', { app: 'x' }, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', ZONE)] } }));
    assert.deepEqual(diagnoseWith(cache, pl, other), { a1: ErrReasonAffinityRulesNotMatch, a2: ErrReasonAffinityRulesNotMatch, b1: ErrReasonAffinityRulesNotMatch });
  });

  it('spreads a batch with hostname anti-affinity onto distinct nodes and stops when none is left', () => {
    const cache = cluster();
    const cls = compileWith(cache, pl, pod('web', { app: 'web' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST)] } }));
    // a placed pod counts against the next both as a match of its term and as an existing pod whose term matches it
    assert.deepEqual(
      cls.constraints.map((c) => [c.kind, c.selfIncrement]),
      [
        [ConstraintKind.ExistingAntiAffinity, 1],
        [ConstraintKind.AntiAffinity, 1],
      ],
    );
    const placed = placeClass(cache, cls, 4);
    assert.equal(placed.length, 3);
    assert.deepEqual([...placed].sort(), ['a1', 'a2', 'b1']);
  });

  it('rejects the zone of a pod matching the incoming anti-affinity term', () => {
    const cache = cluster([[pod('db', { app: 'db' }), 'a2']]);
    const cls = compileWith(cache, pl, pod('web', { app: 'web' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', ZONE)] } }));
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: ErrReasonAntiAffinityRulesNotMatch, a2: ErrReasonAntiAffinityRulesNotMatch, b1: 'fits' });
    assert.equal(ErrReasonAntiAffinityRulesNotMatch, "node(s) didn't match pod anti-affinity rules");
  });

  it("blocks the domains of existing pods whose anti-affinity terms match the incoming pod", () => {
    const guard = pod('guard', { app: 'guard' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', ZONE)] } });
    const cache = cluster([[guard, 'a1']]);
    const cls = compileWith(cache, pl, pod('web', { app: 'web' }));
    assert.deepEqual(
      cls.constraints.map((c) => c.kind),
      [ConstraintKind.ExistingAntiAffinity],
    );
    assert.deepEqual(diagnoseWith(cache, pl, cls), {
      a1: "node(s) didn't satisfy existing pods anti-affinity rules",
      a2: ErrReasonExistingAntiAffinityRulesNotMatch,
      b1: 'fits',
    });
    // a pod the term does not select is not blocked
    assert.deepEqual(compileWith(cache, pl, pod('db', { app: 'db' })).constraints, []);
  });

  it('selects namespaces by namespaceSelector, for incoming and existing terms alike', () => {
    const cache = cluster([
      [pod('db-prod', { app: 'db' }, undefined, 'prod'), 'a1'],
      [pod('db-dev', { app: 'db' }, undefined, 'dev'), 'b1'],
    ]);
    cache.upsertNamespace({ metadata: { name: 'prod', labels: { team: 'x' } } });
    cache.upsertNamespace({ metadata: { name: 'dev', labels: { team: 'y' } } });
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', HOST, { namespaceSelector: { matchLabels: { team: 'x' } } })] } };
    const cls = compileWith(cache, pl, pod('web', { app: 'web' }, anti));
    assert.deepEqual(diagnoseWith(cache, pl, cls), { a1: ErrReasonAntiAffinityRulesNotMatch, a2: 'fits', b1: 'fits' });
    // without a selector the term covers its own namespace only
    const own = compileWith(cache, pl, pod('web', { app: 'web' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', HOST)] } }, 'dev'));
    assert.deepEqual(diagnoseWith(cache, pl, own), { a1: 'fits', a2: 'fits', b1: ErrReasonAntiAffinityRulesNotMatch });
    // an existing pod's term selects the incoming pod's namespace by that namespace's labels
    const guard = pod('guard', { app: 'guard' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', ZONE, { namespaceSelector: { matchLabels: { team: 'x' } } })] } });
    cache.addPod({ ...guard, spec: { ...guard.spec!, nodeName: 'b1' } });
    assert.equal(diagnoseWith(cache, pl, compileWith(cache, pl, pod('db2', { app: 'db' }, undefined, 'prod'))).b1, ErrReasonExistingAntiAffinityRulesNotMatch);
    assert.equal(diagnoseWith(cache, pl, compileWith(cache, pl, pod('db3', { app: 'db' }, undefined, 'dev'))).b1, 'fits');
  });

  it('scores zones with matching pods higher for preferred affinity and lower for preferred anti-affinity', () => {
    const cache = cluster([[pod('cache', { app: 'cache' }), 'b1']]);
    const pull = compileWith(cache, pl, pod('p', { app: 'web' }, { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term('cache', ZONE) }] } }));
    assert.equal(pull.score.interPodAffinityWeight, 1);
    const sPull = scoreClass(cache, pull);
    assert.ok(sPull.b1 > sPull.a1, `pull: b1 ${sPull.b1} > a1 ${sPull.a1}`);
    assert.deepEqual(placeClass(cache, pull, 1), ['b1']);
    const push = compileWith(cache, pl, pod('q', { app: 'web' }, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term('cache', ZONE) }] } }));
    const sPush = scoreClass(cache, push);
    assert.ok(sPush.b1 < sPush.a1, `push: b1 ${sPush.b1} < a1 ${sPush.a1}`);
    assert.equal(placeClass(cache, push, 1)[0].startsWith('a'), true);
  });

  it("scores the domains of existing pods whose required affinity selects the incoming pod by hardPodAffinityWeight", () => {
    const fan = pod('fan', { app: 'fan' }, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', ZONE)] } });
    const cache = cluster([[fan, 'b1']]);
    const cls = compileWith(cache, newInterPodAffinity({ hardPodAffinityWeight: 5 }), pod('web', { app: 'web' }));
    assert.equal(cls.constraints.length, 1);
    assert.equal(cls.constraints[0].kind, ConstraintKind.AffinityScore);
    const zoneIds = cache.domains(cache.topologyKey(ZONE));
    assert.equal(cls.constraints[0].counts[zoneIds.values.indexOf('b')], 5);
    const s = scoreClass(cache, cls);
    assert.ok(s.b1 > s.a1);
    assert.deepEqual(compileWith(cache, newInterPodAffinity({ hardPodAffinityWeight: 0 }), pod('web', { app: 'web' })).constraints, []);
  });

  it("counts existing pods' preferred terms that select the incoming pod, and a batch's own preferred terms both ways", () => {
    const friend = pod('friend', { app: 'friend' }, { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: term('web', ZONE) }] } });
    const cache = cluster([[friend, 'a1']]);
    const cls = compileWith(cache, pl, pod('web', { app: 'web' }));
    const zone = cache.domains(cache.topologyKey(ZONE));
    assert.equal(cls.constraints[0].counts[zone.values.indexOf('a')], 7);
    const self = compileWith(cache, pl, pod('w', { app: 'web' }, { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: term('web', HOST) }] } }));
    const hostScore = self.constraints.find((c) => c.key === cache.topologyKey(HOST))!;
    // the placed pod matches the next one's term and its own term matches the next pod
    assert.equal(hostScore.selfIncrement, 6);
  });

  it('merges matchLabelKeys and mismatchLabelKeys from the pod labels', () => {
    const cache = cluster([
      [pod('t1', { app: 'web', tenant: 't1' }), 'a1'],
      [pod('t2', { app: 'web', tenant: 't2' }), 'b1'],
    ]);
    const same = compileWith(cache, pl, pod('n', { app: 'web', tenant: 't1' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST, { matchLabelKeys: ['tenant'] })] } }));
    assert.deepEqual(diagnoseWith(cache, pl, same), { a1: ErrReasonAntiAffinityRulesNotMatch, a2: 'fits', b1: 'fits' });
    const others = compileWith(cache, pl, pod('n', { app: 'web', tenant: 't1' }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST, { mismatchLabelKeys: ['tenant'] })] } }));
    assert.deepEqual(diagnoseWith(cache, pl, others), { a1: 'fits', a2: 'fits', b1: ErrReasonAntiAffinityRulesNotMatch });
  });

  it('rejects an out-of-range hardPodAffinityWeight and keys signatures on labels, namespace and terms', () => {
    assert.throws(() => newInterPodAffinity({ hardPodAffinityWeight: 101 }), /hardPodAffinityWeight/);
    const aff = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST)] } };
    assert.equal(pl.signature(pod('a', { app: 'web' }, aff)), pl.signature(pod('b', { app: 'web' }, aff)));
    assert.notEqual(pl.signature(pod('a', { app: 'web' }, aff)), pl.signature(pod('b', { app: 'db' }, aff)));
    assert.notEqual(pl.signature(pod('a', { app: 'web' }, aff)), pl.signature(pod('b', { app: 'web' }, aff, 'x')));
    assert.notEqual(pl.signature(pod('a', { app: 'web' }, aff)), pl.signature(pod('b', { app: 'web' })));
    assert.equal(pl.volatile, true);
    assert.equal(pl.filterBit, Filter.InterPodAffinity);
  });

  it('through the framework with the default profile: anti-affine pods scheduled one per cycle fill distinct nodes, then fail with the upstream message', () => {
    const { cache, schedule: attempt } = harness(undefined, { nodes: 8 });
    cache.addNode(node('a1', 'a'));
    cache.addNode(node('a2', 'a'));
    cache.addNode(node('b1', 'b'));
    const schedule = (p: Pod): string => {
      const o = attempt(p);
      return o.node ?? o.message!;
    };
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST)] } };
    const placed = [0, 1, 2].map((i) => schedule(pod(`w${i}`, { app: 'web' }, anti)));
    assert.deepEqual([...placed].sort(), ['a1', 'a2', 'b1']);
    assert.equal(schedule(pod('w3', { app: 'web' }, anti)), "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    // a plain pod the placed pods' terms select is kept off all three nodes by their anti-affinity
    assert.equal(schedule(pod('plain', { app: 'web' })), "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules.");
    assert.equal(schedule(pod('db', { app: 'db' })).length, 2);
  });
});
