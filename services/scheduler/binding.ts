/**
 * Asynchronous, batched binding. The scheduling loop calls bind() for every placed pod and
 * goes on with the next decision; the calls made within one turn of the event loop (a
 * batch placement produces hundreds at once) travel as one `flotilla.api.batch.bind`
 * request of up to maxBatch items. Each pod's promise settles with its own result: a
 * per-item Failure Status rejects only that pod, with its StatusError; a failed request
 * rejects every pod in it. What to do about a failure (forget the assumed pod, requeue it)
 * is the caller's business.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { InternalError, StatusError } from '../../lib/api/errors.js';
import type { BindItem } from '../../lib/client/protocol.js';

/** What the binder needs of the API client (ApiClient satisfies it). */
export interface BatchBindClient {
  batchBind(items: BindItem[]): Promise<Array<unknown | StatusError>>;
}

export interface BinderOptions {
  client: BatchBindClient;
  /** bindings per request (default 500) */
  maxBatch?: number;
  /** how long the first binding waits for others to join its batch, ms (default 0: the current event-loop turn) */
  windowMs?: number;
  /** requests in flight at once (default 4); more bindings wait for a free slot */
  maxInFlight?: number;
}

interface Pending {
  item: BindItem;
  resolve: () => void;
  reject: (e: StatusError) => void;
}

export class Binder {
  /** batch requests sent so far */
  requests = 0;
  private readonly client: BatchBindClient;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly maxInFlight: number;
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(opts: BinderOptions) {
    this.client = opts.client;
    this.maxBatch = opts.maxBatch ?? 500;
    this.windowMs = opts.windowMs ?? 0;
    this.maxInFlight = opts.maxInFlight ?? 4;
  }

  /** Binds pod to node; resolves once the apiserver accepted it, rejects with its StatusError. */
  bind(pod: Pod, node: string): Promise<void> {
    const m = pod.metadata ?? {};
    const item: BindItem = { namespace: m.namespace ?? 'default', name: m.name ?? '', node };
    if (m.uid) item.uid = m.uid;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** bindings not yet answered */
  get outstanding(): number {
    return this.pending.length + this.inFlight;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.send();
    };
    if (this.windowMs > 0) setTimeout(go, this.windowMs);
    else setImmediate(go);
  }

  private send(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      this.requests++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        if (this.pending.length > 0) this.send();
        else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    let results: Array<unknown | StatusError>;
    try {
      results = await this.client.batchBind(batch.map((p) => p.item));
    } catch (e) {
      const err = e instanceof StatusError ? e : new InternalError(`binding ${batch.length} pods failed: ${(e as Error)?.message ?? String(e)}`);
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof StatusError) p.reject(r);
      else if (i >= results.length) p.reject(new InternalError(`no binding result for pod ${p.item.namespace}/${p.item.name}`));
      else p.resolve();
    });
  }

  /** Resolves once every binding asked for so far is answered. */
  async drain(): Promise<void> {
    if (this.outstanding === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
