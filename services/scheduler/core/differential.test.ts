/**
 * Randomized differential tests: the TypeScript reference core (the oracle), the scalar
 * WebAssembly build and the SIMD build, fed the same generated clusters and classes, must
 * give identical place() slots, diagnose() reasons and scores() totals after every step.
 * A failure prints the seed; rerun one with FLOTILLA_DIFF_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { ReferenceCore } from './reference.js';
import { ALL_FILTERS, ConstraintKind, Filter, ScoringStrategy } from './types.js';
import type { ClassSpec, CoreDims, DomainConstraint, NodeRecord, NodeUsage, SchedulingCore } from './types.js';
import { WasmCore } from './wasm.js';
import { prng, type Rng } from '../../../test/prng.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Bit words with each of the first `bits` bits set with probability p. */
function bitWords(rng: Rng, words: number, bits: number, p: number): Uint32Array {
  const out = new Uint32Array(words);
  for (let b = 0; b < Math.min(bits, words * 32); b++) if (rng.chance(p)) out[b >>> 5] |= 1 << (b & 31);
  return out;
}

function genDims(rng: Rng, maxNodes: number): CoreDims {
  return {
    nodes: rng.int(1, maxNodes),
    resources: rng.int(4, 6),
    labelWords: rng.int(1, 2),
    taintWords: rng.int(1, 2),
    portWords: rng.int(1, 2),
    topologyKeys: rng.int(1, 3),
    classes: rng.int(1, 4),
  };
}

/** A small bit universe keeps matches likely: bits < 40 across words. */
const LABEL_BITS = 40;
const TAINT_BITS = 36;
const PORT_BITS = 40;

function genNode(rng: Rng, dims: CoreDims): NodeRecord {
  const allocatable = new Float64Array(dims.resources);
  allocatable[0] = rng.chance(0.03) ? 0 : rng.int(1, 32) * 500;
  allocatable[1] = rng.chance(0.03) ? 0 : rng.int(1, 64) * GiB;
  allocatable[2] = rng.chance(0.3) ? 0 : rng.int(10, 200) * GiB;
  allocatable[3] = rng.pick([0, 1, 3, 10, 30, 110]);
  for (let d = 4; d < dims.resources; d++) allocatable[d] = rng.chance(0.5) ? 0 : rng.int(1, 8);
  return {
    allocatable,
    unschedulable: rng.chance(0.1),
    labels: bitWords(rng, dims.labelWords, LABEL_BITS, 0.45),
    taints: bitWords(rng, dims.taintWords, TAINT_BITS, rng.chance(0.6) ? 0 : 0.08),
  };
}

function genUsage(rng: Rng, dims: CoreDims, node: NodeRecord): NodeUsage {
  const requested = new Float64Array(dims.resources);
  for (let d = 0; d < dims.resources; d++) {
    const a = node.allocatable[d];
    requested[d] = rng.chance(0.3) ? 0 : Math.floor(a * rng.next() * (rng.chance(0.1) ? 1.3 : 0.9));
  }
  requested[3] = Math.floor(node.allocatable[3] * rng.next());
  const nonZeroRequested = new Float64Array(2);
  nonZeroRequested[0] = requested[0] + 100 * rng.int(0, 3);
  nonZeroRequested[1] = requested[1] + 200 * MiB * rng.int(0, 3);
  return { requested, nonZeroRequested, ports: bitWords(rng, dims.portWords, PORT_BITS, 0.05) };
}

function genDomains(rng: Rng, dims: CoreDims, domainCounts: number[], key: number): Int32Array {
  const out = new Int32Array(dims.nodes);
  for (let n = 0; n < dims.nodes; n++) out[n] = rng.chance(0.1) ? -1 : rng.int(0, domainCounts[key] - 1);
  return out;
}

function genConstraint(rng: Rng, dims: CoreDims, domainCounts: number[]): DomainConstraint {
  const kind = rng.pick(Object.values(ConstraintKind));
  const key = rng.int(0, dims.topologyKeys - 1);
  const nd = domainCounts[key];
  const counts = genCounts(rng, kind, nd);
  const signed = kind === ConstraintKind.AffinityScore;
  const c: DomainConstraint = {
    kind,
    key,
    counts,
    selfIncrement: signed ? rng.int(-5, 5) : rng.pick([0, 1, 1, 1]),
    maxSkew: rng.int(1, 3),
    minDomains: rng.pick([1, 1, 2, 5]),
    // upstream's topologyNormalizingWeight log(size + 2), precomputed by the class compiler
    weight: Math.log(rng.int(1, 50) + 2),
    passWhenEmpty: rng.chance(0.5),
  };
  if (kind === ConstraintKind.SpreadHard && rng.chance(0.5)) c.eligible = genEligible(rng, nd);
  return c;
}

