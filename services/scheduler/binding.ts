/**
 * Asynchronous, batched binding (lib/client/batcher.ts coalesces the calls). The
 * scheduling loop calls bind() for every placed pod and goes on with the next decision;
 * the calls made within one turn of the event loop (a
 * batch placement produces hundreds at once) travel as one `flotilla.api.batch.bind`
 * request of up to maxBatch items. Each pod's promise settles with its own result: a
 * per-item Failure Status rejects only that pod, with its StatusError; a failed request
 * rejects every pod in it. What to do about a failure (forget the assumed pod, requeue it)
 * is the caller's business.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { StatusError } from '../../lib/api/errors.js';
import { Batcher, type BatcherOptions, type BindItem } from '../../lib/client/mod.js';

/** What the binder needs of the API client (ApiClient satisfies it). */
export interface BatchBindClient {
  /** undefined where the pod was bound, else its error */
  batchBindOutcomes(items: BindItem[]): Promise<Array<StatusError | undefined>>;
}

export interface BinderOptions extends BatcherOptions<BindItem> {
  client: BatchBindClient;
}

export class Binder {
  private readonly batcher: Batcher<BindItem>;

  constructor(opts: BinderOptions) {
    const client = opts.client;
    this.batcher = new Batcher((items) => client.batchBindOutcomes(items), 'binding', (it) => `pod ${it.namespace}/${it.name}`, opts);
  }

  /** batch requests sent so far */
  get requests(): number {
    return this.batcher.requests;
  }

  /** Binds pod to node; resolves once the apiserver accepted it, rejects with its StatusError. */
  async bind(pod: Pod, node: string): Promise<void> {
    const m = pod.metadata ?? {};
    const item: BindItem = { namespace: m.namespace ?? 'default', name: m.name ?? '', node };
    if (m.uid) item.uid = m.uid;
    await this.batcher.add(item);
  }

  /** bindings not yet answered */
  get outstanding(): number {
    return this.batcher.outstanding;
  }

  /** Resolves once every binding asked for so far is answered. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
