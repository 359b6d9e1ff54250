import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { defaultSchedulerConfiguration } from '../config.js';
import { Framework } from '../framework/framework.js';
import type { Snapshot } from '../framework/types.js';
import { inTreeRegistry } from './registry.js';

describe('DefaultBinder', () => {
  it('the default profile binds through the injected binder', async () => {
    const calls: string[] = [];
    const fw = new Framework(defaultSchedulerConfiguration().profiles[0], {
      registry: inTreeRegistry,
      snapshot: {} as Snapshot,
      bind: async (pod: Pod, node: string) => {
        calls.push(`${pod.metadata?.name}->${node}`);
      },
    });
    await fw.bind({ metadata: { name: 'web-1', namespace: 'default' } }, 'node-3');
    assert.deepEqual(calls, ['web-1->node-3']);
  });

  it('a failed binding rejects with the binder’s error', async () => {
    const fw = new Framework(defaultSchedulerConfiguration().profiles[0], {
      registry: inTreeRegistry,
      snapshot: {} as Snapshot,
      bind: async () => {
        throw new Error('pods "web-1" not found');
      },
    });
    await assert.rejects(fw.bind({ metadata: { name: 'web-1' } }, 'n'), /not found/);
  });
});