/** Other pods' counts per domain: 40% none, signed for AffinityScore. */
function genCounts(rng: Rng, kind: number, nd: number): Float64Array {
  const counts = new Float64Array(nd);
  const signed = kind === ConstraintKind.AffinityScore;
  for (let d = 0; d < nd; d++) {
    if (rng.chance(0.4)) continue;
    counts[d] = signed ? rng.int(-20, 30) : rng.int(0, 6);
  }
  return counts;
}

function genEligible(rng: Rng, nd: number): Uint8Array {
  const eligible = new Uint8Array(nd);
  for (let d = 0; d < nd; d++) eligible[d] = rng.chance(0.8) ? 1 : 0;
  return eligible;
}

/** c with other counts (and eligible domains) over nd domains (default: as many as it had). */
function recounted(rng: Rng, c: DomainConstraint, nd = c.counts.length): DomainConstraint {
  return { ...c, counts: genCounts(rng, c.kind, nd), eligible: c.eligible && genEligible(rng, nd) };
}

/**
 * spec with one member taken from another generated class (or, for its constraints, one
 * constraint's maxSkew or selfIncrement moved, or its eligible domains given or taken away)
 * and other counts: a redefinition that may not be taken in place, however small the difference.
 */
function reshaped(rng: Rng, spec: ClassSpec, dims: CoreDims, domainCounts: number[]): ClassSpec {
  const next: ClassSpec = { ...spec, constraints: spec.constraints.map((c) => recounted(rng, c)) };
  const keys = Object.keys(spec) as Array<keyof ClassSpec>;
  const key = keys[rng.int(0, keys.length - 1)]!;
  if (key !== 'constraints') return { ...next, [key]: genClass(rng, dims, domainCounts)[key] };
  if (next.constraints.length === 0) return next;
  const i = rng.int(0, next.constraints.length - 1);
  const c = next.constraints[i]!;
  const r = rng.next();
  if (r < 0.35) next.constraints[i] = { ...c, maxSkew: c.maxSkew + rng.int(1, 3) };
  else if (r < 0.7) next.constraints[i] = { ...c, selfIncrement: c.selfIncrement === 0 ? 1 : 0 };
  else next.constraints[i] = { ...c, eligible: c.eligible ? undefined : genEligible(rng, c.counts.length) };
  return next;
}

