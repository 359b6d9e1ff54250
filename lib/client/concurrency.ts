/**
 * Bounded fan-out of API requests: many at a time, but never all at once (a hollow
 * kubelet speaking for thousands of nodes, a controller deleting thousands of pods: the
 * apiserver and NATS would queue them all, and every one would time out together).
 */

/** Runs fn over items with at most `limit` in flight; resolves with each item's error or undefined, in order. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<Array<unknown>> {
  const errors: unknown[] = new Array(items.length).fill(undefined);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      try {
        await fn(items[i]!, i);
      } catch (e) {
        errors[i] = e ?? new Error('unknown failure');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return errors;
}

/** Splits items into chunks of at most size. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
