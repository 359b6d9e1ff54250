/**
 * The WebAssembly scheduling core (assembly/core.ts) behind the SchedulingCore contract.
 * JS writes node and class data straight into the module's linear memory through typed
 * array views at the offsets the module's layout table gives, and class blobs as
 * assembly/layout.ts lays them out (the module's build reads the same file); the module is
 * told only which slot changed.
 */
import { readFileSync } from 'node:fs';
import * as layout from '../../../assembly/layout.js';
import { ScoringStrategy } from './types.js';
import type { ClassSpec, CoreDims, CoreKind, DomainConstraint, NodeRecord, NodeUsage, SchedulingCore } from './types.js';

/**
 * The slice of the WebAssembly JS API used here: tsconfig's lib (ES2022, no DOM) does not
 * declare the global, which Node.js provides.
 */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface CoreExports {
  memory: { buffer: ArrayBuffer };
  init(nodes: number, resources: number, labelWords: number, taintWords: number, portWords: number, topologyKeys: number, classes: number): number;
  nodeTouched(slot: number, staticChanged: number): void;
  classAlloc(id: number, bytes: number): number;
  classReady(id: number): void;
  classDrop(id: number): void;
  place(id: number, count: number): number;
  diagnose(id: number): void;
  diagnoseNode(id: number, slot: number): number;
  scores(id: number): void;
}

const compiled = new Map<string, WasmModule>();

/** The compiled module of one build, compiled once per process (synchronously: it is small). */
function moduleFor(kind: 'wasm' | 'wasm-simd'): WasmModule {
  let mod = compiled.get(kind);
  if (!mod) {
    // dist/services/scheduler/core/wasm.js -> dist/assembly/
    const url = new URL(`../../../assembly/${kind === 'wasm-simd' ? 'core-simd.wasm' : 'core.wasm'}`, import.meta.url);
    let bytes: Buffer;
    try {
      bytes = readFileSync(url);
    } catch (err) {
      throw new Error(`scheduler core: cannot read ${url.pathname} (build it with: node bin/ensure.js wasm): ${(err as Error).message}`);
    }
    mod = new WebAssemblyApi.Module(bytes);
    compiled.set(kind, mod);
  }
  return mod;
}

/**
 * Compiles the build of `kind` now, so a process that will need it fails at its start with
 * the one command that builds it, not at its first pod (pods stayed Pending without a word).
 */
export function loadWasmModule(kind: 'wasm' | 'wasm-simd'): void {
  moduleFor(kind);
}

const MAX_CONSTRAINTS = 256;
const { NODE_PRESENT, NODE_UNSCHEDULABLE, CR_SIZE } = layout;

export class WasmCore implements SchedulingCore {
  readonly kind: CoreKind;
  readonly dims: CoreDims;
  private readonly ex: CoreExports;
  private buf!: ArrayBuffer;
  private f64!: Float64Array;
  private u32!: Uint32Array;
  private i32!: Int32Array;
  private u8!: Uint8Array;
  /** row bases in elements of the matching view */
  private readonly np: number;
  private readonly pAlloc: number;
  private readonly pReq: number;
  private readonly pNz: number;
  private readonly pLabels: number;
  private readonly pTaints: number;
  private readonly pPorts: number;
  private readonly pFlags: number;
  private readonly pTopo: number;
  private readonly pOutI32: number;
  private readonly pOutF64: number;
  private disposed = false;
  /** per class: what it was defined with (checkDomains reads its constraints' keys and domains) */
  private readonly defined: Array<DefinedClass | undefined>;
  /** per class: 1 once checkDomains passed since the last topology/presence/class change */
  private readonly domainsChecked: Uint8Array;

