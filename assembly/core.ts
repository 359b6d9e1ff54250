/**
 * Flotilla's scheduling core in WebAssembly: filter, score and bin-pack pods of one
 * equivalence class over every node, implementing services/scheduler/core/types.ts (the
 * contract; the TypeScript reference core is the oracle for anything it leaves open).
 * Built twice from this source (asconfig.json): scalar, and SIMD (`ASC_FEATURE_SIMD`), which
 * tests label/taint bit words of four nodes per v128 and checks/scores resources of two
 * nodes per f64x2. Both builds give bit-identical results: every SIMD lane op is the same
 * IEEE operation the scalar path performs.
 *
 * ============================== MEMORY LAYOUT ==============================
 * No GC-managed objects: everything lives in blocks from `heap.alloc` (the TLSF allocator of
 * `--runtime minimal`, 16-byte aligned; memory grows as needed, so JS re-creates its typed
 * array views after any call that may allocate: init, classAlloc, place, diagnose, scores).
 *
 * Sizes: nodeSlots node slots; paddedNodeSlots = nodeSlots rounded up to a multiple of 4 (so
 * v128 lanes over 4 u32 node words and f64x2 lanes over 2 f64 node values never straddle a
 * row); resourceDims resource dimensions; labelWordCount, taintWordCount and portWordCount
 * u32 words of label, taint and port bits; topologyKeyCount topology keys; classCount classes.
 * Below, NP stands for paddedNodeSlots.
 *
 * Node vectors, structure of arrays, one row of NP per dimension/word ("row-major by
 * dimension": element (d, n) at row base + (d * NP + n) * size):
 *   alloc      f64 [resourceDims][NP]      allocatable                          written by JS (setNode)
 *   requested  f64 [resourceDims][NP]      summed requests (+ placements)       JS (setNodeUsage) + core (place)
 *   nonZero    f64 [2][NP]                 summed non-zero cpu, memory          JS (setNodeUsage) + core (place)
 *   labels     u32 [labelWordCount][NP]    requirement bits a node satisfies    JS (setNode)
 *   taints     u32 [taintWordCount][NP]    taint bits a node carries            JS (setNode)
 *   ports      u32 [portWordCount][NP]     host-port bits in use                JS (setNodeUsage) + core (place)
 *   flags      u32 [NP]                    bit 0 present, bit 1 unschedulable   JS (setNode/removeNode)
 *   topo       i32 [topologyKeyCount][NP]  domain id per key, -1 = no label     JS (setTopology)
 * After writing a node, JS calls nodeTouched(slot, staticChanged) so class indexes learn of it.
 *
 * Output buffers (core writes, JS reads): outI32 i32[NP] (place slots, diagnose reasons),
 * outF64 f64[NP] (scores). Scan scratch (core only): 3 x f64[NP] + i32[NP].
 * Change log: ring i32[RING] of touched slots, RING a power of two; `logSeq` counts pushes.
 *
 * The layout table init() returns, the node flags, the class blob JS writes for each class
 * (from classAlloc, then classReady; the core only ever writes the constraint counts, rule 6)
 * and its constraint records are laid out in assembly/layout.ts, which the loader
 * (services/scheduler/core/wasm.ts) imports too.
 *
 * Class state (core only), CLASS_STATE_SIZE bytes per class id in one table:
 *   0 blob  4 hasConstraints  8 static (f64[NP] TaintToleration score, -1 = statically infeasible)
 *  12 aux f64[NP] (NodeAffinity score)  16 tree  20 P2 (leaf count)  24 epoch (static
 *  epoch the arrays were built for, -1 = never)  32 i64 seq (log position replayed)
 *  40 simdPref (1 when preferred weights are int32)
 *  44 leaves f64[NP] (classes with constraints: each node's leafValue, -1 = does not fit)
 *
 * The index (rule 5, classes without constraints): a max segment tree over node slots,
 * values f64[2*P2] then winner slots i32[2*P2]; leaf P2+n holds node n's total score or -1
 * when it does not fit; an inner node keeps the larger child, the left (lower slots) on
 * ties, so the root is exactly the full scan's answer. Built in O(nodeSlots) when the static epoch
 * changes (labels, taints, unschedulable, presence: they change the static normalisation
 * maxima) or the change log overflowed; otherwise the class replays the log (O(log nodeSlots) per
 * slot) and each placement updates one leaf.
 *
 * The leaves (rule 5 for classes with constraints): what the index's leaves hold, without
 * the tree above them, since a constrained pod's total also depends on the other
 * candidates. Kept up to date as the index is (built per static epoch, the log replayed,
 * each placement's slot recomputed), so a scan reads a node's resources, taints and node
 * affinity part instead of computing it for every node it examines.
 */

import {
  F_UNSCHEDULABLE, F_NODENAME, F_TAINT, F_AFFINITY, F_PORTS, F_FIT, F_SPREAD, F_IPA,
  R_UNSCHEDULABLE, R_NODENAME, R_TAINT, R_AFFINITY, R_PORTS, R_INSUFFICIENT, R_SPREAD_MISSING, R_SPREAD_SKEW, R_POD_AFFINITY, R_POD_ANTI, R_EXISTING_ANTI,
  K_SPREAD_HARD, K_SPREAD_SOFT, K_AFFINITY, K_ANTI, K_EXISTING_ANTI, K_AFFINITY_SCORE,
  S_LEAST, S_MOST, DIM_PODS, NODE_PRESENT, NODE_UNSCHEDULABLE,
  LAYOUT_SIZE, L_NP, L_ALLOC, L_REQUESTED, L_NONZERO, L_LABELS, L_TAINTS, L_PORTS, L_FLAGS, L_TOPO, L_OUT_I32, L_OUT_F64,
  H_FILTERS, H_FLAGS, H_NODENAME, H_STRATEGY, H_NREQ, H_NPREF, H_NFIT, H_NSHAPE, H_NBAL, H_NCONS,
  H_REQUEST, H_NZ, H_UNTOL_HARD, H_UNTOL_PREF, H_SELECTOR, H_REQTERMS, H_PREFW, H_PREFMASK, H_PORTS, H_FIT, H_SHAPE, H_BAL, H_CONS,
  H_PCT, H_W_FIT, H_W_BAL, H_W_TAINT, H_W_NA, H_W_SPREAD, H_W_IPA,
  CR_SIZE, CR_KIND, CR_KEY, CR_ND, CR_PASS_EMPTY, CR_COUNTS, CR_ELIGIBLE, CR_SELF, CR_MAXSKEW, CR_MINDOMAINS, CR_WEIGHT,
} from './layout';

// class state
const CLASS_STATE_SIZE = 48;
const CS_BLOB = 0;
const CS_HASCONS = 4;
const CS_STATIC = 8;
const CS_AUX = 12;
const CS_TREE = 16;
const CS_P2 = 20;
const CS_EPOCH = 24;
const CS_SEQ = 32;
const CS_SIMDPREF = 40;
const CS_LEAVES = 44;

