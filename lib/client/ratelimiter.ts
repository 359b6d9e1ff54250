/**
 * Rate limiters for the work queue, as client-go's workqueue package has them: they
 * answer how long an item must wait before it is processed again.
 */

export interface RateLimiter<T = unknown> {
  /** How long (ms) to wait before the item may be processed again; counts a failure. */
  when(item: T): number;
  /** The item succeeded (or was given up on): clear its failure history. */
  forget(item: T): void;
  /** How many times the item has been requeued since it was last forgotten. */
  numRequeues(item: T): number;
}

/** Per item: baseMs * 2^failures, capped at maxMs (upstream defaults 5 ms .. 1000 s). */
export class ItemExponentialFailureRateLimiter<T = unknown> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(
    readonly baseMs = 5,
    readonly maxMs = 1_000_000,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    // 2^exp overflows to Infinity long before it matters; the cap handles both
    return Math.min(this.maxMs, this.baseMs * 2 ** exp);
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/** Fast retries for the first `threshold` failures, slow ones after (ItemFastSlowRateLimiter). */
export class ItemFastSlowRateLimiter<T = unknown> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(
    readonly fastMs: number,
    readonly slowMs: number,
    readonly threshold: number,
  ) {}

  when(item: T): number {
    const n = (this.failures.get(item) ?? 0) + 1;
    this.failures.set(item, n);
    return n <= this.threshold ? this.fastMs : this.slowMs;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket shared by all items (upstream: 10 qps, burst 100): it keeps a
 * storm of failures from flooding the apiserver. Each when() reserves one token.
 */
export class BucketRateLimiter<T = unknown> implements RateLimiter<T> {
  private tokens: number;
  private last: number;
  constructor(
    readonly qps = 10,
    readonly burst = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  when(_item: T): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay of several limiters (MaxOfRateLimiter). */
export class MaxOfRateLimiter<T = unknown> implements RateLimiter<T> {
  readonly limiters: RateLimiter<T>[];
  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    // every limiter must see the failure, so no short-circuit
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** workqueue.DefaultControllerRateLimiter: per-item exponential and an overall bucket. */
export function defaultControllerRateLimiter<T = unknown>(): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1_000_000), new BucketRateLimiter<T>(10, 100));
}
