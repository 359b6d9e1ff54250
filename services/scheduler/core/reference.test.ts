import assert from 'node:assert/strict';
import { ReferenceCore, numFeasibleNodesToFind } from './reference.js';
import { emptyClass } from './types.js';
import {
  ConstraintKind,
  Dim,
  Filter,
  Reason,
  ScoringStrategy,
  type ClassSpec,
  type CoreDims,
  type DomainConstraint,
  type ScoreConfig,
} from './types.js';

const MIB = 1024 * 1024;

function dims(over: Partial<CoreDims> = {}): CoreDims {
  return { nodes: 4, resources: 5, labelWords: 1, taintWords: 1, portWords: 1, topologyKeys: 2, classes: 4, ...over };
}

interface NodeOpts {
  cpu?: number;
  mem?: number;
  eph?: number;
  pods?: number;
  gpu?: number;
  labels?: number;
  taints?: number;
  unschedulable?: boolean;
}

function addNode(core: ReferenceCore, slot: number, o: NodeOpts = {}): void {
  const d = core.dims;
  const alloc = new Float64Array(d.resources);
  alloc[Dim.CPU] = o.cpu ?? 4000;
  alloc[Dim.MEMORY] = o.mem ?? 8192 * MIB;
  alloc[Dim.EPHEMERAL_STORAGE] = o.eph ?? 0;
  alloc[Dim.PODS] = o.pods ?? 110;
  if (d.resources > Dim.FIRST_EXTENDED) alloc[Dim.FIRST_EXTENDED] = o.gpu ?? 0;
  const labels = new Uint32Array(d.labelWords);
  labels[0] = o.labels ?? 0;
  const taints = new Uint32Array(d.taintWords);
  taints[0] = o.taints ?? 0;
  core.setNode(slot, { allocatable: alloc, unschedulable: o.unschedulable ?? false, labels, taints });
}

interface UsageOpts {
  cpu?: number;
  mem?: number;
  pods?: number;
  gpu?: number;
  nzCpu?: number;
  nzMem?: number;
  ports?: number;
}

function setUsage(core: ReferenceCore, slot: number, u: UsageOpts): void {
  const d = core.dims;
  const requested = new Float64Array(d.resources);
  requested[Dim.CPU] = u.cpu ?? 0;
  requested[Dim.MEMORY] = u.mem ?? 0;
  requested[Dim.PODS] = u.pods ?? 0;
  if (d.resources > Dim.FIRST_EXTENDED) requested[Dim.FIRST_EXTENDED] = u.gpu ?? 0;
  const ports = new Uint32Array(d.portWords);
  ports[0] = u.ports ?? 0;
  core.setNodeUsage(slot, { requested, nonZeroRequested: [u.nzCpu ?? u.cpu ?? 0, u.nzMem ?? u.mem ?? 0], ports });
}

/** A class scored by nothing but the given weights. */
function onlyScores(cls: ClassSpec, score: Partial<ScoreConfig>): ClassSpec {
  cls.score = {
    ...cls.score,
    fitWeight: 0,
    balancedWeight: 0,
    taintWeight: 0,
    nodeAffinityWeight: 0,
    spreadWeight: 0,
    interPodAffinityWeight: 0,
    ...score,
  };
  return cls;
}

function withRequest(cls: ClassSpec, cpu: number, mem: number, gpu = 0): ClassSpec {
  const r = Float64Array.from(cls.request);
  r[Dim.CPU] = cpu;
  r[Dim.MEMORY] = mem;
  if (r.length > Dim.FIRST_EXTENDED) r[Dim.FIRST_EXTENDED] = gpu;
  cls.request = r;
  cls.nonZeroRequest = Float64Array.of(cpu === 0 ? 100 : cpu, mem === 0 ? 200 * MIB : mem);
  return cls;
}

function constraint(kind: number, key: number, counts: number[], over: Partial<DomainConstraint> = {}): DomainConstraint {
  return {
    kind,
    key,
    counts: Float64Array.from(counts),
    selfIncrement: 0,
    maxSkew: 1,
    minDomains: 1,
    weight: 1,
    passWhenEmpty: false,
    ...over,
  };
}

function diagnose(core: ReferenceCore, id: number): number[] {
  const out = new Int32Array(core.dims.nodes);
  core.diagnose(id, out);
  return Array.from(out);
}

function scores(core: ReferenceCore, id: number): number[] {
  const out = new Float64Array(core.dims.nodes);
  core.scores(id, out);
  return Array.from(out);
}

function place(core: ReferenceCore, id: number, count: number): number[] {
  const out = new Int32Array(count);
  const n = core.place(id, count, out);
  return Array.from(out.subarray(0, n));
}

const reason = (code: number, detail: number) => code | (detail << 8);

