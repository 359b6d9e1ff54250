/**
 * Per-node sums over the pods that match a predicate (a spread constraint's selector in a
 * namespace, a pod affinity term, existing pods' terms that select a given pod), kept up to
 * date as the cache's pods come and go. Upstream recounts every node's pods for each pod in
 * PreFilter (calPreFilterState, getExistingAntiAffinityCounts, getIncomingAffinityAntiAffinityCounts);
 * a class is compiled once per cycle here, but that still matched every pod in the cluster
 * per cycle. With these counters a compile reads one number per node.
 *
 * A counter is made (and counted in full) on its first use, shared by its matcher's key, and
 * the least recently used are dropped beyond `limit`; every counted pod is given to each
 * live counter when it is added, replaced or removed.
 *
 * A counter can also keep its sums per topology domain (`domainSums`), for a spread
 * constraint recompiled every cycle: summing thousands of nodes into three zones per cycle
 * was the largest part of TopologySpreading's class compile.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodMatcher } from '../../framework/types.js';

interface Counter {
  matcher: PodMatcher;
  /** core slot -> the sum on that node */
  counts: Int32Array;
  /** the same sums per domain, under the slot-to-domain maps asked for; oldest first */
  views: DomainView[];
}

/** A counter's sums per domain under one slot-to-domain map. */
interface DomainView {
  /** core slot -> domain id (< 0: the slot counts in no domain); never changed once given */
  ids: Int32Array;
  sums: Float64Array;
}

/** Counters kept at most; each costs a `count` call per pod change. */
export const POD_COUNTERS_LIMIT = 32;

/** Domain views kept per counter; each costs a lookup per counted pod change. */
export const DOMAIN_VIEWS_LIMIT = 4;

/** The cache's pods, as (slot, pod): all of them, or only those with pod (anti-)affinity. */
export type EachPod = (affinityOnly: boolean, fn: (slot: number, pod: Pod) => void) => void;

export class PodCounts {
  /** by key, least recently used first */
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly eachPod: EachPod,
    private readonly limit = POD_COUNTERS_LIMIT,
  ) {}

  /** number of live counters */
  get size(): number {
    return this.counters.size;
  }

  /** Per core slot, the sum of `m.count` over that node's pods; a slot past the end has none. */
  counts(m: PodMatcher): Int32Array {
    return this.counter(m).counts;
  }

  /**
   * Per domain, the sum of `m.count` over the pods of the slots `ids` maps to it (slots
   * mapped below 0 or to `domains` and beyond count nowhere). Kept up to date while `ids`
   * is asked for again by identity, so `ids` must never change; the sums are the counter's
   * own: read them, do not keep or change them.
   */
  domainSums(m: PodMatcher, ids: Int32Array, domains: number): Float64Array {
    const c = this.counter(m);
    for (const v of c.views) if (v.ids === ids && v.sums.length === domains) return v.sums;
    const sums = new Float64Array(domains);
    const counts = c.counts;
    const n = Math.min(ids.length, counts.length);
    for (let s = 0; s < n; s++) {
      const d = ids[s]!;
      if (d >= 0 && d < domains) sums[d] += counts[s]!;
    }
    if (c.views.length >= DOMAIN_VIEWS_LIMIT) c.views.shift();
    c.views.push({ ids, sums });
    return sums;
  }

  private counter(m: PodMatcher): Counter {
    const c = this.counters.get(m.key);
    if (c) {
      this.counters.delete(m.key);
      this.counters.set(m.key, c);
      return c;
    }
    const made: Counter = { matcher: m, counts: new Int32Array(0), views: [] };
    this.eachPod(!!m.affinityOnly, (slot, pod) => {
      const n = m.count(pod);
      if (n !== 0) add(made, slot, n);
    });
    if (this.counters.size >= this.limit) this.counters.delete(this.counters.keys().next().value as string);
    this.counters.set(m.key, made);
    return made;
  }

  added(slot: number, pod: Pod): void {
    this.counted(slot, pod, 1);
  }

  removed(slot: number, pod: Pod): void {
    this.counted(slot, pod, -1);
  }

  private counted(slot: number, pod: Pod, sign: 1 | -1): void {
    for (const c of this.counters.values()) {
      const n = c.matcher.count(pod);
      if (n !== 0) add(c, slot, sign * n);
    }
  }

  /** a pod object replaced in place on its node (its binding confirmed, a status update) */
  replaced(slot: number, before: Pod, after: Pod): void {
    for (const c of this.counters.values()) {
      const d = c.matcher.count(after) - c.matcher.count(before);
      if (d !== 0) add(c, slot, d);
    }
  }

  /** a node left with its pods: they no longer count */
  nodeRemoved(slot: number): void {
    for (const c of this.counters.values()) if (slot < c.counts.length && c.counts[slot] !== 0) add(c, slot, -c.counts[slot]!);
  }

  /** a namespace's labels changed: counters that read them are counted again when next used */
  namespaceChanged(): void {
    for (const [k, c] of this.counters) if (c.matcher.readsNamespaceLabels) this.counters.delete(k);
  }
}

function add(c: Counter, slot: number, n: number): void {
  if (slot >= c.counts.length) {
    const grown = new Int32Array(Math.max(slot + 1, c.counts.length * 2, 64));
    grown.set(c.counts);
    c.counts = grown;
  }
  c.counts[slot] += n;
  for (const v of c.views) {
    if (slot >= v.ids.length) continue;
    const d = v.ids[slot]!;
    if (d >= 0 && d < v.sums.length) v.sums[d] += n;
  }
}
