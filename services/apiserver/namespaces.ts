/**
 * Namespace lifecycle: empties namespaces that are being deleted, then removes their
 * "kubernetes" finalizer so the namespace itself goes. Upstream this is the namespace
 * controller in kube-controller-manager; it lives here until Flotilla's
 * controller-manager exists, and is safe to run in several apiserver instances at
 * once (every step is idempotent).
 */
import { isNotFound } from '../../lib/api/errors.js';
import { servedKinds, findKind, type ServedKind } from './kinds.js';
import type { ObjectStorage } from './storage.js';

const SWEEP_MS = 1000;

export class NamespaceLifecycle {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly storage: ObjectStorage) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass over every terminating namespace. */
  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const nsKind = findKind('', 'v1', 'namespaces');
      if (!nsKind) return;
      for (const c of [...this.storage.cache.list(nsKind.storage)]) {
        if (c.obj.metadata?.deletionTimestamp && c.obj.spec?.finalizers?.includes('kubernetes')) {
          await this.finalize(nsKind, c.name).catch(() => undefined);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async finalize(nsKind: ServedKind, namespace: string): Promise<void> {
    let remaining = 0;
    const seen = new Set<string>();
    for (const kind of servedKinds()) {
      if (!kind.def.namespaced || seen.has(kind.storage)) continue;
      seen.add(kind.storage);
      for (const c of [...this.storage.cache.list(kind.storage, namespace)]) {
        remaining++;
        if (c.obj.metadata?.deletionTimestamp) continue; // already going; finalizers decide
        try {
          await this.storage.delete(kind, namespace, c.name, { propagationPolicy: 'Background' }, { warnings: [] });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    if (remaining > 0) return;
    await this.storage.patchWith(nsKind, '', namespace, { warnings: [] }, (ns) => {
      const next = structuredClone(ns);
      next.spec.finalizers = (next.spec.finalizers as string[]).filter((f) => f !== 'kubernetes');
      return next;
    });
  }
}
