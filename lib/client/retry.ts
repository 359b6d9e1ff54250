/**
 * Retries in the manner of client-go's k8s.io/client-go/util/retry and
 * k8s.io/apimachinery/pkg/util/wait: a Backoff that steps its duration, retryOnConflict
 * for read-modify-write loops, and a stepping backoff for reconnect loops.
 */
import { isConflict } from '../api/errors.js';

/** wait.Backoff: durations in milliseconds. */
export interface Backoff {
  /** the first delay */
  durationMs: number;
  /** each step multiplies the delay by this (1 = constant) */
  factor: number;
  /** each delay is lengthened by a random share up to this fraction */
  jitter: number;
  /** how many times the operation is tried at most */
  steps: number;
  /** the delay never grows past this */
  capMs?: number;
}

/** retry.DefaultRetry: for conflicts, which clear up quickly. */
export const DefaultRetry: Readonly<Backoff> = { steps: 5, durationMs: 10, factor: 1.0, jitter: 0.1 };

/** retry.DefaultBackoff: for errors that need more time to clear. */
export const DefaultBackoff: Readonly<Backoff> = { steps: 4, durationMs: 10, factor: 5.0, jitter: 0.1 };

export function jittered(ms: number, jitter: number): number {
  return jitter > 0 ? ms + Math.random() * jitter * ms : ms;
}

/** Resolves after ms; rejects with the signal's reason if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The delays a Backoff yields, in order (steps - 1 of them: none after the last try). */
export function backoffDelays(b: Backoff): number[] {
  const out: number[] = [];
  let d = b.durationMs;
  for (let i = 1; i < b.steps; i++) {
    out.push(jittered(b.capMs !== undefined ? Math.min(d, b.capMs) : d, b.jitter));
    d *= b.factor;
  }
  return out;
}

/**
 * retry.OnError: runs fn until it succeeds, fails with an error `retriable` rejects, or
 * the backoff's steps are used up; then the last error is thrown.
 */
export async function onError<T>(backoff: Backoff, retriable: (e: unknown) => boolean, fn: () => Promise<T>): Promise<T> {
  const delays = backoffDelays(backoff);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!retriable(e) || attempt >= delays.length) throw e;
      await sleep(delays[attempt]);
    }
  }
}

/**
 * retry.RetryOnConflict: fn must read the object afresh each time (a Get, or the
 * informer's store) and write it back; a 409 Conflict runs it again.
 */
export function retryOnConflict<T>(fn: () => Promise<T>, backoff: Backoff = DefaultRetry): Promise<T> {
  return onError(backoff, isConflict, fn);
}

export class WaitTimeoutError extends Error {
  constructor(what = 'condition') {
    super(`timed out waiting for the ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * wait.ExponentialBackoff: polls condition with the backoff's delays until it returns
 * true; throws WaitTimeoutError when the steps are used up. An error thrown by the
 * condition ends the wait at once.
 */
export async function exponentialBackoff(backoff: Backoff, condition: () => boolean | Promise<boolean>): Promise<void> {
  const delays = backoffDelays(backoff);
  for (let attempt = 0; ; attempt++) {
    if (await condition()) return;
    if (attempt >= delays.length) throw new WaitTimeoutError();
    await sleep(delays[attempt]);
  }
}

/**
 * A stepping delay for loops that run forever (reconnects, re-lists): each next()
 * doubles up to the cap, reset() after a success starts again from the initial delay.
 */
export class BackoffStepper {
  private current: number;
  constructor(
    readonly initialMs = 100,
    readonly maxMs = 30_000,
    readonly factor = 2,
    readonly jitter = 0.1,
  ) {
    this.current = initialMs;
  }

  next(): number {
    const d = jittered(this.current, this.jitter);
    this.current = Math.min(this.maxMs, this.current * this.factor);
    return d;
  }

  reset(): void {
    this.current = this.initialMs;
  }
}
