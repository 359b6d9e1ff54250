/**
 * InterPodAffinity (upstream pkg/scheduler/framework/plugins/interpodaffinity, v1.31),
 * compiled for the core. PreFilter counts, per topology domain:
 *  - the existing pods whose required anti-affinity terms match the incoming pod
 *    (ExistingAntiAffinity, one constraint per topology key);
 *  - the existing pods that match all of the incoming pod's required affinity terms
 *    (Affinity, one constraint per term);
 *  - the existing pods that match each of its required anti-affinity terms (AntiAffinity);
 *  - the preferred-term score of both directions plus existing pods' required affinity
 *    terms times hardPodAffinityWeight (AffinityScore, one constraint per topology key).
 * Each constraint's selfIncrement is what a placed pod of the class adds for the next one,
 * so a batch sees its own placements exactly as upstream sees an assumed pod.
 */
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { ConstraintKind, Filter, Reason, type ClassSpec, type DomainConstraint } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PodMatcher, PreFilterPlugin, ScorePlugin, Snapshot } from '../framework/types.js';
import { selectorFromLabelSelector, type LabelSelector, type LabelSelectorRequirement, type Labels, type Selector } from '../../../lib/api/labels.js';

export const INTERPODAFFINITY = 'InterPodAffinity';

export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

/** upstream InterPodAffinityArgs */
export interface InterPodAffinityArgs {
  /** weight of existing pods' required affinity terms that match the incoming pod (0..100, default 1) */
  hardPodAffinityWeight?: number;
  /** skip existing pods' preferred terms when the incoming pod has no preferred terms */
  ignorePreferredTermsOfExistingPods?: boolean;
}

/** A v1.PodAffinityTerm resolved against the pod that declares it (upstream framework.AffinityTerm). */
export interface AffinityTerm {
  namespaces: ReadonlySet<string>;
  namespaceSelector: Selector;
  selector: Selector;
  topologyKey: string;
  /** preferred terms: the term's weight; required terms: 0 */
  weight: number;
}

export interface PodAffinityTerms {
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
}

export type PluginDeps = unknown;

const namespaceOf = (pod: Pod): string => pod.metadata?.namespace || 'default';

/**
 * The term's selector with matchLabelKeys (`key in (v)`) and mismatchLabelKeys
 * (`key notin (v)`) merged in from the declaring pod's labels, as the apiserver does for
 * MatchLabelKeysInPodAffinity; keys the pod lacks are ignored, a null selector stays null.
 */
function termSelector(term: PodAffinityTerm, ownerLabels: Labels): Selector {
  const ls = term.labelSelector as LabelSelector | undefined;
  if (ls == null) return selectorFromLabelSelector(null);
  const extra: LabelSelectorRequirement[] = [];
  for (const k of term.matchLabelKeys ?? []) if (Object.hasOwn(ownerLabels, k)) extra.push({ key: k, operator: 'In', values: [ownerLabels[k]] });
  for (const k of term.mismatchLabelKeys ?? []) if (Object.hasOwn(ownerLabels, k)) extra.push({ key: k, operator: 'NotIn', values: [ownerLabels[k]] });
  if (extra.length === 0) return selectorFromLabelSelector(ls);
  return selectorFromLabelSelector({ matchLabels: ls.matchLabels, matchExpressions: [...(ls.matchExpressions ?? []), ...extra] });
}

/** upstream newAffinityTerm: no namespaces and no namespaceSelector mean the owner's namespace */
export function compileTerm(owner: Pod, term: PodAffinityTerm, weight = 0): AffinityTerm {
  const listed = term.namespaces ?? [];
  const namespaces = listed.length === 0 && term.namespaceSelector == null ? new Set([namespaceOf(owner)]) : new Set(listed);
  return {
    namespaces,
    namespaceSelector: selectorFromLabelSelector(term.namespaceSelector as LabelSelector | undefined),
    selector: termSelector(term, owner.metadata?.labels ?? {}),
    topologyKey: term.topologyKey,
    weight,
  };
}