// ---- dimensions and region bases ----
let nodeSlots: i32 = 0;
let paddedNodeSlots: i32 = 0;
let resourceDims: i32 = 0;
let labelWordCount: i32 = 0;
let taintWordCount: i32 = 0;
let portWordCount: i32 = 0;
let topologyKeyCount: i32 = 0;
let classCount: i32 = 0;
let pAlloc: usize = 0;
let pReq: usize = 0;
let pNz: usize = 0;
let pLabels: usize = 0;
let pTaints: usize = 0;
let pPorts: usize = 0;
let pFlags: usize = 0;
let pTopo: usize = 0;
let pOutI32: usize = 0;
let pOutF64: usize = 0;
let pClass: usize = 0;
let pLayout: usize = 0;
// scan scratch
let pScanSlot: usize = 0;
let pScanBase: usize = 0;
let pScanSpread: usize = 0;
let pScanIpa: usize = 0;
// change log
let pRing: usize = 0;
let RING: i32 = 0;
let logSeq: i64 = 0;
// bumped when labels, taints, unschedulable or presence change: all static arrays go stale
let staticEpoch: i32 = 0;
let presentEpoch: i32 = -1;
let presentCount: i32 = 0;
let pPresent: usize = 0;
// upstream's sched.nextStartNodeIndex: one per core, shared by every class, an index into
// the present slots; kept raw (it may exceed a since-shrunk present count)
let nextStart: i32 = 0;

function zalloc(bytes: i32): usize {
  const p = heap.alloc(<usize>max(bytes, 16));
  memory.fill(p, 0, <usize>max(bytes, 16));
  return p;
}

// ---- element accessors (row-major by dimension, see layout) ----
@inline function allocAt(d: i32, n: i32): f64 {
  return load<f64>(pAlloc + ((<usize>(d * paddedNodeSlots + n)) << 3));
}
@inline function reqAt(d: i32, n: i32): f64 {
  return load<f64>(pReq + ((<usize>(d * paddedNodeSlots + n)) << 3));
}
@inline function nzAt(d: i32, n: i32): f64 {
  return load<f64>(pNz + ((<usize>(d * paddedNodeSlots + n)) << 3));
}
@inline function labelWord(w: i32, n: i32): u32 {
  return load<u32>(pLabels + ((<usize>(w * paddedNodeSlots + n)) << 2));
}
@inline function taintWord(w: i32, n: i32): u32 {
  return load<u32>(pTaints + ((<usize>(w * paddedNodeSlots + n)) << 2));
}
@inline function portWord(w: i32, n: i32): u32 {
  return load<u32>(pPorts + ((<usize>(w * paddedNodeSlots + n)) << 2));
}
@inline function flagsAt(n: i32): u32 {
  return load<u32>(pFlags + ((<usize>n) << 2));
}
@inline function domainOf(key: i32, n: i32): i32 {
  return load<i32>(pTopo + ((<usize>(key * paddedNodeSlots + n)) << 2));
}
@inline function hI32(b: usize, off: i32): i32 {
  return load<i32>(b + <usize>off);
}
@inline function hF64(b: usize, off: i32): f64 {
  return load<f64>(b + <usize>off);
}
@inline function arr(b: usize, off: i32): usize {
  return b + <usize>load<i32>(b + <usize>off);
}
@inline function cs(id: i32): usize {
  return pClass + <usize>(id * CLASS_STATE_SIZE);
}

/**
 * Sets the sizes and allocates every node region (zeroed: no node present). Returns the
 * layout table's address (see the header).
 */
export function init(nodes: i32, resources: i32, labelWords: i32, taintWords: i32, portWords: i32, topologyKeys: i32, classes: i32): usize {
  nodeSlots = nodes;
  paddedNodeSlots = (nodes + 3) & ~3;
  if (paddedNodeSlots == 0) paddedNodeSlots = 4;
  resourceDims = resources;
  labelWordCount = labelWords;
  taintWordCount = taintWords;
  portWordCount = portWords;
  topologyKeyCount = topologyKeys;
  classCount = classes;
  pAlloc = zalloc(resourceDims * paddedNodeSlots * 8);
  pReq = zalloc(resourceDims * paddedNodeSlots * 8);
  pNz = zalloc(2 * paddedNodeSlots * 8);
  pLabels = zalloc(labelWordCount * paddedNodeSlots * 4);
  pTaints = zalloc(taintWordCount * paddedNodeSlots * 4);
  pPorts = zalloc(portWordCount * paddedNodeSlots * 4);
  pFlags = zalloc(paddedNodeSlots * 4);
  pTopo = zalloc(topologyKeyCount * paddedNodeSlots * 4);
  memory.fill(pTopo, 0xff, <usize>(topologyKeyCount * paddedNodeSlots * 4));
  pOutI32 = zalloc(paddedNodeSlots * 4);
  pOutF64 = zalloc(paddedNodeSlots * 8);
  pScanSlot = zalloc(paddedNodeSlots * 4);
  pScanBase = zalloc(paddedNodeSlots * 8);
  pScanSpread = zalloc(paddedNodeSlots * 8);
  pScanIpa = zalloc(paddedNodeSlots * 8);
  pPresent = zalloc(paddedNodeSlots * 4);
  pClass = zalloc(classCount * CLASS_STATE_SIZE);
  for (let i = 0; i < classCount; i++) store<i32>(cs(i) + CS_EPOCH, -1);
  // A ring of about nodeSlots/16 slots: replaying more than that costs as much as a rebuild.
  RING = 256;
  while (RING < paddedNodeSlots / 16) RING <<= 1;
  pRing = zalloc(RING * 4);
  pLayout = zalloc(LAYOUT_SIZE * 4);
  store<i32>(pLayout + (L_NP << 2), paddedNodeSlots);
  store<i32>(pLayout + (L_ALLOC << 2), <i32>pAlloc);
  store<i32>(pLayout + (L_REQUESTED << 2), <i32>pReq);
  store<i32>(pLayout + (L_NONZERO << 2), <i32>pNz);
  store<i32>(pLayout + (L_LABELS << 2), <i32>pLabels);
  store<i32>(pLayout + (L_TAINTS << 2), <i32>pTaints);
  store<i32>(pLayout + (L_PORTS << 2), <i32>pPorts);
  store<i32>(pLayout + (L_FLAGS << 2), <i32>pFlags);
  store<i32>(pLayout + (L_TOPO << 2), <i32>pTopo);
  store<i32>(pLayout + (L_OUT_I32 << 2), <i32>pOutI32);
  store<i32>(pLayout + (L_OUT_F64 << 2), <i32>pOutF64);
  return pLayout;
}

/**
 * JS changed node `slot`. Static changes (labels, taints, unschedulable, presence) stale
 * every class's static arrays; usage and allocatable changes go to the change log.
 */
export function nodeTouched(slot: i32, staticChanged: i32): void {
  if (staticChanged != 0) staticEpoch++;
  else pushLog(slot);
}

function pushLog(slot: i32): void {
  store<i32>(pRing + ((<usize>(<i32>(logSeq & <i64>(RING - 1)))) << 2), slot);
  logSeq++;
}

/** Frees class `id`'s blob and index, then allocates a zeroed blob of `bytes` for JS to fill. */
export function classAlloc(id: i32, bytes: i32): usize {
  classDrop(id);
  const b = zalloc(bytes);
  store<usize>(cs(id) + CS_BLOB, b);
  return b;
}

