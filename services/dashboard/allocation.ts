/**
 * What each node has and what its pods ask for, from the dashboard's own pod and node
 * informers (so it needs neither Prometheus nor kube-state-metrics): capacity and
 * allocatable CPU and memory per node, and the requests of the pods bound to it that have
 * not finished (as `kubectl describe node`'s "Allocated resources": the sum of the
 * containers' requests). Kept per pod as numbers when the pod changes, summed per read.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { deletedObject, metaNamespaceKey, type KubeObject } from '../../lib/client/mod.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import type { ResourceTable } from './tables.js';

/** CPU in cores, memory in bytes. */
export interface Resources {
  cpu: number;
  memory: number;
}

export interface NodeAllocation {
  name: string;
  capacity: Resources;
  allocatable: Resources;
  requests: Resources;
}

function amount(q: unknown): number {
  if (q === undefined || q === null || q === '') return 0;
  try {
    return parseQuantity(String(q)).asApproximateFloat64();
  } catch {
    return 0;
  }
}

const resources = (list: Record<string, unknown> | undefined): Resources => ({ cpu: amount(list?.cpu), memory: amount(list?.memory) });

/** A pod's requests while it holds them on its node (bound, not Succeeded or Failed); else undefined. */
export function podRequests(p: Pod): (Resources & { node: string }) | undefined {
  const node = p.spec?.nodeName;
  const phase = p.status?.phase;
  if (!node || phase === 'Succeeded' || phase === 'Failed') return undefined;
  const r = { node, cpu: 0, memory: 0 };
  for (const c of p.spec?.containers ?? []) {
    const req = resources(c.resources?.requests as Record<string, unknown> | undefined);
    r.cpu += req.cpu;
    r.memory += req.memory;
  }
  return r;
}

export class Allocation {
  private readonly pods = new Map<string, Resources & { node: string }>();
  private readonly remover: { remove(): void };

  constructor(
    private readonly nodeTable: ResourceTable,
    podTable: ResourceTable,
  ) {
    const put = (o: KubeObject) => {
      const r = podRequests(o as Pod);
      if (r) this.pods.set(metaNamespaceKey(o), r);
      else this.pods.delete(metaNamespaceKey(o));
    };
    this.remover = podTable.informer.addEventHandler({
      onAdd: put,
      onUpdate: (_, o) => put(o),
      onDelete: (o) => this.pods.delete(metaNamespaceKey(deletedObject(o) as KubeObject)),
    });
  }

  /** Every node (sorted by name) with its capacity, allocatable and its pods' requests; `only` keeps one. */
  nodes(only?: string): NodeAllocation[] {
    const requested = new Map<string, Resources>();
    for (const r of this.pods.values()) {
      if (only !== undefined && r.node !== only) continue;
      const sum = requested.get(r.node) ?? { cpu: 0, memory: 0 };
      sum.cpu += r.cpu;
      sum.memory += r.memory;
      requested.set(r.node, sum);
    }
    const nodes = (only !== undefined ? [this.nodeTable.informer.store.getByKey(only)].filter((n) => n !== undefined) : this.nodeTable.informer.store.list()) as Node[];
    return nodes
      .map((n) => {
        const name = n.metadata?.name ?? '';
        return { name, capacity: resources(n.status?.capacity), allocatable: resources(n.status?.allocatable), requests: requested.get(name) ?? { cpu: 0, memory: 0 } };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The cluster's sums: allocatable of every node, requests of every bound pod. */
  totals(): { allocatable: Resources; requests: Resources } {
    const allocatable = { cpu: 0, memory: 0 };
    for (const n of this.nodeTable.informer.store.list() as Node[]) {
      const a = resources(n.status?.allocatable);
      allocatable.cpu += a.cpu;
      allocatable.memory += a.memory;
    }
    const requests = { cpu: 0, memory: 0 };
    for (const r of this.pods.values()) (requests.cpu += r.cpu), (requests.memory += r.memory);
    return { allocatable, requests };
  }

  close(): void {
    this.remover.remove();
  }
}