/** upstream AffinityTerm.Matches: the pod's namespace is listed or selected, and its labels match */
export function termMatches(term: AffinityTerm, pod: Pod, namespaceLabels: Labels): boolean {
  if (!term.namespaces.has(namespaceOf(pod)) && !term.namespaceSelector.matches(namespaceLabels)) return false;
  return term.selector.matches(pod.metadata?.labels);
}

const selectorKey = (s: Selector): string => (s.matchesNothing ? 'nothing' : JSON.stringify(s.requirements));

/**
 * The existing pods all of `terms` match (upstream counts an affinity match only when a pod
 * matches every term), as a matcher the cache keeps per-node counts of.
 */
function termsMatcher(snapshot: Snapshot, terms: readonly AffinityTerm[]): PodMatcher {
  const parts = terms.map((t) => [[...t.namespaces].sort(), selectorKey(t.namespaceSelector), selectorKey(t.selector)]);
  return {
    key: `${INTERPODAFFINITY}\0${JSON.stringify(parts)}`,
    count(pod: Pod): number {
      const ns = snapshot.namespaceLabels(namespaceOf(pod)) ?? {};
      for (const t of terms) if (!termMatches(t, pod, ns)) return 0;
      return 1;
    },
    readsNamespaceLabels: terms.some((t) => !t.namespaceSelector.matchesNothing),
  };
}

/**
 * Existing pods' terms that select `target`, with topology key `topologyKey`: their number
 * (`anti`: required anti-affinity terms) or their score (`score`: required affinity terms at
 * `hardWeight`, preferred affinity terms at their weight, preferred anti-affinity terms at
 * minus theirs), as a matcher the cache keeps per-node sums of. `targetKey` names the
 * target's namespace and labels, all that termMatches reads of it.
 */
function existingTermsMatcher(snapshot: Snapshot, target: Pod, targetKey: string, topologyKey: string, kind: 'anti' | 'score', hardWeight: number): PodMatcher {
  const ns = namespaceOf(target);
  return {
    key: `${INTERPODAFFINITY}\0existing-${kind}\0${kind === 'score' ? hardWeight : ''}\0${topologyKey}\0${targetKey}`,
    affinityOnly: true,
    readsNamespaceLabels: true,
    count(ep: Pod): number {
      const aff = ep.spec?.affinity;
      if (!aff?.podAffinity && !aff?.podAntiAffinity) return 0;
      const t = affinityTermsOf(ep);
      const nsLabels = snapshot.namespaceLabels(ns) ?? {};
      let n = 0;
      if (kind === 'anti') {
        for (const term of t.requiredAntiAffinity) if (term.topologyKey === topologyKey && termMatches(term, target, nsLabels)) n++;
        return n;
      }
      if (hardWeight > 0) for (const term of t.requiredAffinity) if (term.topologyKey === topologyKey && termMatches(term, target, nsLabels)) n += hardWeight;
      for (const term of t.preferredAffinity) if (term.topologyKey === topologyKey && termMatches(term, target, nsLabels)) n += term.weight;
      for (const term of t.preferredAntiAffinity) if (term.topologyKey === topologyKey && termMatches(term, target, nsLabels)) n -= term.weight;
      return n;
    },
  };
}

/**
 * Adds per-node sums (by core slot, as matchingPodCounts gives them), times `weight`, into
 * the counts of the nodes' domains (`ids`: core slot -> domain, negative for none); `into`
 * is asked for those counts only when a sum lands in a domain.
 */
function addToDomains(sums: Int32Array, ids: Int32Array, into: () => Float64Array, weight = 1): void {
  let counts: Float64Array | undefined;
  const n = Math.min(sums.length, ids.length);
  for (let slot = 0; slot < n; slot++) {
    const s = sums[slot];
    if (s === 0 || ids[slot] < 0) continue;
    counts ??= into();
    counts[ids[slot]] += s * weight;
  }
}

function anyNonZero(a: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return true;
  return false;
}

