/**
 * NodeResourcesBalancedAllocation (upstream noderesources BalancedAllocation): favours
 * nodes whose resource fractions stay close together once the pod is placed. The request
 * itself is compiled by NodeResourcesFit; this plugin only sets its weight and resources.
 */
import type { ClassBuilder, ScorePlugin, Snapshot } from '../framework/types.js';
import type { ResourceSpec } from './noderesourcesfit.js';

export const BALANCEDALLOCATION = 'NodeResourcesBalancedAllocation';

export interface NodeResourcesBalancedAllocationArgs {
  resources?: ResourceSpec[];
}

export class BalancedAllocation implements ScorePlugin {
  readonly name = BALANCEDALLOCATION;
  constructor(
    private readonly snapshot: Snapshot,
    private readonly args: NodeResourcesBalancedAllocationArgs = {},
  ) {}

  configureScore(cls: ClassBuilder, weight: number): void {
    cls.score.balancedWeight = weight;
    const resources = this.args.resources ?? [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ];
    cls.score.balancedResources = resources.map((r) => ({ dim: this.snapshot.resourceDim(r.name), weight: r.weight || 1 }));
  }
}

export function newBalancedAllocation(args: unknown, handle: { snapshot: Snapshot }): BalancedAllocation {
  return new BalancedAllocation(handle.snapshot, (args ?? {}) as NodeResourcesBalancedAllocationArgs);
}
