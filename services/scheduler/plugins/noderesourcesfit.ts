/**
 * NodeResourcesFit (upstream noderesources Fit): the pod's requests (init-container and
 * overhead rules, resources.ts) must fit the node's allocatable minus what its pods
 * request; scores with LeastAllocated, MostAllocated or RequestedToCapacityRatio.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Dim, Filter, ScoringStrategy, type ClassSpec } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PreFilterPlugin, ScorePlugin, Snapshot } from '../framework/types.js';
import { podRequestList, podResources } from '../resources.js';

export const NODERESOURCESFIT = 'NodeResourcesFit';

export interface ResourceSpec {
  name: string;
  weight?: number;
}

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy?: {
    type?: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources?: ResourceSpec[];
    requestedToCapacityRatio?: { shape?: Array<{ utilization: number; score: number }> };
  };
}

const STRATEGY: Record<string, number> = {
  LeastAllocated: ScoringStrategy.LeastAllocated,
  MostAllocated: ScoringStrategy.MostAllocated,
  RequestedToCapacityRatio: ScoringStrategy.RequestedToCapacityRatio,
};

export function insufficientMessage(resource: string): string {
  return resource === 'pods' ? 'Too many pods' : `Insufficient ${resource}`;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  readonly name = NODERESOURCESFIT;
  readonly filterBit = Filter.NodeResourcesFit;
  private readonly ignored: Set<string>;
  private readonly ignoredGroups: Set<string>;
  /** a pod's request vectors as preFilter made them, by pod object */
  private readonly requests = new WeakMap<Pod, { spec: Pod['spec']; dims: number; request: Float64Array; nonZeroRequest: Float64Array }>();

  constructor(
    private readonly snapshot: Snapshot,
    private readonly args: NodeResourcesFitArgs = {},
  ) {
    this.ignored = new Set(args.ignoredResources ?? []);
    this.ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
  }

  signature(pod: Pod): string {
    const req = [...podRequestList(pod)].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const nz = podRequestList(pod, true);
    return JSON.stringify([req, nz.get('cpu') ?? 0, nz.get('memory') ?? 0]);
  }

  /** upstream skips ignoredResources and ignoredResourceGroups for extended resources only */
  private isIgnored(name: string): boolean {
    if (this.ignored.has(name)) return true;
    const slash = name.indexOf('/');
    return slash > 0 && this.ignoredGroups.has(name.slice(0, slash));
  }

  preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
    const dims = snapshot.core.dims.resources;
    let r = this.requests.get(pod);
    // a volatile class is recompiled from one pod object every cycle (ClassTable); parsed again
    // should the pod's spec be replaced or the resource dimensions grow
    if (r === undefined || r.spec !== pod.spec || r.dims !== dims) {
      const { request, nonZeroRequest } = podResources(pod, (n) => snapshot.resourceDim(n), () => snapshot.core.dims.resources);
      for (let d = Dim.FIRST_EXTENDED; d < request.length; d++) {
        if (request[d] > 0 && this.isIgnored(snapshot.resourceName(d))) request[d] = 0;
      }
      r = { spec: pod.spec, dims: snapshot.core.dims.resources, request, nonZeroRequest };
      this.requests.set(pod, r);
    }
    // shared by this pod's compiles: class specs are read, never written
    cls.request = r.request;
    cls.nonZeroRequest = r.nonZeroRequest;
    return undefined;
  }

  reasons(_code: number, detail: number, snapshot: Snapshot, _cls: ClassSpec): string[] {
    const out: string[] = [];
    for (let d = 0; d < 31; d++) if (detail & (1 << d)) out.push(insufficientMessage(snapshot.resourceName(d)));
    return out;
  }

  configureScore(cls: ClassBuilder, weight: number): void {
    const s = this.args.scoringStrategy ?? {};
    cls.score.fitWeight = weight;
    cls.score.strategy = STRATEGY[s.type ?? 'LeastAllocated'] ?? ScoringStrategy.LeastAllocated;
    const resources = s.resources ?? [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ];
    cls.score.fitResources = resources.map((r) => ({ dim: this.snapshot.resourceDim(r.name), weight: r.weight || 1 }));
    cls.score.shape = (s.requestedToCapacityRatio?.shape ?? []).map((p) => ({ utilization: p.utilization, score: p.score }));
  }
}

export function newNodeResourcesFit(args: unknown, handle: { snapshot: Snapshot }): NodeResourcesFit {
  return new NodeResourcesFit(handle.snapshot, (args ?? {}) as NodeResourcesFitArgs);
}
