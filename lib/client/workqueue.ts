/**
 * The controller work queue, as client-go's workqueue package: a de-duplicating FIFO of
 * keys with the guarantee that one key is never handed to two workers at once, a
 * delaying layer (addAfter) and a rate-limited layer (addRateLimited / forget).
 *
 * The invariant rests on two sets: `dirty` holds keys that need processing, `processing`
 * the keys a worker holds. A key added while it is being processed stays only in dirty
 * and goes back on the queue when the worker calls done(); a key already queued is not
 * queued twice.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimiter.js';

export interface QueueOptions {
  /** the `name` label of the workqueue_* metrics */
  name?: string;
  /** where the workqueue_* metrics go; none are kept without one */
  registry?: Registry;
}

/** Upstream's buckets for workqueue durations: 10ns .. 1000s, by tens. */
const DURATION_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

function metric<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** What a queue is working on now: the sum and the longest of its in-flight item ages. */
interface InFlight {
  unfinishedSeconds: number;
  longestSeconds: number;
}

/**
 * The queues reporting into each registry. Upstream refreshes the two in-flight gauges
 * every 500 ms from a goroutine; here they are computed when /metrics is scraped.
 */
const inFlightSources = new WeakMap<Registry, Map<string, () => InFlight>>();

function inFlightGauge(registry: Registry, name: string, help: string, pick: (f: InFlight) => number): Gauge<'name'> {
  return metric(
    registry,
    name,
    () =>
      new Gauge({
        name,
        help,
        labelNames: ['name'],
        registers: [registry],
        collect() {
          for (const [queue, read] of inFlightSources.get(registry) ?? []) this.set({ name: queue }, pick(read()));
        },
      }),
  );
}

/** The upstream workqueue metrics, one label set per queue name. */
class QueueMetrics {
  private readonly depth: Gauge<'name'>;
  private readonly adds: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly retries: Counter<'name'>;

  constructor(
    private readonly name: string,
    registry: Registry,
    inFlight?: () => InFlight,
  ) {
    const registers = [registry];
    this.depth = metric(registry, 'workqueue_depth', () => new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers }));
    this.adds = metric(registry, 'workqueue_adds_total', () => new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers }));
    this.queueDuration = metric(
      registry,
      'workqueue_queue_duration_seconds',
      () => new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: ['name'], buckets: DURATION_BUCKETS, registers }),
    );
    this.workDuration = metric(
      registry,
      'workqueue_work_duration_seconds',
      () => new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'], buckets: DURATION_BUCKETS, registers }),
    );
    this.retries = metric(registry, 'workqueue_retries_total', () => new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers }));
    inFlightGauge(
      registry,
      'workqueue_unfinished_work_seconds',
      'How many seconds of work has done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
      (f) => f.unfinishedSeconds,
    );
    inFlightGauge(
      registry,
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      (f) => f.longestSeconds,
    );
    if (inFlight) {
      let sources = inFlightSources.get(registry);
      if (!sources) inFlightSources.set(registry, (sources = new Map()));
      // a newer queue of the same name (a controller restarted) replaces the old one
      sources.set(name, inFlight);
    }
    this.depth.set({ name }, 0);
    // every series exists from the queue's creation, as client-go's WithLabelValues makes them
    this.adds.inc({ name }, 0);
    this.retries.inc({ name }, 0);
    this.queueDuration.zero({ name });
    this.workDuration.zero({ name });
  }

  added(): void {
    this.adds.inc({ name: this.name });
    this.depth.inc({ name: this.name });
  }
  taken(waitedSeconds: number): void {
    this.depth.dec({ name: this.name });
    this.queueDuration.observe({ name: this.name }, waitedSeconds);
  }
  worked(seconds: number): void {
    this.workDuration.observe({ name: this.name }, seconds);
  }
  retried(): void {
    this.retries.inc({ name: this.name });
  }
}

const nowSeconds = () => performance.now() / 1000;

/** workqueue.Type: the de-duplicating FIFO with the one-worker-per-key guarantee. */
export class WorkQueue<T = string> {
  private items: T[] = [];
  private head = 0;
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly waiters: Array<(item: T | undefined) => void> = [];
  private shuttingDownFlag = false;
  private drainWaiters: Array<() => void> = [];
  protected readonly metrics?: QueueMetrics;
  private readonly addedAt = new Map<T, number>();
  private readonly startedAt = new Map<T, number>();

  constructor(opts: QueueOptions = {}) {
    if (opts.registry) this.metrics = new QueueMetrics(opts.name ?? 'unnamed', opts.registry, () => this.inFlight());
  }

  /** Seconds the items held by workers have been held, summed and the longest. */
  private inFlight(): InFlight {
    const t = nowSeconds();
    let unfinishedSeconds = 0;
    let longestSeconds = 0;
    for (const started of this.startedAt.values()) {
      const age = t - started;
      unfinishedSeconds += age;
      if (age > longestSeconds) longestSeconds = age;
    }
    return { unfinishedSeconds, longestSeconds };
  }

  /** Marks item as needing processing. A no-op if it already waits or after shutDown. */
  add(item: T): void {
    if (this.shuttingDownFlag || this.dirty.has(item)) return;
    this.dirty.add(item);
    this.metrics?.added();
    if (this.metrics) this.addedAt.set(item, nowSeconds());
    // a worker holds it: done() puts it back, so no second worker gets it meanwhile
    if (this.processing.has(item)) return;
    this.push(item);
  }

