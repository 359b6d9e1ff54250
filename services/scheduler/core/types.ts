/**
 * The scheduling core's contract: what the TypeScript reference (reference.ts) and the
 * WebAssembly builds (assembly/core.ts, loaded by wasm.ts) both implement, and the exact
 * semantics they must agree on. The differential suite holds them to identical placements
 * and identical per-node reasons; where this text is ambiguous the reference decides.
 *
 * The core knows nothing of Kubernetes objects. The scheduler's cache interns everything a
 * filter or score needs into numbers:
 *  - resources: dense vectors of RESOURCE dimensions (cpu millicores, memory bytes,
 *    ephemeral-storage bytes, pod count, then extended resources such as nvidia.com/gpu);
 *  - node-selector requirements (`zone In [a,b]`, `gpu Exists`, `metadata.name In [n1]`,
 *    `cores Gt 4`, ...): every distinct requirement a pod names gets a bit; a node's
 *    "label bits" say which requirements it satisfies. A nodeSelector entry k=v is the
 *    requirement `k In [v]`. So node affinity is pure bitset algebra in the core;
 *  - taints: every distinct (key, value, effect) gets a bit; a node's taint bits say which it
 *    carries; a pod's tolerations become the masks of taints it does NOT tolerate;
 *  - host ports: every distinct (protocol, port) a pod asks for gets a bit; a node's port
 *    bits say which are in use;
 *  - topology: every topology key a pod names (zone, hostname, ...) gets an index; per key,
 *    each node slot has a domain id (dense, 0..domains-1) or -1 when the node lacks the label.
 *
 * All arithmetic is on f64 holding integers (exact below 2^53) with Math.floor for
 * upstream's int64 divisions, plus Math.sqrt (correctly rounded in JS and WASM alike). The
 * core never calls log/exp: the class compiler precomputes such weights, so both
 * implementations produce bit-identical scores.
 */

import * as layout from '../../../assembly/layout.js';

/** Resource dimensions, in vector order. Extended resources follow from index FIRST_EXTENDED. */
export const Dim = {
  CPU: layout.DIM_CPU,
  MEMORY: layout.DIM_MEMORY,
  EPHEMERAL_STORAGE: layout.DIM_EPHEMERAL_STORAGE,
  PODS: layout.DIM_PODS,
  FIRST_EXTENDED: layout.DIM_FIRST_EXTENDED,
} as const;

/** Filters, in upstream's default order. A node's reason is the FIRST filter it fails. */
export const Filter = {
  NodeUnschedulable: layout.F_UNSCHEDULABLE,
  NodeName: layout.F_NODENAME,
  TaintToleration: layout.F_TAINT,
  NodeAffinity: layout.F_AFFINITY,
  NodePorts: layout.F_PORTS,
  NodeResourcesFit: layout.F_FIT,
  PodTopologySpread: layout.F_SPREAD,
  InterPodAffinity: layout.F_IPA,
} as const;
export const ALL_FILTERS = 0xff;

/**
 * Per-node reason codes written by diagnose(): `code | (detail << 8)`.
 * `detail` is the taint bit (Taint), the bitmask of insufficient dimensions (Insufficient;
 * dimension d is bit d), or the index of the failing constraint in ClassSpec.constraints
 * (SpreadMissingLabel, SpreadSkew, PodAffinity, PodAntiAffinity, ExistingAntiAffinity).
 */
export const Reason = {
  Fits: layout.R_FITS,
  /** upstream: "node(s) were unschedulable" */
  Unschedulable: layout.R_UNSCHEDULABLE,
  /** "node(s) didn't match the requested node name" */
  NodeName: layout.R_NODENAME,
  /** "node(s) had untolerated taint {key: value}" */
  Taint: layout.R_TAINT,
  /** "node(s) didn't match Pod's node affinity/selector" */
  NodeAffinity: layout.R_AFFINITY,
  /** "node(s) didn't have free ports for the requested pod ports" */
  NodePorts: layout.R_PORTS,
  /** "Insufficient cpu", "Insufficient memory", "Too many pods", ... one per set bit */
  Insufficient: layout.R_INSUFFICIENT,
  /** "node(s) didn't match pod topology spread constraints (missing required label)" */
  SpreadMissingLabel: layout.R_SPREAD_MISSING,
  /** "node(s) didn't match pod topology spread constraints" */
  SpreadSkew: layout.R_SPREAD_SKEW,
  /** "node(s) didn't match pod affinity rules" */
  PodAffinity: layout.R_POD_AFFINITY,
  /** "node(s) didn't match pod anti-affinity rules" */
  PodAntiAffinity: layout.R_POD_ANTI,
  /** "node(s) didn't satisfy existing pods anti-affinity rules" */
  ExistingAntiAffinity: layout.R_EXISTING_ANTI,
} as const;

