import assert from 'node:assert/strict';
import { chunks, forEachLimited } from './concurrency.js';

describe('forEachLimited', () => {
  it('runs every item with at most `limit` in flight and answers each failure in item order', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    const errors = await forEachLimited([5, 1, 4, 2, 3, 0], 2, async (ms, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      seen.push(i);
      if (i % 2) throw new Error(`item ${i}`);
    });
    assert.equal(peak, 2);
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(errors.map((e) => (e as Error | undefined)?.message), [undefined, 'item 1', undefined, 'item 3', undefined, 'item 5']);
  });

  it('handles no items', async () => {
    assert.deepEqual(await forEachLimited([], 4, async () => undefined), []);
  });
});

describe('chunks', () => {
  it('splits into pieces of at most size', () => {
    assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunks([], 3), []);
  });
});
