/**
 * PodTopologySpread (upstream pkg/scheduler/framework/plugins/podtopologyspread, v1.31),
 * compiled for the core: each DoNotSchedule constraint becomes a SpreadHard
 * DomainConstraint and each ScheduleAnyway constraint a SpreadSoft one, with the matching
 * pods already counted per topology domain. The core applies the skew rule, the soft score
 * and its normalization, and adds `selfIncrement` as a batch places pods of the class.
 */
import type { Node, Pod, Toleration, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { ConstraintKind, Filter, Reason, type ClassSpec, type DomainConstraint } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, NodeInfo, PodMatcher, PreFilterPlugin, ScorePlugin, Snapshot } from '../framework/types.js';
import { selectorFromLabelSelector, selectorFromSet, type LabelSelector, type Labels, type Selector } from '../../../lib/api/labels.js';
import { doNotScheduleTaints, findMatchingUntoleratedTaint } from '../../../lib/api/tolerations.js';
import { requiredNodeAffinity as requiredAffinityOf } from '../../../lib/api/nodeaffinity.js';

export const PODTOPOLOGYSPREAD = 'PodTopologySpread';
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = ErrReasonConstraintsNotMatch + ' (missing required label)';

/** upstream PodTopologySpreadArgs */
export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraint[];
  /** 'System' (upstream's default) or 'List' */
  defaultingType?: 'System' | 'List';
}

/** upstream systemDefaultConstraints */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = Object.freeze([
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: LABEL_ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
]);

/**
 * Owners whose pods get the default constraints. Upstream selects by the Services,
 * ReplicationControllers, ReplicaSets and StatefulSets that match the pod (informers we do
 * not run); we take a pod owned by one of these controllers and use the pod's own labels as
 * the selector, which is what those controllers' selectors match for their own pods.
 */
const DEFAULTED_OWNER_KINDS = new Set(['ReplicaSet', 'StatefulSet', 'ReplicationController']);

/** A v1.TopologySpreadConstraint with its selector parsed and its defaults applied. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  hard: boolean;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

export interface PodTopologySpreadPlugin extends PreFilterPlugin, FilterPlugin, ScorePlugin {
  /** the pod's constraints as the plugin applies them (its own, else the defaults) */
  constraintsFor(pod: Pod): SpreadConstraint[];
  /** only a pod with constraints depends on other pods (the framework's per-pod volatility) */
  volatileFor(pod: Pod): boolean;
}

/** Neither plugin needs framework handles: everything it counts comes through the Snapshot. */
export type PluginDeps = unknown;

function validateArgs(args: PodTopologySpreadArgs): void {
  const type = args.defaultingType ?? 'System';
  if (type !== 'System' && type !== 'List') {
    throw new Error(`PodTopologySpreadArgs.defaultingType: Unsupported value: "${String(type)}": supported values: "List", "System"`);
  }
  const list = args.defaultConstraints ?? [];
  if (type === 'System' && list.length > 0) {
    throw new Error('PodTopologySpreadArgs.defaultConstraints: Invalid value: when .defaultingType is "System"');
  }
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const path = `PodTopologySpreadArgs.defaultConstraints[${i}]`;
    if (!(Number.isInteger(c.maxSkew) && c.maxSkew > 0)) throw new Error(`${path}.maxSkew: Invalid value: ${c.maxSkew}: must be greater than zero`);
    if (!c.topologyKey) throw new Error(`${path}.topologyKey: Required value: can not be empty`);
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      throw new Error(`${path}.whenUnsatisfiable: Unsupported value: "${c.whenUnsatisfiable}"`);
    }
    if (c.labelSelector) throw new Error(`${path}.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod`);
    const pair = `${c.topologyKey}\0${c.whenUnsatisfiable}`;
    if (seen.has(pair)) throw new Error(`${path}: Duplicate value: {${c.topologyKey}, ${c.whenUnsatisfiable}}`);
    seen.add(pair);
  });
}

/**
 * The constraint's selector with matchLabelKeys merged in (`key in (value)` for each key
 * the pod carries), as upstream mergeLabelSetWithSelector does.
 */