describe('ReferenceCore filters (diagnose)', () => {
  it('writes -1 for slots without a node and 0 where the pod fits', () => {
    const core = new ReferenceCore(dims());
    addNode(core, 0);
    addNode(core, 2);
    core.defineClass(0, emptyClass(core.dims));
    assert.deepEqual(diagnose(core, 0), [0, -1, 0, -1]);
  });

  it('NodeUnschedulable rejects unschedulable nodes unless the pod tolerates them', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { unschedulable: true });
    addNode(core, 1);
    const cls = emptyClass(core.dims);
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [Reason.Unschedulable, 0]);
    core.defineClass(1, { ...cls, toleratesUnschedulable: true });
    assert.deepEqual(diagnose(core, 1), [0, 0]);
  });

  it('NodeName rejects every other node, and every node when the named node does not exist', () => {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s);
    core.defineClass(0, { ...emptyClass(core.dims), nodeNameSlot: 1 });
    assert.deepEqual(diagnose(core, 0), [Reason.NodeName, 0, Reason.NodeName]);
    core.defineClass(1, { ...emptyClass(core.dims), nodeNameSlot: -2 });
    assert.deepEqual(diagnose(core, 1), [Reason.NodeName, Reason.NodeName, Reason.NodeName]);
  });

  it('TaintToleration reports the lowest untolerated taint bit, across words', () => {
    const core = new ReferenceCore(dims({ nodes: 3, taintWords: 2 }));
    addNode(core, 0, { taints: 0b1010 });
    addNode(core, 1, { taints: 0b0010 });
    core.setNode(2, {
      allocatable: [4000, 8192 * MIB, 0, 110, 0],
      unschedulable: false,
      labels: new Uint32Array(1),
      taints: Uint32Array.of(0, 1 << 1),
    });
    const cls = emptyClass(core.dims);
    cls.untoleratedHard = Uint32Array.of(0b1000, 0b10);
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [reason(Reason.Taint, 3), 0, reason(Reason.Taint, 33)]);
  });

  it('TaintToleration reports bit 31 as 31 (unsigned word)', () => {
    const core = new ReferenceCore(dims({ nodes: 1 }));
    addNode(core, 0, { taints: 0x80000000 });
    const cls = emptyClass(core.dims);
    cls.untoleratedHard = Uint32Array.of(0x80000000);
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [reason(Reason.Taint, 31)]);
  });

  it('NodeAffinity needs every selector bit and all bits of at least one required term', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    addNode(core, 0, { labels: 0b0001 });
    addNode(core, 1, { labels: 0b0011 });
    addNode(core, 2, { labels: 0x80000101 });
    addNode(core, 3, { labels: 0b1001 });
    const cls = emptyClass(core.dims);
    cls.selector = Uint32Array.of(0b1);
    cls.requiredTerms = [Uint32Array.of(0b0110), Uint32Array.of(0x80000100), Uint32Array.of(0b1000)];
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [Reason.NodeAffinity, Reason.NodeAffinity, 0, 0]);
  });

  it('NodeAffinity: a required term with no requirements matches no node, as upstream', () => {
    const core = new ReferenceCore(dims({ nodes: 1 }));
    addNode(core, 0, { labels: 0b1 });
    const cls = emptyClass(core.dims);
    cls.requiredTerms = [new Uint32Array(1)];
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [Reason.NodeAffinity]);
  });

  it('NodePorts rejects a node where a requested host port is in use', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0);
    addNode(core, 1);
    setUsage(core, 0, { ports: 0b100 });
    setUsage(core, 1, { ports: 0b010 });
    const cls = emptyClass(core.dims);
    cls.ports = Uint32Array.of(0b100);
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [Reason.NodePorts, 0]);
  });

  it('NodeResourcesFit reports every insufficient dimension; pods always, unrequested dims never', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    addNode(core, 0, { cpu: 1000, mem: 1000 });
    addNode(core, 1, { pods: 3, gpu: 1 });
    addNode(core, 2, { gpu: 1 });
    addNode(core, 3, { gpu: 2 });
    setUsage(core, 0, { cpu: 600, mem: 600 });
    setUsage(core, 1, { pods: 3 });
    setUsage(core, 2, { gpu: 1 });
    setUsage(core, 3, { gpu: 1 });
    // node 0: 600 + 500 > 1000 on cpu and memory
    core.defineClass(0, withRequest(emptyClass(core.dims), 500, 500));
    // the gpu dimension is checked only when requested
    core.defineClass(1, withRequest(emptyClass(core.dims), 10, 10, 1));
    assert.deepEqual(diagnose(core, 0), [
      reason(Reason.Insufficient, (1 << Dim.CPU) | (1 << Dim.MEMORY)),
      reason(Reason.Insufficient, 1 << Dim.PODS),
      0,
      0,
    ]);
    assert.deepEqual(diagnose(core, 1), [
      reason(Reason.Insufficient, 1 << Dim.FIRST_EXTENDED),
      reason(Reason.Insufficient, 1 << Dim.PODS),
      reason(Reason.Insufficient, 1 << Dim.FIRST_EXTENDED),
      0,
    ]);
  });

  it('reports the first failing filter in upstream order, and skips disabled filters', () => {
    const core = new ReferenceCore(dims({ nodes: 1 }));
    addNode(core, 0, { unschedulable: true, taints: 0b1, cpu: 10 });
    const cls = withRequest(emptyClass(core.dims), 100, 0);
    cls.untoleratedHard = Uint32Array.of(0b1);
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [Reason.Unschedulable]);
    core.defineClass(1, { ...cls, filters: cls.filters & ~Filter.NodeUnschedulable });
    assert.deepEqual(diagnose(core, 1), [reason(Reason.Taint, 0)]);
    core.defineClass(2, { ...cls, filters: Filter.NodeResourcesFit });
    assert.deepEqual(diagnose(core, 2), [reason(Reason.Insufficient, 1 << Dim.CPU)]);
    core.defineClass(3, { ...cls, filters: 0 });
    assert.deepEqual(diagnose(core, 3), [0]);
  });

  it('PodTopologySpread: missing label and skew, with the index of the failing constraint', () => {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(0, 1, -1));
    core.setTopology(1, Int32Array.of(0, 0, 0));
    const cls = emptyClass(core.dims);
    cls.constraints = [
      constraint(ConstraintKind.SpreadSoft, 0, [0, 0]),
      constraint(ConstraintKind.SpreadHard, 1, [0]),
      constraint(ConstraintKind.SpreadHard, 0, [2, 0], { selfIncrement: 1, maxSkew: 2 }),
    ];
    core.defineClass(0, cls);
    // zone 0: 2 + 1 - 0 = 3 > 2; zone 1: 0 + 1 - 0 = 1; slot 2 lacks the key
    assert.deepEqual(diagnose(core, 0), [
      reason(Reason.SpreadSkew, 2),
      0,
      reason(Reason.SpreadMissingLabel, 2),
    ]);
  });

  it('PodTopologySpread: the global minimum is 0 while fewer than minDomains domains are eligible', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0);
    addNode(core, 1);
    core.setTopology(0, Int32Array.of(0, 1));
    const spread = (over: Partial<DomainConstraint>) => {
      const cls = emptyClass(core.dims);
      cls.constraints = [constraint(ConstraintKind.SpreadHard, 0, [1, 1], { selfIncrement: 1, ...over })];
      return cls;
    };
    core.defineClass(0, spread({ minDomains: 1 }));
    assert.deepEqual(diagnose(core, 0), [0, 0]);
    // two eligible domains < minDomains 3: global min 0, skew 1 + 1 - 0 = 2 > 1
    core.defineClass(1, spread({ minDomains: 3 }));
    assert.deepEqual(diagnose(core, 1), [reason(Reason.SpreadSkew, 0), reason(Reason.SpreadSkew, 0)]);
  });

  it('PodTopologySpread: only eligible domains count for the global minimum', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0);
    addNode(core, 1);
    core.setTopology(0, Int32Array.of(0, 1));
    const cls = emptyClass(core.dims);
    cls.constraints = [constraint(ConstraintKind.SpreadHard, 0, [0, 5], { selfIncrement: 1 })];
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [0, reason(Reason.SpreadSkew, 0)]);
    cls.constraints[0].eligible = Uint8Array.of(0, 1);
    core.defineClass(1, cls);
    // min over eligible = 5: zone 0 skew 0 + 1 - 5 < 1, zone 1 skew 5 + 1 - 5 = 1
    assert.deepEqual(diagnose(core, 1), [0, 0]);
  });

  it('InterPodAffinity: affinity, anti-affinity and existing anti-affinity with constraint indexes, in upstream order', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    for (let s = 0; s < 4; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(0, 1, 2, -1));
    const cls = emptyClass(core.dims);
    cls.constraints = [
      constraint(ConstraintKind.ExistingAntiAffinity, 0, [1, 0, 1]),
      constraint(ConstraintKind.AntiAffinity, 0, [0, 1, 0]),
      constraint(ConstraintKind.Affinity, 0, [1, 1, 0]),
    ];
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [
      reason(Reason.ExistingAntiAffinity, 0),
      reason(Reason.PodAntiAffinity, 1),
      // zone 2 fails both affinity and existing anti-affinity: affinity is checked first
      reason(Reason.PodAffinity, 2),
      reason(Reason.PodAffinity, 2),
    ]);
  });

  it('InterPodAffinity: the first self-affine pod passes when no pod matches anywhere (passWhenEmpty)', () => {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(0, 0, -1));
    const affine = (passWhenEmpty: boolean, counts: number[]) => {
      const cls = emptyClass(core.dims);
      cls.constraints = [constraint(ConstraintKind.Affinity, 0, counts, { passWhenEmpty, selfIncrement: 1 })];
      return cls;
    };
    core.defineClass(0, affine(true, [0]));
    assert.deepEqual(diagnose(core, 0), [0, 0, reason(Reason.PodAffinity, 0)]);
    core.defineClass(1, affine(false, [0]));
    assert.deepEqual(diagnose(core, 1), [reason(Reason.PodAffinity, 0), reason(Reason.PodAffinity, 0), reason(Reason.PodAffinity, 0)]);
  });

  it('InterPodAffinity: passWhenEmpty does not apply once any affinity constraint has a match', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0);
    addNode(core, 1);
    core.setTopology(0, Int32Array.of(0, 1));
    core.setTopology(1, Int32Array.of(0, 0));
    const cls = emptyClass(core.dims);
    cls.constraints = [
      constraint(ConstraintKind.Affinity, 0, [0, 0], { passWhenEmpty: true }),
      constraint(ConstraintKind.Affinity, 1, [1], { passWhenEmpty: true }),
    ];
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [reason(Reason.PodAffinity, 0), reason(Reason.PodAffinity, 0)]);
  });
});

