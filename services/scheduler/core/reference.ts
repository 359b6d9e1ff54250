/**
 * The TypeScript reference core: the oracle the WASM core is held to. Plain loops over node
 * slots, no index, a full pass per decision; every formula below is upstream kube-scheduler
 * v1.31's, written so the WASM core can reproduce it bit for bit.
 *
 * ITERATION ORDER (what the WASM core must match exactly)
 *  - P = the present slots in ascending slot order; n = |P|. Absent slots are not in P: they
 *    are neither examined nor counted anywhere.
 *  - Scan path (class with constraints.length > 0): k = numFeasibleNodesToFind(pct, n);
 *    s = nextStartNodeIndex (one per core, shared by all classes, starts at 0);
 *    for i = 0, 1, ..., n-1: slot = P[(s + i) % n]; examined = i + 1; if the node passes
 *    every filter it joins the candidates, and the loop stops once there are k candidates.
 *    Afterwards, whether or not a node was chosen, nextStartNodeIndex = (s + examined) % n
 *    (as upstream: processed nodes = feasible + rejected ones). The stored value is kept
 *    raw: when n has shrunk since, the next decision still uses (s + i) % n.
 *  - Index path (no constraints): the candidates are every feasible present node;
 *    nextStartNodeIndex is neither read nor written (upstream would add n, a no-op mod n).
 *  - When n == 0, nothing is examined and nextStartNodeIndex is untouched.
 *  - Choice: the candidate with the highest total; ties go to the LOWEST SLOT NUMBER (not
 *    the first one examined).
 *  - place() runs one decision per pod, applying rule 6 after each; diagnose() and scores()
 *    change nothing (no counts, no nextStartNodeIndex).
 *  - removeNode() clears the slot's allocatable, usage (requested, nonZeroRequested, ports),
 *    labels, taints and unschedulable; it keeps the slot's topology domains. setNode() keeps
 *    the slot's usage (a node update does not evict its pods).
 *
 * FILTER ORDER AND DETAILS (first failing filter wins; disabled filters are skipped)
 *  NodeUnschedulable, NodeName, TaintToleration (detail = lowest untolerated bit index,
 *  word * 32 + bit), NodeAffinity (selector, then requiredTerms; a requiredTerm whose mask is
 *  all zero matches no node, as upstream's empty NodeSelectorTerm), NodePorts,
 *  NodeResourcesFit (dims d with d == PODS or request[d] > 0; fail when
 *  requested[d] + request[d] > allocatable[d]; detail = mask of every failing d),
 *  PodTopologySpread (SpreadHard constraints in order; missing key -> SpreadMissingLabel,
 *  else skew check -> SpreadSkew), InterPodAffinity in UPSTREAM's order (filtering.go):
 *  Affinity constraints, then AntiAffinity, then ExistingAntiAffinity, each group in
 *  constraint order. Detail = the constraint's index in ClassSpec.constraints.
 *  Affinity (upstream satisfyPodAffinity): a node lacking the key fails, always; a node
 *  whose counts[dom] <= 0 fails unless passWhenEmpty and the sum of the counts of ALL the
 *  class's Affinity constraints is 0 (upstream: len(affinityCounts) == 0).
 *  SpreadHard: eligible absent = every domain eligible. globalMin = 0 when the number of
 *  eligible domains < minDomains or is 0, else the min of counts over eligible domains.
 *  Fail when counts[dom] + selfIncrement - globalMin > maxSkew.
 *
 * SCORES, exact operation order (all values f64; floor(a / b) is Math.floor of the IEEE
 * quotient; trunc(a / b) = a >= 0 ? floor(a / b) : -floor(-a / b); goRound(x) is Go's
 * math.Round, half away from zero: t = trunc(x); if |x - t| >= 0.5 then t += sign(x)).
 *  Resource pairs (alloc, req) for NodeResourcesFit (upstream useRequested = false):
 *    CPU, MEMORY: (allocatable[d], nonZeroRequested[d] + nonZeroRequest[d]);
 *    EPHEMERAL_STORAGE: (allocatable[d], requested[d] + request[d]);
 *    PODS: skipped (upstream scores no "pods" resource);
 *    extended d >= FIRST_EXTENDED: skipped when request[d] == 0, else (allocatable[d],
 *    requested[d] + request[d]).
 *  For BalancedAllocation (useRequested = true) the same, but CPU and MEMORY use
 *    requested[d] + request[d]. Every pair with alloc == 0 is skipped (weight not counted).
 *  LeastAllocated: per pair s = req > alloc ? 0 : floor((alloc - req) * 100 / alloc);
 *    nodeScore += s * w; weightSum += w; result weightSum == 0 ? 0 : floor(nodeScore / weightSum).
 *  MostAllocated: s = floor(min(req, alloc) * 100 / alloc); same weighted mean.
 *  RequestedToCapacityRatio: p = req > alloc ? 100 : floor(req * 100 / alloc);
 *    s = brokenLinear(p) over the shape with scores x10: the first i with p <= u[i]:
 *    i == 0 ? sc[0] : sc[i-1] + trunc((sc[i] - sc[i-1]) * (p - u[i-1]) / (u[i] - u[i-1]));
 *    none: sc[last]. Only s > 0 counts (nodeScore += s * w; weightSum += w);
 *    result weightSum == 0 ? 0 : goRound(nodeScore / weightSum)   <- upstream math.Round.
 *  BalancedAllocation (resource weights unused, as upstream): f = req / alloc, f = 1 if
 *    f > 1, in balancedResources order; total += f. Two fractions: std = |(f0 - f1) / 2|;
 *    more: mean = total / m; sum = sum + (f - mean) * (f - mean) in order;
 *    std = sqrt(sum / m); fewer: std = 0. score = floor((1 - std) * 100).
 *  TaintToleration: count = popcount(taints & untoleratedPreferred); maxCount over statically
 *    feasible present nodes; maxCount == 0 ? 100 : 100 - floor(count * 100 / maxCount).
 *  NodeAffinity: sum = weights of preferredTerms with a non-zero mask the node fully has;
 *    maxSum over statically feasible present nodes; maxSum == 0 ? 0 : floor(sum * 100 / maxSum).
 *  PodTopologySpread (SpreadSoft constraints; none -> 0 everywhere): a candidate lacking any
 *    soft constraint's key is ignored (score 0). Else x = 0; per soft constraint in order
 *    x = x + (counts[dom] * weight + (maxSkew - 1)); raw = goRound(x). Over the non-ignored
 *    candidates: min (start +Infinity) and max (start 0); score = max == 0 ? 100 :
 *    floor(100 * (max + min - raw) / max).
 *  InterPodAffinity (AffinityScore constraints; none -> 0): raw = sum of counts[dom] over
 *    them with dom >= 0, in order. Over the candidates: min, max; diff = max - min;
 *    score = diff > 0 ? floor(100 * ((raw - min) / diff)) : 0   <- divide first, as upstream.
 *  total = fitWeight * fit + balancedWeight * balanced + taintWeight * taint
 *          + nodeAffinityWeight * nodeAffinity + spreadWeight * spread
 *          + interPodAffinityWeight * interPodAffinity, summed in that order.
 *  "Candidates" are the feasible nodes of the decision (scan: the sampled ones; scores():
 *  every feasible present node).
 */