  constructor(kind: 'wasm' | 'wasm-simd', dims: CoreDims) {
    if (dims.resources < 4) throw new RangeError(`scheduler core: dims.resources must be >= 4, got ${dims.resources}`);
    if (dims.nodes < 0 || dims.classes < 0) throw new RangeError(`scheduler core: bad dims ${JSON.stringify(dims)}`);
    this.kind = kind;
    this.dims = { ...dims };
    this.defined = new Array(dims.classes).fill(undefined);
    this.domainsChecked = new Uint8Array(dims.classes);
    const instance = new WebAssemblyApi.Instance(moduleFor(kind), { env: { abort: wasmAbort } });
    this.ex = instance.exports as unknown as CoreExports;
    const table = this.ex.init(dims.nodes, dims.resources, dims.labelWords, dims.taintWords, dims.portWords, dims.topologyKeys, dims.classes);
    this.views();
    const t = this.i32.subarray(table >> 2, (table >> 2) + layout.LAYOUT_SIZE);
    this.np = t[layout.L_NP];
    this.pAlloc = t[layout.L_ALLOC] >> 3;
    this.pReq = t[layout.L_REQUESTED] >> 3;
    this.pNz = t[layout.L_NONZERO] >> 3;
    this.pLabels = t[layout.L_LABELS] >> 2;
    this.pTaints = t[layout.L_TAINTS] >> 2;
    this.pPorts = t[layout.L_PORTS] >> 2;
    this.pFlags = t[layout.L_FLAGS] >> 2;
    this.pTopo = t[layout.L_TOPO] >> 2;
    this.pOutI32 = t[layout.L_OUT_I32] >> 2;
    this.pOutF64 = t[layout.L_OUT_F64] >> 3;
  }

  /** Growing memory detaches the old buffer: re-create the views after any call that may allocate. */
  private views(): void {
    const buf = this.ex.memory.buffer;
    if (buf === this.buf) return;
    this.buf = buf;
    this.f64 = new Float64Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  private checkSlot(slot: number): void {
    if (this.disposed) throw new Error('scheduler core: used after dispose()');
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.dims.nodes) throw new RangeError(`scheduler core: node slot ${slot} outside 0..${this.dims.nodes - 1}`);
  }

  private checkClass(id: number): void {
    if (this.disposed) throw new Error('scheduler core: used after dispose()');
    if (!Number.isInteger(id) || id < 0 || id >= this.dims.classes) throw new RangeError(`scheduler core: class id ${id} outside 0..${this.dims.classes - 1}`);
  }

  setNode(slot: number, node: NodeRecord): void {
    this.checkSlot(slot);
    const { np, dims, u32, f64 } = this;
    const flags = NODE_PRESENT | (node.unschedulable ? NODE_UNSCHEDULABLE : 0);
    if (u32[this.pFlags + slot] === 0) this.domainsChecked.fill(0);
    let staticChanged = u32[this.pFlags + slot] !== flags;
    u32[this.pFlags + slot] = flags;
    for (let w = 0; w < dims.labelWords; w++) {
      const i = this.pLabels + w * np + slot;
      const v = node.labels[w] >>> 0;
      if (u32[i] !== v) staticChanged = true;
      u32[i] = v;
    }
    for (let w = 0; w < dims.taintWords; w++) {
      const i = this.pTaints + w * np + slot;
      const v = node.taints[w] >>> 0;
      if (u32[i] !== v) staticChanged = true;
      u32[i] = v;
    }
    for (let d = 0; d < dims.resources; d++) f64[this.pAlloc + d * np + slot] = node.allocatable[d] ?? 0;
    this.ex.nodeTouched(slot, staticChanged ? 1 : 0);
  }

  setNodeUsage(slot: number, usage: NodeUsage): void {
    this.checkSlot(slot);
    const { np, dims, u32, f64 } = this;
    for (let d = 0; d < dims.resources; d++) f64[this.pReq + d * np + slot] = usage.requested[d] ?? 0;
    f64[this.pNz + slot] = usage.nonZeroRequested[0] ?? 0;
    f64[this.pNz + np + slot] = usage.nonZeroRequested[1] ?? 0;
    for (let w = 0; w < dims.portWords; w++) u32[this.pPorts + w * np + slot] = usage.ports[w] >>> 0;
    this.ex.nodeTouched(slot, 0);
  }

