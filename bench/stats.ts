/**
 * Figures for the benchmark: latency percentiles, one result row per phase, and the
 * two ways rows are printed (an aligned table for people, `BENCH_JSON` lines for tools).
 */

/**
 * The nearest-rank percentile of an ascending array: the smallest sample such that at
 * least p% of the samples are <= it. NaN for no samples. Nearest-rank (no interpolation)
 * so a reported p99 is always a latency some request really had.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1];
}

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summarizes samples in any order (the input is not modified). */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    count: n,
    min: n ? sorted[0] : NaN,
    mean: n ? sum / n : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1] : NaN,
  };
}

/** One measured phase: what a table row and a BENCH_JSON line show. */
export interface PhaseResult {
  phase: string;
  transport: string;
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** null when the phase has no per-operation latency */
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  /** CPU microseconds per op of each process (apiserver, nats-server, the benchmark client) */
  cpuUsPerOp?: { apiserver?: number | null; nats?: number | null; client?: number | null; etcd?: number | null };
  /** anything else worth keeping (sizes, concurrency, the first error) */
  extra?: Record<string, unknown>;
}

export function phaseResult(
  phase: string,
  transport: string,
  ops: number,
  seconds: number,
  latenciesMs: ArrayLike<number>,
  errors = 0,
  extra?: Record<string, unknown>,
): PhaseResult {
  const s = summarize(latenciesMs);
  return {
    phase,
    transport,
    ops,
    seconds,
    opsPerSec: seconds > 0 ? ops / seconds : NaN,
    p50Ms: s.count ? s.p50 : null,
    p99Ms: s.count ? s.p99 : null,
    errors,
    extra,
  };
}

/** Three significant figures or so: enough to compare, few enough to read. */
export function formatNumber(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toString();
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

const COLUMNS = ['phase', 'transport', 'ops', 'seconds', 'ops/s', 'p50 ms', 'p99 ms', 'errors'];
const CPU_COLUMNS = ['cpu us/op: apiserver', 'nats', 'client'];

/**
 * The results as an aligned text table: text columns left, numbers right; CPU columns
 * when any row has CPU figures.
 */
export function formatTable(rows: PhaseResult[]): string {
  const withCpu = rows.some((r) => r.cpuUsPerOp);
  // etcd's column only when a row measured it (the store peer of the API benchmark)
  const withEtcd = rows.some((r) => typeof r.cpuUsPerOp?.etcd === 'number');
  const columns = withCpu ? [...COLUMNS, ...CPU_COLUMNS, ...(withEtcd ? ['etcd'] : [])] : COLUMNS;
  const cells = rows.map((r) => {
    const c = [
      r.phase,
      r.transport,
      String(r.ops),
      formatNumber(r.seconds),
      formatNumber(r.opsPerSec),
      formatNumber(r.p50Ms),
      formatNumber(r.p99Ms),
      String(r.errors),
    ];
    if (withCpu) c.push(...[r.cpuUsPerOp?.apiserver, r.cpuUsPerOp?.nats, r.cpuUsPerOp?.client].map((v) => formatNumber(v ?? null)));
    if (withEtcd) c.push(formatNumber(r.cpuUsPerOp?.etcd ?? null));
    return c;
  });
  const widths = columns.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: readonly string[]) =>
    c.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(columns), rule, ...cells.map(line)].join('\n');
}

export const JSON_PREFIX = 'BENCH_JSON ';

/** One machine-readable line per phase. */
export function jsonLine(r: PhaseResult): string {
  return JSON_PREFIX + JSON.stringify(r);
}