import {
  ConstraintKind,
  Dim,
  Filter,
  Reason,
  ScoringStrategy,
  type ClassSpec,
  type CoreDims,
  type CoreKind,
  type DomainConstraint,
  type NodeRecord,
  type NodeUsage,
  type SchedulingCore,
} from './types.js';

/** upstream minFeasibleNodesToFind */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** upstream minFeasibleNodesPercentageToFind */
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
/** upstream framework.MaxNodeScore */
const MAX_NODE_SCORE = 100;
/** Reason details sit above bit 8 of an int32, so at most 24 resource dimensions fit. */
const MAX_RESOURCES = 24;

/**
 * upstream numFeasibleNodesToFind (schedule_one.go): every node below 100 nodes; otherwise
 * percentage (0 = adaptive 50 - n/125, floored at 5) of the nodes, at least 100. May exceed
 * n when percentage > 100; the scan stops at n anyway.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = 50 - Math.floor(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const numNodes = Math.floor((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

function isInt(v: number): boolean {
  return Number.isInteger(v);
}

function checkLength(what: string, arr: ArrayLike<number> | undefined, want: number): void {
  if (arr === undefined || arr === null || typeof arr.length !== 'number') {
    throw new RangeError(`${what} is missing`);
  }
  if (arr.length !== want) {
    throw new RangeError(`${what} has length ${arr.length}, want ${want}`);
  }
}

/** Integer division truncating toward zero, as Go's int64 `/`. */
function truncDiv(a: number, b: number): number {
  const q = a / b;
  return q >= 0 ? Math.floor(q) : -Math.floor(-q);
}

/** Go's math.Round: half away from zero. */
function goRound(x: number): number {
  let t = x >= 0 ? Math.floor(x) : -Math.floor(-x);
  if (Math.abs(x - t) >= 0.5) t += x >= 0 ? 1 : -1;
  return t;
}

function popcount32(v: number): number {
  let x = v >>> 0;
  let c = 0;
  while (x !== 0) {
    x = (x & (x - 1)) >>> 0;
    c++;
  }
  return c;
}