  /** As the reference: clears the slot's node and usage, keeps its topology domains. */
  removeNode(slot: number): void {
    this.checkSlot(slot);
    const { np, dims, u32, f64 } = this;
    const was = u32[this.pFlags + slot] !== 0;
    u32[this.pFlags + slot] = 0;
    for (let d = 0; d < dims.resources; d++) {
      f64[this.pAlloc + d * np + slot] = 0;
      f64[this.pReq + d * np + slot] = 0;
    }
    f64[this.pNz + slot] = 0;
    f64[this.pNz + np + slot] = 0;
    for (let w = 0; w < dims.labelWords; w++) u32[this.pLabels + w * np + slot] = 0;
    for (let w = 0; w < dims.taintWords; w++) u32[this.pTaints + w * np + slot] = 0;
    for (let w = 0; w < dims.portWords; w++) u32[this.pPorts + w * np + slot] = 0;
    this.ex.nodeTouched(slot, was ? 1 : 0);
  }

  setTopology(key: number, domains: Int32Array): void {
    if (this.disposed) throw new Error('scheduler core: used after dispose()');
    if (!Number.isInteger(key) || key < 0 || key >= this.dims.topologyKeys) throw new RangeError(`scheduler core: topology key ${key} outside 0..${this.dims.topologyKeys - 1}`);
    if (domains.length !== this.dims.nodes) throw new RangeError(`scheduler core: topology key ${key}: ${domains.length} domains for ${this.dims.nodes} node slots`);
    for (let s = 0; s < domains.length; s++) {
      if (!(domains[s] >= -1)) throw new RangeError(`scheduler core: topology key ${key}: slot ${s} has domain ${domains[s]} (want >= -1)`);
    }
    this.i32.set(domains, this.pTopo + key * this.np);
    this.domainsChecked.fill(0);
  }

  /**
   * Every present node's domain must index its class's counts (the module only bounds-checks
   * to stay memory-safe). Checked once after the topology, presence or the class changed.
   */
  private checkDomains(id: number): void {
    if (this.domainsChecked[id]) return;
    const defined = this.defined[id];
    if (!defined) throw new RangeError(`scheduler core: class ${id} is not defined`);
    const { np, i32, u32 } = this;
    defined.shape.constraints.forEach((c, i) => {
      const row = this.pTopo + c.key * np;
      for (let slot = 0; slot < this.dims.nodes; slot++) {
        if (u32[this.pFlags + slot] === 0) continue;
        if (i32[row + slot] >= c.domains) {
          throw new RangeError(
            `scheduler core: class ${id} constraints[${i}]: slot ${slot} is in domain ${i32[row + slot]} of topology key ${c.key}, but counts has length ${c.domains}`,
          );
        }
      }
    });
    this.domainsChecked[id] = 1;
  }