/** Sizes fixed when a core is made. The cache makes a bigger core and refills it when one is exceeded. */
export interface CoreDims {
  /** node slots */
  nodes: number;
  /** resource dimensions (>= 4) */
  resources: number;
  /** 32-bit words of requirement ("label") bits per node */
  labelWords: number;
  /** 32-bit words of taint bits per node */
  taintWords: number;
  /** 32-bit words of host-port bits per node */
  portWords: number;
  /** topology keys */
  topologyKeys: number;
  /** live classes (defineClass ids are 0..classes-1) */
  classes: number;
}

/** A node's static description. Bit arrays have exactly the core's word counts. */
export interface NodeRecord {
  /** status.allocatable, RESOURCE dims; a dimension the node lacks is 0 */
  allocatable: ArrayLike<number>;
  /** spec.unschedulable */
  unschedulable: boolean;
  /** requirement bits this node satisfies */
  labels: Uint32Array;
  /** taint bits this node carries (any effect) */
  taints: Uint32Array;
}

/** What the pods on a node use (the cache sums them, assumed pods included). */
export interface NodeUsage {
  /** summed requests, RESOURCE dims (PODS = number of pods) */
  requested: ArrayLike<number>;
  /** summed non-zero requests [cpu, memory]: upstream's NonZeroRequested, used by scores */
  nonZeroRequested: ArrayLike<number>;
  /** host-port bits in use */
  ports: Uint32Array;
}

export const ScoringStrategy = {
  LeastAllocated: layout.S_LEAST,
  MostAllocated: layout.S_MOST,
  RequestedToCapacityRatio: layout.S_RATIO,
} as const;

/** One NodeResourcesFit / BalancedAllocation resource: a dimension and its weight. */
export interface ResourceWeight {
  dim: number;
  weight: number;
}

/**
 * A pod-to-pod constraint over topology domains (PodTopologySpread and InterPodAffinity,
 * both directions). `counts[d]` is what the class compiler counted in domain d (matching
 * pods, or weighted sums for scores); after a pod of this class is placed on node n the
 * core adds `selfIncrement` to counts[domain(n)] so a batch sees its own placements.
 */
export const ConstraintKind = {
  /**
   * whenUnsatisfiable DoNotSchedule. Node lacking the key: SpreadMissingLabel. Otherwise
   * skew = counts[dom] + selfIncrement - globalMin; skew > maxSkew: SpreadSkew.
   * globalMin = min of counts[d] over d with eligible[d] = 1, or 0 when fewer than
   * minDomains domains are eligible (or none is).
   */
  SpreadHard: layout.K_SPREAD_HARD,
  /**
   * whenUnsatisfiable ScheduleAnyway (score only). Raw score of a node:
   * sum over soft constraints of counts[dom] * weight + (maxSkew - 1); nodes lacking any
   * soft constraint's key are "ignored" (score 0 after normalization).
   */
  SpreadSoft: layout.K_SPREAD_SOFT,
  /**
   * Incoming pod's required affinity term: fails (PodAffinity) when the node lacks the key
   * or counts[dom] == 0, unless `passWhenEmpty` and the sum of all counts is 0 (upstream's
   * "first pod of a self-affine group" rule).
   */
  Affinity: layout.K_AFFINITY,
  /** Incoming pod's required anti-affinity term: fails (PodAntiAffinity) when dom >= 0 and counts[dom] > 0. */
  AntiAffinity: layout.K_ANTI,
  /** Existing pods' anti-affinity terms that match this pod: fails (ExistingAntiAffinity) when dom >= 0 and counts[dom] > 0. */
  ExistingAntiAffinity: layout.K_EXISTING_ANTI,
  /** InterPodAffinity score (both directions, preferred terms, signed weights folded into counts): raw += counts[dom] when dom >= 0. */
  AffinityScore: layout.K_AFFINITY_SCORE,
} as const;

export interface DomainConstraint {
  kind: number;
  /** topology key index */
  key: number;
  /** per domain of that key */
  counts: Float64Array;
  selfIncrement: number;
  /** SpreadHard / SpreadSoft */
  maxSkew: number;
  /** SpreadHard; 1 when unset */
  minDomains: number;
  /** SpreadHard: domains that count for the global minimum (node inclusion policies); length = counts.length */
  eligible?: Uint8Array;
  /** SpreadSoft: precomputed topologyNormalizingWeight (upstream log(size + 2)) */
  weight: number;
  /** Affinity */
  passWhenEmpty: boolean;
}