function spreadSelector(c: TopologySpreadConstraint, podLabels: Labels): Selector {
  const keys = c.matchLabelKeys ?? [];
  const extra: Record<string, string> = {};
  let n = 0;
  for (const k of keys) {
    if (Object.hasOwn(podLabels, k)) {
      extra[k] = podLabels[k];
      n++;
    }
  }
  if (n === 0) return selectorFromLabelSelector(c.labelSelector as LabelSelector | undefined);
  // a null selector has no requirements to add, so only the pod's label set remains (upstream)
  if (c.labelSelector == null) return selectorFromSet(extra);
  const ls = c.labelSelector as LabelSelector;
  return selectorFromLabelSelector({
    matchLabels: ls.matchLabels,
    matchExpressions: [...(ls.matchExpressions ?? []), ...Object.keys(extra).map((k) => ({ key: k, operator: 'In', values: [extra[k]] }))],
  });
}

function compileConstraint(c: TopologySpreadConstraint, selector: Selector): SpreadConstraint {
  const hard = (c.whenUnsatisfiable ?? 'DoNotSchedule') === 'DoNotSchedule';
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector,
    minDomains: hard && c.minDomains != null ? c.minDomains : 1,
    hard,
    honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorNodeTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
  };
}

// ---- node inclusion policies: the pod's required node affinity and its hard taints ----

/** upstream nodeaffinity.GetRequiredNodeAffinity(pod).Match (lib/api/nodeaffinity.ts). */
export function requiredNodeAffinity(pod: Pod): (node: Node) => boolean {
  return requiredAffinityOf(pod.spec);
}

// ---- counting ----

function nodeLabels(ni: NodeInfo): Labels {
  return ni.node.metadata?.labels ?? {};
}

function hasAllKeys(labels: Labels, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (!Object.hasOwn(labels, c.topologyKey)) return false;
  return true;
}

const NONE = new Int32Array(0);

/**
 * Per core slot, upstream countPodsMatchSelector: the node's pods in `namespace`, not
 * terminating, whose labels match (the cache keeps these counts as pods come and go).
 */
function matchingCounts(snapshot: Snapshot, selector: Selector, namespace: string): Int32Array {
  if (selector.matchesNothing) return NONE;
  return snapshot.matchingPodCounts(spreadMatcher(selector, namespace));
}

/**
 * By selector object, its matcher in the namespace last asked for: a pod's parsed constraints
 * live as long as the pod (newPodTopologySpread's `parsed`), so a class recompiled every cycle
 * does not encode its selector into a matcher key every cycle.
 */
const matchers = new WeakMap<Selector, PodMatcher & { namespace: string }>();

/** What a node's sum counts: upstream countPodsMatchSelector's test of one pod. */
function spreadMatcher(selector: Selector, namespace: string): PodMatcher {
  let m = matchers.get(selector);
  if (m === undefined || m.namespace !== namespace) {
    m = {
      namespace,
      key: `${PODTOPOLOGYSPREAD}\0${namespace}\0${JSON.stringify(selector.requirements)}`,
      count(pod: Pod): number {
        const meta = pod.metadata;
        return !meta?.deletionTimestamp && (meta?.namespace || 'default') === namespace && selector.matches(meta?.labels) ? 1 : 0;
      },
    };
    matchers.set(selector, m);
  }
  return m;
}

/** A pod's constraints and what is derived from them alone (newPodTopologySpread's `parsed`). */
interface ParsedPod {
  /** the pod's parts these were made from (parseInputs), compared by identity */
  inputs: unknown[];
  constraints: SpreadConstraint[];
  policies?: InclusionPolicies;
  /** of the DoNotSchedule constraints (compileHard) */
  eligibilityKey?: string;
}

/** every part of a pod that its constraints, inclusion policies and eligibility key read */
function parseInputs(pod: Pod): unknown[] {
  const m = pod.metadata;
  const spec = pod.spec;
  return [m?.labels, m?.ownerReferences, m?.namespace, spec?.topologySpreadConstraints, spec?.nodeSelector, spec?.affinity, spec?.tolerations];
}