  private validateClass(id: number, spec: ClassSpec): void {
    const { dims } = this;
    const at = `scheduler core: class ${id}`;
    const len = (what: string, a: ArrayLike<number>, want: number) => {
      if (!a || a.length !== want) throw new RangeError(`${at} ${what} has length ${a?.length}, want ${want}`);
    };
    len('request', spec.request, dims.resources);
    len('nonZeroRequest', spec.nonZeroRequest, 2);
    len('untoleratedHard', spec.untoleratedHard, dims.taintWords);
    len('untoleratedPreferred', spec.untoleratedPreferred, dims.taintWords);
    len('selector', spec.selector, dims.labelWords);
    len('ports', spec.ports, dims.portWords);
    spec.requiredTerms.forEach((t, i) => len(`requiredTerms[${i}]`, t, dims.labelWords));
    spec.preferredTerms.forEach((t, i) => len(`preferredTerms[${i}].mask`, t.mask, dims.labelWords));
    if (!Number.isInteger(spec.nodeNameSlot) || spec.nodeNameSlot < -2 || spec.nodeNameSlot >= dims.nodes) {
      throw new RangeError(`${at} nodeNameSlot ${spec.nodeNameSlot} out of range [-2, ${dims.nodes})`);
    }
    const pct = spec.percentageOfNodesToScore;
    if (!Number.isInteger(pct) || pct < 0 || pct > 100) throw new RangeError(`${at} percentageOfNodesToScore ${pct} out of range [0, 100]`);
    if (spec.constraints.length > MAX_CONSTRAINTS) throw new RangeError(`${at} has ${spec.constraints.length} constraints (at most ${MAX_CONSTRAINTS})`);
    spec.constraints.forEach((c, i) => {
      if (!Number.isInteger(c.kind) || c.kind < 0 || c.kind > 5) throw new RangeError(`${at} constraints[${i}] has unknown kind ${c.kind}`);
      if (!Number.isInteger(c.key) || c.key < 0 || c.key >= dims.topologyKeys) {
        throw new RangeError(`${at} constraints[${i}] topology key ${c.key} out of range [0, ${dims.topologyKeys})`);
      }
      if (c.eligible !== undefined) len(`constraints[${i}].eligible`, c.eligible, c.counts.length);
    });
    for (const [what, list] of [['fitResources', spec.score.fitResources], ['balancedResources', spec.score.balancedResources]] as const) {
      list.forEach((r, i) => {
        if (!Number.isInteger(r.dim) || r.dim < 0 || r.dim >= dims.resources) {
          throw new RangeError(`${at} score.${what}[${i}] dimension ${r.dim} out of range [0, ${dims.resources})`);
        }
      });
    }
    if (spec.score.strategy === ScoringStrategy.RequestedToCapacityRatio && spec.score.shape.length === 0) {
      throw new RangeError(`${at} RequestedToCapacityRatio needs at least one shape point`);
    }
  }

