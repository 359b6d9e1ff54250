/**
 * Equivalence classes: pods whose enabled PreFilter plugins read the same things compile to
 * the same core class. Compiled classes are cached by signature with an LRU over the core's
 * `classes` slots; volatile classes (counts of other pods) are recompiled once per
 * scheduling cycle; a new core (cache generation) or new taints invalidate everything.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClassSpec } from './core/types.js';
import type { SchedulerCache } from './backend/cache/cache.js';
import type { Framework } from './framework/framework.js';

export interface ResolvedClass {
  /** core class id; -1 when the pod is unresolvable (never defined in the core) */
  id: number;
  spec: ClassSpec;
  /** a PreFilter plugin's UnschedulableAndUnresolvable message */
  unresolvable?: string;
  unresolvablePlugin?: string;
}

interface Entry {
  key: string;
  id: number;
  spec: ClassSpec;
  /**
   * the pod the class was first compiled from: a recompile compiles it again rather than the
   * pod at hand (equal signatures compile alike), so what plugins derive from a pod object
   * alone is derived once per class, not once per cycle
   */
  pod: Pod;
  volatile: boolean;
  cycle: number;
  taints: number;
  /** whether placed pods carried (anti-)affinity terms when compiled: non-volatile classes assumed none did */
  affinity: boolean;
}

export class ClassTable {
  private readonly entries = new Map<string, Entry>();
  private readonly byId = new Map<number, Entry>();
  private freeIds: number[] = [];
  private nextId = 0;
  private generation: number;
  private cycle = 0;

  constructor(private readonly cache: SchedulerCache) {
    this.generation = cache.generation;
  }

  /** Starts a scheduling cycle: volatile classes are recompiled on their next use. */
  beginCycle(): void {
    this.cycle++;
  }

  /** number of live classes */
  get size(): number {
    return this.entries.size;
  }

  /** The spec of a live class. */
  spec(id: number): ClassSpec | undefined {
    return this.byId.get(id)?.spec;
  }

  resolve(pod: Pod, framework: Framework): ResolvedClass {
    this.syncGeneration();
    const key = framework.signature(pod);
    const hit = this.entries.get(key);
    if (hit && !(hit.volatile && hit.cycle !== this.cycle) && hit.taints === this.cache.taintCount() && hit.affinity === this.cache.hasPodsWithAffinity()) {
      // LRU: most recently used last
      this.entries.delete(key);
      this.entries.set(key, hit);
      return { id: hit.id, spec: hit.spec };
    }
    for (;;) {
      const gen = this.cache.generation;
      const compiled = framework.compile(hit?.pod ?? pod);
      if (this.cache.generation !== gen) {
        // interning grew the core while compiling: every class (this one too) is stale
        this.syncGeneration();
        continue;
      }
      if (compiled.unresolvable !== undefined) {
        if (hit) this.drop(hit);
        return { id: -1, spec: compiled.spec, unresolvable: compiled.unresolvable, unresolvablePlugin: compiled.unresolvablePlugin };
      }
      let entry = hit && this.entries.get(key) === hit ? hit : undefined;
      if (entry) {
        this.entries.delete(key);
      } else {
        entry = { key, id: this.allocateId(), spec: compiled.spec, pod, volatile: false, cycle: 0, taints: 0, affinity: false };
        this.byId.set(entry.id, entry);
      }
      entry.spec = compiled.spec;
      entry.volatile = compiled.volatile;
      entry.cycle = this.cycle;
      entry.taints = this.cache.taintCount();
      entry.affinity = this.cache.hasPodsWithAffinity();
      this.entries.set(key, entry);
      this.cache.core.defineClass(entry.id, entry.spec);
      return { id: entry.id, spec: entry.spec };
    }
  }

  /** Forgets every class (the core is new, or the profile changed). */
  clear(): void {
    const core = this.cache.core;
    if (this.generation === this.cache.generation) for (const e of this.entries.values()) core.dropClass(e.id);
    this.entries.clear();
    this.byId.clear();
    this.freeIds = [];
    this.nextId = 0;
  }

  private syncGeneration(): void {
    if (this.generation === this.cache.generation) return;
    // the new core holds no classes: nothing to drop
    this.entries.clear();
    this.byId.clear();
    this.freeIds = [];
    this.nextId = 0;
    this.generation = this.cache.generation;
  }

  private drop(e: Entry): void {
    this.entries.delete(e.key);
    this.byId.delete(e.id);
    this.cache.core.dropClass(e.id);
    this.freeIds.push(e.id);
  }

  private allocateId(): number {
    const free = this.freeIds.pop();
    if (free !== undefined) return free;
    if (this.nextId < this.cache.core.dims.classes) return this.nextId++;
    // evict the least recently used class
    const oldest = this.entries.values().next().value as Entry;
    this.drop(oldest);
    return this.freeIds.pop()!;
  }
}
