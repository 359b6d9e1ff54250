/**
 * The scheduling framework's extension points, as upstream names them (queue sort,
 * pre-filter, filter, post-filter, score, reserve, bind), adapted to a compiled core:
 * a PreFilter plugin does not judge nodes one by one, it compiles its part of a pod into
 * the class the WASM core evaluates over every node at once (core/types.ts). A Filter
 * plugin names the core filter bit it owns and turns the core's per-node reason codes back
 * into upstream's messages. Score plugins contribute a weight the core applies.
 *
 * Plugins live one a file under plugins/, each with its test beside it; the registry
 * (plugins/registry.ts) maps upstream plugin names to factories, and the service passes it
 * to each profile's framework (framework.ts), which imports no plugin.
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../../lib/client/mod.js';
import type { ClassSpec, SchedulingCore } from '../core/types.js';

/** namespace/name, the key the queue and the cache know a pod by (upstream framework.GetPodKey). */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace || 'default'}/${pod.metadata?.name ?? ''}`;
}

/** A pod the cache counts on a node (bound or assumed). */
/**
 * Pods stamped from one template (equal namespace, labels, owner references and spec)
 * share one of these (Framework.template): an identity to key what those inputs alone decide.
 */
export interface PodTemplate {
  /** the equivalence-class signature (Framework.signature) */
  readonly signature: string;
}

export interface PodInfo {
  /** namespace/name */
  key: string;
  pod: Pod;
  /** resolved spec.priority (0 when unset) */
  priority: number;
  /** requests, RESOURCE dims (see resources.ts) */
  request: Float64Array;
  /** [cpu, memory] with non-zero defaults */
  nonZeroRequest: Float64Array;
  /** (protocol, hostPort) pairs, interned */
  portBits: number[];
  /** assumed by this scheduler, not yet seen bound by the informer */
  assumed: boolean;
}

/** What the cache keeps per-node sums of (Snapshot.matchingPodCounts): a number per pod. */
export interface PodMatcher {
  /** what `count` computes, in full: matchers of equal keys must give every pod the same number */
  readonly key: string;
  /** what the pod adds to its node's sum (0: it does not count) */
  count(pod: Pod): number;
  /** reads namespaces' labels (a namespaceSelector): counted again after a namespace changes */
  readonly readsNamespaceLabels?: boolean;
  /** only pods with pod (anti-)affinity terms count: the first count reads those alone */
  readonly affinityOnly?: boolean;
}

/** A node as the cache holds it. */
export interface NodeInfo {
  name: string;
  slot: number;
  node: Node;
  pods: Map<string, PodInfo>;
  /** what the node can hold, per resource dimension (Snapshot.resourceDim) */
  allocatable: Float64Array;
  requested: Float64Array;
  nonZeroRequested: Float64Array;
  /** the host ports its pods hold, as port bits (Snapshot.portBit) */
  portBits: Uint32Array;
}

/**
 * The cluster as plugins see it while compiling a class: nodes, the pods on them, and the
 * interners that turn Kubernetes vocabulary into core bits. Interning a new requirement,
 * taint, port or topology key is cheap for the caller; the cache pushes the new bits to
 * the core for every node.
 */
export interface Snapshot {
  readonly core: SchedulingCore;
  nodeCount(): number;
  nodes(): Iterable<NodeInfo>;
  node(name: string): NodeInfo | undefined;
  nodeAt(slot: number): NodeInfo | undefined;
  /**
   * Changes whenever a node is added, updated (labels, taints, anything) or removed: what a
   * plugin derived from the nodes alone stays valid while it is unchanged.
   */
  nodesVersion(): number;
  /** every pod on a node (bound or assumed) */
  pods(): Iterable<PodInfo>;
  /** pods on nodes that carry (anti-)affinity terms, upstream's HavePodsWithAffinityList */
  podsWithAffinity(): Iterable<PodInfo>;
  /** the topology keys the (anti-)affinity terms of those pods name, each once */
  affinityTopologyKeys(): Iterable<string>;
  /** labels of a namespace (for namespaceSelector); undefined when unknown */
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  /**
   * Per core slot, the sum of `m.count` over the pods (bound or assumed) on that node; a
   * slot past the end has none. Kept incrementally (backend/cache/podcounts.ts): read it
   * before the cache changes again.
   */
  matchingPodCounts(m: PodMatcher): Int32Array;
  /**
   * matchingPodCounts summed per domain of the slot-to-domain map `ids` (a slot mapped below
   * 0 or to `domains` and beyond counts nowhere). Kept incrementally while the same `ids`
   * array is asked for again, so `ids` must never change once given; read the sums before
   * the cache changes again and do not change them.
   */
  matchingDomainCounts(m: PodMatcher, ids: Int32Array, domains: number): Float64Array;
  /** resource name -> dimension ('cpu' 0, 'memory' 1, 'ephemeral-storage' 2, 'pods' 3, extended from 4) */
  resourceDim(name: string): number;
  resourceName(dim: number): string;
  /** a node-selector requirement -> its requirement bit; `field` for matchFields (metadata.name) */
  requirementBit(req: { key: string; operator: string; values?: string[] }, field?: boolean): number;
  taintBit(taint: Taint): number;
  taintAt(bit: number): Taint;
  /** every interned taint bit, for computing untolerated masks */
  taintCount(): number;
  portBit(protocol: string, port: number): number;
  /** topology key -> index; domains(index) gives each slot's domain id and the domain values */
  topologyKey(key: string): number;
  domains(key: number): { ids: Int32Array; values: string[] };
  /** word counts the class masks must have */
  words(): { labels: number; taints: number; ports: number };
}

/** The mutable class a pod compiles into; starts with every mask zero and no constraints. */
export type ClassBuilder = ClassSpec;

/** A queued pod, as queue sort sees it. */
export interface QueuedPodInfo {
  key: string;
  pod: Pod;
  priority: number;
  /** when it (re)entered the active queue, ms */
  timestamp: number;
  /** scheduling attempts so far */
  attempts: number;
  /** first time it was queued, ms (for the SLI duration) */
  initialAttemptTimestamp: number;
  /** plugins that rejected it last time (for requeue hints and scheduler_unschedulable_pods); replaced, never changed */
  unschedulablePlugins: ReadonlySet<string>;
}

export interface Plugin {
  readonly name: string;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Compiles its part of the pod into the class. Returns a reason when the pod can never fit (UnschedulableAndUnresolvable). */
export interface PreFilterPlugin extends Plugin {
  preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined;
  /**
   * The part of the pod this plugin reads, for the equivalence-class signature. Pods whose
   * signatures agree for every enabled plugin compile to the same class. It may read only
   * the pod's namespace, labels, owner references and spec: the framework reuses a
   * signature for every pod that agrees with another in these (Framework.signature).
   */
  signature(pod: Pod): string;
  /** true when the compiled class depends on other pods (constraint counts): recompiled every cycle */
  readonly volatile?: boolean;
}

/** Owns one core filter bit and renders its reasons the upstream way. */
export interface FilterPlugin extends Plugin {
  readonly filterBit: number;
  /** upstream message(s) for a node's reason code and detail (core/types.ts Reason) */
  reasons(code: number, detail: number, snapshot: Snapshot, cls: ClassSpec): string[];
}

export interface ScorePlugin extends Plugin {
  /** sets its weight (and args) in the class's score config */
  configureScore(cls: ClassBuilder, weight: number): void;
}

/** Counts of nodes per reason, as upstream's Diagnosis.NodeToStatusMap aggregates them. */
export interface Diagnosis {
  /** the core class the pod compiled to (PostFilter re-evaluates it with victims removed) */
  classId: number;
  /** message -> number of nodes */
  reasons: Map<string, number>;
  /** plugins that rejected at least one node */
  unschedulablePlugins: Set<string>;
  /** slots whose failure preemption might resolve (not Unschedulable-and-Unresolvable) */
  resolvableSlots: number[];
  nodeCount: number;
  /** a PreFilter plugin's UnschedulableAndUnresolvable message (upstream Diagnosis.PreFilterMsg): no node was evaluated */
  preFilterMsg?: string;
}

export interface PostFilterResult {
  /** the node the pod is nominated to after preemption */
  nominatedNodeName?: string;
  /** upstream's "preemption: ..." sentence for the FailedScheduling message */
  message: string;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(snapshot: Snapshot, pod: Pod, diagnosis: Diagnosis): Promise<PostFilterResult>;
  /**
   * true while the API calls a postFilter started for this pod are in flight (upstream
   * async preemption's IsPodRunningPreemption): the pod is not retried until they finish
   */
  inFlight?(podKey: string): boolean;
  /** resolves once every API call the plugin started has finished */
  drain?(): Promise<void>;
}

export interface ReservePlugin extends Plugin {
  reserve(pod: Pod, nodeName: string): void;
  unreserve(pod: Pod, nodeName: string): void;
}

export interface BindPlugin extends Plugin {
  /** resolves when the apiserver accepted the binding; rejects with a StatusError otherwise */
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/** The part of a profile's framework that plugins call back into. */
export interface ReasonRenderer {
  /** upstream messages for one node's reason code, as the owning filter plugin renders them */
  renderReasons(code: number, detail: number, snapshot?: Snapshot, spec?: ClassSpec): string[];
}

/** What plugins may reach (upstream framework.Handle). */
export interface FrameworkHandle {
  readonly snapshot: Snapshot;
  readonly client?: ApiClient;
  readonly profileName: string;
  /** binds one pod through the scheduler's batched binder; DefaultBinder uses it */
  readonly bind?: (pod: Pod, nodeName: string) => Promise<void>;
  /** the framework the plugin belongs to (set before any plugin method runs) */
  readonly framework: ReasonRenderer;
  /** plugin-specific dependencies (DefaultPreemption: metrics, recorder, listPDBs, schedulerName) */
  readonly extras?: Record<string, unknown>;
}

/**
 * Makes a plugin from its args (upstream framework.PluginFactory). Returns undefined for an
 * upstream plugin that has nothing to act on here: a profile may name it, it is skipped.
 */
export type PluginFactory = (args: unknown, handle: FrameworkHandle) => Plugin | undefined;

/** Upstream plugin name -> factory (upstream runtime.Registry). */
export type Registry = Record<string, PluginFactory>;