  defineClass(id: number, spec: ClassSpec): void {
    this.checkClass(id);
    this.validateClass(id, spec);
    const prev = this.defined[id];
    if (prev && sameShape(prev.shape, spec)) {
      // A volatile class recompiled for the next cycle (topology spread, pod affinity): only
      // other pods' counts moved. The module keeps the class's static arrays and leaves,
      // which do not depend on them, instead of computing them again for every node.
      this.views();
      spec.constraints.forEach((c, i) => {
        this.f64.set(c.counts, (prev.base + prev.oCounts[i]!) >> 3);
        if (c.eligible) this.u8.set(c.eligible, prev.base + prev.oEligible[i]!);
      });
      return;
    }
    const shape = specShape(spec);
    const { dims } = this;
    // Lay the blob out: header, then 8-byte aligned arrays (offsets from the blob base).
    let size = layout.H_SIZE;
    const take = (bytes: number): number => {
      const at = size;
      size += (bytes + 7) & ~7;
      return at;
    };
    const s = spec.score;
    const oRequest = take(dims.resources * 8);
    const oNz = take(16);
    const oUntolHard = take(dims.taintWords * 4);
    const oUntolPref = take(dims.taintWords * 4);
    const oSelector = take(dims.labelWords * 4);
    const oReqTerms = take(spec.requiredTerms.length * dims.labelWords * 4);
    const oPrefW = take(spec.preferredTerms.length * 8);
    const oPrefMask = take(spec.preferredTerms.length * dims.labelWords * 4);
    const oPorts = take(dims.portWords * 4);
    const oFit = take(s.fitResources.length * 16);
    const oShape = take(s.shape.length * 16);
    const oBal = take(s.balancedResources.length * 16);
    const oCons = take(spec.constraints.length * CR_SIZE);
    const oCounts = spec.constraints.map((c) => take(c.counts.length * 8));
    const oEligible = spec.constraints.map((c) => (c.eligible ? take(c.counts.length) : 0));

    const base = this.ex.classAlloc(id, size);
    this.views();
    const { f64, u32, i32, u8 } = this;
    const setI32 = (off: number, v: number) => (i32[(base + off) >> 2] = v);
    const setF64 = (off: number, v: number) => (f64[(base + off) >> 3] = v);
    const setWords = (off: number, src: ArrayLike<number>, n: number) => {
      const at = (base + off) >> 2;
      for (let w = 0; w < n; w++) u32[at + w] = (src[w] ?? 0) >>> 0;
    };
    setI32(layout.H_FILTERS, spec.filters);
    setI32(layout.H_FLAGS, spec.toleratesUnschedulable ? 1 : 0);
    setI32(layout.H_NODENAME, spec.nodeNameSlot);
    setI32(layout.H_STRATEGY, s.strategy);
    setI32(layout.H_NREQ, spec.requiredTerms.length);
    setI32(layout.H_NPREF, spec.preferredTerms.length);
    setI32(layout.H_NFIT, s.fitResources.length);
    setI32(layout.H_NSHAPE, s.shape.length);
    setI32(layout.H_NBAL, s.balancedResources.length);
    setI32(layout.H_NCONS, spec.constraints.length);
    setI32(layout.H_REQUEST, oRequest);
    setI32(layout.H_NZ, oNz);
    setI32(layout.H_UNTOL_HARD, oUntolHard);
    setI32(layout.H_UNTOL_PREF, oUntolPref);
    setI32(layout.H_SELECTOR, oSelector);
    setI32(layout.H_REQTERMS, oReqTerms);
    setI32(layout.H_PREFW, oPrefW);
    setI32(layout.H_PREFMASK, oPrefMask);
    setI32(layout.H_PORTS, oPorts);
    setI32(layout.H_FIT, oFit);
    setI32(layout.H_SHAPE, oShape);
    setI32(layout.H_BAL, oBal);
    setI32(layout.H_CONS, oCons);
    setF64(layout.H_PCT, spec.percentageOfNodesToScore);
    setF64(layout.H_W_FIT, s.fitWeight);
    setF64(layout.H_W_BAL, s.balancedWeight);
    setF64(layout.H_W_TAINT, s.taintWeight);
    setF64(layout.H_W_NA, s.nodeAffinityWeight);
    setF64(layout.H_W_SPREAD, s.spreadWeight);
    setF64(layout.H_W_IPA, s.interPodAffinityWeight);
    for (let d = 0; d < dims.resources; d++) setF64(oRequest + d * 8, spec.request[d] ?? 0);
    setF64(oNz, spec.nonZeroRequest[0] ?? 0);
    setF64(oNz + 8, spec.nonZeroRequest[1] ?? 0);
    setWords(oUntolHard, spec.untoleratedHard, dims.taintWords);
    setWords(oUntolPref, spec.untoleratedPreferred, dims.taintWords);
    setWords(oSelector, spec.selector, dims.labelWords);
    spec.requiredTerms.forEach((t, i) => setWords(oReqTerms + i * dims.labelWords * 4, t, dims.labelWords));
    spec.preferredTerms.forEach((t, i) => {
      setF64(oPrefW + i * 8, t.weight);
      setWords(oPrefMask + i * dims.labelWords * 4, t.mask, dims.labelWords);
    });
    setWords(oPorts, spec.ports, dims.portWords);
    s.fitResources.forEach((r, i) => {
      setF64(oFit + i * 16, r.dim);
      setF64(oFit + i * 16 + 8, r.weight);
    });
    s.shape.forEach((p, i) => {
      setF64(oShape + i * 16, p.utilization);
      setF64(oShape + i * 16 + 8, p.score);
    });
    s.balancedResources.forEach((r, i) => {
      setF64(oBal + i * 16, r.dim);
      setF64(oBal + i * 16 + 8, r.weight);
    });
    spec.constraints.forEach((c, i) => {
      const cr = oCons + i * CR_SIZE;
      setI32(cr + layout.CR_KIND, c.kind);
      setI32(cr + layout.CR_KEY, c.key);
      setI32(cr + layout.CR_ND, c.counts.length);
      setI32(cr + layout.CR_PASS_EMPTY, c.passWhenEmpty ? 1 : 0);
      setI32(cr + layout.CR_COUNTS, oCounts[i]);
      setI32(cr + layout.CR_ELIGIBLE, oEligible[i]);
      setF64(cr + layout.CR_SELF, c.selfIncrement);
      setF64(cr + layout.CR_MAXSKEW, c.maxSkew);
      setF64(cr + layout.CR_MINDOMAINS, c.minDomains);
      setF64(cr + layout.CR_WEIGHT, c.weight);
      f64.set(c.counts, (base + oCounts[i]) >> 3);
      if (c.eligible) u8.set(c.eligible, base + oEligible[i]);
    });
    this.ex.classReady(id);
    // the module owns the counts from here
    this.defined[id] = { shape, base, oCounts, oEligible };
    this.domainsChecked[id] = 0;
  }