/** JS finished writing class `id`'s blob. */
export function classReady(id: i32): void {
  const c = cs(id);
  const b = load<usize>(c + CS_BLOB);
  store<i32>(c + CS_HASCONS, hI32(b, H_NCONS) > 0 ? 1 : 0);
  store<i32>(c + CS_EPOCH, -1);
  // The SIMD static pass sums preferred weights in i32 lanes: exact only for int32 weights.
  let ints = 1;
  const np = hI32(b, H_NPREF);
  const pw = arr(b, H_PREFW);
  for (let t = 0; t < np; t++) {
    const w = load<f64>(pw + ((<usize>t) << 3));
    if (w != Math.floor(w) || Math.abs(w) > 1e9) ints = 0;
  }
  store<i32>(c + CS_SIMDPREF, ints);
}

export function classDrop(id: i32): void {
  const c = cs(id);
  const b = load<usize>(c + CS_BLOB);
  if (b != 0) heap.free(b);
  const st = load<usize>(c + CS_STATIC);
  if (st != 0) heap.free(st);
  const ax = load<usize>(c + CS_AUX);
  if (ax != 0) heap.free(ax);
  const tr = load<usize>(c + CS_TREE);
  if (tr != 0) heap.free(tr);
  const lv = load<usize>(c + CS_LEAVES);
  if (lv != 0) heap.free(lv);
  memory.fill(c, 0, CLASS_STATE_SIZE);
  store<i32>(c + CS_EPOCH, -1);
}

// ============================== filters ==============================

/** First failing static filter (rule 2) as a reason code, 0 when the node passes them. */
function staticReason(b: usize, n: i32): i32 {
  const filters = hI32(b, H_FILTERS);
  const fl = flagsAt(n);
  if ((filters & F_UNSCHEDULABLE) != 0 && (fl & NODE_UNSCHEDULABLE) != 0 && (hI32(b, H_FLAGS) & 1) == 0) return R_UNSCHEDULABLE;
  if ((filters & F_NODENAME) != 0) {
    const want = hI32(b, H_NODENAME);
    if (want == -2 || (want >= 0 && want != n)) return R_NODENAME;
  }
  if ((filters & F_TAINT) != 0) {
    const ut = arr(b, H_UNTOL_HARD);
    for (let w = 0; w < taintWordCount; w++) {
      const x = taintWord(w, n) & load<u32>(ut + ((<usize>w) << 2));
      if (x != 0) return R_TAINT | ((w * 32 + <i32>ctz(x)) << 8);
    }
  }
  if ((filters & F_AFFINITY) != 0 && !affinityMatches(b, n)) return R_AFFINITY;
  return 0;
}


/**
 * Whether node n has every bit of term t in a list of labelWordCount-word masks. A term with no bits
 * matches no node, as upstream's empty NodeSelectorTerm / preferred term.
 */
@inline
function termMatches(masks: usize, t: i32, n: i32): bool {
  let any = false;
  for (let w = 0; w < labelWordCount; w++) {
    const m = load<u32>(masks + ((<usize>(t * labelWordCount + w)) << 2));
    if (m != 0) any = true;
    if ((labelWord(w, n) & m) != m) return false;
  }
  return any;
}

function affinityMatches(b: usize, n: i32): bool {
  const sel = arr(b, H_SELECTOR);
  for (let w = 0; w < labelWordCount; w++) {
    const m = load<u32>(sel + ((<usize>w) << 2));
    if ((labelWord(w, n) & m) != m) return false;
  }
  const nt = hI32(b, H_NREQ);
  if (nt == 0) return true;
  const terms = arr(b, H_REQTERMS);
  for (let t = 0; t < nt; t++) {
    if (termMatches(terms, t, n)) return true;
  }
  return false;
}

/** NodePorts then NodeResourcesFit: reason code, 0 when both pass (or are disabled). */
function dynamicReason(b: usize, n: i32): i32 {
  const filters = hI32(b, H_FILTERS);
  if ((filters & F_PORTS) != 0) {
    const pp = arr(b, H_PORTS);
    for (let w = 0; w < portWordCount; w++) {
      if ((portWord(w, n) & load<u32>(pp + ((<usize>w) << 2))) != 0) return R_PORTS;
    }
  }
  if ((filters & F_FIT) != 0) {
    const rq = arr(b, H_REQUEST);
    let bad = 0;
    for (let d = 0; d < resourceDims; d++) {
      const r = load<f64>(rq + ((<usize>d) << 3));
      if (d != DIM_PODS && !(r > 0)) continue;
      if (reqAt(d, n) + r > allocAt(d, n)) bad |= 1 << d;
    }
    if (bad != 0) return R_INSUFFICIENT | (bad << 8);
  }
  return 0;
}

// Per-constraint scratch of prepareConstraints (a static buffer, not a managed array):
// SpreadHard global minimum by constraint index; the sum of all Affinity constraints' counts.
const MAX_CONS = 256;
const cMinBuf = memory.data(MAX_CONS * 8);
let affinityTotal: f64 = 0;
// bit (1 << kind) set for each constraint kind the class has: constraintReason, run for every
// node a scan examines, skips the passes over kinds the class lacks
let consKinds: i32 = 0;

/** Per-placement constraint state: SpreadHard global minima, Affinity count sums, the kinds present. */
function prepareConstraints(b: usize): void {
  const nc = hI32(b, H_NCONS);
  const cons = arr(b, H_CONS);
  affinityTotal = 0;
  consKinds = 0;
  for (let i = 0; i < nc; i++) {
    const cr = cons + <usize>(i * CR_SIZE);
    const kind = load<i32>(cr + CR_KIND);
    consKinds |= 1 << kind;
    const nd = load<i32>(cr + CR_ND);
    const counts = b + <usize>load<i32>(cr + CR_COUNTS);
    if (kind == K_SPREAD_HARD) {
      const eoff = load<i32>(cr + CR_ELIGIBLE);
      let eligible = 0;
      let mn = Infinity;
      for (let d = 0; d < nd; d++) {
        if (eoff != 0 && load<u8>(b + <usize>eoff + <usize>d) == 0) continue;
        eligible++;
        const v = load<f64>(counts + ((<usize>d) << 3));
        if (v < mn) mn = v;
      }
      if (eligible == 0 || <f64>eligible < load<f64>(cr + CR_MINDOMAINS)) mn = 0;
      cMinSet(i, mn);
    } else if (kind == K_AFFINITY) {
      for (let d = 0; d < nd; d++) affinityTotal += load<f64>(counts + ((<usize>d) << 3));
    }
  }
}

@inline function cMinGet(i: i32): f64 {
  return load<f64>(cMinBuf + ((<usize>i) << 3));
}
@inline function cMinSet(i: i32, v: f64): void {
  store<f64>(cMinBuf + ((<usize>i) << 3), v);
}

function countAt(b: usize, cr: usize, dom: i32): f64 {
  return load<f64>(b + <usize>load<i32>(cr + CR_COUNTS) + ((<usize>dom) << 3));
}