describe('ReferenceCore scores', () => {
  // cpu: alloc 3000, pod 1000; memory: alloc 1000, pod 250 (no other pods)
  function fitCluster(strategy: number, shape: ScoreConfig['shape'] = [], memReq = 250) {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { cpu: 3000, mem: 1000 });
    addNode(core, 1, { cpu: 3000, mem: 0 });
    const cls = onlyScores(withRequest(emptyClass(core.dims), 1000, memReq), { fitWeight: 1, strategy, shape });
    cls.filters = 0;
    core.defineClass(0, cls);
    return { core, cls };
  }

  it('LeastAllocated: floor of the weighted mean of floor((alloc - req) * 100 / alloc); alloc 0 skips the resource', () => {
    const { core, cls } = fitCluster(ScoringStrategy.LeastAllocated);
    // cpu floor(200000 / 3000) = 66, memory 75: floor(141 / 2) = 70; node 1 has no memory: 66 alone
    assert.deepEqual(scores(core, 0), [70, 66]);
    cls.score.fitResources = [
      { dim: Dim.CPU, weight: 2 },
      { dim: Dim.MEMORY, weight: 1 },
    ];
    core.defineClass(1, cls);
    // (66 * 2 + 75) / 3 = 69
    assert.deepEqual(scores(core, 1), [69, 66]);
  });

  it('LeastAllocated uses the non-zero requests for cpu and memory', () => {
    const core = new ReferenceCore(dims({ nodes: 1 }));
    addNode(core, 0, { cpu: 1000, mem: 1000 * MIB });
    setUsage(core, 0, { cpu: 0, mem: 0, nzCpu: 400, nzMem: 400 * MIB });
    core.defineClass(0, onlyScores(emptyClass(core.dims), { fitWeight: 1 }));
    // cpu (1000 - 500) -> 50, memory (1000 - 600) -> 40: 45
    assert.deepEqual(scores(core, 0), [45]);
  });

  it('MostAllocated: floor(req * 100 / alloc), capped at 100 when over capacity', () => {
    const { core } = fitCluster(ScoringStrategy.MostAllocated);
    // cpu 33, memory 25: 29; node 1: cpu only, 33
    assert.deepEqual(scores(core, 0), [29, 33]);
    const over = new ReferenceCore(dims({ nodes: 1 }));
    addNode(over, 0, { cpu: 500, mem: 1000 });
    const cls = onlyScores(withRequest(emptyClass(over.dims), 1000, 500), { fitWeight: 1, strategy: ScoringStrategy.MostAllocated });
    cls.filters = 0;
    over.defineClass(0, cls);
    assert.deepEqual(scores(over, 0), [75]);
  });

  it('RequestedToCapacityRatio: broken-linear shape x10 and math.Round of the weighted mean', () => {
    const shape = [
      { utilization: 0, score: 0 },
      { utilization: 100, score: 10 },
    ];
    // cpu utilization 33 -> 33, memory 24 -> 24: round(57 / 2 = 28.5) = 29 (a floor would give 28)
    const { core } = fitCluster(ScoringStrategy.RequestedToCapacityRatio, shape, 240);
    assert.deepEqual(scores(core, 0), [29, 33]);
  });

  it('RequestedToCapacityRatio: a decreasing shape truncates toward zero; zero scores do not count', () => {
    const shape = [
      { utilization: 0, score: 10 },
      { utilization: 30, score: 0 },
    ];
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { cpu: 4000, mem: 1000 });
    addNode(core, 1, { cpu: 4000, mem: 1000 });
    setUsage(core, 1, { cpu: 3000, mem: 0 });
    const cls = onlyScores(withRequest(emptyClass(core.dims), 1000, 500), {
      fitWeight: 1,
      strategy: ScoringStrategy.RequestedToCapacityRatio,
      shape,
    });
    cls.filters = 0;
    core.defineClass(0, cls);
    // node 0: cpu util 25 -> 100 + trunc(-100 * 25 / 30 = -83.3) = 17; memory util 50 -> 0 (not counted): 17
    // node 1: cpu util 100 -> 0, memory 0: nothing counts -> 0
    assert.deepEqual(scores(core, 0), [17, 0]);
  });

  it('BalancedAllocation: 1 - |f0 - f1| / 2 for two resources, the standard deviation for more', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { cpu: 1000, mem: 1000, gpu: 1 });
    addNode(core, 1, { cpu: 1000, mem: 1000, gpu: 1 });
    setUsage(core, 1, { cpu: 0, mem: 0, nzCpu: 1000, nzMem: 1000 });
    const cls = onlyScores(withRequest(emptyClass(core.dims), 500, 250, 1), { balancedWeight: 1 });
    cls.filters = 0;
    core.defineClass(0, cls);
    // 0.5 and 0.25: std 0.125 -> 87; non-zero requests play no part (node 1 equal)
    assert.deepEqual(scores(core, 0), [87, 87]);
    cls.score.balancedResources = [
      { dim: Dim.CPU, weight: 1 },
      { dim: Dim.MEMORY, weight: 1 },
      { dim: Dim.FIRST_EXTENDED, weight: 1 },
    ];
    core.defineClass(1, cls);
    // 0.5, 0.25, 1: mean 0.5833, std 0.3118 -> 68
    assert.deepEqual(scores(core, 1), [68, 68]);
    // a gpu the pod does not request is skipped: back to two fractions
    core.defineClass(2, withRequest(cls, 500, 250, 0));
    assert.deepEqual(scores(core, 2), [87, 87]);
  });

  it('TaintToleration: reverse normalisation over statically feasible nodes', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    addNode(core, 0, { taints: 0 });
    addNode(core, 1, { taints: 0b01 });
    addNode(core, 2, { taints: 0b11 });
    addNode(core, 3, { taints: 0b1111, unschedulable: true });
    const cls = onlyScores(emptyClass(core.dims), { taintWeight: 1 });
    cls.untoleratedPreferred = Uint32Array.of(0b1111);
    core.defineClass(0, cls);
    // max count 2 (node 3 is not statically feasible): 100, 50, 0
    assert.deepEqual(scores(core, 0), [100, 50, 0, -1]);
    core.defineClass(1, { ...cls, untoleratedPreferred: new Uint32Array(1) });
    assert.deepEqual(scores(core, 1), [100, 100, 100, -1]);
  });

  it('TaintToleration normalisation counts statically feasible nodes that fail a later filter', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { taints: 0b01 });
    addNode(core, 1, { taints: 0b11, cpu: 10 });
    const cls = onlyScores(withRequest(emptyClass(core.dims), 100, 0), { taintWeight: 1 });
    cls.untoleratedPreferred = Uint32Array.of(0b11);
    core.defineClass(0, cls);
    // node 1 lacks cpu but is statically feasible: maxCount 2, node 0 scores 100 - 50
    assert.deepEqual(scores(core, 0), [50, -1]);
  });

  it('NodeAffinity: preferred term weights normalised to the maximum; empty terms match nothing', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    addNode(core, 0, { labels: 0b00 });
    addNode(core, 1, { labels: 0b01 });
    addNode(core, 2, { labels: 0b11 });
    addNode(core, 3, { labels: 0b10 });
    const cls = onlyScores(emptyClass(core.dims), { nodeAffinityWeight: 1 });
    cls.preferredTerms = [
      { mask: Uint32Array.of(0b01), weight: 10 },
      { mask: Uint32Array.of(0b10), weight: 30 },
      { mask: Uint32Array.of(0), weight: 50 },
    ];
    core.defineClass(0, cls);
    assert.deepEqual(scores(core, 0), [0, 25, 100, 75]);
    core.defineClass(1, { ...cls, preferredTerms: [] });
    assert.deepEqual(scores(core, 1), [0, 0, 0, 0]);
  });

  it('PodTopologySpread soft: rounded raw scores, 100 * (max + min - s) / max, ignored nodes 0', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    for (let s = 0; s < 4; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(0, 0, 1, -1));
    const cls = onlyScores(emptyClass(core.dims), { spreadWeight: 1 });
    cls.constraints = [constraint(ConstraintKind.SpreadSoft, 0, [3, 1], { weight: 1.25, maxSkew: 2 })];
    core.defineClass(0, cls);
    // raw: zone 0 round(3 * 1.25 + 1 = 4.75) = 5, zone 1 round(2.25) = 2; min 2, max 5
    // zone 0: floor(100 * 2 / 5) = 40, zone 1: 100; slot 3 lacks the key: 0
    assert.deepEqual(scores(core, 0), [40, 40, 100, 0]);
    cls.constraints = [constraint(ConstraintKind.SpreadSoft, 0, [0, 0])];
    core.defineClass(1, cls);
    // all raw scores 0: every non-ignored node gets 100
    assert.deepEqual(scores(core, 1), [100, 100, 100, 0]);
  });

  it('InterPodAffinity score: 100 * ((s - min) / (max - min)), divided first as upstream', () => {
    const core = new ReferenceCore(dims({ nodes: 4 }));
    for (let s = 0; s < 4; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(0, 1, 2, -1));
    const cls = onlyScores(emptyClass(core.dims), { interPodAffinityWeight: 1 });
    cls.constraints = [constraint(ConstraintKind.AffinityScore, 0, [5, -2, 0])];
    core.defineClass(0, cls);
    // raw 5, -2, 0, 0: min -2, max 5 -> 100, 0, floor(200 / 7) = 28, 28
    assert.deepEqual(scores(core, 0), [100, 0, 28, 28]);
    cls.constraints = [constraint(ConstraintKind.AffinityScore, 0, [29, 0, 100])];
    core.defineClass(1, cls);
    // 100 * (29 / 100) = 28.999999999999996 -> 28 (integer arithmetic would give 29)
    assert.deepEqual(scores(core, 1), [28, 0, 100, 0]);
    cls.constraints = [constraint(ConstraintKind.AffinityScore, 0, [4, 4, 4])];
    core.defineClass(2, cls);
    core.removeNode(3);
    // max == min: 0 everywhere
    assert.deepEqual(scores(core, 2), [0, 0, 0, -1]);
  });

  it('the total is the weighted sum of upstream default plugin scores', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { cpu: 1000, mem: 2000 * MIB });
    addNode(core, 1, { cpu: 1000, mem: 2000 * MIB });
    setUsage(core, 1, { cpu: 500, mem: 0, nzCpu: 500, nzMem: 200 * MIB });
    core.defineClass(0, emptyClass(core.dims));
    // node 0: fit (90 + 90) / 2 = 90, balanced 100, taint 100 * 3: 490
    // node 1: fit cpu 40, memory 80 -> 60; balanced fractions 0.5 and 0 -> 75; 60 + 75 + 300 = 435
    assert.deepEqual(scores(core, 0), [490, 435]);
  });
});

