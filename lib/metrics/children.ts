/**
 * prom-client children (`metric.labels(...)`) kept by a key the caller joins from the label
 * values, for metrics recorded on every request: the label object and the child are made
 * once per label set instead of per observation. In prom-client 15 a child still validates
 * and hashes its label set on each inc/observe (upstream issue prometheus/client_js#38), so
 * what this saves is the caller's label objects and `labels()` itself, not the hash.
 */

/** A prom-client metric with labels (Counter, Gauge, Histogram, Summary): its object form of `labels()` and `reset()`. */
interface Labelled<T extends string, C> {
  labels(labels: Partial<Record<T, string | number>>): C;
  reset(): void;
}

export class LabelledChildren<T extends string, C> {
  private readonly byKey = new Map<string, C>();

  constructor(private readonly metric: Labelled<T, C>) {
    // A reset (the metric's own, or the registry's resetMetrics) drops the children with the
    // series: none is kept that might still point at a series the reset removed.
    const reset = metric.reset.bind(metric);
    metric.reset = () => {
      reset();
      this.byKey.clear();
    };
  }

  /**
   * The child of `key`; `labels` is called the first time only, to make it. A key must always
   * stand for the same label set; two keys may share one (prom-client finds the series by the
   * label set, so their children record into the same series).
   */
  child(key: string, labels: () => Partial<Record<T, string>>): C {
    let c = this.byKey.get(key);
    if (c === undefined) this.byKey.set(key, (c = this.metric.labels(labels())));
    return c;
  }

  /** How many children are kept. */
  get size(): number {
    return this.byKey.size;
  }
}
