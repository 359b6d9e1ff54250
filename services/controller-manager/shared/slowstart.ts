/**
 * Slow-start creation (upstream slowStartBatch in pkg/controller/replicaset): objects are
 * created in batches of 1, 2, 4, ... and creation stops after the first batch with a
 * failure, so a controller whose creates are all rejected (a quota, a bad template, an
 * admission webhook) sends a handful of requests instead of hundreds.
 */
import { StatusError } from '../../../lib/api/errors.js';
import type { ApiClient, ResourceRef } from '../../../lib/client/mod.js';

/** the first batch's size (upstream SlowStartInitialBatchSize) */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

export type CreateRequest = ResourceRef & { body: unknown };

export interface SlowStartResult {
  created: number;
  failed: number;
  /** creations never attempted because an earlier batch failed */
  skipped: number;
  /** the failures, by index of the object in 0..count-1 */
  errors: Array<{ index: number; error: StatusError }>;
}

/**
 * Creates `count` objects, the i-th from `request(i)`, through ApiClient.batchCreate in
 * doubling batches. `onResult` sees each result (the created object or its error) as its
 * batch returns, in index order. A batch request that fails as a whole fails each of its items.
 */
export async function slowStartBatchCreate<T>(
  client: ApiClient,
  count: number,
  request: (index: number) => CreateRequest,
  onResult: (result: T | StatusError, index: number) => void = () => undefined,
): Promise<SlowStartResult> {
  const out: SlowStartResult = { created: 0, failed: 0, skipped: 0, errors: [] };
  let next = 0;
  for (let batch = Math.min(count, SLOW_START_INITIAL_BATCH_SIZE); batch > 0; batch = Math.min(2 * batch, count - next)) {
    const first = next;
    const items = Array.from({ length: batch }, (_, k) => request(first + k));
    next += batch;
    let results: Array<T | StatusError>;
    try {
      results = await client.batchCreate<T>(items);
    } catch (e) {
      results = items.map(() => (e instanceof StatusError ? e : new StatusError(500, 'InternalError', (e as Error).message)));
    }
    results.forEach((r, k) => {
      if (r instanceof StatusError) {
        out.failed++;
        out.errors.push({ index: first + k, error: r });
      } else {
        out.created++;
      }
      onResult(r, first + k);
    });
    if (out.failed) {
      out.skipped = count - next;
      break;
    }
  }
  return out;
}