describe('ReferenceCore batch placement', () => {
  function cpuCluster(strategy: number) {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s, { cpu: 4000 });
    const cls = onlyScores(withRequest(emptyClass(core.dims), 1000, 0), {
      fitWeight: 1,
      strategy,
      fitResources: [{ dim: Dim.CPU, weight: 1 }],
    });
    core.defineClass(0, cls);
    return core;
  }

  it('MostAllocated bin-packs: a batch fills one node before the next', () => {
    const core = cpuCluster(ScoringStrategy.MostAllocated);
    assert.deepEqual(place(core, 0, 6), [0, 0, 0, 0, 1, 1]);
  });

  it('LeastAllocated spreads a batch across nodes', () => {
    const core = cpuCluster(ScoringStrategy.LeastAllocated);
    assert.deepEqual(place(core, 0, 6), [0, 1, 2, 0, 1, 2]);
  });

  it('stops at the first pod that fits nowhere and records what it placed', () => {
    const core = cpuCluster(ScoringStrategy.MostAllocated);
    assert.deepEqual(place(core, 0, 20), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    assert.deepEqual(diagnose(core, 0), Array(3).fill(reason(Reason.Insufficient, 1 << Dim.CPU)));
    assert.deepEqual(place(core, 0, 1), []);
  });

  it('placing adds the pod ports to the node', () => {
    const core = cpuCluster(ScoringStrategy.MostAllocated);
    const cls = emptyClass(core.dims);
    cls.ports = Uint32Array.of(0b1);
    core.defineClass(1, cls);
    assert.deepEqual(place(core, 1, 4), [0, 1, 2]);
    assert.deepEqual(diagnose(core, 1), [Reason.NodePorts, Reason.NodePorts, Reason.NodePorts]);
  });

  it('spread hard with maxSkew 1 rotates a batch through the zones', () => {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(0, 1, 2));
    const cls = onlyScores(emptyClass(core.dims), {});
    cls.constraints = [constraint(ConstraintKind.SpreadHard, 0, [0, 0, 0], { selfIncrement: 1 })];
    core.defineClass(0, cls);
    assert.deepEqual(place(core, 0, 6), [0, 1, 2, 0, 1, 2]);
  });

  it('a self-affine batch stays in the domain of its first pod', () => {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s);
    core.setTopology(0, Int32Array.of(1, 0, 0));
    const cls = withRequest(emptyClass(core.dims), 1000, 0);
    cls.constraints = [constraint(ConstraintKind.Affinity, 0, [0, 0], { passWhenEmpty: true, selfIncrement: 1 })];
    core.defineClass(0, cls);
    const slots = place(core, 0, 4);
    // the first pod lands on slot 0 (ties to the lowest slot); the rest must follow to zone 1
    assert.deepEqual(slots, [0, 0, 0, 0]);
    assert.deepEqual(diagnose(core, 0), [
      reason(Reason.Insufficient, 1 << Dim.CPU),
      reason(Reason.PodAffinity, 0),
      reason(Reason.PodAffinity, 0),
    ]);
  });

  it('anti-affinity on hostname with a self increment puts a batch on distinct nodes', () => {
    const core = new ReferenceCore(dims({ nodes: 3 }));
    for (let s = 0; s < 3; s++) addNode(core, s);
    core.setTopology(1, Int32Array.of(0, 1, 2));
    const cls = onlyScores(withRequest(emptyClass(core.dims), 100, 0), {
      fitWeight: 1,
      strategy: ScoringStrategy.MostAllocated,
    });
    cls.constraints = [constraint(ConstraintKind.AntiAffinity, 1, [0, 0, 0], { selfIncrement: 1 })];
    core.defineClass(0, cls);
    const slots = place(core, 0, 4);
    assert.equal(slots.length, 3);
    assert.deepEqual([...slots].sort(), [0, 1, 2]);
    assert.deepEqual(diagnose(core, 0), Array(3).fill(reason(Reason.PodAntiAffinity, 0)));
  });

  it('defineClass copies the counts: placing does not change the caller\'s arrays', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0);
    addNode(core, 1);
    core.setTopology(0, Int32Array.of(0, 1));
    const counts = Float64Array.of(0, 0);
    const cls = emptyClass(core.dims);
    cls.constraints = [{ ...constraint(ConstraintKind.AntiAffinity, 0, []), counts, selfIncrement: 1 }];
    core.defineClass(0, cls);
    assert.deepEqual(place(core, 0, 2), [0, 1]);
    assert.deepEqual(Array.from(counts), [0, 0]);
    // redefining restores the caller's counts
    core.defineClass(0, cls);
    assert.deepEqual(place(core, 0, 1), [0]);
  });
});

