/**
 * The figures scheduler_perf reports, computed as upstream computes them
 * (test/integration/scheduler_perf/util.go and component-base's metrics testutil):
 * the scheduling throughput from per-second samples of the scheduled-pod count, and
 * histogram quantiles of the scheduler's own metrics over the measured op (the
 * difference between a scrape before and a scrape after).
 */

/** One result in upstream's output format (perf-dash's DataItem). */
export interface DataItem {
  data: Record<string, number>;
  unit: string;
  labels: Record<string, string>;
}

/**
 * Turns successive scheduled-pod counts into throughput samples, the way upstream's
 * throughputCollector does: nothing is recorded until a first pod is scheduled; that
 * first sample is dropped (sampling and pod creation start independently, so it is an
 * outlier); an interval in which no pod was scheduled is not recorded as 0 pods/s but
 * merged into the next interval that scheduled some, which is then recorded once per
 * interval it covers, so percentiles stay time-weighted.
 */
export class ThroughputSampler {
  readonly samples: number[] = [];
  private started = false;
  private last = 0;
  private lastTime = 0;
  private skipped = 0;

  constructor(initialCount: number) {
    this.last = initialCount;
  }

  /** One tick: the scheduled count at `nowMs` (any monotonic clock in ms). */
  observe(scheduled: number, nowMs: number): void {
    if (scheduled === 0) return;
    if (!this.started) {
      this.started = true;
      this.last = scheduled;
      this.lastTime = nowMs;
      return;
    }
    const added = scheduled - this.last;
    if (added === 0) {
      this.skipped++;
      return;
    }
    const seconds = (nowMs - this.lastTime) / 1000;
    const throughput = added / seconds;
    for (let i = 0; i <= this.skipped; i++) this.samples.push(throughput);
    this.last = scheduled;
    this.lastTime = nowMs;
    this.skipped = 0;
  }
}

/**
 * SchedulingThroughput from samples: Average is the mean; PercN is upstream's index
 * sorted[ceil(n*N/100)-1] (nearest rank). No data (and no unit) when there are no samples.
 */
export function throughputSummary(samples: readonly number[]): Record<string, number> | undefined {
  const n = samples.length;
  if (n === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  const at = (p: number) => sorted[Math.ceil((n * p) / 100) - 1];
  return { Average: sum / n, Perc50: at(50), Perc90: at(90), Perc95: at(95), Perc99: at(99) };
}

/** One cumulative bucket: observations <= upperBound. */
export interface Bucket {
  upperBound: number;
  count: number;
}

/** One series of a histogram: its labels (without `le`), buckets ascending, sum, count. */
export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: Bucket[];
  sum: number;
  count: number;
}

/**
 * The q-quantile of cumulative buckets as component-base's testutil computes it: linear
 * interpolation inside the bucket where the rank falls, from 0 for the first bucket;
 * a rank in the +Inf bucket answers the highest finite bound. Buckets must ascend and
 * end with +Inf.
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (buckets.length < 2) return NaN;
  const total = buckets[buckets.length - 1].count;
  const rank = q * total;
  // sort.Search over all but the last bucket: the first whose count reaches the rank
  let b = 0;
  while (b < buckets.length - 1 && buckets[b].count < rank) b++;
  if (b === 0) return buckets[0].upperBound * (rank / buckets[0].count);
  if (b === buckets.length - 1 && buckets[b].upperBound === Infinity) return buckets[buckets.length - 2].upperBound;
  const below = buckets[b - 1];
  const size = buckets[b].upperBound - below.upperBound;
  const inBucket = buckets[b].count - below.count;
  return below.upperBound + size * ((rank - below.count) / inBucket);
}

/**
 * Parses the histograms named `name` out of Prometheus text exposition: one series per
 * label set (without `le`). Buckets come back ascending with +Inf last.
 */
