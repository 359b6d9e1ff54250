/**
 * The client-go controller pattern, written once for every controller: informer event
 * handlers only enqueue keys; workers take a key, read the object's current state from
 * the shared informer cache and reconcile it (level-triggered, so a missed or coalesced
 * event costs nothing); a sync that throws is retried through the rate-limited queue,
 * which the sync logic never sees. Each controller's queue reports the upstream
 * workqueue_* metrics under the controller's name.
 */
import type { Registry } from 'prom-client';
import { type ApiClient, type DeletedFinalStateUnknown, deletionHandlingKey, type EventHandlers, EventRecorder, type KubeObject, metaNamespaceKey, type RateLimiter, RateLimitingQueue, runWorkers, type SharedInformer, type SharedInformerFactory } from '../client/mod.js';

/** What the manager hands every controller it builds. */
export interface ControllerContext {
  client: ApiClient;
  /** the one factory of the process: every controller shares its caches */
  informers: SharedInformerFactory;
  /** where workqueue_* (and other) metrics go */
  registry?: Registry;
  /** an event recorder reporting as `component` (e.g. replicaset-controller) */
  recorder(component: string): EventRecorder;
  log(line: string): void;
}

export interface Controller {
  /** the queue's metric name, e.g. "replicaset" */
  readonly name: string;
  /** Runs `workers` workers until signal aborts; resolves when they have drained. */
  run(workers: number, signal: AbortSignal): Promise<void>;
  /** Removes the controller's event handlers and shuts its queue down. */
  stop(): Promise<void>;
}

export interface QueueControllerOptions {
  /** retries of one key before it is dropped (upstream: 15 for most controllers) */
  maxRetries?: number;
  rateLimiter?: RateLimiter<string>;
}

/**
 * The worker wiring every queue-driven controller shares: informer handlers registered
 * through `handle()` (removed on stop), one or more rate-limited queues, each drained by
 * its own workers with its own sync, started only once every informer used has synced.
 * Most controllers have one queue (QueueController); the garbage collector has two.
 */
export abstract class InformerController implements Controller {
  private readonly registrations: Array<{ remove(): void }> = [];
  private readonly informersUsed = new Set<SharedInformer<any>>();
  private readonly workQueues: Array<{ queue: RateLimitingQueue<string>; sync: (key: string) => Promise<void>; describe: (key: string) => string }> = [];
  private readonly periodic: Array<{ ms: number; fn: () => void }> = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    readonly name: string,
    protected readonly ctx: ControllerContext,
    private readonly maxRetries = 15,
  ) {}

  /**
   * Adds a queue reporting workqueue_* metrics as `metricName`, drained by `sync`; a
   * failed key is logged as "<name>: <describe(key)> failed".
   */
  protected addQueue(metricName: string, sync: (key: string) => Promise<void>, describe: (key: string) => string, rateLimiter?: RateLimiter<string>): RateLimitingQueue<string> {
    const queue = new RateLimitingQueue<string>({ name: metricName, registry: this.ctx.registry, rateLimiter });
    this.workQueues.push({ queue, sync, describe });
    return queue;
  }

  /** Registers handlers on a shared informer; they are removed when the controller stops. */
  protected handle<T extends KubeObject>(informer: SharedInformer<T>, handlers: EventHandlers<T>): void {
    this.informersUsed.add(informer);
    this.registrations.push(informer.addEventHandler(handlers));
  }

  /**
   * Calls `fn` every `ms` while the controller runs (upstream's `wait.Until` beside the
   * workers), e.g. to enqueue every key again for a periodic check.
   */
  protected every(ms: number, fn: () => void): void {
    this.periodic.push({ ms, fn });
  }

  /** True once every informer this controller reads has its first list. */
  hasSynced(): boolean {
    for (const inf of this.informersUsed) if (!inf.hasSynced()) return false;
    return true;
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.stopped) return;
    this.timers = this.periodic.map(({ ms, fn }) => setInterval(fn, ms));
    try {
      await this.runWorkers(workers, signal);
    } finally {
      this.clearTimers();
    }
  }

  private clearTimers(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  private async runWorkers(workers: number, signal: AbortSignal): Promise<void> {
    const onAbort = () => {
      for (const { queue } of this.workQueues) queue.shutDown();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // workers must not act on a half-filled cache: an empty cache reads as "nothing exists".
    // One wait at a time: twenty at once would each hang a listener on the shared signal.
    try {
      for (const inf of this.informersUsed) await inf.waitForSync(signal);
    } catch {
      // only an abort ends a wait early
    }
    if (signal.aborted) return;
    try {
      await Promise.all(
        this.workQueues.map(({ queue, sync, describe }) =>
          runWorkers(queue, workers, sync, {
            maxRetries: this.maxRetries,
            onError: (key, err, willRetry) =>
              this.ctx.log(`${this.name}: ${describe(key)} failed${willRetry ? ', will retry' : ', dropping it after too many retries'}: ${err instanceof Error ? err.message : String(err)}`),
          }),
        ),
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    for (const r of this.registrations.splice(0)) r.remove();
    await Promise.all(this.workQueues.map(({ queue }) => queue.shutDownWithDrain()));
  }
}

/**
 * Base of the single-queue controllers. Subclasses register handlers through `handle()`,
 * enqueue keys from them and implement `sync(key)`.
 */
export abstract class QueueController extends InformerController {
  readonly queue: RateLimitingQueue<string>;

  constructor(name: string, ctx: ControllerContext, opts: QueueControllerOptions = {}) {
    super(name, ctx, opts.maxRetries);
    this.queue = this.addQueue(name, (key) => this.sync(key), (key) => `syncing "${key}"`, opts.rateLimiter);
  }

  /** Reconciles the object behind key to its desired state. Throwing retries it later. */
  protected abstract sync(key: string): Promise<void>;

  enqueue(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): void {
    this.queue.add(deletionHandlingKey(obj));
  }

  enqueueKey(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(obj: KubeObject, ms: number): void {
    this.queue.addAfter(metaNamespaceKey(obj), ms);
  }
}
