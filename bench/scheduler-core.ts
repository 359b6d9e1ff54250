/**
 * Scheduling-core micro-benchmark: placements per second of the TypeScript reference, the
 * scalar WebAssembly build and the SIMD build, side by side, at 5,000 and 100,000 nodes.
 * Each cell fills a fresh core, defines one class and places pods in batches (place(id,
 * BATCH)) until PODS are placed or TIME_CAP_MS has passed (the reference's full scans at
 * 100,000 nodes would take minutes); the first batch includes building the class's index.
 * WASM cells are the best of three runs, each on a fresh core.
 *
 *   npm run bench:core [-- --nodes 5000,100000 --pods 10000 --batch 100 --cap-ms 4000]
 */
import { parseArgs } from 'node:util';
import { createCore } from '../services/scheduler/core/mod.js';
import { ALL_FILTERS, ConstraintKind, ScoringStrategy, defaultScoreConfig } from '../services/scheduler/core/types.js';
import type { ClassSpec, CoreDims, CoreKind, SchedulingCore } from '../services/scheduler/core/types.js';

const { values: opts } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000,100000' },
    pods: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '100' },
    'cap-ms': { type: 'string', default: '4000' },
  },
});
const NODE_COUNTS = opts.nodes.split(',').map(Number);
const PODS = Number(opts.pods);
const BATCH = Number(opts.batch);
const TIME_CAP_MS = Number(opts['cap-ms']);
const KINDS: CoreKind[] = ['reference', 'wasm', 'wasm-simd'];
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const ZONES = 10;
/** label bits: 0..ZONES-1 = "zone In [z]", ZONES = "disktype In [ssd]" */
const SSD_BIT = ZONES;
/** taint bits: 0 = dedicated=gpu:NoSchedule, 1 = maintenance:PreferNoSchedule */
const GPU_TAINT = 0;
const MAINT_TAINT = 1;

function dims(nodes: number): CoreDims {
  return { nodes, resources: 5, labelWords: 1, taintWords: 1, portWords: 1, topologyKeys: 2, classes: 4 };
}

/** A deterministic cluster: 32 cores / 128Gi / 110 pods, every 8th node with a GPU, zones round-robin. */
function fill(core: SchedulingCore, n: number): void {
  const zone = new Int32Array(n);
  const host = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const gpu = s % 8 === 0;
    const labels = new Uint32Array(1);
    labels[0] = (1 << (s % ZONES)) | (s % 3 === 0 ? 1 << SSD_BIT : 0);
    const taints = new Uint32Array(1);
    if (gpu) taints[0] |= 1 << GPU_TAINT;
    if (s % 5 === 0) taints[0] |= 1 << MAINT_TAINT;
    core.setNode(s, { allocatable: [32000, 128 * GiB, 500 * GiB, 110, gpu ? 4 : 0], unschedulable: s % 97 === 0, labels, taints });
    const used = (s * 7) % 10;
    core.setNodeUsage(s, {
      requested: [used * 1000, used * 4 * GiB, 0, used, 0],
      nonZeroRequested: [used * 1000, used * 4 * GiB],
      ports: new Uint32Array(1),
    });
    zone[s] = s % ZONES;
    host[s] = s;
  }
  core.setTopology(0, zone);
  core.setTopology(1, host);
}

function baseClass(strategy: number): ClassSpec {
  return {
    filters: ALL_FILTERS,
    request: [250, 512 * MiB, 0, 1, 0],
    nonZeroRequest: [250, 512 * MiB],
    toleratesUnschedulable: false,
    nodeNameSlot: -1,
    untoleratedHard: Uint32Array.of(1 << GPU_TAINT),
    untoleratedPreferred: Uint32Array.of(1 << MAINT_TAINT),
    selector: new Uint32Array(1),
    requiredTerms: [],
    preferredTerms: [],
    ports: new Uint32Array(1),
    constraints: [],
    score: { ...defaultScoreConfig(), strategy },
    percentageOfNodesToScore: 0,
  };
}

interface Case {
  name: string;
  spec: (nodes: number) => ClassSpec;
}