export function parseHistograms(text: string, name: string): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>();
  const get = (labels: Record<string, string>) => {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels, buckets: [], sum: 0, count: 0 }));
    return s;
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, metric, , rawLabels, rawValue] = m;
    const suffix = metric.slice(name.length);
    if (suffix !== '_bucket' && suffix !== '_sum' && suffix !== '_count') continue;
    const labels = parseLabels(rawLabels ?? '');
    const value = parseFloat(rawValue);
    if (suffix === '_bucket') {
      const le = labels.le;
      delete labels.le;
      get(labels).buckets.push({ upperBound: le === '+Inf' ? Infinity : parseFloat(le), count: value });
    } else if (suffix === '_sum') get(labels).sum = value;
    else get(labels).count = value;
  }
  for (const s of series.values()) s.buckets.sort((a, b) => a.upperBound - b.upperBound);
  return [...series.values()];
}

function parseLabels(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(raw); m; m = re.exec(raw)) out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return out;
}

/**
 * What happened between two scrapes: per series, after minus before (a series absent
 * before counts from zero), so a scheduler that ran earlier ops does not leak into the
 * measured op, as upstream's reset of the metrics before the op ensures.
 */
export function histogramDelta(before: readonly HistogramSeries[], after: readonly HistogramSeries[]): HistogramSeries[] {
  const key = (s: HistogramSeries) => JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  const prev = new Map(before.map((s) => [key(s), s]));
  return after.map((s) => {
    const p = prev.get(key(s));
    if (!p) return s;
    const pb = new Map(p.buckets.map((b) => [b.upperBound, b.count]));
    return {
      labels: s.labels,
      buckets: s.buckets.map((b) => ({ upperBound: b.upperBound, count: b.count - (pb.get(b.upperBound) ?? 0) })),
      sum: s.sum - p.sum,
      count: s.count - p.count,
    };
  });
}

/**
 * The series whose labels include every pair of `filter`, added up bucket by bucket (a
 * testutil HistogramVec's Quantile and Average work on this aggregate).
 */
export function aggregate(series: readonly HistogramSeries[], filter: Record<string, string> = {}): HistogramSeries | undefined {
  const chosen = series.filter((s) => Object.entries(filter).every(([k, v]) => s.labels[k] === v));
  if (chosen.length === 0) return undefined;
  const byBound = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const s of chosen) {
    for (const b of s.buckets) byBound.set(b.upperBound, (byBound.get(b.upperBound) ?? 0) + b.count);
    sum += s.sum;
    count += s.count;
  }
  const buckets = [...byBound.entries()].sort(([a], [b]) => a - b).map(([upperBound, c]) => ({ upperBound, count: c }));
  if (buckets.length === 0 || buckets[buckets.length - 1].upperBound !== Infinity) buckets.push({ upperBound: Infinity, count });
  return { labels: { ...filter }, buckets, sum, count };
}

/**
 * A histogram as upstream's metrics collector reports it: Perc50/90/95/99 and Average
 * in milliseconds. Undefined when nothing was observed (upstream leaves such items out).
 */
export function histogramDataItem(metric: string, h: HistogramSeries | undefined, labels: Record<string, string>): DataItem | undefined {
  if (!h || h.count <= 0 || h.sum <= 0) return undefined;
  const ms = 1000;
  return {
    data: {
      Perc50: bucketQuantile(0.5, h.buckets) * ms,
      Perc90: bucketQuantile(0.9, h.buckets) * ms,
      Perc95: bucketQuantile(0.95, h.buckets) * ms,
      Perc99: bucketQuantile(0.99, h.buckets) * ms,
      Average: (h.sum / h.count) * ms,
    },
    unit: 'ms',
    labels: { Metric: metric, ...labels, ...h.labels },
  };
}

/** SchedulingThroughput as a DataItem; its data is empty when no sample was taken. */
export function throughputDataItem(samples: readonly number[], labels: Record<string, string>): DataItem {
  const data = throughputSummary(samples);
  return { data: data ?? {}, unit: data ? 'pods/s' : '', labels: { Metric: 'SchedulingThroughput', ...labels } };
}
