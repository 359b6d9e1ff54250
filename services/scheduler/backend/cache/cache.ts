/**
 * The scheduler's node cache: nodes and the pods on them (bound and assumed), interned
 * (interner.ts) into the numbers the core evaluates (core/types.ts). Plugins and the
 * framework never hold the cache: they read `snapshot` (snapshot.ts), a zero-copy view over
 * these tables. The cache is the source
 * of truth; the core is derived: the cache pushes every change of a node through
 * coresync.ts, and when an interner outgrows the core's dims it has a bigger core made and
 * refills it from its own state.
 */
import type { Namespace, Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { CoreDims, CoreKind, SchedulingCore } from '../../core/types.js';
import { createCore, defaultCoreKind } from '../../core/mod.js';
import { podKey, type NodeInfo, type PodInfo, type PodTemplate } from '../../framework/types.js';
import { nodeAllocatable, nodeResourceNames, podResources } from '../../resources.js';
import { CoreSync } from './coresync.js';
import { Interner, nodeSatisfies, taintId, type InternedRequirement, type TopologyEntry } from './interner.js';
import { affinityTopologyKeys, hasPodAffinity, isTerminal, podHostPorts, sameSchedulingInputs } from './podinfo.js';
import { CacheSnapshot, type SnapshotInterners } from './snapshot.js';
import { PodCounts } from './podcounts.js';

export const DEFAULT_DIMS: CoreDims = {
  nodes: 1024,
  resources: 8,
  labelWords: 2,
  taintWords: 1,
  portWords: 1,
  topologyKeys: 4,
  classes: 256,
};

export interface SchedulerCacheOptions {
  coreKind?: CoreKind;
  createCore?: (dims: CoreDims) => SchedulingCore;
  /** initial sizes (tests use small ones to exercise regrowth) */
  dims?: Partial<CoreDims>;
}

interface NodeEntry extends NodeInfo {
  labelBits: Uint32Array;
  taintBits: Uint32Array;
}

/** What PodInfo derives from a pod's spec alone. */
type PodShape = Pick<PodInfo, 'request' | 'nonZeroRequest' | 'portBits'>;

function words(bits: number): number {
  return Math.max(1, Math.ceil(bits / 32));
}

function resizeU32(a: Uint32Array, n: number): Uint32Array {
  if (a.length === n) return a;
  const b = new Uint32Array(n);
  b.set(a.subarray(0, Math.min(n, a.length)));
  return b;
}

function resizeF64(a: Float64Array, n: number): Float64Array {
  if (a.length >= n) return a;
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

function setBit(a: Uint32Array, bit: number): void {
  a[bit >>> 5] |= 1 << (bit & 31);
}

/** the source of every cache's nodesVersion values */
let nodesVersionSeq = 0;

export class SchedulerCache implements SnapshotInterners {
  private readonly sync: CoreSync;

  private readonly byName = new Map<string, NodeEntry>();
  private readonly slots: Array<NodeEntry | undefined> = [];
  private readonly freeSlots: number[] = [];
  /** pod key -> the node entry it is counted on */
  private readonly podNode = new Map<string, NodeEntry>();
  /** pods bound to nodes the cache does not know yet: node name -> key -> pod */
  private readonly pending = new Map<string, Map<string, Pod>>();
  private readonly withAffinity = new Map<string, PodInfo>();
  /** topology key -> how many terms of the pods in withAffinity name it */
  private readonly affinityKeys = new Map<string, number>();
  private readonly namespaces = new Map<string, Record<string, string>>();
  /** shapes of pods by their template (assumePod's `template`) */
  private readonly shapes = new WeakMap<PodTemplate, PodShape>();

  private readonly interned = new Interner();
  private readonly requirements = this.interned.requirements;
  private readonly topology = this.interned.topology;
  /** per-node counts of the pods matching what PreFilter plugins count (podcounts.ts) */
  private readonly podCounts = new PodCounts((affinityOnly, fn) => {
    if (affinityOnly) {
      for (const info of this.withAffinity.values()) fn(this.podNode.get(info.key)!.slot, info.pod);
      return;
    }
    for (const e of this.byName.values()) for (const info of e.pods.values()) fn(e.slot, info.pod);
  });

  /** What the framework and plugins read: these tables, not copied. */
  readonly snapshot = new CacheSnapshot(
    { nodesByName: this.byName, nodesBySlot: this.slots, podsWithAffinity: this.withAffinity, affinityKeys: this.affinityKeys, namespaceLabels: this.namespaces, podCounts: this.podCounts },
    this,
  );

  constructor(opts: SchedulerCacheOptions = {}) {
    const kind = opts.coreKind ?? defaultCoreKind();
    const makeCore = opts.createCore ?? ((dims: CoreDims) => createCore(kind, dims));
    this.sync = new CoreSync(makeCore, { ...DEFAULT_DIMS, ...opts.dims }, (k) => this.topology[k].ids);
  }

  /** The core, with pending topology changes pushed first. */
  get core(): SchedulingCore {
    return this.sync.core;
  }

  /**
   * A fresh value of the process-wide nodesVersionSeq whenever a node is added, updated (any
   * field) or removed: unique across caches, so a plugin serving several caches (tests) never
   * takes one cache's version for another's.
   */
  private nodesVersionCount = ++nodesVersionSeq;

  /** Snapshot.nodesVersion: changes whenever a node is added, updated or removed. */
  nodesVersion(): number {
    return this.nodesVersionCount;
  }

  /** bumped every time the core is replaced; classes must be redefined */
  get generation(): number {
    return this.sync.generation;
  }

  private get dims(): Readonly<CoreDims> {
    return this.sync.dims;
  }

  // ---- nodes ----

  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    if (this.byName.has(name)) {
      this.updateNode(node);
      return;
    }
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      if (slot >= this.dims.nodes) this.regrow({ nodes: this.dims.nodes * 2 });
      this.slots.push(undefined);
    }
    const entry: NodeEntry = {
      name,
      slot,
      node,
      pods: new Map(),
      requested: new Float64Array(this.dims.resources),
      nonZeroRequested: new Float64Array(2),
      allocatable: new Float64Array(this.dims.resources),
      labelBits: new Uint32Array(this.dims.labelWords),
      taintBits: new Uint32Array(this.dims.taintWords),
      portBits: new Uint32Array(this.dims.portWords),
    };
    this.slots[slot] = entry;
    this.byName.set(name, entry);
    this.describeNode(entry);
    this.pushNode(entry);
    this.pushUsage(entry);
    const waiting = this.pending.get(name);
    if (waiting) {
      this.pending.delete(name);
      for (const pod of waiting.values()) this.addPod(pod);
    }
  }

  updateNode(node: Node): void {
    const entry = this.byName.get(node.metadata?.name ?? '');
    if (!entry) {
      this.addNode(node);
      return;
    }
    entry.node = node;
    this.describeNode(entry);
    this.pushNode(entry);
  }

  removeNode(name: string): void {
    const entry = this.byName.get(name);
    if (!entry) return;
    // pods stay known: they are attached again if the node comes back
    for (const info of entry.pods.values()) {
      this.podNode.delete(info.key);
      this.dropAffinity(info);
      if (!info.assumed) this.keepPending(name, info.pod);
    }
    this.byName.delete(name);
    this.nodesVersionCount = ++nodesVersionSeq;
    this.podCounts.nodeRemoved(entry.slot);
    this.slots[entry.slot] = undefined;
    this.freeSlots.push(entry.slot);
    for (let k = 0; k < this.topology.length; k++) {
      if (this.topology[k].ids[entry.slot] !== -1) {
        this.topology[k].ids[entry.slot] = -1;
        this.sync.topologyChanged(k);
      }
    }
    this.sync.removeNode(entry.slot);
  }

  /** Recomputes a node's allocatable, requirement bits, taint bits and topology domains. */
  private describeNode(e: NodeEntry): void {
    this.nodesVersionCount = ++nodesVersionSeq;
    for (const n of nodeResourceNames(e.node)) this.resourceDim(n);
    e.allocatable = resizeF64(nodeAllocatable(e.node, (n) => this.resourceDim(n), () => this.dims.resources), this.dims.resources);
    for (const t of e.node.spec?.taints ?? []) this.taintBit(t);
    e.taintBits.fill(0);
    for (const t of e.node.spec?.taints ?? []) setBit(e.taintBits, this.interned.taint(taintId(t))!);
    e.labelBits.fill(0);
    for (let b = 0; b < this.requirements.length; b++) if (nodeSatisfies(e.node, this.requirements[b])) setBit(e.labelBits, b);
    const labels = e.node.metadata?.labels ?? {};
    for (let k = 0; k < this.topology.length; k++) {
      const t = this.topology[k];
      const v = labels[t.key];
      const id = v === undefined ? -1 : this.interned.domainId(t, v);
      if (t.ids[e.slot] !== id) {
        t.ids[e.slot] = id;
        this.sync.topologyChanged(k);
      }
    }
  }

  private pushNode(e: NodeEntry): void {
    this.sync.setNode(e.slot, {
      allocatable: e.allocatable,
      unschedulable: !!e.node.spec?.unschedulable,
      labels: e.labelBits,
      taints: e.taintBits,
    });
  }

  private pushUsage(e: NodeEntry): void {
    this.sync.setNodeUsage(e.slot, { requested: e.requested, nonZeroRequested: e.nonZeroRequested, ports: e.portBits });
  }

  // ---- pods ----

  private keepPending(nodeName: string, pod: Pod): void {
    let m = this.pending.get(nodeName);
    if (!m) this.pending.set(nodeName, (m = new Map()));
    m.set(podKey(pod), pod);
  }

  private dropPending(pod: Pod): void {
    const key = podKey(pod);
    for (const [node, m] of this.pending) {
      if (m.delete(key) && m.size === 0) this.pending.delete(node);
    }
  }

  /** What a pod holds on its node: its requests (parsed from quantities) and interned host ports. */
  private podShape(pod: Pod): PodShape {
    const portBits = podHostPorts(pod).map((p) => this.portBit(p.protocol, p.port));
    const { request, nonZeroRequest } = podResources(pod, (n) => this.resourceDim(n), () => this.dims.resources);
    return { request, nonZeroRequest, portBits };
  }

  /**
   * With `template`, pods of one template share one shape (its arrays are never written,
   * only replaced), so a pod's quantities are parsed once per template, not once per pod.
   */
  private podInfo(pod: Pod, assumed: boolean, template?: PodTemplate, key = podKey(pod)): PodInfo {
    let shape = template && this.shapes.get(template);
    if (!shape) {
      shape = this.podShape(pod);
      if (template) this.shapes.set(template, shape);
    }
    return {
      key,
      pod,
      priority: pod.spec?.priority ?? 0,
      request: resizeF64(shape.request, this.dims.resources),
      nonZeroRequest: shape.nonZeroRequest,
      portBits: shape.portBits,
      assumed,
    };
  }

  private attach(e: NodeEntry, info: PodInfo, push: boolean): void {
    e.pods.set(info.key, info);
    this.podNode.set(info.key, e);
    for (let d = 0; d < info.request.length; d++) e.requested[d] += info.request[d];
    e.nonZeroRequested[0] += info.nonZeroRequest[0];
    e.nonZeroRequested[1] += info.nonZeroRequest[1];
    for (const b of info.portBits) setBit(e.portBits, b);
    this.keepAffinity(info);
    this.podCounts.added(e.slot, info.pod);
    if (push) this.pushUsage(e);
  }

  private detach(e: NodeEntry, key: string): PodInfo | undefined {
    const info = e.pods.get(key);
    if (!info) return undefined;
    e.pods.delete(key);
    this.podNode.delete(key);
    this.dropAffinity(info);
    this.podCounts.removed(e.slot, info.pod);
    for (let d = 0; d < info.request.length; d++) e.requested[d] -= info.request[d];
    e.nonZeroRequested[0] -= info.nonZeroRequest[0];
    e.nonZeroRequested[1] -= info.nonZeroRequest[1];
    if (info.portBits.length > 0) {
      // another pod may hold the same port: recompute
      e.portBits.fill(0);
      for (const p of e.pods.values()) for (const b of p.portBits) setBit(e.portBits, b);
    }
    this.pushUsage(e);
    return info;
  }

  private keepAffinity(info: PodInfo): void {
    if (!hasPodAffinity(info.pod) || this.withAffinity.has(info.key)) return;
    this.withAffinity.set(info.key, info);
    for (const k of affinityTopologyKeys(info.pod)) this.affinityKeys.set(k, (this.affinityKeys.get(k) ?? 0) + 1);
  }

  private dropAffinity(info: PodInfo): void {
    if (!this.withAffinity.delete(info.key)) return;
    for (const k of affinityTopologyKeys(info.pod)) {
      const n = (this.affinityKeys.get(k) ?? 0) - 1;
      if (n > 0) this.affinityKeys.set(k, n);
      else this.affinityKeys.delete(k);
    }
  }

  /** A pod the informer saw with spec.nodeName set. */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    const key = podKey(pod);
    if (!nodeName) return;
    if (isTerminal(pod)) {
      this.removePod(pod);
      return;
    }
    const current = this.podNode.get(key);
    if (current) {
      const info = current.pods.get(key)!;
      if (current.name === nodeName && info.assumed) {
        // the binding landed: the assumed usage stays, the pod is now confirmed
        info.assumed = false;
        this.podCounts.replaced(current.slot, info.pod, pod);
        // the terms are the assumed copy's: a pod's spec does not change once bound
        this.dropAffinity(info);
        info.pod = pod;
        this.keepAffinity(info);
        return;
      }
      this.detach(current, key);
    }
    const e = this.byName.get(nodeName);
    if (!e) {
      this.dropPending(pod);
      this.keepPending(nodeName, pod);
      return;
    }
    this.attach(e, this.podInfo(pod, false), true);
  }

  updatePod(oldPod: Pod, newPod: Pod): void {
    if (!newPod.spec?.nodeName && !isTerminal(newPod) && this.isAssumed(podKey(newPod))) {
      // an update of the still-unbound pod (status, nomination) while its binding is in flight
      return;
    }
    if (isTerminal(newPod) || !newPod.spec?.nodeName) {
      this.removePod(oldPod);
      return;
    }
    const key = podKey(newPod);
    const e = this.podNode.get(key);
    const info = e?.pods.get(key);
    if (e && info && info.assumed && e.name === newPod.spec.nodeName) {
      this.addPod(newPod);
      return;
    }
    // most updates of a bound pod are its kubelet's status writes: nothing the core counts
    // changes, so the pod is swapped in place (no re-parse of requests, no usage push)
    if (e && info && !info.assumed && e.name === newPod.spec.nodeName && sameSchedulingInputs(oldPod, newPod)) {
      // the labels are the same, but a deletionTimestamp may have come
      this.podCounts.replaced(e.slot, info.pod, newPod);
      info.pod = newPod;
      return;
    }
    if (e && info) this.detach(e, key);
    this.dropPending(oldPod);
    this.addPod(newPod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const e = this.podNode.get(key);
    if (e) this.detach(e, key);
    this.dropPending(pod);
  }

  /**
   * Counts `pod` on `nodeName` before the binding is confirmed. With placedByCore the
   * core's place() already added the usage, so only the cache's sums change. `key`, when
   * given, is podKey(pod) as the caller already holds it (the queue's: its hash is known).
   */
  assumePod(pod: Pod, nodeName: string, opts: { placedByCore?: boolean; template?: PodTemplate; key?: string } = {}): PodInfo {
    const e = this.byName.get(nodeName);
    if (!e) throw new Error(`cannot assume pod ${podKey(pod)} on node ${nodeName}: the node is not in the cache`);
    const key = opts.key ?? podKey(pod);
    const prev = this.podNode.get(key);
    if (prev) this.detach(prev, key);
    const bound: Pod = { ...pod, spec: { ...pod.spec!, nodeName } };
    const gen = this.generation;
    const info = this.podInfo(bound, true, opts.template, key);
    // a core made while interning this pod was refilled without it: push in that case too
    this.attach(e, info, !opts.placedByCore || gen !== this.generation);
    return info;
  }

  /** The binding failed: the assumed pod leaves its node. */
  forgetPod(key: string): void {
    const e = this.podNode.get(key);
    if (e && e.pods.get(key)?.assumed) this.detach(e, key);
  }

  isAssumed(key: string): boolean {
    return this.podNode.get(key)?.pods.get(key)?.assumed ?? false;
  }

  /** The pod counted under `key`, bound or assumed. */
  podInfoOf(key: string): PodInfo | undefined {
    return this.podNode.get(key)?.pods.get(key);
  }

  // ---- namespaces ----

  upsertNamespace(ns: Namespace): void {
    this.namespaces.set(ns.metadata?.name ?? '', { ...(ns.metadata?.labels ?? {}) });
    this.podCounts.namespaceChanged();
  }

  removeNamespace(name: string): void {
    this.namespaces.delete(name);
    this.podCounts.namespaceChanged();
  }

  // ---- lookups the scheduling loop needs (plugins read the snapshot) ----

  node(name: string): NodeInfo | undefined {
    return this.byName.get(name);
  }

  /** the node in a core slot (the loop turns the core's placements into node names) */
  nodeAt(slot: number): NodeInfo | undefined {
    return this.slots[slot];
  }

  /** whether any placed pod carries (anti-)affinity terms */
  hasPodsWithAffinity(): boolean {
    return this.withAffinity.size > 0;
  }

  // ---- interners ----

  resourceDim(name: string): number {
    let d = this.interned.resource(name);
    if (d === undefined) {
      d = this.interned.addResource(name);
      if (this.interned.resourceNames.length > this.dims.resources) this.regrow({ resources: this.dims.resources * 2 });
    }
    return d;
  }

  resourceName(dim: number): string {
    return this.interned.resourceNames[dim];
  }

  /** number of resource dimensions in use */
  resourceCount(): number {
    return this.interned.resourceNames.length;
  }

  requirementBit(req: { key: string; operator: string; values?: string[] }, field = false): number {
    const { bit: known, id, values } = this.interned.requirement(req, field);
    if (known !== undefined) return known;
    const r: InternedRequirement = { field, key: req.key, operator: req.operator, values };
    const bit = this.interned.addRequirement(id, r);
    if (words(this.requirements.length) > this.dims.labelWords) {
      // regrow refills every node, with the new bit evaluated by describeNode
      this.regrow({ labelWords: this.dims.labelWords * 2 });
      return bit;
    }
    for (const e of this.byName.values()) {
      if (nodeSatisfies(e.node, r)) {
        setBit(e.labelBits, bit);
        this.pushNode(e);
      }
    }
    return bit;
  }

  requirementAt(bit: number): InternedRequirement {
    return this.requirements[bit];
  }

  taintBit(taint: Taint): number {
    const id = taintId(taint);
    let bit = this.interned.taint(id);
    if (bit !== undefined) return bit;
    bit = this.interned.addTaint(id, taint);
    if (words(this.interned.taints.length) > this.dims.taintWords) {
      this.regrow({ taintWords: this.dims.taintWords * 2 });
      return bit;
    }
    for (const e of this.byName.values()) {
      if ((e.node.spec?.taints ?? []).some((t) => taintId(t) === id)) {
        setBit(e.taintBits, bit);
        this.pushNode(e);
      }
    }
    return bit;
  }

  taintAt(bit: number): Taint {
    return this.interned.taints[bit];
  }

  taintCount(): number {
    return this.interned.taints.length;
  }

  portBit(protocol: string, port: number): number {
    let bit = this.interned.port(protocol, port);
    if (bit !== undefined) return bit;
    bit = this.interned.addPort(protocol, port);
    // no node can use a port no pod has named yet, so only the word count can change
    if (words(this.interned.ports.length) > this.dims.portWords) this.regrow({ portWords: this.dims.portWords * 2 });
    return bit;
  }

  portAt(bit: number): { protocol: string; port: number } {
    return this.interned.ports[bit];
  }

  topologyKey(key: string): number {
    let k = this.interned.topologyKey(key);
    if (k !== undefined) return k;
    const t: TopologyEntry = { key, ids: new Int32Array(this.dims.nodes).fill(-1), values: [], byValue: new Map() };
    for (const e of this.byName.values()) {
      const v = e.node.metadata?.labels?.[key];
      if (v !== undefined) t.ids[e.slot] = this.interned.domainId(t, v);
    }
    k = this.interned.addTopologyKey(t);
    if (this.topology.length > this.dims.topologyKeys) this.regrow({ topologyKeys: this.dims.topologyKeys * 2 });
    else this.sync.topologyChanged(k);
    return k;
  }

  domains(key: number): { ids: Int32Array; values: string[] } {
    const t = this.topology[key];
    return { ids: t.ids, values: t.values };
  }

  topologyKeyName(key: number): string {
    return this.topology[key].key;
  }

  words(): { labels: number; taints: number; ports: number } {
    return { labels: this.dims.labelWords, taints: this.dims.taintWords, ports: this.dims.portWords };
  }

  /** The core's current dims (a copy). */
  coreDims(): CoreDims {
    return { ...this.dims };
  }

  // ---- regrowth ----

  /** Makes a bigger core and refills it from the cache's state. */
  private regrow(bigger: Partial<CoreDims>): void {
    const dims = this.sync.grown(bigger);
    for (const e of this.byName.values()) {
      e.requested = resizeF64(e.requested, dims.resources);
      e.allocatable = resizeF64(e.allocatable, dims.resources);
      e.labelBits = resizeU32(e.labelBits, dims.labelWords);
      e.taintBits = resizeU32(e.taintBits, dims.taintWords);
      e.portBits = resizeU32(e.portBits, dims.portWords);
      for (const p of e.pods.values()) p.request = resizeF64(p.request, dims.resources);
    }
    for (const t of this.topology) {
      if (t.ids.length < dims.nodes) {
        const ids = new Int32Array(dims.nodes).fill(-1);
        ids.set(t.ids);
        t.ids = ids;
      }
    }
    this.sync.replace(dims, this.topology.length);
    for (const e of this.byName.values()) {
      // a requirement interned just now is evaluated here
      for (let b = 0; b < this.requirements.length; b++) if (nodeSatisfies(e.node, this.requirements[b])) setBit(e.labelBits, b);
      e.taintBits.fill(0);
      for (const t of e.node.spec?.taints ?? []) {
        const bit = this.interned.taint(taintId(t));
        if (bit !== undefined) setBit(e.taintBits, bit);
      }
      this.pushNode(e);
      this.pushUsage(e);
    }
  }

  /** Makes room for at least `n` live classes (doubling); returns true when the core was replaced. */
  ensureClasses(n: number): boolean {
    if (n <= this.dims.classes) return false;
    let c = this.dims.classes;
    while (c < n) c *= 2;
    this.regrow({ classes: c });
    return true;
  }
}