export interface PreferredTerm {
  /** all bits required (a term with no requirements matches no node, as upstream) */
  mask: Uint32Array;
  weight: number;
}

/** Profile-level scoring configuration, carried by each class. A weight of 0 disables that score. */
export interface ScoreConfig {
  fitWeight: number;
  strategy: number;
  /** NodeResourcesFit scoring resources (default cpu 1, memory 1) */
  fitResources: ResourceWeight[];
  /** RequestedToCapacityRatio shape: utilization 0..100 ascending, score 0..10 */
  shape: Array<{ utilization: number; score: number }>;
  balancedWeight: number;
  /** NodeResourcesBalancedAllocation resources (default cpu, memory) */
  balancedResources: ResourceWeight[];
  taintWeight: number;
  nodeAffinityWeight: number;
  spreadWeight: number;
  interPodAffinityWeight: number;
}

/**
 * A scheduling signature: everything the filters and scores need of one pod. Pods with
 * equal signatures share a class and are placed by one place() call.
 */
export interface ClassSpec {
  /** Filter bits of the enabled filter plugins */
  filters: number;
  /** requests, RESOURCE dims; PODS is 1. NodeResourcesFit checks dimension d when d == PODS or request[d] > 0 */
  request: ArrayLike<number>;
  /** [cpu, memory] with upstream's non-zero defaults (100m, 200Mi) for unset requests */
  nonZeroRequest: ArrayLike<number>;
  /** the pod tolerates node.kubernetes.io/unschedulable:NoSchedule */
  toleratesUnschedulable: boolean;
  /** spec.nodeName's slot: -1 none asked; -2 asked for a node that does not exist */
  nodeNameSlot: number;
  /** taint bits with effect NoSchedule or NoExecute that the pod does not tolerate */
  untoleratedHard: Uint32Array;
  /** taint bits with effect PreferNoSchedule that the pod does not tolerate */
  untoleratedPreferred: Uint32Array;
  /** nodeSelector: every bit required */
  selector: Uint32Array;
  /** required node affinity: the node must satisfy every bit of at least one term; empty list = no requirement */
  requiredTerms: Uint32Array[];
  preferredTerms: PreferredTerm[];
  /** host-port bits the pod asks for */
  ports: Uint32Array;
  constraints: DomainConstraint[];
  score: ScoreConfig;
  /** upstream percentageOfNodesToScore (0 = adaptive); used on the scan path only */
  percentageOfNodesToScore: number;
}

/**
 * Placement rule (both implementations). This is the outline; the exact formulas, operation
 * order, rounding (upstream's math.Round where it rounds, resources skipped when their
 * allocatable is 0) and iteration order are written at the top of reference.ts.
 *  1. A node is feasible when it is present and passes every enabled filter, in order:
 *     NodeUnschedulable (unschedulable && !toleratesUnschedulable), NodeName
 *     (nodeNameSlot >= 0 && slot != nodeNameSlot, or nodeNameSlot == -2), TaintToleration
 *     (taints & untoleratedHard != 0; detail = lowest such bit), NodeAffinity (selector and
 *     requiredTerms), NodePorts (ports & node ports != 0), NodeResourcesFit (for each
 *     checked d: requested[d] + request[d] > allocatable[d]; detail = all failing dims),
 *     PodTopologySpread (SpreadHard constraints in order), InterPodAffinity (Affinity, then
 *     AntiAffinity, then ExistingAntiAffinity constraints, each group in order, as upstream).
 *  2. "Statically feasible" = passes the first four filters (they do not change as pods
 *     are placed). Static scores are normalized over statically feasible nodes:
 *       taint (reverse):  100 - floor(count * 100 / maxCount)  (100 for all when maxCount = 0),
 *                         count = popcount(taints & untoleratedPreferred);
 *       node affinity:    floor(sum * 100 / maxSum) (0 for all when maxSum = 0),
 *                         sum = weights of preferredTerms the node satisfies.
 *  3. Dynamic scores, per node, with the pod's request added (upstream semantics):
 *       fit: per resource r (weight w): LeastAllocated floor((alloc - req) * 100 / alloc)
 *            (0 when alloc == 0 or req > alloc), MostAllocated floor(req * 100 / alloc)
 *            (0 when alloc == 0, 100 when req > alloc), RequestedToCapacityRatio: the shape
 *            (scores x10) interpolated at floor(req * 100 / alloc) with upstream's integer
 *            broken-linear function; then floor(sum(score_r * w) / sum(w)). cpu and memory use
 *            nonZeroRequested + nonZeroRequest, other dims requested + request.
 *       balanced: fractions f_r = min(1, (requested + request) / alloc) over resources with
 *            alloc > 0; std = |f0 - f1| / 2 for two, else sqrt(sum((f - mean)^2) / n);
 *            score = floor((1 - std) * 100).
 *     Domain scores (SpreadSoft, AffinityScore) are normalized over the feasible nodes of the
 *     current decision as upstream's NormalizeScore does.
 *  4. total = sum(weight * score). The chosen node has the highest total; ties go to the
 *     lowest slot (upstream picks at random; determinism is worth more to us).
 *  5. Classes without domain constraints use an index (no full scan per placement) and
 *     consider every node. Classes with constraints scan from a rotating start and stop after
 *     upstream's numFeasibleNodesToFind(percentageOfNodesToScore, present nodes) feasible nodes.
 *  6. Placing adds request / nonZeroRequest to the node's usage, ORs the pod's ports into
 *     the node's ports, and adds selfIncrement to each constraint's counts[domain(node)].
 */
