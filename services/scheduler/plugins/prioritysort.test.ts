import assert from 'node:assert/strict';
import type { QueuedPodInfo } from '../framework/types.js';
import { PrioritySort } from './prioritysort.js';

const queued = (key: string, priority: number, timestamp: number): QueuedPodInfo => ({
  key,
  pod: { metadata: { name: key } },
  priority,
  timestamp,
  attempts: 0,
  initialAttemptTimestamp: timestamp,
  unschedulablePlugins: new Set(),
});

describe('PrioritySort', () => {
  it('orders by priority, highest first, then by queue time', () => {
    const s = new PrioritySort();
    const pods = [queued('low-early', 0, 1), queued('high-late', 100, 9), queued('low-late', 0, 5), queued('high-early', 100, 2)];
    pods.sort((a, b) => (s.less(a, b) ? -1 : s.less(b, a) ? 1 : 0));
    assert.deepEqual(pods.map((p) => p.key), ['high-early', 'high-late', 'low-early', 'low-late']);
  });
});