/** PodTopologySpread then InterPodAffinity filters (rule 1), after prepareConstraints. */
function constraintReason(b: usize, n: i32): i32 {
  const filters = hI32(b, H_FILTERS);
  const nc = hI32(b, H_NCONS);
  const cons = arr(b, H_CONS);
  const kinds = consKinds;
  if ((filters & F_SPREAD) != 0 && (kinds & (1 << K_SPREAD_HARD)) != 0) {
    for (let i = 0; i < nc; i++) {
      const cr = cons + <usize>(i * CR_SIZE);
      if (load<i32>(cr + CR_KIND) != K_SPREAD_HARD) continue;
      const dom = domainOf(load<i32>(cr + CR_KEY), n);
      if (dom < 0) return R_SPREAD_MISSING | (i << 8);
      const skew = countAt(b, cr, dom) + load<f64>(cr + CR_SELF) - cMinGet(i);
      if (skew > load<f64>(cr + CR_MAXSKEW)) return R_SPREAD_SKEW | (i << 8);
    }
  }
  if ((filters & F_IPA) != 0 && (kinds & ((1 << K_AFFINITY) | (1 << K_ANTI) | (1 << K_EXISTING_ANTI))) != 0) {
    // upstream filtering.go order: affinity, anti-affinity, existing pods' anti-affinity
    for (let i = 0; i < nc; i++) {
      const cr = cons + <usize>(i * CR_SIZE);
      if (load<i32>(cr + CR_KIND) != K_AFFINITY) continue;
      const dom = domainOf(load<i32>(cr + CR_KEY), n);
      if (dom < 0) return R_POD_AFFINITY | (i << 8);
      if (countAt(b, cr, dom) <= 0 && !(load<i32>(cr + CR_PASS_EMPTY) != 0 && affinityTotal == 0)) return R_POD_AFFINITY | (i << 8);
    }
    for (let i = 0; i < nc; i++) {
      const cr = cons + <usize>(i * CR_SIZE);
      if (load<i32>(cr + CR_KIND) != K_ANTI) continue;
      const dom = domainOf(load<i32>(cr + CR_KEY), n);
      if (dom >= 0 && countAt(b, cr, dom) > 0) return R_POD_ANTI | (i << 8);
    }
    for (let i = 0; i < nc; i++) {
      const cr = cons + <usize>(i * CR_SIZE);
      if (load<i32>(cr + CR_KIND) != K_EXISTING_ANTI) continue;
      const dom = domainOf(load<i32>(cr + CR_KEY), n);
      if (dom >= 0 && countAt(b, cr, dom) > 0) return R_EXISTING_ANTI | (i << 8);
    }
  }
  return 0;
}

// ============================== scores ==============================
// Formulas and operation order follow reference.ts exactly (its header): every value is an
// f64 holding an integer except fractions, and each step is the same IEEE operation.

/** Go's integer division (truncates toward zero) of two f64 integers. */
@inline function truncDiv(a: f64, b: f64): f64 {
  const q = a / b;
  return q >= 0 ? Math.floor(q) : -Math.floor(-q);
}

/** Go's math.Round: half away from zero (wasm's f64.nearest rounds half to even). */
@inline function goRound(x: f64): f64 {
  let t = x >= 0 ? Math.floor(x) : -Math.floor(-x);
  if (Math.abs(x - t) >= 0.5) t += x >= 0 ? 1 : -1;
  return t;
}

/** Utilization (0..100) to score through the shape (scores x10): upstream's broken-linear function. */
function shapeScore(b: usize, p: f64): f64 {
  const ns = hI32(b, H_NSHAPE);
  const sh = arr(b, H_SHAPE);
  for (let i = 0; i < ns; i++) {
    const u = load<f64>(sh + ((<usize>(2 * i)) << 3));
    if (p <= u) {
      const s = load<f64>(sh + ((<usize>(2 * i + 1)) << 3)) * 10;
      if (i == 0) return s;
      const u0 = load<f64>(sh + ((<usize>(2 * i - 2)) << 3));
      const s0 = load<f64>(sh + ((<usize>(2 * i - 1)) << 3)) * 10;
      return s0 + truncDiv((s - s0) * (p - u0), u - u0);
    }
  }
  return load<f64>(sh + ((<usize>(2 * ns - 1)) << 3)) * 10;
}

/**
 * Whether upstream's resourceAllocationScorer skips dimension d for this class whatever the
 * node: "pods" is never scored, an extended resource only when the pod requests it.
 */
@inline function skipDim(b: usize, d: i32): bool {
  return d == DIM_PODS || (d >= 4 && load<f64>(arr(b, H_REQUEST) + ((<usize>d) << 3)) == 0);
}

/** NodeResourcesFit score of node n (0..100). cpu and memory use the non-zero sums. */
function fitScore(b: usize, n: i32): f64 {
  const nf = hI32(b, H_NFIT);
  const fr = arr(b, H_FIT);
  const strategy = hI32(b, H_STRATEGY);
  const rq = arr(b, H_REQUEST);
  const nz = arr(b, H_NZ);
  let nodeScore: f64 = 0;
  let weightSum: f64 = 0;
  for (let i = 0; i < nf; i++) {
    const d = <i32>load<f64>(fr + ((<usize>(2 * i)) << 3));
    const w = load<f64>(fr + ((<usize>(2 * i + 1)) << 3));
    if (skipDim(b, d)) continue;
    const alloc = allocAt(d, n);
    if (alloc == 0) continue;
    const req = d < 2 ? nzAt(d, n) + load<f64>(nz + ((<usize>d) << 3)) : reqAt(d, n) + load<f64>(rq + ((<usize>d) << 3));
    if (strategy == S_LEAST) {
      const s: f64 = req > alloc ? 0 : Math.floor(((alloc - req) * 100) / alloc);
      nodeScore += s * w;
      weightSum += w;
    } else if (strategy == S_MOST) {
      const s = Math.floor((Math.min(req, alloc) * 100) / alloc);
      nodeScore += s * w;
      weightSum += w;
    } else {
      const s = shapeScore(b, req > alloc ? 100 : Math.floor((req * 100) / alloc));
      if (s > 0) {
        nodeScore += s * w;
        weightSum += w;
      }
    }
  }
  if (weightSum == 0) return 0;
  return strategy <= S_MOST ? Math.floor(nodeScore / weightSum) : goRound(nodeScore / weightSum);
}