describe('ReferenceCore sampling (percentageOfNodesToScore)', () => {
  it('numFeasibleNodesToFind follows upstream', () => {
    assert.equal(numFeasibleNodesToFind(0, 50), 50);
    assert.equal(numFeasibleNodesToFind(10, 99), 99);
    assert.equal(numFeasibleNodesToFind(0, 1000), 420); // 50 - 8 = 42 %
    assert.equal(numFeasibleNodesToFind(0, 1500), 570); // 50 - 12 = 38 %
    assert.equal(numFeasibleNodesToFind(0, 100000), 5000); // floored at 5 %
    assert.equal(numFeasibleNodesToFind(10, 500), 100); // at least 100
    assert.equal(numFeasibleNodesToFind(100, 500), 500);
    assert.equal(numFeasibleNodesToFind(50, 333), 166);
  });

  /**
   * 200 nodes; slots 0..49 unschedulable; an AffinityScore constraint whose count grows with the
   * slot, so each decision picks the highest slot among the nodes it examined.
   */
  function sampledCluster(withConstraint: boolean) {
    const n = 200;
    const core = new ReferenceCore(dims({ nodes: n, topologyKeys: 1 }));
    const domains = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      addNode(core, s, { unschedulable: s < 50 });
      domains[s] = s;
    }
    core.setTopology(0, domains);
    const cls = onlyScores(emptyClass(core.dims), { interPodAffinityWeight: 1 });
    cls.percentageOfNodesToScore = 50;
    if (withConstraint) cls.constraints = [constraint(ConstraintKind.AffinityScore, 0, Array.from(domains))];
    core.defineClass(0, cls);
    return core;
  }

  it('scans from a rotating start and stops after numFeasibleNodesToFind feasible nodes', () => {
    const core = sampledCluster(true);
    // 1: examines 0..149 (100 feasible) -> 149, start 150
    // 2: 150..199, 0..99 (100 feasible, 150 examined) -> 199, start (150 + 150) % 200 = 100
    // 3: 100..199 (100 examined) -> 199, start 0
    // 4: as 1 -> 149
    assert.deepEqual(place(core, 0, 4), [149, 199, 199, 149]);
  });

  it('the start keeps rotating across place calls; scores() and diagnose() do not move it', () => {
    const core = sampledCluster(true);
    assert.deepEqual(place(core, 0, 1), [149]);
    scores(core, 0);
    diagnose(core, 0);
    assert.deepEqual(place(core, 0, 1), [199]);
  });

  it('ties go to the lowest slot among the sampled nodes, not the first one examined', () => {
    const core = sampledCluster(true);
    const cls = onlyScores(emptyClass(core.dims), {});
    cls.percentageOfNodesToScore = 50;
    cls.constraints = [constraint(ConstraintKind.AffinityScore, 0, Array(200).fill(0))];
    core.defineClass(1, cls);
    // 1: examines 0..149 -> 50; 2: examines 150..199 then 0..99 -> 50 again (150 was examined first)
    assert.deepEqual(place(core, 1, 2), [50, 50]);
  });

  it('classes without domain constraints consider every node, whatever the percentage', () => {
    const core = sampledCluster(false);
    addNode(core, 199, { labels: 0b1 });
    const cls = onlyScores(emptyClass(core.dims), { nodeAffinityWeight: 1 });
    cls.percentageOfNodesToScore = 50;
    cls.preferredTerms = [{ mask: Uint32Array.of(0b1), weight: 1 }];
    core.defineClass(1, cls);
    assert.deepEqual(place(core, 1, 2), [199, 199]);
  });

  it('scores() considers every feasible node, without sampling', () => {
    const core = sampledCluster(true);
    const s = scores(core, 0);
    assert.equal(s[49], -1);
    assert.equal(s[50], 0);
    assert.equal(s[199], 100);
  });

  it('removed nodes are not part of the rotation', () => {
    const core = sampledCluster(true);
    for (let s = 0; s < 50; s++) core.removeNode(s);
    // 150 present nodes (slots 50..199), k = 100: examines 50..149 -> 149, start 100 (slot 150);
    // then 150..199, 50..99 -> 199
    assert.deepEqual(place(core, 0, 2), [149, 199]);
  });
});