function copyClass(spec: ClassSpec): ClassSpec {
  return {
    filters: spec.filters,
    request: Float64Array.from(spec.request),
    nonZeroRequest: Float64Array.from(spec.nonZeroRequest),
    toleratesUnschedulable: spec.toleratesUnschedulable,
    nodeNameSlot: spec.nodeNameSlot,
    untoleratedHard: spec.untoleratedHard.slice(),
    untoleratedPreferred: spec.untoleratedPreferred.slice(),
    selector: spec.selector.slice(),
    requiredTerms: spec.requiredTerms.map((t) => t.slice()),
    preferredTerms: spec.preferredTerms.map((t) => ({ mask: t.mask.slice(), weight: t.weight })),
    ports: spec.ports.slice(),
    constraints: spec.constraints.map(
      (c): DomainConstraint => ({
        kind: c.kind,
        key: c.key,
        counts: Float64Array.from(c.counts),
        selfIncrement: c.selfIncrement,
        maxSkew: c.maxSkew,
        minDomains: c.minDomains,
        eligible: c.eligible === undefined ? undefined : Uint8Array.from(c.eligible),
        weight: c.weight,
        passWhenEmpty: c.passWhenEmpty,
      }),
    ),
    score: {
      ...spec.score,
      fitResources: spec.score.fitResources.map((r) => ({ dim: r.dim, weight: r.weight })),
      shape: spec.score.shape.map((p) => ({ utilization: p.utilization, score: p.score })),
      balancedResources: spec.score.balancedResources.map((r) => ({ dim: r.dim, weight: r.weight })),
    },
    percentageOfNodesToScore: spec.percentageOfNodesToScore,
  };
}

export class ReferenceCore implements SchedulingCore {
  readonly kind: CoreKind = 'reference';
  readonly dims: CoreDims;

  private readonly present: Uint8Array;
  private readonly unschedulable: Uint8Array;
  private readonly allocatable: Float64Array;
  private readonly requested: Float64Array;
  /** [cpu, memory] per slot */
  private readonly nonZeroRequested: Float64Array;
  private readonly labels: Uint32Array;
  private readonly taints: Uint32Array;
  private readonly ports: Uint32Array;
  /** topology[key * nodes + slot] = domain id or -1 */
  private readonly topology: Int32Array;
  private readonly classes: Array<ClassSpec | undefined>;
  /** upstream's sched.nextStartNodeIndex, an index into the present-node iteration */
  private nextStartNodeIndex = 0;

  constructor(dims: CoreDims) {
    for (const k of ['nodes', 'resources', 'labelWords', 'taintWords', 'portWords', 'topologyKeys', 'classes'] as const) {
      const v = dims[k];
      if (!isInt(v) || v < 0) throw new RangeError(`CoreDims.${k} must be a non-negative integer, got ${v}`);
    }
    if (dims.resources < Dim.FIRST_EXTENDED || dims.resources > MAX_RESOURCES) {
      throw new RangeError(`CoreDims.resources must be in [${Dim.FIRST_EXTENDED}, ${MAX_RESOURCES}], got ${dims.resources}`);
    }
    this.dims = { ...dims };
    const n = dims.nodes;
    this.present = new Uint8Array(n);
    this.unschedulable = new Uint8Array(n);
    this.allocatable = new Float64Array(n * dims.resources);
    this.requested = new Float64Array(n * dims.resources);
    this.nonZeroRequested = new Float64Array(n * 2);
    this.labels = new Uint32Array(n * dims.labelWords);
    this.taints = new Uint32Array(n * dims.taintWords);
    this.ports = new Uint32Array(n * dims.portWords);
    this.topology = new Int32Array(dims.topologyKeys * n).fill(-1);
    this.classes = new Array<ClassSpec | undefined>(dims.classes).fill(undefined);
  }

  // ---- node state ----

  setNode(slot: number, node: NodeRecord): void {
    this.checkSlot(slot);
    const { resources, labelWords, taintWords } = this.dims;
    checkLength(`node ${slot} allocatable`, node.allocatable, resources);
    checkLength(`node ${slot} labels`, node.labels, labelWords);
    checkLength(`node ${slot} taints`, node.taints, taintWords);
    for (let d = 0; d < resources; d++) this.allocatable[slot * resources + d] = node.allocatable[d];
    this.labels.set(node.labels, slot * labelWords);
    this.taints.set(node.taints, slot * taintWords);
    this.unschedulable[slot] = node.unschedulable ? 1 : 0;
    this.present[slot] = 1;
  }

  setNodeUsage(slot: number, usage: NodeUsage): void {
    this.checkSlot(slot);
    const { resources, portWords } = this.dims;
    checkLength(`node ${slot} usage.requested`, usage.requested, resources);
    checkLength(`node ${slot} usage.nonZeroRequested`, usage.nonZeroRequested, 2);
    checkLength(`node ${slot} usage.ports`, usage.ports, portWords);
    for (let d = 0; d < resources; d++) this.requested[slot * resources + d] = usage.requested[d];
    this.nonZeroRequested[slot * 2] = usage.nonZeroRequested[0];
    this.nonZeroRequested[slot * 2 + 1] = usage.nonZeroRequested[1];
    this.ports.set(usage.ports, slot * portWords);
  }