/** NodeResourcesBalancedAllocation score of node n (0..100); actual requests (useRequested). */
function balancedScore(b: usize, n: i32): f64 {
  const nb = hI32(b, H_NBAL);
  const br = arr(b, H_BAL);
  const rq = arr(b, H_REQUEST);
  let m = 0;
  let f0: f64 = 0;
  let f1: f64 = 0;
  let total: f64 = 0;
  for (let i = 0; i < nb; i++) {
    const d = <i32>load<f64>(br + ((<usize>(2 * i)) << 3));
    if (skipDim(b, d)) continue;
    const alloc = allocAt(d, n);
    if (alloc == 0) continue;
    let f = (reqAt(d, n) + load<f64>(rq + ((<usize>d) << 3))) / alloc;
    if (f > 1) f = 1;
    if (m == 0) f0 = f;
    else if (m == 1) f1 = f;
    total += f;
    m++;
  }
  let std: f64 = 0;
  if (m == 2) std = Math.abs((f0 - f1) / 2);
  else if (m > 2) {
    const mean = total / <f64>m;
    let sum: f64 = 0;
    for (let i = 0; i < nb; i++) {
      const d = <i32>load<f64>(br + ((<usize>(2 * i)) << 3));
      if (skipDim(b, d)) continue;
      const alloc = allocAt(d, n);
      if (alloc == 0) continue;
      let f = (reqAt(d, n) + load<f64>(rq + ((<usize>d) << 3))) / alloc;
      if (f > 1) f = 1;
      sum = sum + (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / <f64>m);
  }
  return Math.floor((1 - std) * 100);
}

/** fitWeight * fit + balancedWeight * balanced: the first two terms of the total, in order. */
@inline function dynamicScore(b: usize, n: i32): f64 {
  const wf = hF64(b, H_W_FIT);
  const wb = hF64(b, H_W_BAL);
  const fit: f64 = wf != 0 ? fitScore(b, n) : 0;
  const bal: f64 = wb != 0 ? balancedScore(b, n) : 0;
  return wf * fit + wb * bal;
}

/** dynamic + taintWeight * taint + nodeAffinityWeight * nodeAffinity, in the reference's order. */
@inline function withStatic(b: usize, dyn: f64, st: usize, ax: usize, n: i32): f64 {
  return dyn + hF64(b, H_W_TAINT) * load<f64>(st + ((<usize>n) << 3)) + hF64(b, H_W_NA) * load<f64>(ax + ((<usize>n) << 3));
}


// ============================== static pass ==============================

/**
 * Recomputes class state c's static arrays (rule 2), normalised over the statically
 * feasible present nodes: static[n] = TaintToleration score (0..100) or -1 when node n is
 * statically infeasible or absent; aux[n] = NodeAffinity score (0..100).
 */
function staticPass(c: usize, b: usize): void {
  let st = load<usize>(c + CS_STATIC);
  let ax = load<usize>(c + CS_AUX);
  if (st == 0) {
    st = zalloc(paddedNodeSlots * 8);
    ax = zalloc(paddedNodeSlots * 8);
    store<usize>(c + CS_STATIC, st);
    store<usize>(c + CS_AUX, ax);
  }
  let maxT: f64 = 0;
  let maxA: f64 = 0;
  let n = 0;
  if (ASC_FEATURE_SIMD) {
    if (load<i32>(c + CS_SIMDPREF) != 0) {
      const n4 = nodeSlots & ~3;
      for (; n < n4; n += 4) {
        staticQuad(b, n, st, ax);
      }
    }
  }
  for (; n < nodeSlots; n++) {
    if ((flagsAt(n) & NODE_PRESENT) == 0 || staticReason(b, n) != 0) {
      store<f64>(st + ((<usize>n) << 3), -1);
      continue;
    }
    const up = arr(b, H_UNTOL_PREF);
    let tc = 0;
    for (let w = 0; w < taintWordCount; w++) tc += <i32>popcnt(taintWord(w, n) & load<u32>(up + ((<usize>w) << 2)));
    store<f64>(st + ((<usize>n) << 3), <f64>tc);
    store<f64>(ax + ((<usize>n) << 3), preferredSum(b, n));
  }
  for (n = 0; n < nodeSlots; n++) {
    const t = load<f64>(st + ((<usize>n) << 3));
    if (t < 0) continue;
    const a = load<f64>(ax + ((<usize>n) << 3));
    if (t > maxT) maxT = t;
    if (a > maxA) maxA = a;
  }
  for (n = 0; n < nodeSlots; n++) {
    const p = st + ((<usize>n) << 3);
    const t = load<f64>(p);
    if (t < 0) continue;
    const q = ax + ((<usize>n) << 3);
    const a = load<f64>(q);
    store<f64>(p, maxT == 0 ? 100 : 100 - Math.floor((t * 100) / maxT));
    store<f64>(q, maxA == 0 ? 0 : Math.floor((a * 100) / maxA));
  }
}

function preferredSum(b: usize, n: i32): f64 {
  const np = hI32(b, H_NPREF);
  if (np == 0) return 0;
  const pw = arr(b, H_PREFW);
  const pm = arr(b, H_PREFMASK);
  let sum: f64 = 0;
  for (let t = 0; t < np; t++) {
    if (termMatches(pm, t, n)) sum += load<f64>(pw + ((<usize>t) << 3));
  }
  return sum;
}

/**
 * termMatches for the four nodes n..n+3 at once: a lane is all ones where that node has
 * every bit of term t, zero elsewhere; a term with no bits matches no node.
 */
@inline
function termMatches4(masks: usize, t: i32, n: i32): v128 {
  let tm = i32x4.splat(-1);
  let any = false;
  for (let w = 0; w < labelWordCount; w++) {
    const m = load<u32>(masks + ((<usize>(t * labelWordCount + w)) << 2));
    if (m == 0) continue;
    any = true;
    const mv = i32x4.splat(m);
    tm = v128.and(tm, i32x4.eq(v128.and(v128.load(pLabels + ((<usize>(w * paddedNodeSlots + n)) << 2)), mv), mv));
  }
  return any ? tm : i32x4.splat(0);
}

/**
 * SIMD static pass over nodes n..n+3: each v128 holds one bit word of four nodes (the
 * word-major rows make them adjacent). Writes the taint count (or -1) to st and the
 * preferred-term weight sum to ax, like the scalar loop.
 */
function staticQuad(b: usize, n: i32, st: usize, ax: usize): void {
  const filters = hI32(b, H_FILTERS);
  const ones = i32x4.splat(-1);
  // lanes all-ones = still statically feasible
  let ok = i32x4.ne(v128.and(v128.load(pFlags + ((<usize>n) << 2)), i32x4.splat(NODE_PRESENT)), i32x4.splat(0));
  if ((filters & F_UNSCHEDULABLE) != 0 && (hI32(b, H_FLAGS) & 1) == 0) {
    const uns = i32x4.ne(v128.and(v128.load(pFlags + ((<usize>n) << 2)), i32x4.splat(NODE_UNSCHEDULABLE)), i32x4.splat(0));
    ok = v128.andnot(ok, uns);
  }
  if ((filters & F_NODENAME) != 0) {
    const want = hI32(b, H_NODENAME);
    if (want == -2) ok = i32x4.splat(0);
    else if (want >= 0) {
      const slots = i32x4(n, n + 1, n + 2, n + 3);
      ok = v128.and(ok, i32x4.eq(slots, i32x4.splat(want)));
    }
  }
  if ((filters & F_TAINT) != 0) {
    const ut = arr(b, H_UNTOL_HARD);
    for (let w = 0; w < taintWordCount; w++) {
      const m = load<u32>(ut + ((<usize>w) << 2));
      if (m == 0) continue;
      const t = v128.and(v128.load(pTaints + ((<usize>(w * paddedNodeSlots + n)) << 2)), i32x4.splat(m));
      ok = v128.and(ok, i32x4.eq(t, i32x4.splat(0)));
    }
  }
  if ((filters & F_AFFINITY) != 0) {
    const sel = arr(b, H_SELECTOR);
    for (let w = 0; w < labelWordCount; w++) {
      const m = load<u32>(sel + ((<usize>w) << 2));
      if (m == 0) continue;
      const mv = i32x4.splat(m);
      ok = v128.and(ok, i32x4.eq(v128.and(v128.load(pLabels + ((<usize>(w * paddedNodeSlots + n)) << 2)), mv), mv));
    }
    const nt = hI32(b, H_NREQ);
    if (nt > 0) {
      const terms = arr(b, H_REQTERMS);
      let anyTerm = i32x4.splat(0);
      for (let t = 0; t < nt; t++) anyTerm = v128.or(anyTerm, termMatches4(terms, t, n));
      ok = v128.and(ok, anyTerm);
    }
  }
  // taint counts: per-lane popcount of (taints & untoleratedPreferred)
  let tc = i32x4.splat(0);
  const up = arr(b, H_UNTOL_PREF);
  for (let w = 0; w < taintWordCount; w++) {
    const m = load<u32>(up + ((<usize>w) << 2));
    if (m == 0) continue;
    const x = v128.and(v128.load(pTaints + ((<usize>(w * paddedNodeSlots + n)) << 2)), i32x4.splat(m));
    tc = i32x4.add(tc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(x))));
  }
  // preferred terms: weights summed in i32 lanes (classReady checked they are int32)
  let ps = i32x4.splat(0);
  const np = hI32(b, H_NPREF);
  const pw = arr(b, H_PREFW);
  const pm = arr(b, H_PREFMASK);
  for (let t = 0; t < np; t++) {
    ps = i32x4.add(ps, v128.and(termMatches4(pm, t, n), i32x4.splat(<i32>load<f64>(pw + ((<usize>t) << 3)))));
  }
  const tcv = v128.bitselect(tc, ones, ok);
  const lo = f64x2.convert_low_i32x4_s(tcv);
  const hi = f64x2.convert_low_i32x4_s(i32x4.shuffle(tcv, tcv, 2, 3, 0, 1));
  v128.store(st + ((<usize>n) << 3), lo);
  v128.store(st + ((<usize>(n + 2)) << 3), hi);
  v128.store(ax + ((<usize>n) << 3), f64x2.convert_low_i32x4_s(ps));
  v128.store(ax + ((<usize>(n + 2)) << 3), f64x2.convert_low_i32x4_s(i32x4.shuffle(ps, ps, 2, 3, 0, 1)));
}