describe('ReferenceCore node updates', () => {
  it('removeNode takes the node out; setNode brings it back without its old usage', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0, { cpu: 1000 });
    addNode(core, 1, { cpu: 1000 });
    setUsage(core, 0, { cpu: 1000 });
    const cls = withRequest(emptyClass(core.dims), 500, 0);
    core.defineClass(0, cls);
    assert.deepEqual(diagnose(core, 0), [reason(Reason.Insufficient, 1 << Dim.CPU), 0]);
    core.removeNode(1);
    assert.deepEqual(diagnose(core, 0), [reason(Reason.Insufficient, 1 << Dim.CPU), -1]);
    assert.deepEqual(place(core, 0, 1), []);
    core.removeNode(0);
    addNode(core, 0, { cpu: 1000 });
    assert.deepEqual(diagnose(core, 0), [0, -1]);
    assert.deepEqual(scores(core, 0).slice(1), [-1]);
  });

  it('setNode keeps the usage; setNodeUsage replaces it', () => {
    const core = new ReferenceCore(dims({ nodes: 1 }));
    addNode(core, 0, { cpu: 1000 });
    setUsage(core, 0, { cpu: 800 });
    const cls = withRequest(emptyClass(core.dims), 500, 0);
    core.defineClass(0, cls);
    addNode(core, 0, { cpu: 1200 });
    assert.deepEqual(diagnose(core, 0), [reason(Reason.Insufficient, 1 << Dim.CPU)]);
    setUsage(core, 0, { cpu: 700 });
    assert.deepEqual(diagnose(core, 0), [0]);
    assert.deepEqual(place(core, 0, 2), [0]);
  });

  it('dropClass makes the class undefined', () => {
    const core = new ReferenceCore(dims({ nodes: 1 }));
    addNode(core, 0);
    core.defineClass(0, emptyClass(core.dims));
    core.dropClass(0);
    assert.throws(() => place(core, 0, 1), (e: unknown) => e instanceof RangeError && /class 0 is not defined/.test(e.message));
  });
});

