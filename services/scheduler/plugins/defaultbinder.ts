/** DefaultBinder (upstream defaultbinder): binds through the scheduler's binder (pods/binding, batched). */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { BindPlugin, FrameworkHandle } from '../framework/types.js';

export const DEFAULTBINDER = 'DefaultBinder';

export class DefaultBinder implements BindPlugin {
  readonly name = DEFAULTBINDER;
  constructor(private readonly handle: Pick<FrameworkHandle, 'bind' | 'client'>) {}

  async bind(pod: Pod, nodeName: string): Promise<void> {
    if (this.handle.bind) return this.handle.bind(pod, nodeName);
    const client = this.handle.client;
    if (!client) throw new Error(`DefaultBinder: no binder and no client to bind ${pod.metadata?.namespace}/${pod.metadata?.name}`);
    const [result] = await client.batchBind([
      { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', node: nodeName, uid: pod.metadata?.uid },
    ]);
    if (result instanceof Error) throw result;
  }
}

export function newDefaultBinder(_args: unknown, handle: Pick<FrameworkHandle, 'bind' | 'client'>): DefaultBinder {
  return new DefaultBinder(handle);
}