  removeNode(slot: number): void {
    this.checkSlot(slot);
    const { resources, labelWords, taintWords, portWords } = this.dims;
    this.present[slot] = 0;
    this.unschedulable[slot] = 0;
    this.allocatable.fill(0, slot * resources, (slot + 1) * resources);
    this.requested.fill(0, slot * resources, (slot + 1) * resources);
    this.nonZeroRequested.fill(0, slot * 2, slot * 2 + 2);
    this.labels.fill(0, slot * labelWords, (slot + 1) * labelWords);
    this.taints.fill(0, slot * taintWords, (slot + 1) * taintWords);
    this.ports.fill(0, slot * portWords, (slot + 1) * portWords);
  }

  setTopology(key: number, domains: Int32Array): void {
    if (!isInt(key) || key < 0 || key >= this.dims.topologyKeys) {
      throw new RangeError(`topology key ${key} out of range [0, ${this.dims.topologyKeys})`);
    }
    checkLength(`topology key ${key} domains`, domains, this.dims.nodes);
    for (let s = 0; s < domains.length; s++) {
      if (domains[s] < -1) throw new RangeError(`topology key ${key}: slot ${s} has domain ${domains[s]} (want >= -1)`);
    }
    this.topology.set(domains, key * this.dims.nodes);
  }

  // ---- classes ----

  defineClass(id: number, spec: ClassSpec): void {
    this.checkClassId(id);
    this.validateClass(id, spec);
    this.classes[id] = copyClass(spec);
  }

  dropClass(id: number): void {
    this.checkClassId(id);
    this.classes[id] = undefined;
  }

  dispose(): void {
    this.classes.fill(undefined);
  }

  // ---- decisions ----

  place(id: number, count: number, out: Int32Array): number {
    const cls = this.getClass(id);
    if (!isInt(count) || count < 0) throw new RangeError(`place count must be a non-negative integer, got ${count}`);
    if (out.length < count) throw new RangeError(`place out has length ${out.length}, need at least ${count}`);
    this.checkDomains(id, cls);
    let placed = 0;
    while (placed < count) {
      const slot = this.decide(cls, this.prepare(cls));
      if (slot < 0) break;
      this.assume(cls, slot);
      out[placed++] = slot;
    }
    return placed;
  }

  diagnose(id: number, out: Int32Array): void {
    const cls = this.getClass(id);
    if (out.length < this.dims.nodes) throw new RangeError(`diagnose out has length ${out.length}, need at least ${this.dims.nodes}`);
    this.checkDomains(id, cls);
    const prep = this.prepare(cls);
    for (let slot = 0; slot < this.dims.nodes; slot++) {
      out[slot] = this.present[slot] ? this.reason(cls, prep, slot) : -1;
    }
  }