// ============================== the index ==============================

/** Leaf value of node n for an unconstrained class: total score, or -1 when it does not fit. */
@inline function leafValue(b: usize, st: usize, ax: usize, n: i32): f64 {
  if (load<f64>(st + ((<usize>n) << 3)) < 0) return -1;
  if (dynamicReason(b, n) != 0) return -1;
  return withStatic(b, dynamicScore(b, n), st, ax, n);
}

/**
 * SIMD leaf values of nodes n, n+1 (n even) for LeastAllocated / MostAllocated classes: the
 * fit filter and the fit score run in f64x2 lanes (the same IEEE operations as fitScore, so
 * the same bits); balanced allocation stays scalar per lane. Writes two f64 at out.
 */
function leafPair(b: usize, st: usize, ax: usize, n: i32, out: usize): void {
  const ts = v128.load(st + ((<usize>n) << 3));
  const filters = hI32(b, H_FILTERS);
  const zero = f64x2.splat(0);
  // lanes all-ones = fits
  let ok = f64x2.ge(ts, zero);
  if ((filters & F_PORTS) != 0) {
    const pp = arr(b, H_PORTS);
    for (let w = 0; w < portWordCount; w++) {
      const m = load<u32>(pp + ((<usize>w) << 2));
      if (m == 0) continue;
      const p0 = portWord(w, n) & m;
      const p1 = portWord(w, n + 1) & m;
      ok = v128.and(ok, i64x2(p0 == 0 ? -1 : 0, p1 == 0 ? -1 : 0));
    }
  }
  const rq = arr(b, H_REQUEST);
  if ((filters & F_FIT) != 0) {
    for (let d = 0; d < resourceDims; d++) {
      const r = load<f64>(rq + ((<usize>d) << 3));
      if (d != DIM_PODS && !(r > 0)) continue;
      const used = f64x2.add(v128.load(pReq + ((<usize>(d * paddedNodeSlots + n)) << 3)), f64x2.splat(r));
      ok = v128.andnot(ok, f64x2.gt(used, v128.load(pAlloc + ((<usize>(d * paddedNodeSlots + n)) << 3))));
    }
  }
  const wf = hF64(b, H_W_FIT);
  let fit = zero;
  if (wf != 0) {
    const nf = hI32(b, H_NFIT);
    const fr = arr(b, H_FIT);
    const most = hI32(b, H_STRATEGY) == S_MOST;
    const nz = arr(b, H_NZ);
    const hundred = f64x2.splat(100);
    let nodeScore = zero;
    let weightSum = zero;
    for (let i = 0; i < nf; i++) {
      const d = <i32>load<f64>(fr + ((<usize>(2 * i)) << 3));
      if (skipDim(b, d)) continue;
      const w = f64x2.splat(load<f64>(fr + ((<usize>(2 * i + 1)) << 3)));
      const alloc = v128.load(pAlloc + ((<usize>(d * paddedNodeSlots + n)) << 3));
      let req: v128;
      if (d < 2) req = f64x2.add(v128.load(pNz + ((<usize>(d * paddedNodeSlots + n)) << 3)), f64x2.splat(load<f64>(nz + ((<usize>d) << 3))));
      else req = f64x2.add(v128.load(pReq + ((<usize>(d * paddedNodeSlots + n)) << 3)), f64x2.splat(load<f64>(rq + ((<usize>d) << 3))));
      // lanes with alloc == 0 are skipped: neither score nor weight
      const live = f64x2.ne(alloc, zero);
      let s: v128;
      if (most) {
        s = f64x2.floor(f64x2.div(f64x2.mul(f64x2.min(req, alloc), hundred), alloc));
      } else {
        s = f64x2.floor(f64x2.div(f64x2.mul(f64x2.sub(alloc, req), hundred), alloc));
        s = v128.andnot(s, f64x2.gt(req, alloc));
      }
      nodeScore = v128.bitselect(f64x2.add(nodeScore, f64x2.mul(s, w)), nodeScore, live);
      weightSum = v128.bitselect(f64x2.add(weightSum, w), weightSum, live);
    }
    fit = v128.andnot(f64x2.floor(f64x2.div(nodeScore, weightSum)), f64x2.eq(weightSum, zero));
  }
  const wb = hF64(b, H_W_BAL);
  const bal = wb != 0 ? f64x2(balancedScore(b, n), balancedScore(b, n + 1)) : zero;
  let total = f64x2.add(f64x2.mul(f64x2.splat(wf), fit), f64x2.mul(f64x2.splat(wb), bal));
  total = f64x2.add(total, f64x2.mul(f64x2.splat(hF64(b, H_W_TAINT)), ts));
  total = f64x2.add(total, f64x2.mul(f64x2.splat(hF64(b, H_W_NA)), v128.load(ax + ((<usize>n) << 3))));
  v128.store(out, v128.bitselect(total, f64x2.splat(-1), ok));
}


/** Every node's leaf value into out[0, nodeSlots) (f64; SIMD: two nodes per leafPair). */
function fillLeaves(b: usize, st: usize, ax: usize, out: usize): void {
  let n = 0;
  if (ASC_FEATURE_SIMD) {
    if (hI32(b, H_STRATEGY) <= S_MOST) {
      const n2 = nodeSlots & ~1;
      for (; n < n2; n += 2) leafPair(b, st, ax, n, out + ((<usize>n) << 3));
    }
  }
  for (; n < nodeSlots; n++) store<f64>(out + ((<usize>n) << 3), leafValue(b, st, ax, n));
}

function buildTree(c: usize, b: usize): void {
  let p2 = 1;
  while (p2 < nodeSlots) p2 <<= 1;
  let tr = load<usize>(c + CS_TREE);
  if (tr == 0) {
    tr = zalloc(p2 * 24);
    store<usize>(c + CS_TREE, tr);
    store<i32>(c + CS_P2, p2);
  }
  const st = load<usize>(c + CS_STATIC);
  const ax = load<usize>(c + CS_AUX);
  const vals = tr;
  const slots = tr + ((<usize>p2) << 4);
  fillLeaves(b, st, ax, vals + ((<usize>p2) << 3));
  for (let n = 0; n < p2; n++) {
    if (n >= nodeSlots) store<f64>(vals + ((<usize>(p2 + n)) << 3), -1);
    store<i32>(slots + ((<usize>(p2 + n)) << 2), n);
  }
  for (let i = p2 - 1; i >= 1; i--) pull(vals, slots, i);
}

