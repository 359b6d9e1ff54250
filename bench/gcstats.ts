/**
 * Garbage collection per operation in the Node processes, from the histogram every
 * service serves on /metrics, `nodejs_gc_duration_seconds`: the main thread's pause per
 * collection, by kind (minor: a scavenge of the young generation; major: a mark-compact;
 * incremental: the finishing of incremental marking; weakcb: weak callbacks). Beside the
 * CPU per operation it says how much of a process's cost is its collector, and whether a
 * change moved it (fewer bytes kept young, fewer mark-compacts). Concurrent marking and
 * sweeping on V8's helper threads are in the CPU figure, not here.
 */
import { histogramDelta, parseHistograms, type HistogramSeries } from './scheduler-perf/stats.js';

const METRIC = 'nodejs_gc_duration_seconds';

/** Each process's series by kind, from one scrape; null when its /metrics could not be read. */
export type GcSample = Record<string, HistogramSeries[] | null>;

/** One kind of collection per operation: pause µs and collections per 1,000 operations. */
export interface GcKindPerOp {
  usPerOp: number;
  perThousandOps: number;
}

/** Each process's collections per operation by kind (kinds that did not run left out); null when unknown. */
export type GcPerOp = Record<string, Record<string, GcKindPerOp> | null>;

/**
 * Where a process's metrics text comes from: its /metrics URL, or, for this process (the
 * benchmark client), a function rendering its own registry (lib/metrics `newRegistry`,
 * which collects the same default metrics every service serves).
 */
export type MetricsSource = string | (() => Promise<string>);

/** Reads each process's metrics (by role) for its GC histogram. */
export async function sampleGc(sources: Record<string, MetricsSource>): Promise<GcSample> {
  const entries = await Promise.all(
    Object.entries(sources).map(async ([role, source]): Promise<[string, HistogramSeries[] | null]> => {
      try {
        if (typeof source !== 'string') return [role, parseHistograms(await source(), METRIC)];
        const res = await fetch(source);
        if (!res.ok) return [role, null];
        return [role, parseHistograms(await res.text(), METRIC)];
      } catch {
        return [role, null];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** What each process collected between two samples, per operation. */
export function gcPerOp(before: GcSample, after: GcSample, ops: number): GcPerOp {
  const out: GcPerOp = {};
  for (const [role, series] of Object.entries(after)) {
    const prev = before[role];
    if (!series || !prev || ops <= 0) {
      out[role] = null;
      continue;
    }
    const kinds: Record<string, GcKindPerOp> = {};
    for (const s of histogramDelta(prev, series)) {
      const kind = s.labels.kind ?? '';
      if (s.count <= 0) continue;
      kinds[kind] = { usPerOp: (s.sum * 1e6) / ops, perThousandOps: (s.count * 1000) / ops };
    }
    out[role] = kinds;
  }
  return out;
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** "apiserver minor 19.3 (4.10/1k), major 2.31 (0.08/1k); scheduler ..." (µs per operation, collections per 1,000) */
export function formatGcPerOp(g: GcPerOp, unit = 'pods'): string {
  return Object.entries(g)
    .map(([role, kinds]) => {
      if (!kinds) return `${role} -`;
      const parts = Object.entries(kinds).map(([kind, k]) => `${kind} ${fmt(k.usPerOp)} (${fmt(k.perThousandOps)}/1k ${unit})`);
      return `${role} ${parts.length ? parts.join(', ') : 'none'}`;
    })
    .join('; ');
}