  diagnoseNode(id: number, slot: number): number {
    const cls = this.getClass(id);
    this.checkDomains(id, cls);
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.dims.nodes || !this.present[slot]) return -1;
    return this.reason(cls, this.prepare(cls), slot);
  }

  scores(id: number, out: Float64Array): void {
    const cls = this.getClass(id);
    if (out.length < this.dims.nodes) throw new RangeError(`scores out has length ${out.length}, need at least ${this.dims.nodes}`);
    this.checkDomains(id, cls);
    const prep = this.prepare(cls);
    const candidates: number[] = [];
    for (let slot = 0; slot < this.dims.nodes; slot++) {
      out[slot] = -1;
      if (this.present[slot] && this.reason(cls, prep, slot) === Reason.Fits) candidates.push(slot);
    }
    const totals = this.totals(cls, candidates);
    for (let i = 0; i < candidates.length; i++) out[candidates[i]] = totals[i];
  }

  /** One scheduling decision (no state change but nextStartNodeIndex); -1 when nothing fits. */
  private decide(cls: ClassSpec, prep: Prepared): number {
    const order: number[] = [];
    for (let slot = 0; slot < this.dims.nodes; slot++) if (this.present[slot]) order.push(slot);
    const n = order.length;
    if (n === 0) return -1;
    const candidates: number[] = [];
    if (cls.constraints.length > 0) {
      const want = numFeasibleNodesToFind(cls.percentageOfNodesToScore, n);
      const start = this.nextStartNodeIndex;
      let examined = 0;
      for (let i = 0; i < n && candidates.length < want; i++) {
        const slot = order[(start + i) % n];
        examined = i + 1;
        if (this.reason(cls, prep, slot) === Reason.Fits) candidates.push(slot);
      }
      this.nextStartNodeIndex = (start + examined) % n;
    } else {
      for (const slot of order) if (this.reason(cls, prep, slot) === Reason.Fits) candidates.push(slot);
    }
    if (candidates.length === 0) return -1;
    const totals = this.totals(cls, candidates);
    let best = -1;
    let bestTotal = -Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const t = totals[i];
      if (t > bestTotal || (t === bestTotal && candidates[i] < best)) {
        best = candidates[i];
        bestTotal = t;
      }
    }
    return best;
  }

  /** Rule 6: the placed pod's usage and its constraints' self increments. */
  private assume(cls: ClassSpec, slot: number): void {
    const { resources, portWords, nodes } = this.dims;
    for (let d = 0; d < resources; d++) this.requested[slot * resources + d] += cls.request[d];
    this.nonZeroRequested[slot * 2] += cls.nonZeroRequest[0];
    this.nonZeroRequested[slot * 2 + 1] += cls.nonZeroRequest[1];
    for (let w = 0; w < portWords; w++) this.ports[slot * portWords + w] |= cls.ports[w];
    for (const c of cls.constraints) {
      const dom = this.topology[c.key * nodes + slot];
      if (dom >= 0) c.counts[dom] += c.selfIncrement;
    }
  }

  // ---- filters ----

  /** What the domain filters read of the counts, computed once per decision (counts only change in assume). */
  private prepare(cls: ClassSpec): Prepared {
    const globalMins = new Float64Array(cls.constraints.length);
    let affinityTotal = 0;
    cls.constraints.forEach((c, i) => {
      if (c.kind === ConstraintKind.SpreadHard) globalMins[i] = globalMin(c);
      if (c.kind === ConstraintKind.Affinity) for (let d = 0; d < c.counts.length; d++) affinityTotal += c.counts[d];
    });
    return { globalMin: globalMins, affinityTotal };
  }

  /** Reason code of the first failing enabled filter on a present slot; 0 when it fits. */
  private reason(cls: ClassSpec, prep: Prepared, slot: number): number {
    const on = cls.filters;
    const r = this.staticReason(cls, slot);
    if (r !== Reason.Fits) return r;
    if (on & Filter.NodePorts) {
      const pw = this.dims.portWords;
      for (let w = 0; w < pw; w++) {
        if ((this.ports[slot * pw + w] & cls.ports[w]) !== 0) return Reason.NodePorts;
      }
    }
    if (on & Filter.NodeResourcesFit) {
      const R = this.dims.resources;
      let insufficient = 0;
      for (let d = 0; d < R; d++) {
        if (d !== Dim.PODS && !(cls.request[d] > 0)) continue;
        if (this.requested[slot * R + d] + cls.request[d] > this.allocatable[slot * R + d]) insufficient |= 1 << d;
      }
      if (insufficient !== 0) return Reason.Insufficient | (insufficient << 8);
    }
    if (on & Filter.PodTopologySpread) {
      for (let i = 0; i < cls.constraints.length; i++) {
        const c = cls.constraints[i];
        if (c.kind !== ConstraintKind.SpreadHard) continue;
        const dom = this.domain(c.key, slot);
        if (dom < 0) return Reason.SpreadMissingLabel | (i << 8);
        if (c.counts[dom] + c.selfIncrement - prep.globalMin[i] > c.maxSkew) return Reason.SpreadSkew | (i << 8);
      }
    }
    if (on & Filter.InterPodAffinity) {
      for (let i = 0; i < cls.constraints.length; i++) {
        const c = cls.constraints[i];
        if (c.kind !== ConstraintKind.Affinity) continue;
        const dom = this.domain(c.key, slot);
        if (dom < 0) return Reason.PodAffinity | (i << 8);
        if (c.counts[dom] <= 0 && !(c.passWhenEmpty && prep.affinityTotal === 0)) return Reason.PodAffinity | (i << 8);
      }
      for (let i = 0; i < cls.constraints.length; i++) {
        const c = cls.constraints[i];
        if (c.kind !== ConstraintKind.AntiAffinity) continue;
        const dom = this.domain(c.key, slot);
        if (dom >= 0 && c.counts[dom] > 0) return Reason.PodAntiAffinity | (i << 8);
      }
      for (let i = 0; i < cls.constraints.length; i++) {
        const c = cls.constraints[i];
        if (c.kind !== ConstraintKind.ExistingAntiAffinity) continue;
        const dom = this.domain(c.key, slot);
        if (dom >= 0 && c.counts[dom] > 0) return Reason.ExistingAntiAffinity | (i << 8);
      }
    }
    return Reason.Fits;
  }

  /** The first four filters: they do not change as pods are placed. */
  private staticReason(cls: ClassSpec, slot: number): number {
    const on = cls.filters;
    if (on & Filter.NodeUnschedulable) {
      if (this.unschedulable[slot] && !cls.toleratesUnschedulable) return Reason.Unschedulable;
    }
    if (on & Filter.NodeName) {
      if (cls.nodeNameSlot === -2 || (cls.nodeNameSlot >= 0 && slot !== cls.nodeNameSlot)) return Reason.NodeName;
    }
    if (on & Filter.TaintToleration) {
      const tw = this.dims.taintWords;
      for (let w = 0; w < tw; w++) {
        const hit = this.taints[slot * tw + w] & cls.untoleratedHard[w];
        if (hit !== 0) {
          const bit = 31 - Math.clz32(hit & -hit);
          return Reason.Taint | ((w * 32 + bit) << 8);
        }
      }
    }
    if (on & Filter.NodeAffinity) {
      if (!this.hasAll(slot, cls.selector)) return Reason.NodeAffinity;
      if (cls.requiredTerms.length > 0) {
        let any = false;
        for (const term of cls.requiredTerms) {
          if (!isZero(term) && this.hasAll(slot, term)) {
            any = true;
            break;
          }
        }
        if (!any) return Reason.NodeAffinity;
      }
    }
    return Reason.Fits;
  }

  /** The node satisfies every requirement bit of `mask`. */
  private hasAll(slot: number, mask: Uint32Array): boolean {
    const lw = this.dims.labelWords;
    for (let w = 0; w < lw; w++) {
      if (((this.labels[slot * lw + w] & mask[w]) >>> 0) !== mask[w]) return false;
    }
    return true;
  }

  private domain(key: number, slot: number): number {
    return this.topology[key * this.dims.nodes + slot];
  }

  // ---- scores ----

  /** Total score of each candidate (feasible nodes of one decision), aligned with `candidates`. */
  private totals(cls: ClassSpec, candidates: number[]): Float64Array {
    const sc = cls.score;
    const out = new Float64Array(candidates.length);
    // Static normalizers over every statically feasible present node (types.ts rule 2).
    let maxTaint = 0;
    let maxAffinity = 0;
    for (let slot = 0; slot < this.dims.nodes; slot++) {
      if (!this.present[slot] || this.staticReason(cls, slot) !== Reason.Fits) continue;
      const t = this.preferredTaintCount(cls, slot);
      if (t > maxTaint) maxTaint = t;
      const a = this.preferredAffinitySum(cls, slot);
      if (a > maxAffinity) maxAffinity = a;
    }
    const spread = this.spreadScores(cls, candidates);
    const ipa = this.interPodAffinityScores(cls, candidates);
    for (let i = 0; i < candidates.length; i++) {
      const slot = candidates[i];
      const fit = sc.fitWeight !== 0 ? this.fitScore(cls, slot) : 0;
      const balanced = sc.balancedWeight !== 0 ? this.balancedScore(cls, slot) : 0;
      const taint =
        maxTaint === 0 ? MAX_NODE_SCORE : MAX_NODE_SCORE - Math.floor((this.preferredTaintCount(cls, slot) * MAX_NODE_SCORE) / maxTaint);
      const nodeAffinity = maxAffinity === 0 ? 0 : Math.floor((this.preferredAffinitySum(cls, slot) * MAX_NODE_SCORE) / maxAffinity);
      out[i] =
        sc.fitWeight * fit +
        sc.balancedWeight * balanced +
        sc.taintWeight * taint +
        sc.nodeAffinityWeight * nodeAffinity +
        sc.spreadWeight * spread[i] +
        sc.interPodAffinityWeight * ipa[i];
    }
    return out;
  }

  private preferredTaintCount(cls: ClassSpec, slot: number): number {
    const tw = this.dims.taintWords;
    let count = 0;
    for (let w = 0; w < tw; w++) count += popcount32(this.taints[slot * tw + w] & cls.untoleratedPreferred[w]);
    return count;
  }

  private preferredAffinitySum(cls: ClassSpec, slot: number): number {
    let sum = 0;
    for (const term of cls.preferredTerms) {
      if (!isZero(term.mask) && this.hasAll(slot, term.mask)) sum += term.weight;
    }
    return sum;
  }

  /**
   * The (allocatable, requested-with-pod) pair upstream's resourceAllocationScorer uses for
   * dimension d, or null when upstream skips it. `useRequested` is BalancedAllocation's mode.
   */
  private resourcePair(cls: ClassSpec, slot: number, d: number, useRequested: boolean): [number, number] | null {
    const R = this.dims.resources;
    if (d === Dim.PODS) return null;
    if (d >= Dim.FIRST_EXTENDED && cls.request[d] === 0) return null;
    const alloc = this.allocatable[slot * R + d];
    if (alloc === 0) return null;
    if (!useRequested && (d === Dim.CPU || d === Dim.MEMORY)) {
      return [alloc, this.nonZeroRequested[slot * 2 + d] + cls.nonZeroRequest[d]];
    }
    return [alloc, this.requested[slot * R + d] + cls.request[d]];
  }

  private fitScore(cls: ClassSpec, slot: number): number {
    const sc = cls.score;
    let nodeScore = 0;
    let weightSum = 0;
    if (sc.strategy === ScoringStrategy.RequestedToCapacityRatio) {
      for (const { dim, weight } of sc.fitResources) {
        const pair = this.resourcePair(cls, slot, dim, false);
        if (pair === null) continue;
        const [alloc, req] = pair;
        const p = req > alloc ? 100 : Math.floor((req * 100) / alloc);
        const s = brokenLinear(sc.shape, p);
        if (s > 0) {
          nodeScore += s * weight;
          weightSum += weight;
        }
      }
      return weightSum === 0 ? 0 : goRound(nodeScore / weightSum);
    }
    const most = sc.strategy === ScoringStrategy.MostAllocated;
    for (const { dim, weight } of sc.fitResources) {
      const pair = this.resourcePair(cls, slot, dim, false);
      if (pair === null) continue;
      const [alloc, req] = pair;
      let s: number;
      if (most) s = Math.floor((Math.min(req, alloc) * MAX_NODE_SCORE) / alloc);
      else s = req > alloc ? 0 : Math.floor(((alloc - req) * MAX_NODE_SCORE) / alloc);
      nodeScore += s * weight;
      weightSum += weight;
    }
    return weightSum === 0 ? 0 : Math.floor(nodeScore / weightSum);
  }

  private balancedScore(cls: ClassSpec, slot: number): number {
    const fractions: number[] = [];
    let total = 0;
    for (const { dim } of cls.score.balancedResources) {
      const pair = this.resourcePair(cls, slot, dim, true);
      if (pair === null) continue;
      let f = pair[1] / pair[0];
      if (f > 1) f = 1;
      total += f;
      fractions.push(f);
    }
    let std = 0;
    if (fractions.length === 2) {
      std = Math.abs((fractions[0] - fractions[1]) / 2);
    } else if (fractions.length > 2) {
      const mean = total / fractions.length;
      let sum = 0;
      for (const f of fractions) sum = sum + (f - mean) * (f - mean);
      std = Math.sqrt(sum / fractions.length);
    }
    return Math.floor((1 - std) * MAX_NODE_SCORE);
  }

  /** upstream podtopologyspread/scoring.go Score + NormalizeScore over the candidates. */
  private spreadScores(cls: ClassSpec, candidates: number[]): Float64Array {
    const out = new Float64Array(candidates.length);
    const soft = cls.constraints.filter((c) => c.kind === ConstraintKind.SpreadSoft);
    if (soft.length === 0) return out;
    const raw = new Float64Array(candidates.length);
    const ignored = new Uint8Array(candidates.length);
    let minScore = Infinity;
    let maxScore = 0;
    for (let i = 0; i < candidates.length; i++) {
      let x = 0;
      for (const c of soft) {
        const dom = this.domain(c.key, candidates[i]);
        if (dom < 0) {
          ignored[i] = 1;
          break;
        }
        x = x + (c.counts[dom] * c.weight + (c.maxSkew - 1));
      }
      if (ignored[i]) continue;
      raw[i] = goRound(x);
      if (raw[i] < minScore) minScore = raw[i];
      if (raw[i] > maxScore) maxScore = raw[i];
    }
    for (let i = 0; i < candidates.length; i++) {
      if (ignored[i]) out[i] = 0;
      else if (maxScore === 0) out[i] = MAX_NODE_SCORE;
      else out[i] = Math.floor((MAX_NODE_SCORE * (maxScore + minScore - raw[i])) / maxScore);
    }
    return out;
  }

  /** upstream interpodaffinity/scoring.go Score + NormalizeScore over the candidates. */
  private interPodAffinityScores(cls: ClassSpec, candidates: number[]): Float64Array {
    const out = new Float64Array(candidates.length);
    const terms = cls.constraints.filter((c) => c.kind === ConstraintKind.AffinityScore);
    if (terms.length === 0 || candidates.length === 0) return out;
    const raw = new Float64Array(candidates.length);
    let minCount = Infinity;
    let maxCount = -Infinity;
    for (let i = 0; i < candidates.length; i++) {
      let s = 0;
      for (const c of terms) {
        const dom = this.domain(c.key, candidates[i]);
        if (dom >= 0) s += c.counts[dom];
      }
      raw[i] = s;
      if (s > maxCount) maxCount = s;
      if (s < minCount) minCount = s;
    }
    const diff = maxCount - minCount;
    for (let i = 0; i < candidates.length; i++) {
      out[i] = diff > 0 ? Math.floor(MAX_NODE_SCORE * ((raw[i] - minCount) / diff)) : 0;
    }
    return out;
  }

  // ---- validation ----

  private checkSlot(slot: number): void {
    if (!isInt(slot) || slot < 0 || slot >= this.dims.nodes) {
      throw new RangeError(`node slot ${slot} out of range [0, ${this.dims.nodes})`);
    }
  }

  private checkClassId(id: number): void {
    if (!isInt(id) || id < 0 || id >= this.dims.classes) {
      throw new RangeError(`class id ${id} out of range [0, ${this.dims.classes})`);
    }
  }

  private getClass(id: number): ClassSpec {
    this.checkClassId(id);
    const cls = this.classes[id];
    if (cls === undefined) throw new RangeError(`class ${id} is not defined`);
    return cls;
  }

  private validateClass(id: number, spec: ClassSpec): void {
    const { resources, labelWords, taintWords, portWords, topologyKeys, nodes } = this.dims;
    const at = `class ${id}`;
    checkLength(`${at} request`, spec.request, resources);
    checkLength(`${at} nonZeroRequest`, spec.nonZeroRequest, 2);
    checkLength(`${at} untoleratedHard`, spec.untoleratedHard, taintWords);
    checkLength(`${at} untoleratedPreferred`, spec.untoleratedPreferred, taintWords);
    checkLength(`${at} selector`, spec.selector, labelWords);
    checkLength(`${at} ports`, spec.ports, portWords);
    spec.requiredTerms.forEach((t, i) => checkLength(`${at} requiredTerms[${i}]`, t, labelWords));
    spec.preferredTerms.forEach((t, i) => checkLength(`${at} preferredTerms[${i}].mask`, t.mask, labelWords));
    if (!isInt(spec.nodeNameSlot) || spec.nodeNameSlot < -2 || spec.nodeNameSlot >= nodes) {
      throw new RangeError(`${at} nodeNameSlot ${spec.nodeNameSlot} out of range [-2, ${nodes})`);
    }
    const pct = spec.percentageOfNodesToScore;
    if (!isInt(pct) || pct < 0 || pct > 100) throw new RangeError(`${at} percentageOfNodesToScore ${pct} out of range [0, 100]`);
    spec.constraints.forEach((c, i) => {
      if (!isInt(c.kind) || c.kind < ConstraintKind.SpreadHard || c.kind > ConstraintKind.AffinityScore) {
        throw new RangeError(`${at} constraints[${i}] has unknown kind ${c.kind}`);
      }
      if (!isInt(c.key) || c.key < 0 || c.key >= topologyKeys) {
        throw new RangeError(`${at} constraints[${i}] topology key ${c.key} out of range [0, ${topologyKeys})`);
      }
      if (c.eligible !== undefined) checkLength(`${at} constraints[${i}].eligible`, c.eligible, c.counts.length);
    });
    const dimsOk = (what: string, list: Array<{ dim: number }>) =>
      list.forEach((r, i) => {
        if (!isInt(r.dim) || r.dim < 0 || r.dim >= resources) {
          throw new RangeError(`${at} ${what}[${i}] dimension ${r.dim} out of range [0, ${resources})`);
        }
      });
    dimsOk('score.fitResources', spec.score.fitResources);
    dimsOk('score.balancedResources', spec.score.balancedResources);
    if (spec.score.strategy === ScoringStrategy.RequestedToCapacityRatio && spec.score.shape.length === 0) {
      throw new RangeError(`${at} RequestedToCapacityRatio needs at least one shape point`);
    }
  }

  /** Every present node's domain must index its constraints' counts. */
  private checkDomains(id: number, cls: ClassSpec): void {
    cls.constraints.forEach((c, i) => {
      for (let slot = 0; slot < this.dims.nodes; slot++) {
        if (!this.present[slot]) continue;
        const dom = this.domain(c.key, slot);
        if (dom >= c.counts.length) {
          throw new RangeError(
            `class ${id} constraints[${i}]: slot ${slot} is in domain ${dom} of topology key ${c.key}, but counts has length ${c.counts.length}`,
          );
        }
      }
    });
  }
}

