/**
 * The Snapshot the framework and its plugins read (upstream backend/cache/snapshot.go):
 * node lookup and lists, the pods on them, namespace labels, and the cache's interners.
 * Upstream copies changed NodeInfos into the snapshot once per cycle; here the core
 * already holds the derived numbers, so the snapshot is a zero-copy view over the cache's
 * own tables (nothing is copied per cycle: the scheduling benchmark must not pay for it).
 * Only the cache and the scheduling loop hold the cache; everything else gets this view.
 */
import type { Taint } from 'kubernetes-types/core/v1.js';
import type { SchedulingCore } from '../../core/types.js';
import type { NodeInfo, PodInfo, PodMatcher, Snapshot } from '../../framework/types.js';
import type { PodCounts } from './podcounts.js';

/** The cache's tables the snapshot reads through to (shared by reference, never copied). */
export interface SnapshotTables {
  readonly nodesByName: ReadonlyMap<string, NodeInfo>;
  /** core slot -> node (undefined for a free slot) */
  readonly nodesBySlot: ReadonlyArray<NodeInfo | undefined>;
  readonly podsWithAffinity: ReadonlyMap<string, PodInfo>;
  readonly affinityKeys: ReadonlyMap<string, number>;
  readonly namespaceLabels: ReadonlyMap<string, Record<string, string>>;
  readonly podCounts: PodCounts;
}

/**
 * The cache's interners: interning a new requirement, taint, port or topology key sets its
 * bit on every node and may grow the core, which only the cache can do.
 */
export type SnapshotInterners = Pick<
  Snapshot,
  'core' | 'resourceDim' | 'resourceName' | 'requirementBit' | 'taintBit' | 'taintAt' | 'taintCount' | 'portBit' | 'topologyKey' | 'domains' | 'words' | 'nodesVersion'
>;

export class CacheSnapshot implements Snapshot {
  constructor(
    private readonly tables: SnapshotTables,
    private readonly interners: SnapshotInterners,
  ) {}

  get core(): SchedulingCore {
    return this.interners.core;
  }

  // ---- nodes and pods ----

  nodeCount(): number {
    return this.tables.nodesByName.size;
  }

  nodes(): Iterable<NodeInfo> {
    return this.tables.nodesByName.values();
  }

  node(name: string): NodeInfo | undefined {
    return this.tables.nodesByName.get(name);
  }

  nodeAt(slot: number): NodeInfo | undefined {
    return this.tables.nodesBySlot[slot];
  }

  nodesVersion(): number {
    return this.interners.nodesVersion();
  }

  *pods(): Iterable<PodInfo> {
    for (const n of this.tables.nodesByName.values()) yield* n.pods.values();
  }

  podsWithAffinity(): Iterable<PodInfo> {
    return this.tables.podsWithAffinity.values();
  }

  affinityTopologyKeys(): Iterable<string> {
    return this.tables.affinityKeys.keys();
  }

  namespaceLabels(namespace: string): Record<string, string> | undefined {
    return this.tables.namespaceLabels.get(namespace);
  }

  matchingPodCounts(m: PodMatcher): Int32Array {
    return this.tables.podCounts.counts(m);
  }

  matchingDomainCounts(m: PodMatcher, ids: Int32Array, domains: number): Float64Array {
    return this.tables.podCounts.domainSums(m, ids, domains);
  }

  // ---- interners (the cache's) ----

  resourceDim(name: string): number {
    return this.interners.resourceDim(name);
  }

  resourceName(dim: number): string {
    return this.interners.resourceName(dim);
  }

  requirementBit(req: { key: string; operator: string; values?: string[] }, field?: boolean): number {
    return this.interners.requirementBit(req, field);
  }

  taintBit(taint: Taint): number {
    return this.interners.taintBit(taint);
  }

  taintAt(bit: number): Taint {
    return this.interners.taintAt(bit);
  }

  taintCount(): number {
    return this.interners.taintCount();
  }

  portBit(protocol: string, port: number): number {
    return this.interners.portBit(protocol, port);
  }

  topologyKey(key: string): number {
    return this.interners.topologyKey(key);
  }

  domains(key: number): { ids: Int32Array; values: string[] } {
    return this.interners.domains(key);
  }

  words(): { labels: number; taints: number; ports: number } {
    return this.interners.words();
  }
}