/** Evaluates the node inclusion policies of one pod lazily, once per node. */
class InclusionPolicies {
  private readonly affinity: (node: Node) => boolean;
  private readonly tolerations: readonly Toleration[];
  constructor(pod: Pod) {
    this.affinity = requiredNodeAffinity(pod);
    this.tolerations = pod.spec?.tolerations ?? [];
  }
  matchesAffinity(node: Node): boolean {
    return this.affinity(node);
  }
  toleratesHardTaints(node: Node): boolean {
    return !findMatchingUntoleratedTaint(node.spec?.taints, this.tolerations, doNotScheduleTaints);
  }
  /** upstream matchNodeInclusionPolicies */
  admits(c: SpreadConstraint, node: Node, memo: { aff?: boolean; taints?: boolean }): boolean {
    if (c.honorNodeAffinity && !(memo.aff ??= this.matchesAffinity(node))) return false;
    if (c.honorNodeTaints && !(memo.taints ??= this.toleratesHardTaints(node))) return false;
    return true;
  }
}

function newConstraint(kind: number, key: number, domains: number): DomainConstraint {
  return { kind, key, counts: new Float64Array(domains), selfIncrement: 0, maxSkew: 0, minDomains: 1, weight: 0, passWhenEmpty: false };
}

/**
 * Which nodes the DoNotSchedule constraints count, and in which domain: per constraint, per
 * core slot, the node's domain id, or -1 when the node lacks one of the constraints' keys or
 * fails that constraint's node inclusion policies (upstream calPreFilterState's node loop).
 * It depends on the nodes and on the pod's constraints, node affinity and tolerations only,
 * so it is kept by that key until a node is added, updated or removed (Snapshot.nodesVersion):
 * a volatile class is recompiled every cycle, and then takes the domains that count from
 * here and the matching pods per domain from the cache's sums under these `ids`
 * (Snapshot.matchingDomainCounts), without a pass over the nodes.
 */
interface HardEligibility {
  version: number;
  /** per constraint, never changed once made (the cache keys its domain sums by them) */
  ids: Int32Array[];
  /** per constraint, per domain: 1 when an eligible node is in it (DomainConstraint.eligible, shared, read-only) */
  eligible: Uint8Array[];
}

/** at most this many kept eligibilities (all dropped when it is exceeded) */
const MAX_ELIGIBILITIES = 32;

/** What hard eligibility depends on besides the nodes: the constraints' keys and policies, and the pod's parts they read. */
function eligibilityKey(pod: Pod, hard: readonly SpreadConstraint[]): string {
  const spec = pod.spec;
  const affinity = hard.some((c) => c.honorNodeAffinity);
  const taints = hard.some((c) => c.honorNodeTaints);
  return JSON.stringify([
    hard.map((c) => [c.topologyKey, c.honorNodeAffinity, c.honorNodeTaints]),
    affinity ? [spec?.nodeSelector ?? null, spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null] : null,
    taints ? (spec?.tolerations ?? []) : null,
  ]);
}

function computeHardEligibility(snapshot: Snapshot, hard: readonly SpreadConstraint[], doms: readonly ReturnType<Snapshot['domains']>[], policies: InclusionPolicies, version: number): HardEligibility {
  const ids = doms.map((d) => new Int32Array(d.ids.length).fill(-1));
  const eligible = doms.map((d) => new Uint8Array(d.values.length));
  for (const ni of snapshot.nodes()) {
    // a node counts only when it carries every constraint's key
    if (!hasAllKeys(nodeLabels(ni), hard)) continue;
    const memo = {};
    for (let i = 0; i < hard.length; i++) {
      if (!policies.admits(hard[i], ni.node, memo)) continue;
      const d = doms[i].ids[ni.slot];
      ids[i][ni.slot] = d;
      if (d >= 0 && d < eligible[i].length) eligible[i][d] = 1;
    }
  }
  return { version, ids, eligible };
}