interface Prepared {
  /** per constraint index: SpreadHard's global minimum */
  globalMin: Float64Array;
  /** sum of every Affinity constraint's counts */
  affinityTotal: number;
}

function isZero(mask: Uint32Array): boolean {
  for (let w = 0; w < mask.length; w++) if (mask[w] !== 0) return false;
  return true;
}

/** SpreadHard's global minimum (upstream preFilterState.minMatchNum). */
function globalMin(c: DomainConstraint): number {
  let eligibleCount = 0;
  let min = Infinity;
  for (let d = 0; d < c.counts.length; d++) {
    if (c.eligible !== undefined && !c.eligible[d]) continue;
    eligibleCount++;
    if (c.counts[d] < min) min = c.counts[d];
  }
  if (eligibleCount === 0 || eligibleCount < c.minDomains) return 0;
  return min;
}

/** upstream helper.BuildBrokenLinearFunction with shape scores scaled x10 (MaxNodeScore / MaxCustomPriorityScore). */
function brokenLinear(shape: Array<{ utilization: number; score: number }>, p: number): number {
  for (let i = 0; i < shape.length; i++) {
    if (p <= shape[i].utilization) {
      if (i === 0) return shape[0].score * 10;
      const s0 = shape[i - 1].score * 10;
      const s1 = shape[i].score * 10;
      return s0 + truncDiv((s1 - s0) * (p - shape[i - 1].utilization), shape[i].utilization - shape[i - 1].utilization);
    }
  }
  return shape[shape.length - 1].score * 10;
}