  dropClass(id: number): void {
    this.checkClass(id);
    this.ex.classDrop(id);
    this.defined[id] = undefined;
  }

  place(id: number, count: number, out: Int32Array): number {
    this.checkClass(id);
    this.checkDomains(id);
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`scheduler core: place count must be a non-negative integer, got ${count}`);
    if (count > out.length) throw new RangeError(`scheduler core: place(${id}, ${count}) into an output of length ${out.length}`);
    let done = 0;
    // the module's output buffer holds np slots: place in chunks (same result, one pod after another)
    while (done < count) {
      const chunk = Math.min(this.np, count - done);
      const n = this.ex.place(id, chunk);
      this.views();
      out.set(this.i32.subarray(this.pOutI32, this.pOutI32 + n), done);
      done += n;
      if (n < chunk) break;
    }
    return done;
  }

  diagnose(id: number, out: Int32Array): void {
    this.checkClass(id);
    this.checkDomains(id);
    this.ex.diagnose(id);
    this.views();
    out.set(this.i32.subarray(this.pOutI32, this.pOutI32 + this.dims.nodes));
  }

  diagnoseNode(id: number, slot: number): number {
    this.checkClass(id);
    this.checkDomains(id);
    const r = this.ex.diagnoseNode(id, slot);
    this.views();
    return r;
  }

  scores(id: number, out: Float64Array): void {
    this.checkClass(id);
    this.checkDomains(id);
    this.ex.scores(id);
    this.views();
    out.set(this.f64.subarray(this.pOutF64, this.pOutF64 + this.dims.nodes));
  }

  /** Drops this core's hold on its instance; the memory goes with the last reference. */
  dispose(): void {
    this.disposed = true;
    this.defined.fill(undefined);
  }
}

function wasmAbort(): never {
  throw new Error('scheduler core: the WebAssembly module aborted');
}

/** A class spec less what a redefinition may change in place (specShape). */
type SpecShape = Omit<ClassSpec, 'constraints'> & {
  constraints: Array<Omit<DomainConstraint, 'counts' | 'eligible'> & { domains: number; eligible: boolean }>;
};

interface DefinedClass {
  shape: SpecShape;
  /** the blob's address, and its constraints' counts and eligible arrays as offsets from it */
  base: number;
  oCounts: number[];
  oEligible: number[];
}

/**
 * A class spec less what a redefinition may change in place: its constraints' counts and
 * eligible domains (their lengths stay, as they size the blob). A copy, so that a caller
 * reusing its spec's arrays cannot change what the next definition is compared with.
 */
function specShape(spec: ClassSpec): SpecShape {
  return structuredClone({
    ...spec,
    constraints: spec.constraints.map(({ counts, eligible, ...rest }) => ({ ...rest, domains: counts.length, eligible: eligible !== undefined })),
  });
}

/**
 * isDeepStrictEqual(shape, specShape(spec)) without copying `spec` first: a volatile class
 * is defined again every cycle (for a pod stream, every few pods), and the copy and the
 * generic comparison were a tenth of the scheduler's time at TopologySpreading's pace.
 */
function sameShape(shape: SpecShape, spec: ClassSpec): boolean {
  const { constraints: was, ...restShape } = shape;
  const { constraints: now, ...restSpec } = spec;
  if (was.length !== now.length || !sameValue(restShape, restSpec)) return false;
  return was.every(({ domains, eligible: hadEligible, ...w }, i) => {
    const { counts, eligible, ...n } = now[i]!;
    return domains === counts.length && hadEligible === (eligible !== undefined) && sameValue(w, n);
  });
}

/** isDeepStrictEqual for what a ClassSpec holds: primitives, arrays, typed arrays and plain objects. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