/** DoNotSchedule constraints (upstream calPreFilterState) */
function compileHard(
  snapshot: Snapshot,
  pod: Pod,
  hard: SpreadConstraint[],
  policies: InclusionPolicies,
  kept: Map<string, HardEligibility>,
  ek: string,
): DomainConstraint[] {
  const namespace = pod.metadata?.namespace || 'default';
  const podLabels = pod.metadata?.labels ?? {};
  const keys = hard.map((c) => snapshot.topologyKey(c.topologyKey));
  const doms = keys.map((k) => snapshot.domains(k));
  const version = snapshot.nodesVersion();
  let e = kept.get(ek);
  // a key's domains grow only when a node is added or updated, which changes the version
  if (e === undefined || e.version !== version) {
    if (e === undefined && kept.size >= MAX_ELIGIBILITIES) kept.clear();
    e = computeHardEligibility(snapshot, hard, doms, policies, version);
    kept.set(ek, e);
  }
  const eligibility = e;
  return hard.map((c, i) => {
    const nd = doms[i].values.length;
    const dc = newConstraint(ConstraintKind.SpreadHard, keys[i], nd);
    dc.maxSkew = c.maxSkew;
    dc.minDomains = c.minDomains;
    dc.eligible = eligibility.eligible[i];
    dc.selfIncrement = c.selector.matches(podLabels) ? 1 : 0;
    if (!c.selector.matchesNothing) dc.counts.set(snapshot.matchingDomainCounts(spreadMatcher(c.selector, namespace), eligibility.ids[i], nd));
    return dc;
  });
}

/**
 * ScheduleAnyway constraints (upstream initPreScoreState + PreScore + Score). Upstream
 * sizes the normalizing weight over the nodes that passed Filter, which the core decides
 * later; we size it over the nodes that pass the pod's static filters it is made of (the
 * required node affinity and NoSchedule/NoExecute taints), which agrees whenever
 * resources and the pod-to-pod filters do not exclude whole domains.
 */
function compileSoft(snapshot: Snapshot, pod: Pod, soft: SpreadConstraint[], policies: InclusionPolicies): DomainConstraint[] {
  const namespace = pod.metadata?.namespace || 'default';
  const podLabels = pod.metadata?.labels ?? {};
  const keys = soft.map((c) => snapshot.topologyKey(c.topologyKey));
  const doms = keys.map((k) => snapshot.domains(k));
  const out = soft.map((c, i) => {
    const dc = newConstraint(ConstraintKind.SpreadSoft, keys[i], doms[i].values.length);
    dc.maxSkew = c.maxSkew;
    dc.selfIncrement = c.selector.matches(podLabels) ? 1 : 0;
    return dc;
  });
  const matching = soft.map((c) => matchingCounts(snapshot, c.selector, namespace));
  const seen = soft.map((_, i) => new Uint8Array(doms[i].values.length));
  const size = soft.map(() => 0);
  for (const ni of snapshot.nodes()) {
    if (!hasAllKeys(nodeLabels(ni), soft)) continue;
    const candidate = policies.matchesAffinity(ni.node) && policies.toleratesHardTaints(ni.node);
    const memo = {};
    for (let i = 0; i < soft.length; i++) {
      const c = soft[i];
      const d = doms[i].ids[ni.slot];
      if (d < 0) continue;
      if (candidate) {
        if (c.topologyKey === LABEL_HOSTNAME) size[i]++;
        else if (!seen[i][d]) {
          seen[i][d] = 1;
          size[i]++;
        }
      }
      // upstream counts a hostname domain on the node itself, without the inclusion policies
      if (c.topologyKey !== LABEL_HOSTNAME && !policies.admits(c, ni.node, memo)) continue;
      out[i].counts[d] += matching[i][ni.slot] | 0;
    }
  }
  // upstream topologyNormalizingWeight; computed here because the core never calls log
  for (let i = 0; i < soft.length; i++) out[i].weight = Math.log(size[i] + 2);
  return out;
}

function sortedLabels(labels: Labels | undefined): [string, string][] {
  if (!labels) return [];
  return Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
}