describe('ReferenceCore input validation', () => {
  const rangeError = (pattern: RegExp) => (e: unknown) => e instanceof RangeError && pattern.test(e.message);

  it('rejects slots, class ids and topology keys out of range', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    assert.throws(() => addNode(core, 2), rangeError(/node slot 2 out of range/));
    assert.throws(() => addNode(core, -1), rangeError(/node slot -1/));
    assert.throws(() => core.removeNode(1.5), rangeError(/node slot 1.5/));
    assert.throws(() => core.setNodeUsage(7, { requested: [0, 0, 0, 0, 0], nonZeroRequested: [0, 0], ports: new Uint32Array(1) }), rangeError(/node slot 7/));
    assert.throws(() => core.defineClass(4, emptyClass(core.dims)), rangeError(/class id 4 out of range/));
    assert.throws(() => core.dropClass(-1), rangeError(/class id -1/));
    assert.throws(() => core.diagnose(1, new Int32Array(2)), rangeError(/class 1 is not defined/));
    assert.throws(() => core.scores(9, new Float64Array(2)), rangeError(/class id 9/));
    assert.throws(() => core.setTopology(2, new Int32Array(2)), rangeError(/topology key 2/));
  });

  it('rejects bit arrays and vectors of the wrong length, naming them', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    const good = { allocatable: [1, 1, 1, 1, 1], unschedulable: false, labels: new Uint32Array(1), taints: new Uint32Array(1) };
    assert.throws(() => core.setNode(0, { ...good, labels: new Uint32Array(2) }), rangeError(/node 0 labels has length 2, want 1/));
    assert.throws(() => core.setNode(0, { ...good, taints: new Uint32Array(0) }), rangeError(/node 0 taints/));
    assert.throws(() => core.setNode(0, { ...good, allocatable: [1, 1] }), rangeError(/node 0 allocatable/));
    assert.throws(
      () => core.setNodeUsage(1, { requested: [0, 0, 0, 0, 0], nonZeroRequested: [0, 0], ports: new Uint32Array(3) }),
      rangeError(/node 1 usage.ports/),
    );
    assert.throws(() => core.setTopology(0, new Int32Array(3)), rangeError(/topology key 0 domains has length 3/));
    const cls = emptyClass(core.dims);
    assert.throws(() => core.defineClass(0, { ...cls, selector: new Uint32Array(2) }), rangeError(/class 0 selector/));
    assert.throws(() => core.defineClass(0, { ...cls, ports: new Uint32Array(0) }), rangeError(/class 0 ports/));
    assert.throws(() => core.defineClass(0, { ...cls, untoleratedHard: new Uint32Array(2) }), rangeError(/untoleratedHard/));
    assert.throws(() => core.defineClass(0, { ...cls, requiredTerms: [new Uint32Array(3)] }), rangeError(/requiredTerms\[0\]/));
    assert.throws(() => core.defineClass(0, { ...cls, request: [0, 0, 0, 1] }), rangeError(/class 0 request/));
    assert.throws(() => core.defineClass(0, { ...cls, nodeNameSlot: 2 }), rangeError(/nodeNameSlot 2/));
    assert.throws(
      () => core.defineClass(0, { ...cls, constraints: [constraint(ConstraintKind.SpreadHard, 5, [0])] }),
      rangeError(/constraints\[0\] topology key 5/),
    );
    assert.throws(
      () => core.defineClass(0, { ...cls, constraints: [{ ...constraint(ConstraintKind.SpreadHard, 0, [0, 0]), eligible: Uint8Array.of(1) }] }),
      rangeError(/constraints\[0\].eligible has length 1, want 2/),
    );
  });

  it('rejects a node whose domain lies beyond a constraint\'s counts', () => {
    const core = new ReferenceCore(dims({ nodes: 2 }));
    addNode(core, 0);
    addNode(core, 1);
    core.setTopology(0, Int32Array.of(0, 3));
    const cls = emptyClass(core.dims);
    cls.constraints = [constraint(ConstraintKind.AntiAffinity, 0, [0, 0])];
    core.defineClass(0, cls);
    assert.throws(() => place(core, 0, 1), rangeError(/slot 1 is in domain 3 of topology key 0, but counts has length 2/));
  });
});
