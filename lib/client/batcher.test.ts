import assert from 'node:assert/strict';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('cuts requests at maxBytes by sizeOf (an item larger than that alone), each item answered', async () => {
    const requests: number[][] = [];
    const b = new Batcher<{ id: number; size: number }>(
      async (items) => {
        requests.push(items.map((i) => i.id));
        return items.map((i) => i.id * 10);
      },
      'testing',
      (it) => `item ${it.id}`,
      { maxBytes: 1000, sizeOf: (it) => it.size, maxInFlight: 1 },
    );
    const sizes = [300, 300, 300, 300, 2000, 100, 100];
    const results = await Promise.all(sizes.map((size, id) => b.add({ id, size })));
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50, 60]);
    assert.deepEqual(requests, [[0, 1, 2], [3], [4], [5, 6]]);
  });

  it('without maxBytes sends up to maxBatch items a request', async () => {
    const requests: number[] = [];
    const b = new Batcher<number>(
      async (items) => {
        requests.push(items.length);
        return items;
      },
      'testing',
      (it) => `item ${it}`,
      { maxBatch: 4, maxInFlight: 1 },
    );
    await Promise.all([...Array(10).keys()].map((i) => b.add(i)));
    assert.deepEqual(requests, [4, 4, 2]);
  });
});