const CASES: Case[] = [
  { name: 'basic, LeastAllocated', spec: () => baseClass(ScoringStrategy.LeastAllocated) },
  { name: 'bin-packing, MostAllocated', spec: () => baseClass(ScoringStrategy.MostAllocated) },
  {
    name: 'node affinity + taints (GPU)',
    spec: () => {
      const c = baseClass(ScoringStrategy.LeastAllocated);
      c.request = [500, GiB, 0, 1, 0];
      c.untoleratedHard = new Uint32Array(1); // tolerates dedicated=gpu
      c.requiredTerms = [Uint32Array.of(1 << 0), Uint32Array.of(1 << 1), Uint32Array.of(1 << 2), Uint32Array.of(1 << 3)];
      c.preferredTerms = [{ mask: Uint32Array.of(1 << SSD_BIT), weight: 10 }];
      return c;
    },
  },
  {
    name: 'topology spread (scan path)',
    spec: () => {
      const c = baseClass(ScoringStrategy.LeastAllocated);
      c.constraints = [
        { kind: ConstraintKind.SpreadHard, key: 0, counts: new Float64Array(ZONES), selfIncrement: 1, maxSkew: 1, minDomains: 1, weight: 0, passWhenEmpty: false },
        { kind: ConstraintKind.SpreadSoft, key: 0, counts: new Float64Array(ZONES), selfIncrement: 1, maxSkew: 1, minDomains: 1, weight: Math.log(ZONES + 2), passWhenEmpty: false },
      ];
      return c;
    },
  },
];

interface Cell {
  placed: number;
  ms: number;
}

function runCell(kind: CoreKind, nodes: number, spec: ClassSpec, pods = PODS): Cell {
  const core = createCore(kind, dims(nodes));
  fill(core, nodes);
  core.defineClass(0, spec);
  const out = new Int32Array(BATCH);
  let placed = 0;
  const t0 = performance.now();
  while (placed < pods && performance.now() - t0 < TIME_CAP_MS) {
    const want = Math.min(BATCH, pods - placed);
    const n = core.place(0, want, out);
    placed += n;
    if (n < want) break;
  }
  const ms = performance.now() - t0;
  core.dispose();
  return { placed, ms };
}

function fmt(c: Cell): string {
  const rate = (c.placed / c.ms) * 1000;
  const s = rate >= 100 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1);
  return `${s}/s${c.placed < PODS ? ` (${c.placed})` : ''}`;
}

function main(): void {
  console.log(`scheduler core: placements/s, ${PODS.toLocaleString('en-US')} pods in batches of ${BATCH} (cap ${TIME_CAP_MS} ms a cell; "(n)" = pods placed within the cap)`);
  console.log(`node ${process.version}, ${process.arch}\n`);
  const header = ['nodes', 'case', ...KINDS, 'simd/ref'];
  const rows: string[][] = [];
  // Warm-up: compile each build and let V8 tier its code up before anything is timed.
  for (const c of CASES) for (const k of KINDS) runCell(k, 1000, c.spec(1000), 300);
  for (const nodes of NODE_COUNTS) {
    for (const c of CASES) {
      // a wasm cell lasts milliseconds: best of three fresh runs tames timer and GC noise
      const cells = KINDS.map((k) => {
        let best = runCell(k, nodes, c.spec(nodes));
        for (let r = 1; r < (k === 'reference' ? 1 : 3); r++) {
          const again = runCell(k, nodes, c.spec(nodes));
          if (again.placed / again.ms > best.placed / best.ms) best = again;
        }
        return best;
      });
      const rate = (x: Cell) => x.placed / x.ms;
      rows.push([nodes.toLocaleString('en-US'), c.name, ...cells.map(fmt), `${(rate(cells[2]) / rate(cells[0])).toFixed(1)}x`]);
      printTable(header, rows);
    }
  }
}

let printedRows = 0;
/** Prints the rows not printed yet, widths fixed by the header and a generous guess. */
function printTable(header: string[], rows: string[][]): void {
  const widths = [8, 30, 20, 20, 20, 9];
  const line = (cols: string[]) => cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  if (printedRows === 0) {
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (; printedRows < rows.length; printedRows++) console.log(line(rows[printedRows]));
}

main();
