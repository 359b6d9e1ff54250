import assert from 'node:assert/strict';
import { PodStartQueue } from './podstarts.js';

describe('kubelet PodStartQueue', () => {
  it('runs at most limit starts at once, in the order they came, and passes results and errors on', async () => {
    const q = new PodStartQueue(2);
    let now = 0;
    let most = 0;
    const order: number[] = [];
    const start = (i: number) =>
      q.run(async () => {
        most = Math.max(most, ++now);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        now--;
        if (i === 3) throw new Error('pod 3 failed');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(start));
    assert.equal(most, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [0, 1, 2, 'pod 3 failed', 4, 5]);
    assert.equal(q.queued, 0);
    assert.throws(() => new PodStartQueue(0), /at least 1/);
  });
});