const weighted = (owner: Pod, terms: WeightedPodAffinityTerm[] | undefined): AffinityTerm[] =>
  (terms ?? []).map((t) => compileTerm(owner, t.podAffinityTerm, t.weight));

/** Pods are replaced, never mutated, on update, so a pod object's compiled terms stay valid. */
const termCache = new WeakMap<Pod, PodAffinityTerms>();

export function affinityTermsOf(pod: Pod): PodAffinityTerms {
  let t = termCache.get(pod);
  if (t) return t;
  const aff = pod.spec?.affinity;
  t = {
    requiredAffinity: (aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((x) => compileTerm(pod, x)),
    requiredAntiAffinity: (aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((x) => compileTerm(pod, x)),
    preferredAffinity: weighted(pod, aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: weighted(pod, aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
  };
  termCache.set(pod, t);
  return t;
}

function validateArgs(args: InterPodAffinityArgs): void {
  const w = args.hardPodAffinityWeight ?? 1;
  if (!Number.isInteger(w) || w < 0 || w > 100) {
    throw new Error(`InterPodAffinityArgs.hardPodAffinityWeight: Invalid value: ${w}: not in valid range [0-100]`);
  }
}

/** Domains of the topology keys one compilation uses, interned before any is read. */
class Topology {
  private readonly index = new Map<string, { key: number; ids: Int32Array; size: number }>();
  constructor(private readonly snapshot: Snapshot) {}
  intern(keys: Iterable<string>): void {
    const fresh: [string, number][] = [];
    for (const k of keys) if (!this.index.has(k)) fresh.push([k, this.snapshot.topologyKey(k)]);
    // read the domains only once every key is interned: interning may reshape them
    for (const [k, key] of fresh) {
      const d = this.snapshot.domains(key);
      this.index.set(k, { key, ids: d.ids, size: d.values.length });
    }
  }
  get(k: string): { key: number; ids: Int32Array; size: number } {
    const t = this.index.get(k);
    if (!t) throw new Error(`${INTERPODAFFINITY}: topology key ${JSON.stringify(k)} used before it was interned`);
    return t;
  }
}

function newConstraint(kind: number, key: number, domains: number): DomainConstraint {
  return { kind, key, counts: new Float64Array(domains), selfIncrement: 0, maxSkew: 0, minDomains: 1, weight: 0, passWhenEmpty: false };
}

function sortedLabels(labels: Labels | undefined): [string, string][] {
  if (!labels) return [];
  return Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
}

export interface InterPodAffinityPlugin extends PreFilterPlugin, FilterPlugin, ScorePlugin {
  volatileFor(pod: Pod): boolean;
}

export function newInterPodAffinity(args?: InterPodAffinityArgs, deps?: PluginDeps): InterPodAffinityPlugin {
  const a = args ?? {};
  validateArgs(a);
  const hardWeight = a.hardPodAffinityWeight ?? 1;
  const ignoreExistingPreferred = a.ignorePreferredTermsOfExistingPods ?? false;

  function compile(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): void {
    const me = affinityTermsOf(pod);
    const nsLabelCache = new Map<string, Labels>();
    const nsLabels = (ns: string): Labels => {
      let l = nsLabelCache.get(ns);
      if (!l) nsLabelCache.set(ns, (l = snapshot.namespaceLabels(ns) ?? {}));
      return l;
    };
    const myNsLabels = nsLabels(namespaceOf(pod));
    const hasPreferred = me.preferredAffinity.length + me.preferredAntiAffinity.length > 0;
    const scoring = !(ignoreExistingPreferred && !hasPreferred);

    // 1. existing pods' terms that match the incoming pod (upstream only looks at pods with
    // affinity), per node and topology key, from the cache's counters
    const targetKey = JSON.stringify([namespaceOf(pod), sortedLabels(pod.metadata?.labels)]);
    const existingAnti = new Map<string, Int32Array>();
    const existingScore = new Map<string, Int32Array>();
    for (const k of snapshot.affinityTopologyKeys()) {
      const anti = snapshot.matchingPodCounts(existingTermsMatcher(snapshot, pod, targetKey, k, 'anti', hardWeight));
      if (anyNonZero(anti)) existingAnti.set(k, anti);
      if (!scoring) continue;
      const score = snapshot.matchingPodCounts(existingTermsMatcher(snapshot, pod, targetKey, k, 'score', hardWeight));
      if (anyNonZero(score)) existingScore.set(k, score);
    }

    // what a placed pod of this class contributes to the next one, as an existing pod and as a match
    const matchesAllOwnAffinity = me.requiredAffinity.length > 0 && me.requiredAffinity.every((t) => termMatches(t, pod, myNsLabels));
    const selfAnti = new Map<string, number>();
    for (const t of me.requiredAntiAffinity) if (termMatches(t, pod, myNsLabels)) selfAnti.set(t.topologyKey, (selfAnti.get(t.topologyKey) ?? 0) + 1);
    const selfScore = new Map<string, number>();
    const addSelf = (k: string, w: number): void => void selfScore.set(k, (selfScore.get(k) ?? 0) + w);
    if (scoring) {
      for (const t of me.preferredAffinity) if (termMatches(t, pod, myNsLabels)) addSelf(t.topologyKey, 2 * t.weight); // both directions
      for (const t of me.preferredAntiAffinity) if (termMatches(t, pod, myNsLabels)) addSelf(t.topologyKey, -2 * t.weight);
      if (hardWeight > 0) for (const t of me.requiredAffinity) if (termMatches(t, pod, myNsLabels)) addSelf(t.topologyKey, hardWeight);
    }

    const topo = new Topology(snapshot);
    const keys = new Set<string>();
    for (const k of existingAnti.keys()) keys.add(k);
    for (const k of existingScore.keys()) keys.add(k);
    for (const k of selfAnti.keys()) keys.add(k);
    for (const k of selfScore.keys()) keys.add(k);
    for (const t of me.requiredAffinity) keys.add(t.topologyKey);
    for (const t of me.requiredAntiAffinity) keys.add(t.topologyKey);
    if (scoring) for (const t of [...me.preferredAffinity, ...me.preferredAntiAffinity]) keys.add(t.topologyKey);
    if (keys.size === 0) return;
    topo.intern(keys);

    const existingByKey = new Map<string, DomainConstraint>();
    const existingFor = (k: string): DomainConstraint => {
      let c = existingByKey.get(k);
      if (!c) {
        const t = topo.get(k);
        existingByKey.set(k, (c = newConstraint(ConstraintKind.ExistingAntiAffinity, t.key, t.size)));
      }
      return c;
    };
    for (const [k, counts] of existingAnti) addToDomains(counts, topo.get(k).ids, () => existingFor(k).counts);
    for (const [k, n] of selfAnti) existingFor(k).selfIncrement = n;

    const scoreByKey = new Map<string, DomainConstraint>();
    const scoreFor = (k: string): DomainConstraint => {
      let c = scoreByKey.get(k);
      if (!c) {
        const t = topo.get(k);
        scoreByKey.set(k, (c = newConstraint(ConstraintKind.AffinityScore, t.key, t.size)));
      }
      return c;
    };
    for (const [k, sums] of existingScore) addToDomains(sums, topo.get(k).ids, () => scoreFor(k).counts);
    for (const [k, w] of selfScore) scoreFor(k).selfIncrement += w;

    // 2. existing pods that match the incoming pod's own terms
    const affinity = me.requiredAffinity.map((t) => {
      const tp = topo.get(t.topologyKey);
      const c = newConstraint(ConstraintKind.Affinity, tp.key, tp.size);
      c.passWhenEmpty = matchesAllOwnAffinity;
      c.selfIncrement = matchesAllOwnAffinity ? 1 : 0;
      return c;
    });
    const anti = me.requiredAntiAffinity.map((t) => {
      const tp = topo.get(t.topologyKey);
      const c = newConstraint(ConstraintKind.AntiAffinity, tp.key, tp.size);
      c.selfIncrement = termMatches(t, pod, myNsLabels) ? 1 : 0;
      return c;
    });
    const preferred = scoring ? [...me.preferredAffinity, ...me.preferredAntiAffinity.map((t) => ({ ...t, weight: -t.weight }))] : [];
    if (affinity.length + anti.length + preferred.length > 0) {
      const affIds = me.requiredAffinity.map((t) => topo.get(t.topologyKey).ids);
      const antiIds = me.requiredAntiAffinity.map((t) => topo.get(t.topologyKey).ids);
      const prefIds = preferred.map((t) => topo.get(t.topologyKey).ids);
      // per node, the pods matching all affinity terms, each anti-affinity term, each preferred term
      const affCounts = affinity.length > 0 ? snapshot.matchingPodCounts(termsMatcher(snapshot, me.requiredAffinity)) : undefined;
      const antiCounts = me.requiredAntiAffinity.map((t) => snapshot.matchingPodCounts(termsMatcher(snapshot, [t])));
      const prefCounts = preferred.map((t) => snapshot.matchingPodCounts(termsMatcher(snapshot, [t])));
      const prefScores = preferred.map((t) => scoreFor(t.topologyKey));
      if (affCounts) affinity.forEach((c, i) => addToDomains(affCounts, affIds[i], () => c.counts));
      anti.forEach((c, i) => addToDomains(antiCounts[i], antiIds[i], () => c.counts));
      preferred.forEach((t, i) => addToDomains(prefCounts[i], prefIds[i], () => prefScores[i].counts, t.weight));
    }

    // the core checks Affinity, then AntiAffinity, then ExistingAntiAffinity, each group in this order
    cls.constraints.push(...existingByKey.values(), ...affinity, ...anti);
    for (const c of scoreByKey.values()) if (c.selfIncrement !== 0 || c.counts.some((x) => x !== 0)) cls.constraints.push(c);
  }

  const snapshotOf = (deps: PluginDeps): Snapshot | undefined => (deps as { snapshot?: Snapshot } | undefined)?.snapshot;
  const known = snapshotOf(deps);
  return {
    name: INTERPODAFFINITY,
    volatile: true,
    /**
     * Counts of other pods matter only when this pod names (anti-)affinity terms or some
     * placed pod does (its terms may select this one); otherwise the class is stable. The
     * ClassTable recompiles every class when pods with affinity first appear.
     */
    volatileFor(pod: Pod): boolean {
      if (pod.spec?.affinity?.podAffinity || pod.spec?.affinity?.podAntiAffinity) return true;
      if (!known) return true;
      for (const _ of known.podsWithAffinity()) return true;
      return false;
    },
    filterBit: Filter.InterPodAffinity,

    preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
      try {
        compile(snapshot, pod, cls);
      } catch (e) {
        return `${INTERPODAFFINITY}: calculating preFilterState: ${(e as Error).message}`;
      }
      return undefined;
    },

    signature(pod: Pod): string {
      const aff = pod.spec?.affinity;
      return JSON.stringify([
        namespaceOf(pod),
        sortedLabels(pod.metadata?.labels),
        aff?.podAffinity ?? null,
        aff?.podAntiAffinity ?? null,
      ]);
    },

    reasons(code: number, _detail: number, _snapshot: Snapshot, _cls: ClassSpec): string[] {
      switch (code) {
        case Reason.PodAffinity:
          return [ErrReasonAffinityRulesNotMatch];
        case Reason.PodAntiAffinity:
          return [ErrReasonAntiAffinityRulesNotMatch];
        case Reason.ExistingAntiAffinity:
          return [ErrReasonExistingAntiAffinityRulesNotMatch];
        default:
          return [];
      }
    },

    configureScore(cls: ClassBuilder, weight: number): void {
      cls.score.interPodAffinityWeight = weight;
    },
  };
}
