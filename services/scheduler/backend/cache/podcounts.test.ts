import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from './cache.js';
import { PodCounts } from './podcounts.js';
import { harness, mkNode, mkPod } from '../../testing/harness.js';
import { ReferenceCore } from '../../core/reference.js';
import type { PodMatcher } from '../../framework/types.js';
import type { DomainConstraint } from '../../core/types.js';

/** a small deterministic PRNG, so a failure replays */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ZONE = 'topology.kubernetes.io/zone';
const COLORS = ['blue', 'green', 'red'];
const NAMESPACES = ['ns-a', 'ns-b'];

function spreadSpec(color: string): Partial<NonNullable<Pod['spec']>> {
  return { topologySpreadConstraints: [{ maxSkew: 2, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { color } } }] };
}

function affinitySpec(color: string, r: () => number): Partial<NonNullable<Pod['spec']>> {
  const term = (c: string, key: string) => ({ labelSelector: { matchLabels: { color: c } }, topologyKey: key });
  const nsTerm = { ...term(color, 'kubernetes.io/hostname'), namespaceSelector: { matchLabels: { team: 'x' } } };
  return {
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [r() < 0.5 ? term(color, 'kubernetes.io/hostname') : nsTerm],
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: term(COLORS[(COLORS.indexOf(color) + 1) % 3], ZONE) }],
      },
      podAffinity:
        r() < 0.3
          ? {
              requiredDuringSchedulingIgnoredDuringExecution: [term(color, ZONE)],
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, podAffinityTerm: term('red', ZONE) }],
            }
          : undefined,
    },
  };
}

function randomPod(name: string, r: () => number): Pod {
  const color = COLORS[Math.floor(r() * COLORS.length)];
  const kind = r();
  const spec = kind < 0.3 ? spreadSpec(color) : kind < 0.6 ? affinitySpec(color, r) : {};
  const pod = mkPod(name, { cpu: '10m' }, spec);
  pod.metadata!.namespace = NAMESPACES[Math.floor(r() * NAMESPACES.length)];
  pod.metadata!.labels = { color };
  return pod;
}

const bound = (pod: Pod, node: string): Pod => ({ ...pod, spec: { ...pod.spec!, nodeName: node } });

/** the pods of interest to compare counts by, as plugins make them */
function matchers(): PodMatcher[] {
  return COLORS.flatMap((color) =>
    NAMESPACES.map((ns) => ({
      key: `test\0${ns}\0${color}`,
      count: (p: Pod) => (!p.metadata?.deletionTimestamp && p.metadata?.namespace === ns && p.metadata?.labels?.color === color ? 1 : 0),
    })),
  );
}

/** per slot, the sum over the node's pods counted from scratch */
function recount(cache: SchedulerCache, m: PodMatcher): Map<number, number> {
  const out = new Map<number, number>();
  for (const ni of cache.snapshot.nodes()) {
    let n = 0;
    for (const pi of ni.pods.values()) n += m.count(pi.pod);
    if (n !== 0) out.set(ni.slot, n);
  }
  return out;
}

function kept(counts: Int32Array, cache: SchedulerCache): Map<number, number> {
  const out = new Map<number, number>();
  const live = new Set([...cache.snapshot.nodes()].map((n) => n.slot));
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === 0) continue;
    assert.ok(live.has(s), `slot ${s} has no node but a count of ${counts[s]}`);
    out.set(s, counts[s]);
  }
  return out;
}

/**
 * Random churn through every path that changes a node's pods: informer adds, updates
 * (labels, a deletionTimestamp, a move), deletes, assumed pods confirmed or forgotten,
 * nodes removed and added back, namespaces relabelled. `check` runs after each step.
 */