export interface SchedulingCore {
  readonly kind: CoreKind;
  readonly dims: CoreDims;
  setNode(slot: number, node: NodeRecord): void;
  setNodeUsage(slot: number, usage: NodeUsage): void;
  removeNode(slot: number): void;
  /** domain id per node slot (length dims.nodes; -1 = the node lacks the key) */
  setTopology(key: number, domains: Int32Array): void;
  /**
   * (re)defines class `id`; its index is rebuilt on next use, unless only its constraints'
   * counts and eligible domains changed (a volatile class's next cycle), which the index
   * and the per-node values a scan reads do not depend on
   */
  defineClass(id: number, spec: ClassSpec): void;
  dropClass(id: number): void;
  /**
   * Places up to `count` pods of class `id`, one after another, each seeing the previous
   * placements. Writes the chosen slots to out[0..n) and returns n; stops at the first pod
   * that fits nowhere (n < count).
   */
  place(id: number, count: number, out: Int32Array): number;
  /** Per node slot, the reason the next pod of class `id` would not fit there (Reason codes). */
  diagnose(id: number, out: Int32Array): void;
  /** diagnose() of one node slot: its reason code, -1 for an absent or out-of-range slot */
  diagnoseNode(id: number, slot: number): number;
  /** Per node slot, the total score of the next pod of class `id`, -1 when infeasible (tests and preemption). */
  scores(id: number, out: Float64Array): void;
  /** Frees what the core holds (WASM memory) */
  dispose(): void;
}

export type CoreKind = 'reference' | 'wasm' | 'wasm-simd';

/** upstream's default scoring profile (v1.31 default plugin weights and NodeResourcesFit args). */
export function defaultScoreConfig(): ScoreConfig {
  return {
    fitWeight: 1,
    strategy: ScoringStrategy.LeastAllocated,
    fitResources: [
      { dim: Dim.CPU, weight: 1 },
      { dim: Dim.MEMORY, weight: 1 },
    ],
    shape: [],
    balancedWeight: 1,
    balancedResources: [
      { dim: Dim.CPU, weight: 1 },
      { dim: Dim.MEMORY, weight: 1 },
    ],
    taintWeight: 3,
    nodeAffinityWeight: 2,
    spreadWeight: 2,
    interPodAffinityWeight: 2,
  };
}

/**
 * The class of a pod that asks for nothing: every filter enabled, all masks zero, no
 * constraints, upstream's default scores, request = one pod. nonZeroRequest carries upstream's
 * defaults for unset requests (100 millicores, 200Mi), as the class compiler would.
 */
export function emptyClass(dims: CoreDims): ClassSpec {
  const request = new Float64Array(dims.resources);
  request[Dim.PODS] = 1;
  return {
    filters: ALL_FILTERS,
    request,
    nonZeroRequest: Float64Array.of(100, 200 * 1024 * 1024),
    toleratesUnschedulable: false,
    nodeNameSlot: -1,
    untoleratedHard: new Uint32Array(dims.taintWords),
    untoleratedPreferred: new Uint32Array(dims.taintWords),
    selector: new Uint32Array(dims.labelWords),
    requiredTerms: [],
    preferredTerms: [],
    ports: new Uint32Array(dims.portWords),
    constraints: [],
    score: defaultScoreConfig(),
    percentageOfNodesToScore: 0,
  };
}

