/**
 * Keeping the core in step with the cache: the cache pushes each changed node and its
 * usage here, and marks topology keys whose domains changed, which are pushed when the
 * core is next read. When an interner outgrows the core's dims, `replace` makes a bigger
 * core (the cache then refills it from its own state) and bumps `generation`, so the
 * ClassTable redefines every class against the new core.
 */
import type { CoreDims, NodeRecord, NodeUsage, SchedulingCore } from '../../core/types.js';

export class CoreSync {
  /** bumped every time the core is replaced; classes must be redefined */
  generation = 0;
  private current: SchedulingCore;
  private currentDims: CoreDims;
  private readonly dirtyTopology = new Set<number>();

  constructor(
    private readonly makeCore: (dims: CoreDims) => SchedulingCore,
    dims: CoreDims,
    /** each node slot's domain id for topology key k (the interner's table) */
    private readonly topologyIds: (key: number) => Int32Array,
  ) {
    this.currentDims = { ...dims };
    this.current = makeCore({ ...dims });
  }

  /** The core, with pending topology changes pushed first. */
  get core(): SchedulingCore {
    if (this.dirtyTopology.size > 0) {
      for (const k of this.dirtyTopology) this.current.setTopology(k, this.topologyIds(k).slice());
      this.dirtyTopology.clear();
    }
    return this.current;
  }

  /** The core's sizes (not a copy: read, never change). */
  get dims(): Readonly<CoreDims> {
    return this.currentDims;
  }

  setNode(slot: number, node: NodeRecord): void {
    this.current.setNode(slot, node);
  }

  setNodeUsage(slot: number, usage: NodeUsage): void {
    this.current.setNodeUsage(slot, usage);
  }

  removeNode(slot: number): void {
    this.current.removeNode(slot);
  }

  /** Topology key `k` changed for some node: pushed before the core is next read. */
  topologyChanged(k: number): void {
    this.dirtyTopology.add(k);
  }

  /** The dims grown to at least `bigger` (without replacing the core yet). */
  grown(bigger: Partial<CoreDims>): CoreDims {
    const dims: CoreDims = { ...this.currentDims };
    for (const [k, v] of Object.entries(bigger) as Array<[keyof CoreDims, number]>) dims[k] = Math.max(dims[k], v);
    return dims;
  }

  /** A new, empty core of `dims` in place of the old one; every topology key of `topologyKeys` is pushed again. */
  replace(dims: CoreDims, topologyKeys: number): void {
    this.currentDims = dims;
    const old = this.current;
    this.current = this.makeCore({ ...dims });
    old.dispose();
    this.generation++;
    this.dirtyTopology.clear();
    for (let k = 0; k < topologyKeys; k++) this.dirtyTopology.add(k);
  }
}
