/**
 * Coalesces single-object writes into batch requests. Callers add items one at a time and
 * go on; the items added within one turn of the event loop (or a short window) travel as
 * one request of up to maxBatch items, with at most maxInFlight requests at once. Each
 * item's promise settles with its own result: a per-item Failure Status rejects only that
 * item, with its StatusError; a failed request rejects every item in it.
 */
import { InternalError, StatusError } from '../api/errors.js';

export interface BatcherOptions<I = unknown> {
  /** items per request (default 500) */
  maxBatch?: number;
  /** how long the first item waits for others to join its batch, ms (default 0: the current event-loop turn) */
  windowMs?: number;
  /** requests in flight at once (default 4); more items wait for a free slot */
  maxInFlight?: number;
  /**
   * about how many bytes a request may carry, by `sizeOf` (default: no limit); a request
   * holds at least one item. Requests over MAX_DECODED_MESSAGE_BYTES cost the apiserver a
   * large-string decode.
   */
  maxBytes?: number;
  /** an item's bytes in a request (needed with maxBytes) */
  sizeOf?: (item: I) => number;
}

/** Sends one batch; one result per item, in order (an error result is that item's failure). */
export type BatchSender<I> = (items: I[]) => Promise<Array<unknown | StatusError>>;

interface Pending<I> {
  item: I;
  resolve: (result: unknown) => void;
  reject: (e: StatusError) => void;
}

export class Batcher<I> {
  /** batch requests sent so far */
  requests = 0;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly maxInFlight: number;
  private readonly maxBytes: number;
  private readonly sizeOf?: (item: I) => number;
  private pending: Array<Pending<I>> = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly sendItems: BatchSender<I>,
    /** what a batch does, for errors ("binding") */
    private readonly what: string,
    /** names an item in errors ("pod default/web") */
    private readonly describe: (item: I) => string,
    opts: BatcherOptions<I> = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.windowMs = opts.windowMs ?? 0;
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.maxBytes = opts.maxBytes ?? Infinity;
    this.sizeOf = opts.sizeOf;
    if (opts.maxBytes !== undefined && !opts.sizeOf) throw new Error(`batcher for ${what}: maxBytes needs sizeOf`);
  }

  /** Queues one item; resolves with its result, rejects with its StatusError. */
  add(item: I): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** items not yet answered */
  get outstanding(): number {
    return this.pending.length + this.inFlight;
  }

  /** Resolves once every item added so far is answered. */
  async drain(): Promise<void> {
    if (this.outstanding === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
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
      const batch = this.pending.splice(0, this.batchLength());
      this.inFlight++;
      this.requests++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        if (this.pending.length > 0) this.send();
        else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** How many pending items the next request takes: at most maxBatch, and maxBytes. */
  private batchLength(): number {
    const n = Math.min(this.pending.length, this.maxBatch);
    if (!this.sizeOf) return n;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      bytes += this.sizeOf(this.pending[i]!.item);
      if (i > 0 && bytes > this.maxBytes) return i;
    }
    return n;
  }

  private async sendBatch(batch: Array<Pending<I>>): Promise<void> {
    let results: Array<unknown | StatusError>;
    try {
      results = await this.sendItems(batch.map((p) => p.item));
    } catch (e) {
      const err = e instanceof StatusError ? e : new InternalError(`${this.what} ${batch.length} items failed: ${(e as Error)?.message ?? String(e)}`);
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof StatusError) p.reject(r);
      else if (i >= results.length) p.reject(new InternalError(`${this.what}: no result for ${this.describe(p.item)}`));
      else p.resolve(r);
    });
  }
}