/** Inner node i keeps its larger child; the left one (lower slots) on ties. */
@inline function pull(vals: usize, slots: usize, i: i32): void {
  const l = load<f64>(vals + ((<usize>(2 * i)) << 3));
  const r = load<f64>(vals + ((<usize>(2 * i + 1)) << 3));
  if (r > l) {
    store<f64>(vals + ((<usize>i) << 3), r);
    store<i32>(slots + ((<usize>i) << 2), load<i32>(slots + ((<usize>(2 * i + 1)) << 2)));
  } else {
    store<f64>(vals + ((<usize>i) << 3), l);
    store<i32>(slots + ((<usize>i) << 2), load<i32>(slots + ((<usize>(2 * i)) << 2)));
  }
}

function updateLeaf(c: usize, b: usize, n: i32): void {
  if (n < 0 || n >= nodeSlots) return;
  const p2 = load<i32>(c + CS_P2);
  const tr = load<usize>(c + CS_TREE);
  const slots = tr + ((<usize>p2) << 4);
  let i = p2 + n;
  store<f64>(tr + ((<usize>i) << 3), leafValue(b, load<usize>(c + CS_STATIC), load<usize>(c + CS_AUX), n));
  i >>= 1;
  while (i >= 1) {
    pull(tr, slots, i);
    i >>= 1;
  }
}

/** Computes every node's leaf value of a class with constraints (CS_LEAVES). */
function buildLeaves(c: usize, b: usize): void {
  let lv = load<usize>(c + CS_LEAVES);
  if (lv == 0) {
    lv = zalloc(paddedNodeSlots * 8);
    store<usize>(c + CS_LEAVES, lv);
  }
  fillLeaves(b, load<usize>(c + CS_STATIC), load<usize>(c + CS_AUX), lv);
}

/** Recomputes node n's leaf value of a class with constraints. */
function setLeaf(c: usize, b: usize, n: i32): void {
  if (n < 0 || n >= nodeSlots) return;
  store<f64>(load<usize>(c + CS_LEAVES) + ((<usize>n) << 3), leafValue(b, load<usize>(c + CS_STATIC), load<usize>(c + CS_AUX), n));
}

/** Builds the class's index, or its leaves when it has constraints, from scratch. */
function rebuild(c: usize, b: usize, hasCons: bool): void {
  if (hasCons) buildLeaves(c, b);
  else buildTree(c, b);
}

/** Node n changed: its leaf (and the index above it) recomputed. */
function refresh(c: usize, b: usize, hasCons: bool, n: i32): void {
  if (hasCons) setLeaf(c, b, n);
  else updateLeaf(c, b, n);
}

/** Brings class id's static arrays and index (or leaves) up to date with every node change. */
function sync(id: i32): usize {
  const c = cs(id);
  const b = load<usize>(c + CS_BLOB);
  const hasCons = load<i32>(c + CS_HASCONS) != 0;
  if (load<i32>(c + CS_EPOCH) != staticEpoch) {
    staticPass(c, b);
    rebuild(c, b, hasCons);
    store<i32>(c + CS_EPOCH, staticEpoch);
    store<i64>(c + CS_SEQ, logSeq);
    return b;
  }
  const seen = load<i64>(c + CS_SEQ);
  if (logSeq - seen > <i64>RING) {
    rebuild(c, b, hasCons);
  } else {
    for (let s = seen; s < logSeq; s++) refresh(c, b, hasCons, load<i32>(pRing + ((<usize>(<i32>(s & <i64>(RING - 1)))) << 2)));
  }
  store<i64>(c + CS_SEQ, logSeq);
  return b;
}

/** The present slots in ascending order (pPresent) and their number; rebuilt when presence changed. */
function presentNodes(): i32 {
  if (presentEpoch != staticEpoch) {
    let k = 0;
    for (let n = 0; n < nodeSlots; n++) {
      if ((flagsAt(n) & NODE_PRESENT) != 0) {
        store<i32>(pPresent + ((<usize>k) << 2), n);
        k++;
      }
    }
    presentCount = k;
    presentEpoch = staticEpoch;
  }
  return presentCount;
}

/** upstream numFeasibleNodesToFind (schedule_one.go) */
function numFeasibleNodesToFind(pct: f64, all: i32): i32 {
  if (all < 100) return all;
  let p = <i32>pct;
  if (p == 0) {
    p = 50 - all / 125;
    if (p < 5) p = 5;
  }
  const k = <i32>((<i64>all * <i64>p) / 100);
  return k < 100 ? 100 : k;
}

// ============================== placement ==============================

/** Rule 6: the pod's request, ports and self-increments land on node n. */
function apply(b: usize, n: i32): void {
  const rq = arr(b, H_REQUEST);
  for (let d = 0; d < resourceDims; d++) {
    const p = pReq + ((<usize>(d * paddedNodeSlots + n)) << 3);
    store<f64>(p, load<f64>(p) + load<f64>(rq + ((<usize>d) << 3)));
  }
  const nz = arr(b, H_NZ);
  for (let d = 0; d < 2; d++) {
    const p = pNz + ((<usize>(d * paddedNodeSlots + n)) << 3);
    store<f64>(p, load<f64>(p) + load<f64>(nz + ((<usize>d) << 3)));
  }
  const pp = arr(b, H_PORTS);
  for (let w = 0; w < portWordCount; w++) {
    const p = pPorts + ((<usize>(w * paddedNodeSlots + n)) << 2);
    store<u32>(p, load<u32>(p) | load<u32>(pp + ((<usize>w) << 2)));
  }
  const nc = hI32(b, H_NCONS);
  const cons = arr(b, H_CONS);
  for (let i = 0; i < nc; i++) {
    const cr = cons + <usize>(i * CR_SIZE);
    const dom = domainOf(load<i32>(cr + CR_KEY), n);
    // wasm.ts rejects domains beyond counts before calling; the bound only guards memory
    if (dom < 0 || dom >= load<i32>(cr + CR_ND)) continue;
    const p = b + <usize>load<i32>(cr + CR_COUNTS) + ((<usize>dom) << 3);
    store<f64>(p, load<f64>(p) + load<f64>(cr + CR_SELF));
  }
}

/**
 * Scan path (classes with constraints), in the reference's iteration order: the present
 * slots P, from the core-wide rotating start nextStart, ((nextStart + i) % |P|), until
 * numFeasibleNodesToFind candidates are feasible; nextStart then advances by the nodes
 * examined. The candidates are scored (domain scores normalised over them) and the best
 * slot returned, or -1. With `all` (scores()), every feasible present node is a candidate,
 * nextStart is left alone, and outF64 receives the totals.
 */