function churn(cache: SchedulerCache, seed: number, steps: number, check: (step: number) => void): void {
  const r = rng(seed);
  const nodes = Array.from({ length: 8 }, (_, i) => mkNode(`n${i}`, { labels: { [ZONE]: `z${i % 3}` } }));
  for (const n of nodes) cache.addNode(n);
  cache.upsertNamespace({ metadata: { name: 'ns-a', labels: { team: 'x' } } });
  cache.upsertNamespace({ metadata: { name: 'ns-b' } });
  const live = new Map<string, Pod>();
  const assumed = new Map<string, Pod>();
  let next = 0;
  const pick = <T>(m: Map<string, T>): [string, T] | undefined => {
    if (m.size === 0) return undefined;
    return [...m][Math.floor(r() * m.size)];
  };
  for (let step = 0; step < steps; step++) {
    const op = r();
    const node = nodes[Math.floor(r() * nodes.length)].metadata!.name!;
    if (op < 0.3) {
      const p = bound(randomPod(`p${next++}`, r), node);
      cache.addPod(p);
      live.set(p.metadata!.name!, p);
    } else if (op < 0.4) {
      const p = randomPod(`p${next++}`, r);
      cache.assumePod(p, node);
      assumed.set(p.metadata!.name!, bound(p, node));
    } else if (op < 0.47) {
      const a = pick(assumed);
      if (a) {
        assumed.delete(a[0]);
        // the binding lands, sometimes with the labels changed meanwhile
        const p = r() < 0.3 ? { ...a[1], metadata: { ...a[1].metadata, labels: { color: COLORS[Math.floor(r() * 3)] } } } : a[1];
        cache.addPod(p);
        live.set(a[0], p);
      }
    } else if (op < 0.52) {
      const a = pick(assumed);
      if (a) {
        assumed.delete(a[0]);
        cache.forgetPod(`${a[1].metadata!.namespace}/${a[0]}`);
      }
    } else if (op < 0.65) {
      const l = pick(live);
      if (l) {
        const [name, old] = l;
        const u = r();
        let p: Pod;
        if (u < 0.4) p = { ...old, metadata: { ...old.metadata, labels: { color: COLORS[Math.floor(r() * 3)] } } };
        else if (u < 0.7) p = { ...old, metadata: { ...old.metadata, deletionTimestamp: '2026-12-05T09:00:00Z' } };
        else if (u < 0.85) p = { ...old, status: { phase: 'Running' } };
        else p = bound(old, node);
        cache.updatePod(old, p);
        live.set(name, p);
      }
    } else if (op < 0.78) {
      const l = pick(live);
      if (l) {
        cache.removePod(l[1]);
        live.delete(l[0]);
      }
    } else if (op < 0.82) {
      const l = pick(live);
      if (l) {
        const done = { ...l[1], status: { phase: 'Succeeded' } };
        cache.updatePod(l[1], done);
        live.delete(l[0]);
      }
    } else if (op < 0.88) {
      cache.removeNode(node);
      for (const [name, p] of assumed) if (p.spec?.nodeName === node) assumed.delete(name);
      cache.addNode(nodes.find((n) => n.metadata?.name === node)!);
    } else if (op < 0.92) {
      cache.upsertNamespace({ metadata: { name: 'ns-b', labels: r() < 0.5 ? { team: 'x' } : {} } });
    }
    check(step);
  }
}

/**
 * A class's domain constraints by topology key and domain names (two caches intern keys
 * and domains in their own orders), zero counts left out, in a fixed order.
 */
function constraints(cache: SchedulerCache, cs: DomainConstraint[]): string[] {
  return cs
    .map((c) => {
      const { values } = cache.snapshot.domains(c.key);
      const byName = (a: ArrayLike<number> | undefined) =>
        a && Object.fromEntries(Array.from(a, (v, d) => [values[d], v] as const).filter(([, v]) => v !== 0).sort(([x], [y]) => (x < y ? -1 : 1)));
      return JSON.stringify({ ...c, key: cache.topologyKeyName(c.key), counts: byName(c.counts), eligible: byName(c.eligible) });
    })
    .sort();
}