export function newPodTopologySpread(args?: PodTopologySpreadArgs, _deps?: PluginDeps): PodTopologySpreadPlugin {
  const a = args ?? {};
  validateArgs(a);
  const systemDefaulted = (a.defaultingType ?? 'System') === 'System';
  const defaults: readonly TopologySpreadConstraint[] = systemDefaulted ? SYSTEM_DEFAULT_CONSTRAINTS : (a.defaultConstraints ?? []);
  // this plugin instance's kept hard eligibilities (compileHard), by eligibilityKey
  const keptEligibility = new Map<string, HardEligibility>();

  const ownedByController = (pod: Pod): boolean =>
    (pod.metadata?.ownerReferences ?? []).some((o) => o.controller !== false && DEFAULTED_OWNER_KINDS.has(o.kind));

  // What a pod object's constraints compile to, kept with it: the framework asks volatileFor
  // and then preFilter of one pod, and recompiles a volatile class from the same pod object
  // every cycle (ClassTable). Informer objects are replaced, not changed; the parts read are
  // compared by identity all the same, so a pod changed in place is parsed again.
  const parsed = new WeakMap<Pod, ParsedPod>();
  const parsedFor = (pod: Pod): ParsedPod => {
    const inputs = parseInputs(pod);
    let p = parsed.get(pod);
    if (p === undefined || !p.inputs.every((v, i) => v === inputs[i])) {
      p = { inputs, constraints: parseConstraints(pod) };
      parsed.set(pod, p);
    }
    return p;
  };
  const constraintsFor = (pod: Pod): SpreadConstraint[] => parsedFor(pod).constraints;
  const parseConstraints = (pod: Pod): SpreadConstraint[] => {
    const labels = pod.metadata?.labels ?? {};
    const own = pod.spec?.topologySpreadConstraints ?? [];
    if (own.length > 0) return own.map((c) => compileConstraint(c, spreadSelector(c, labels)));
    if (defaults.length === 0 || !ownedByController(pod)) return [];
    const selector = selectorFromSet(labels);
    if (selector.empty()) return [];
    return defaults.map((c) => compileConstraint(c, selector));
  };

  return {
    name: PODTOPOLOGYSPREAD,
    volatile: true,
    filterBit: Filter.PodTopologySpread,
    constraintsFor,

    volatileFor(pod: Pod): boolean {
      try {
        return constraintsFor(pod).length > 0;
      } catch {
        return true;
      }
    },

    preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
      let p: ParsedPod;
      try {
        p = parsedFor(pod);
      } catch (e) {
        return `${PODTOPOLOGYSPREAD}: get constraints from pod: ${(e as Error).message}`;
      }
      const constraints = p.constraints;
      if (constraints.length === 0) return undefined;
      const policies = (p.policies ??= new InclusionPolicies(pod));
      const hard = constraints.filter((c) => c.hard);
      let soft = constraints.filter((c) => !c.hard);
      if (systemDefaulted && (pod.spec?.topologySpreadConstraints ?? []).length === 0 && soft.length > 0) {
        // Upstream does not require system-default keys on every node, so a cluster without
        // zones still spreads by hostname; the core ignores nodes lacking any soft key, so
        // drop the default constraints whose key no node carries.
        const present = new Set<string>();
        for (const ni of snapshot.nodes()) for (const c of soft) if (Object.hasOwn(nodeLabels(ni), c.topologyKey)) present.add(c.topologyKey);
        soft = soft.filter((c) => present.has(c.topologyKey));
      }
      if (hard.length > 0) cls.constraints.push(...compileHard(snapshot, pod, hard, policies, keptEligibility, (p.eligibilityKey ??= eligibilityKey(pod, hard))));
      if (soft.length > 0) cls.constraints.push(...compileSoft(snapshot, pod, soft, policies));
      return undefined;
    },

    signature(pod: Pod): string {
      const spec = pod.spec;
      const own = spec?.topologySpreadConstraints ?? [];
      return JSON.stringify([
        pod.metadata?.namespace || 'default',
        sortedLabels(pod.metadata?.labels),
        own,
        own.length === 0 && ownedByController(pod),
        sortedLabels(spec?.nodeSelector),
        spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null,
        spec?.tolerations ?? [],
      ]);
    },

    reasons(code: number, _detail: number, _snapshot: Snapshot, _cls: ClassSpec): string[] {
      if (code === Reason.SpreadMissingLabel) return [ErrReasonNodeLabelNotMatch];
      if (code === Reason.SpreadSkew) return [ErrReasonConstraintsNotMatch];
      return [];
    },

    configureScore(cls: ClassBuilder, weight: number): void {
      cls.score.spreadWeight = weight;
    },
  };
}