function scan(c: usize, b: usize, all: bool): i32 {
  const lv = load<usize>(c + CS_LEAVES);
  prepareConstraints(b);
  const present = presentNodes();
  if (present == 0) return -1;
  // A candidate's base score (its leaf: resources, taints, node affinity) is kept in
  // pScanBase as it is found; a leaf is -1 exactly when feasible() fails before the
  // constraints (weights are non-negative, so every feasible total is >= 0).
  let found = 0;
  if (all) {
    for (let n = 0; n < nodeSlots; n++) {
      const v = load<f64>(lv + ((<usize>n) << 3));
      if (v < 0 || constraintReason(b, n) != 0) continue;
      store<i32>(pScanSlot + ((<usize>found) << 2), n);
      store<f64>(pScanBase + ((<usize>found) << 3), v);
      found++;
    }
  } else {
    const want = numFeasibleNodesToFind(hF64(b, H_PCT), present);
    const start = nextStart;
    let idx = start % present;
    let examined = 0;
    for (let i = 0; i < present && found < want; i++) {
      const n = load<i32>(pPresent + ((<usize>idx) << 2));
      if (++idx == present) idx = 0;
      examined = i + 1;
      const v = load<f64>(lv + ((<usize>n) << 3));
      if (v < 0 || constraintReason(b, n) != 0) continue;
      store<i32>(pScanSlot + ((<usize>found) << 2), n);
      store<f64>(pScanBase + ((<usize>found) << 3), v);
      found++;
    }
    nextStart = <i32>((<i64>start + <i64>examined) % <i64>present);
  }
  if (found == 0) return -1;

  const nc = hI32(b, H_NCONS);
  const cons = arr(b, H_CONS);
  let hasSoft = false;
  let hasIpa = false;
  for (let i = 0; i < nc; i++) {
    const k = load<i32>(cons + <usize>(i * CR_SIZE) + CR_KIND);
    if (k == K_SPREAD_SOFT) hasSoft = true;
    else if (k == K_AFFINITY_SCORE) hasIpa = true;
  }
  // raw domain scores and their extremes over the candidates
  let sMin: f64 = Infinity;
  let sMax: f64 = 0;
  let iMin: f64 = Infinity;
  let iMax: f64 = -Infinity;
  for (let j = 0; j < found; j++) {
    const n = load<i32>(pScanSlot + ((<usize>j) << 2));
    if (hasSoft) {
      // upstream podtopologyspread Score: nodes lacking a key are ignored (-1 here)
      let x: f64 = 0;
      let ignored = false;
      for (let i = 0; i < nc; i++) {
        const cr = cons + <usize>(i * CR_SIZE);
        if (load<i32>(cr + CR_KIND) != K_SPREAD_SOFT) continue;
        const dom = domainOf(load<i32>(cr + CR_KEY), n);
        if (dom < 0) {
          ignored = true;
          break;
        }
        x = x + (countAt(b, cr, dom) * load<f64>(cr + CR_WEIGHT) + (load<f64>(cr + CR_MAXSKEW) - 1));
      }
      let raw: f64 = -1;
      if (!ignored) {
        raw = goRound(x);
        if (raw < sMin) sMin = raw;
        if (raw > sMax) sMax = raw;
      }
      store<f64>(pScanSpread + ((<usize>j) << 3), raw);
    }
    if (hasIpa) {
      let s: f64 = 0;
      for (let i = 0; i < nc; i++) {
        const cr = cons + <usize>(i * CR_SIZE);
        if (load<i32>(cr + CR_KIND) != K_AFFINITY_SCORE) continue;
        const dom = domainOf(load<i32>(cr + CR_KEY), n);
        if (dom >= 0) s += countAt(b, cr, dom);
      }
      store<f64>(pScanIpa + ((<usize>j) << 3), s);
      if (s > iMax) iMax = s;
      if (s < iMin) iMin = s;
    }
  }
  const wsp = hF64(b, H_W_SPREAD);
  const wip = hF64(b, H_W_IPA);
  const diff = iMax - iMin;
  let best = -1;
  let bestV: f64 = -Infinity;
  for (let j = 0; j < found; j++) {
    const n = load<i32>(pScanSlot + ((<usize>j) << 2));
    let t = load<f64>(pScanBase + ((<usize>j) << 3));
    if (hasSoft) {
      const raw = load<f64>(pScanSpread + ((<usize>j) << 3));
      let s: f64 = 0;
      if (raw >= 0) s = sMax == 0 ? 100 : Math.floor((100 * (sMax + sMin - raw)) / sMax);
      t = t + wsp * s;
    }
    if (hasIpa) {
      const raw = load<f64>(pScanIpa + ((<usize>j) << 3));
      const s: f64 = diff > 0 ? Math.floor(100 * ((raw - iMin) / diff)) : 0;
      t = t + wip * s;
    }
    if (all) store<f64>(pOutF64 + ((<usize>n) << 3), t);
    if (t > bestV || (t == bestV && n < best)) {
      bestV = t;
      best = n;
    }
  }
  return best;
}

/** Places up to count pods of class id (rule 6); slots go to outI32. Returns how many fit. */
export function place(id: i32, count: i32): i32 {
  const c = cs(id);
  const b = sync(id);
  const hasCons = load<i32>(c + CS_HASCONS) != 0;
  for (let k = 0; k < count; k++) {
    let n: i32;
    if (hasCons) {
      n = scan(c, b, false);
    } else {
      // the root: the best total, lowest slot on ties
      const tr = load<usize>(c + CS_TREE);
      if (load<f64>(tr + 8) < 0) return k;
      n = load<i32>(tr + ((<usize>load<i32>(c + CS_P2)) << 4) + 4);
    }
    if (n < 0) return k;
    apply(b, n);
    store<i32>(pOutI32 + ((<usize>k) << 2), n);
    // other classes replay this slot; this one updates its leaf now
    pushLog(n);
    refresh(c, b, hasCons, n);
    store<i64>(c + CS_SEQ, logSeq);
  }
  return count;
}

/** Why the next pod of the class (blob b, constraints prepared) would not fit on slot n; -1 when absent. */
@inline function reasonAt(b: usize, n: i32): i32 {
  if ((flagsAt(n) & NODE_PRESENT) == 0) return -1;
  let r = staticReason(b, n);
  if (r == 0) r = dynamicReason(b, n);
  if (r == 0) r = constraintReason(b, n);
  return r;
}

/** Per slot, the reason the next pod of class id would not fit (outI32); absent slots get -1. */
export function diagnose(id: i32): void {
  const b = sync(id);
  prepareConstraints(b);
  for (let n = 0; n < nodeSlots; n++) store<i32>(pOutI32 + ((<usize>n) << 2), reasonAt(b, n));
}

/**
 * diagnose() for one slot, returned: preemption's dry runs change one node's usage and ask
 * about that node only, where a full diagnose would judge every node each time.
 */
export function diagnoseNode(id: i32, slot: i32): i32 {
  const b = sync(id);
  if (slot < 0 || slot >= nodeSlots) return -1;
  prepareConstraints(b);
  return reasonAt(b, slot);
}

/** Per slot, the total score of the next pod of class id (outF64), -1 when infeasible. */
export function scores(id: i32): void {
  const c = cs(id);
  const b = sync(id);
  for (let n = 0; n < nodeSlots; n++) store<f64>(pOutF64 + ((<usize>n) << 3), -1);
  if (load<i32>(c + CS_HASCONS) != 0) {
    scan(c, b, true);
    return;
  }
  const st = load<usize>(c + CS_STATIC);
  const ax = load<usize>(c + CS_AUX);
  for (let n = 0; n < nodeSlots; n++) store<f64>(pOutF64 + ((<usize>n) << 3), leafValue(b, st, ax, n));
}
