/**
 * One whole object, followed: a list of just that name (for its current state and the
 * resourceVersion) and a watch from there, again after a broken watch. The details and
 * YAML views read objects this way; the tables' caches keep only what rows need.
 */
import type { ApiClient, GroupVersionResource, KubeObject } from '../../lib/client/mod.js';
import { isGone } from '../../lib/client/mod.js';

export interface ObjectRef extends GroupVersionResource {
  namespace?: string;
  name: string;
}

/** Calls onObject with the object (undefined: it does not exist, or no longer) until stop(). */
export function watchObject(client: ApiClient, ref: ObjectRef, onObject: (o: KubeObject | undefined) => void, onError: (e: Error) => void): { stop(): void } {
  const abort = new AbortController();
  let current: { stop(): void } | undefined;
  void (async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const fieldSelector = `metadata.name=${ref.name}`;
        const gvrNs = { group: ref.group, version: ref.version, resource: ref.resource, namespace: ref.namespace || undefined };
        const list = await client.list<KubeObject>(gvrNs, { fieldSelector });
        if (abort.signal.aborted) return;
        onObject(list.items[0]);
        const w = client.watch<KubeObject>(gvrNs, { fieldSelector, resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 });
        current = w;
        if (abort.signal.aborted) w.stop();
        for await (const ev of w) {
          failures = 0;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') onObject(ev.object);
          else if (ev.type === 'DELETED') onObject(undefined);
        }
      } catch (e) {
        if (abort.signal.aborted) return;
        if (!isGone(e)) {
          onError(e as Error);
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** failures++)));
        }
      }
    }
  })();
  return {
    stop() {
      abort.abort();
      current?.stop();
    },
  };
}
