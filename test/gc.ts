/**
 * Garbage collections on demand, for tests of what counts them: one synchronous burst of
 * short-lived objects (many young-generation collections before any observer runs), and
 * the pause of each as an observer of its own saw it.
 */
import { PerformanceObserver } from 'node:perf_hooks';

/** Lets performance observers take what is pending (Node calls them once per turn). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Runs `before`, a burst of collections, then `after` once the observers have had them;
 * returns `after`'s result and the pause (ms) of every collection the burst made.
 */
export async function withGcBurst<B, A>(before: () => Promise<B>, after: (b: B) => Promise<A>): Promise<{ result: A; pausesMs: number[] }> {
  const pausesMs: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pausesMs.push(e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  try {
    await turns(3);
    const b = await before();
    pausesMs.length = 0;
    let keep: object[] = [];
    for (let i = 0; i < 3e6; i++) {
      keep.push({ i, s: `x${i}` });
      if (keep.length > 20_000) keep = [];
    }
    await turns(3);
    return { result: await after(b), pausesMs };
  } finally {
    obs.disconnect();
  }
}