function genClass(rng: Rng, dims: CoreDims, domainCounts: number[]): ClassSpec {
  const request = new Float64Array(dims.resources);
  if (rng.chance(0.8)) request[0] = rng.int(1, 20) * 50;
  if (rng.chance(0.8)) request[1] = rng.int(1, 16) * 128 * MiB;
  if (rng.chance(0.2)) request[2] = rng.int(1, 10) * GiB;
  request[3] = 1;
  for (let d = 4; d < dims.resources; d++) if (rng.chance(0.25)) request[d] = rng.int(1, 2);
  const nonZeroRequest = new Float64Array([request[0] || 100, request[1] || 200 * MiB]);
  let filters: number = ALL_FILTERS;
  if (rng.chance(0.2)) filters = rng.int(0, ALL_FILTERS);
  const constraints: DomainConstraint[] = [];
  if (rng.chance(0.5)) {
    const k = rng.int(1, 4);
    for (let i = 0; i < k; i++) constraints.push(genConstraint(rng, dims, domainCounts));
  }
  const resourcePool = [0, 1, 2, 3, ...Array.from({ length: dims.resources - 4 }, (_, i) => 4 + i)];
  const someResources = () => {
    if (rng.chance(0.5)) return [{ dim: 0, weight: 1 }, { dim: 1, weight: 1 }];
    const k = rng.int(1, Math.min(4, resourcePool.length));
    const dimsPicked = [...resourcePool].sort(() => rng.next() - 0.5).slice(0, k);
    return dimsPicked.map((dim) => ({ dim, weight: rng.int(1, 5) }));
  };
  const shapePoints: Array<{ utilization: number; score: number }> = [];
  let u = 0;
  const np = rng.int(1, 4);
  for (let i = 0; i < np; i++) {
    u = Math.min(100, u + rng.int(i === 0 ? 0 : 1, 60));
    shapePoints.push({ utilization: u, score: rng.int(0, 10) });
    if (u === 100) break;
  }
  const requiredTerms: Uint32Array[] = [];
  if (rng.chance(0.3)) {
    const k = rng.int(1, 3);
    for (let i = 0; i < k; i++) requiredTerms.push(bitWords(rng, dims.labelWords, LABEL_BITS, 0.04));
  }
  const preferredTerms = [];
  if (rng.chance(0.5)) {
    const k = rng.int(1, 3);
    for (let i = 0; i < k; i++) preferredTerms.push({ mask: bitWords(rng, dims.labelWords, LABEL_BITS, 0.05), weight: rng.int(1, 100) });
  }
  let nodeNameSlot = -1;
  if (rng.chance(0.08)) nodeNameSlot = rng.chance(0.2) ? -2 : rng.int(0, dims.nodes - 1);
  return {
    filters,
    request,
    nonZeroRequest,
    toleratesUnschedulable: rng.chance(0.2),
    nodeNameSlot,
    untoleratedHard: bitWords(rng, dims.taintWords, TAINT_BITS, rng.chance(0.5) ? 0.1 : 0),
    untoleratedPreferred: bitWords(rng, dims.taintWords, TAINT_BITS, 0.3),
    selector: rng.chance(0.3) ? bitWords(rng, dims.labelWords, LABEL_BITS, 0.03) : new Uint32Array(dims.labelWords),
    requiredTerms,
    preferredTerms,
    ports: rng.chance(0.3) ? bitWords(rng, dims.portWords, PORT_BITS, 0.03) : new Uint32Array(dims.portWords),
    constraints,
    score: {
      fitWeight: rng.pick([0, 1, 1, 2, 3]),
      strategy: rng.pick(Object.values(ScoringStrategy)),
      fitResources: someResources(),
      shape: shapePoints,
      balancedWeight: rng.pick([0, 1, 1, 2]),
      balancedResources: someResources(),
      taintWeight: rng.pick([0, 1, 3]),
      nodeAffinityWeight: rng.pick([0, 1, 2]),
      spreadWeight: rng.pick([0, 1, 2]),
      interPodAffinityWeight: rng.pick([0, 1, 2]),
    },
    percentageOfNodesToScore: rng.pick([0, 0, 5, 30, 50, 100]),
  };
}

/** Each core mutates its class's counts as it places (rule 6): give each its own copy. */
function cloneSpec(spec: ClassSpec): ClassSpec {
  return {
    ...spec,
    constraints: spec.constraints.map((c) => ({ ...c, counts: c.counts.slice(), eligible: c.eligible?.slice() })),
  };
}

