/**
 * Drives an operation many times with a fixed number in flight, timing each one: the
 * way a pipelining client (or a pool of kubectl-like clients) loads a server.
 */

export interface LoadResult {
  /** operations attempted (fewer than asked when a deadline stopped the run) */
  ops: number;
  seconds: number;
  /** one per successful operation, in completion order */
  latenciesMs: number[];
  errors: number;
  firstError?: string;
}

export interface LoadOptions {
  /** operations in flight at once (1 = one after another) */
  concurrency: number;
  /** stop starting new operations after this many seconds */
  maxSeconds?: number;
}

/**
 * Runs op(0..total-1) with `concurrency` in flight: each of that many workers starts the
 * next index as soon as its previous one settles, so the window never drains between
 * batches. A failed operation counts as an error and the run goes on.
 */
export async function runLoad(total: number, opts: LoadOptions, op: (i: number) => Promise<unknown>): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = opts.maxSeconds ? start + opts.maxSeconds * 1000 : Infinity;
  const worker = async () => {
    for (;;) {
      if (next >= total || performance.now() > deadline) return;
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i);
        latenciesMs.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency, total));
  await Promise.all(Array.from({ length: workers }, worker));
  return { ops: next, seconds: (performance.now() - start) / 1000, latenciesMs, errors, firstError };
}
