import assert from 'node:assert/strict';
import { withGcBurst } from '../../test/gc.js';
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

describe('lib/metrics registry', () => {
  it('counts every garbage collection of a turn in nodejs_gc_duration_seconds, not the first of each batch', async () => {
    const reg = newRegistry('test');
    const {
      result: [before, after],
      pausesMs,
    } = await withGcBurst(
      () => gcTotals(reg),
      async (b) => [b, await gcTotals(reg)] as const,
    );
    assert.ok(pausesMs.length >= 5, `the burst should collect several times (saw ${pausesMs.length})`);
    assert.equal(after.count - before.count, pausesMs.length, 'every collection is counted');
    const ms = pausesMs.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs((after.sum - before.sum) * 1000 - ms) < 0.01 * ms + 0.1, `sum ${((after.sum - before.sum) * 1000).toFixed(2)} ms against ${ms.toFixed(2)} ms`);
  });
});