interface Trio {
  cores: SchedulingCore[];
  names: string[];
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** Runs one generated scenario on every core, comparing after each step. */
function runScenario(seed: number, maxNodes: number, steps: number): void {
  const rng = prng(seed);
  const dims = genDims(rng, maxNodes);
  const trio: Trio = {
    cores: [new ReferenceCore(dims), new WasmCore('wasm', dims), new WasmCore('wasm-simd', dims)],
    names: ['reference', 'wasm', 'wasm-simd'],
  };
  const where = (what: string) => `seed ${seed} (${JSON.stringify(dims)}): ${what}`;
  const all = (f: (c: SchedulingCore) => void) => trio.cores.forEach(f);
  const nodes: Array<NodeRecord | undefined> = [];
  for (let n = 0; n < dims.nodes; n++) {
    if (rng.chance(0.1)) continue;
    const node = genNode(rng, dims);
    nodes[n] = node;
    const usage = genUsage(rng, dims, node);
    all((c) => c.setNode(n, node));
    all((c) => c.setNodeUsage(n, usage));
  }
  const domainCounts = Array.from({ length: dims.topologyKeys }, () => rng.int(1, 6));
  for (let k = 0; k < dims.topologyKeys; k++) {
    const doms = genDomains(rng, dims, domainCounts, k);
    all((c) => c.setTopology(k, doms));
  }
  const defined: boolean[] = [];
  const specs: ClassSpec[] = [];
  const redefine = (id: number, spec: ClassSpec) => {
    all((c) => c.defineClass(id, cloneSpec(spec)));
    defined[id] = true;
    specs[id] = spec;
  };
  const define = (id: number) => redefine(id, genClass(rng, dims, domainCounts));
  // the scheduler's recompile of a volatile class for its next cycle: other pods' counts
  // (and eligible domains) moved, the rest of the class is the same
  const recount = (id: number) => redefine(id, { ...specs[id]!, constraints: specs[id]!.constraints.map((c) => recounted(rng, c)) });
  // the class's constraints over key k with the key's new number of domains, the rest recounted
  const regrow = (id: number, k: number) =>
    redefine(id, { ...specs[id]!, constraints: specs[id]!.constraints.map((c) => recounted(rng, c, c.key === k ? domainCounts[k] : undefined)) });
  // a redefinition that differs in one other member too: it must take effect
  const reshape = (id: number) => redefine(id, reshaped(rng, specs[id]!, dims, domainCounts));
  for (let id = 0; id < dims.classes; id++) define(id);

  const diag = trio.cores.map(() => new Int32Array(dims.nodes));
  const sc = trio.cores.map(() => new Float64Array(dims.nodes));
  const compareClass = (id: number, step: string) => {
    trio.cores.forEach((c, i) => c.diagnose(id, diag[i]));
    for (let i = 1; i < trio.cores.length; i++) {
      const d = firstDiff(diag[0], diag[i]);
      if (d >= 0) assert.fail(where(`${step}: diagnose(${id}) slot ${d}: reference ${diag[0][d]}, ${trio.names[i]} ${diag[i][d]}`));
    }
    // one slot at a time (preemption's dry runs) answers as the full pass did
    trio.cores.forEach((c, i) => {
      for (let slot = 0; slot < dims.nodes; slot++) {
        const r = c.diagnoseNode(id, slot);
        if (r !== diag[i][slot]) assert.fail(where(`${step}: ${trio.names[i]} diagnoseNode(${id}, ${slot}) ${r}, its diagnose ${diag[i][slot]}`));
      }
      if (c.diagnoseNode(id, dims.nodes) !== -1) assert.fail(where(`${step}: ${trio.names[i]} diagnoseNode(${id}) past the last slot is not -1`));
    });
    trio.cores.forEach((c, i) => c.scores(id, sc[i]));
    for (let i = 1; i < trio.cores.length; i++) {
      const d = firstDiff(sc[0], sc[i]);
      if (d >= 0) assert.fail(where(`${step}: scores(${id}) slot ${d}: reference ${sc[0][d]}, ${trio.names[i]} ${sc[i][d]}`));
    }
  };

  for (let s = 0; s < steps; s++) {
    const op = rng.next();
    const id = rng.int(0, dims.classes - 1);
    if (op < 0.45) {
      if (!defined[id]) define(id);
      const count = rng.chance(0.3) ? rng.int(2, 40) : 1;
      const outs = trio.cores.map(() => new Int32Array(count));
      const ns = trio.cores.map((c, i) => c.place(id, count, outs[i]));
      for (let i = 1; i < trio.cores.length; i++) {
        if (ns[i] !== ns[0] || firstDiff(outs[0].subarray(0, ns[0]), outs[i].subarray(0, ns[i])) >= 0) {
          assert.fail(where(`step ${s}: place(${id}, ${count}): reference [${outs[0].subarray(0, ns[0])}], ${trio.names[i]} [${outs[i].subarray(0, ns[i])}]`));
        }
      }
    } else if (op < 0.6) {
      if (defined[id]) compareClass(id, `step ${s}`);
    } else if (op < 0.75) {
      // usage changes (pods bound or deleted elsewhere), several at once: can overflow the change log
      const k = rng.chance(0.1) ? rng.int(50, 400) : rng.int(1, 5);
      for (let j = 0; j < k; j++) {
        const n = rng.int(0, dims.nodes - 1);
        const node = nodes[n];
        if (!node) continue;
        const usage = genUsage(rng, dims, node);
        all((c) => c.setNodeUsage(n, usage));
      }
    } else if (op < 0.83) {
      const n = rng.int(0, dims.nodes - 1);
      if (nodes[n] && rng.chance(0.5)) {
        all((c) => c.removeNode(n));
        nodes[n] = undefined;
      } else {
        // a new node, a re-added one, or a changed one (sometimes only its allocatable)
        const old = nodes[n];
        const node = old && rng.chance(0.5) ? { ...old, allocatable: genNode(rng, dims).allocatable } : genNode(rng, dims);
        nodes[n] = node;
        all((c) => c.setNode(n, node));
        if (!old || rng.chance(0.5)) {
          const usage = genUsage(rng, dims, node);
          all((c) => c.setNodeUsage(n, usage));
        }
      }
    } else if (op < 0.88) {
      const k = rng.int(0, dims.topologyKeys - 1);
      // sometimes a new domain appears (a new zone's first node)
      const grown = domainCounts[k]! < 8 && rng.chance(0.3);
      if (grown) domainCounts[k]!++;
      const doms = genDomains(rng, dims, domainCounts, k);
      all((c) => c.setTopology(k, doms));
      // the scheduler recompiles the classes that count over it: only their domains grew
      if (grown) for (let id = 0; id < dims.classes; id++) if (defined[id] && specs[id]!.constraints.some((c) => c.key === k)) regrow(id, k);
    } else if (op < 0.95) {
      const r = rng.next();
      if (defined[id] && r < 0.4) recount(id);
      else if (defined[id] && r < 0.8) reshape(id);
      else define(id);
    } else if (defined[id]) {
      all((c) => c.dropClass(id));
      defined[id] = false;
    }
  }
  for (let id = 0; id < dims.classes; id++) if (defined[id]) compareClass(id, 'end');
  all((c) => c.dispose());
}

const BASE_SEED = process.env.FLOTILLA_DIFF_SEED ? Number(process.env.FLOTILLA_DIFF_SEED) : 20240601;

function runMany(first: number, count: number, maxNodes: number, steps: number): void {
  for (let i = 0; i < count; i++) {
    const seed = first + i;
    try {
      runScenario(seed, maxNodes, steps);
    } catch (err) {
      console.error(`differential failure: rerun with FLOTILLA_DIFF_SEED=${seed}`);
      throw err;
    }
  }
}

describe('scheduling core: reference vs wasm vs wasm-simd', function () {
  // CPU-bound: about 20 s on an idle machine, several times that when CI shares its cores
  this.timeout(240_000);

  if (process.env.FLOTILLA_DIFF_SEED) {
    it(`agrees on seed ${BASE_SEED}`, () => runMany(BASE_SEED, 1, 300, 60));
    return;
  }

  it('agrees on placements, reasons and scores over 2,000 small clusters (1-40 nodes)', () => {
    runMany(BASE_SEED, 2000, 40, 30);
  });

  it('agrees over 600 clusters of up to 300 nodes with node churn between placements', () => {
    runMany(BASE_SEED + 100_000, 600, 300, 40);
  });

  it('agrees on batches of 3,000 pods that fill the cluster, with a single filter enabled', () => {
    for (let i = 0; i < 25; i++) {
      const seed = BASE_SEED + 200_000 + i;
      const rng = prng(seed);
      const dims: CoreDims = { nodes: rng.int(100, 300), resources: 5, labelWords: 1, taintWords: 1, portWords: 1, topologyKeys: 2, classes: 2 };
      const cores = [new ReferenceCore(dims), new WasmCore('wasm', dims), new WasmCore('wasm-simd', dims)];
      const domainCounts = [3, 5];
      for (let n = 0; n < dims.nodes; n++) {
        const node = genNode(rng, dims);
        const usage = genUsage(rng, dims, node);
        cores.forEach((c) => {
          c.setNode(n, node);
          c.setNodeUsage(n, usage);
        });
      }
      for (let k = 0; k < 2; k++) {
        const doms = genDomains(rng, dims, domainCounts, k);
        cores.forEach((c) => c.setTopology(k, doms));
      }
      const spec = genClass(rng, dims, domainCounts);
      spec.filters = rng.pick(Object.values(Filter));
      cores.forEach((c) => c.defineClass(0, cloneSpec(spec)));
      const count = 3000;
      const outs = cores.map(() => new Int32Array(count));
      const ns = cores.map((c, j) => c.place(0, count, outs[j]));
      for (let j = 1; j < cores.length; j++) {
        assert.equal(ns[j], ns[0], `seed ${seed}: placed count`);
        assert.equal(firstDiff(outs[0].subarray(0, ns[0]), outs[j].subarray(0, ns[j])), -1, `seed ${seed}: batch placements differ`);
      }
    }
  });
});