  private push(item: T): void {
    const w = this.waiters.shift();
    if (w) {
      this.take(item);
      w(item);
    } else {
      this.items.push(item);
    }
  }

  private take(item: T): void {
    this.processing.add(item);
    this.dirty.delete(item);
    if (this.metrics) {
      const t = nowSeconds();
      this.metrics.taken(t - (this.addedAt.get(item) ?? t));
      this.addedAt.delete(item);
      this.startedAt.set(item, t);
    }
  }

  /**
   * The next item to process; the caller must call done(item) when finished. Resolves
   * undefined once the queue is shut down and empty.
   */
  get(): Promise<T | undefined> {
    if (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined as T;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.take(item);
      return Promise.resolve(item);
    }
    if (this.shuttingDownFlag) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker is finished with item; if it was added meanwhile it is queued again. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    if (this.metrics) {
      const started = this.startedAt.get(item);
      if (started !== undefined) this.metrics.worked(nowSeconds() - started);
      this.startedAt.delete(item);
    }
    if (this.dirty.has(item)) this.push(item);
    else if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Items waiting to be handed out (not those being processed). */
  len(): number {
    return this.items.length - this.head;
  }

  /** True while a worker holds the item. */
  isProcessing(item: T): boolean {
    return this.processing.has(item);
  }

  /** Stops accepting adds; get() hands out what is queued, then resolves undefined. */
  shutDown(): void {
    this.shuttingDownFlag = true;
    for (const w of this.waiters.splice(0)) w(undefined);
    this.onShutDown();
  }

  /** shutDown, then wait until every item handed out has been marked done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.shuttingDownFlag;
  }

  protected onShutDown(): void {}
}

interface Waiting<T> {
  item: T;
  readyAt: number;
}

/** workqueue.DelayingInterface: addAfter puts an item on the queue once a delay passes. */
export class DelayingQueue<T = string> extends WorkQueue<T> {
  // a binary min-heap on readyAt; `waiting` holds each item's live entry so a re-add
  // with an earlier time replaces the later one (stale heap entries are skipped)
  private heap: Waiting<T>[] = [];
  private readonly waiting = new Map<T, Waiting<T>>();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;

  /** Adds item after ms; an item already waiting keeps the earlier of the two times. */
  addAfter(item: T, ms: number): void {
    if (this.shuttingDown()) return;
    if (ms <= 0) return this.add(item);
    const readyAt = performance.now() + ms;
    const existing = this.waiting.get(item);
    if (existing && existing.readyAt <= readyAt) return;
    const entry = { item, readyAt };
    this.waiting.set(item, entry);
    this.heapPush(entry);
    this.arm();
  }

  /** Items waiting on a delay (for tests and metrics). */
  numWaiting(): number {
    return this.waiting.size;
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || top.readyAt >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = top.readyAt;
    this.timer = setTimeout(() => this.fire(), Math.max(0, top.readyAt - performance.now()));
    // a pending retry must not keep a finished process alive
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    while (this.heap.length && this.heap[0].readyAt <= now) {
      const e = this.heapPop()!;
      if (this.waiting.get(e.item) !== e) continue;
      this.waiting.delete(e.item);
      this.add(e.item);
    }
    this.arm();
  }

  protected override onShutDown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.heap = [];
    this.waiting.clear();
  }

  private heapPush(e: Waiting<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].readyAt <= h[i].readyAt) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private heapPop(): Waiting<T> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].readyAt < h[m].readyAt) m = l;
        if (r < h.length && h[r].readyAt < h[m].readyAt) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

export interface RateLimitingQueueOptions<T> extends QueueOptions {
  /** defaults to defaultControllerRateLimiter() */
  rateLimiter?: RateLimiter<T>;
}

/** workqueue.RateLimitingInterface. */
export class RateLimitingQueue<T = string> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(opts: RateLimitingQueueOptions<T> = {}) {
    super(opts);
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>();
  }

  /** Adds item once the rate limiter says it may run again (counts a retry). */
  addRateLimited(item: T): void {
    this.metrics?.retried();
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The item is finished with for good: clear its failure history. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}

export interface RunWorkersOptions<T> {
  /** retries before an item is dropped (upstream controllers mostly use 15) */
  maxRetries?: number;
  /** told about every failure, and whether the item will be retried */
  onError?: (item: T, err: unknown, willRetry: boolean) => void;
}

/**
 * Runs n workers until the queue shuts down. The handler holds only the logic: a
 * success forgets the key's failures, a throw re-queues it rate-limited until maxRetries,
 * after which it is dropped (forgotten) and reported.
 */
export async function runWorkers<T>(
  queue: RateLimitingQueue<T>,
  n: number,
  handler: (item: T) => Promise<void> | void,
  opts: RunWorkersOptions<T> = {},
): Promise<void> {
  const maxRetries = opts.maxRetries ?? 15;
  const worker = async () => {
    for (;;) {
      const item = await queue.get();
      if (item === undefined) return;
      try {
        await handler(item);
        queue.forget(item);
      } catch (err) {
        const willRetry = queue.numRequeues(item) < maxRetries;
        if (willRetry) queue.addRateLimited(item);
        else queue.forget(item);
        opts.onError?.(item, err, willRetry);
      } finally {
        queue.done(item);
      }
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
}