describe('PodCounts', () => {
  it('keeps every counter equal to a recount of the nodes’ pods through adds, updates, removals and node churn', () => {
    for (const seed of [1, 2, 3]) {
      const cache = new SchedulerCache({ createCore: (d) => new ReferenceCore(d) });
      const ms = matchers();
      // counters made at different times: some before any pod, some half-way
      churn(cache, seed, 600, (step) => {
        for (const [i, m] of ms.entries()) {
          if (step < i * 40) continue;
          assert.deepEqual(kept(cache.snapshot.matchingPodCounts(m), cache), recount(cache, m), `seed ${seed} step ${step} ${m.key}`);
        }
      });
    }
  });

  it('keeps sums per domain equal to a recount under each slot-to-domain map through the same churn', () => {
    // two maps: slots into three domains, and one that leaves a slot out (-1) and maps one past its domains
    const maps = [Int32Array.from({ length: 12 }, (_, s) => s % 3), Int32Array.from({ length: 6 }, (_, s) => (s === 2 ? -1 : s === 4 ? 5 : s % 4))];
    const domains = [3, 4];
    for (const seed of [4, 5]) {
      const cache = new SchedulerCache({ createCore: (d) => new ReferenceCore(d) });
      const ms = matchers();
      churn(cache, seed, 600, (step) => {
        for (const [i, m] of ms.entries()) {
          if (step < i * 40) continue;
          const perSlot = recount(cache, m);
          for (const [j, ids] of maps.entries()) {
            const want = new Float64Array(domains[j]);
            for (const [slot, n] of perSlot) {
              const d = slot < ids.length ? ids[slot] : -1;
              if (d >= 0 && d < domains[j]) want[d] += n;
            }
            assert.deepEqual(cache.snapshot.matchingDomainCounts(m, ids, domains[j]), want, `seed ${seed} step ${step} ${m.key} map ${j}`);
          }
        }
      });
    }
  });

  it('drops the least recently used counter beyond its limit and counts it again on its next use', () => {
    const pods = [
      { slot: 0, pod: mkPod('a') },
      { slot: 1, pod: mkPod('b') },
    ];
    let full = 0;
    const counts = new PodCounts((_aff, fn) => {
      full++;
      for (const p of pods) fn(p.slot, p.pod);
    }, 2);
    const m = (key: string): PodMatcher => ({ key, count: (p) => (p.metadata?.name === key ? 1 : 0) });
    assert.equal(counts.counts(m('a'))[0], 1);
    counts.counts(m('b'));
    counts.counts(m('a'));
    counts.counts(m('c'));
    assert.equal(counts.size, 2);
    assert.equal(full, 3);
    counts.counts(m('a'));
    assert.equal(full, 3, 'a was used last before c: it stays');
    counts.counts(m('b'));
    assert.equal(full, 4, 'b was dropped: counted again');
  });

  it('compiles the same spread and inter-pod affinity classes as a cache built afresh from the pods left', () => {
    const r = rng(7);
    const h = harness();
    const targets = Array.from({ length: 12 }, (_, i) => randomPod(`t${i}`, r));
    churn(h.cache, 11, 400, (step) => {
      if (step % 25 !== 24) return;
      // the same nodes, namespaces and pods, added once to a new cache
      const fresh = harness();
      for (const ni of h.cache.snapshot.nodes()) fresh.cache.addNode(ni.node);
      for (const ns of ['ns-a', 'ns-b']) fresh.cache.upsertNamespace({ metadata: { name: ns, labels: h.cache.snapshot.namespaceLabels(ns) } });
      for (const ni of h.cache.snapshot.nodes()) {
        for (const pi of ni.pods.values()) {
          if (pi.assumed) fresh.cache.assumePod(pi.pod, ni.name);
          else fresh.cache.addPod(pi.pod);
        }
      }
      for (const t of targets) {
        const a = constraints(h.cache, h.fw.compile(t).spec.constraints);
        const b = constraints(fresh.cache, fresh.fw.compile(t).spec.constraints);
        assert.ok(a.length > 0 || t.spec?.topologySpreadConstraints === undefined);
        assert.deepEqual(a, b, `step ${step} target ${t.metadata?.name}`);
      }
    });
  });
});
