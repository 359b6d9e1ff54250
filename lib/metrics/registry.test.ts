import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { newRegistry } from './registry.js';

/** The count and sum of nodejs_gc_duration_seconds over every kind, from the registry's text. */
async function gcTotals(reg: ReturnType<typeof newRegistry>): Promise<{ count: number; sum: number }> {
  const text = await reg.metrics();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^nodejs_gc_duration_seconds_(count|sum)\{[^}]*\} (\S+)$/.exec(line);
    if (m) m[1] === 'count' ? (count += Number(m[2])) : (sum += Number(m[2]));
  }
  return { count, sum };
}

/** Lets the performance observers take what is pending (they are called once per turn). */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('lib/metrics registry', () => {
  it('counts every garbage collection of a turn in nodejs_gc_duration_seconds, not the first of each batch', async () => {
    const reg = newRegistry('test');
    const seen: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) seen.push(e.duration);
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      await turns(3);
      const before = await gcTotals(reg);
      seen.length = 0;
      // one synchronous burst: many young-generation collections before either observer runs
      let keep: object[] = [];
      for (let i = 0; i < 3e6; i++) {
        keep.push({ i, s: `x${i}` });
        if (keep.length > 20_000) keep = [];
      }
      await turns(3);
      const after = await gcTotals(reg);
      assert.ok(seen.length >= 5, `the burst should collect several times (saw ${seen.length})`);
      assert.equal(after.count - before.count, seen.length, 'every collection is counted');
      const ms = seen.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs((after.sum - before.sum) * 1000 - ms) < 0.01 * ms + 0.1, `sum ${((after.sum - before.sum) * 1000).toFixed(2)} ms against ${ms.toFixed(2)} ms`);
    } finally {
      obs.disconnect();
    }
  });
});
