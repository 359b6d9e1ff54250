/**
 * One scheduling profile's framework (upstream pkg/scheduler/framework/runtime): the
 * profile's plugins instantiated from the registry and expanded over the extension points
 * (multiPoint included, as upstream expands it), compiling a pod into a core class and
 * turning the core's per-node reasons into upstream's FitError message.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Histogram } from 'prom-client';
import { jsonEqual } from '../../../lib/api/canonical.js';
import type { ApiClient } from '../../../lib/client/mod.js';
import { Dim, Reason, defaultScoreConfig, type ClassSpec } from '../core/types.js';
import type {
  BindPlugin,
  Diagnosis,
  FilterPlugin,
  FrameworkHandle,
  Plugin,
  PostFilterPlugin,
  PreFilterPlugin,
  QueuedPodInfo,
  QueueSortPlugin,
  Registry,
  ReservePlugin,
  ScorePlugin,
  Snapshot,
  PodTemplate,
} from './types.js';
import type { PluginSet, Profile } from '../config.js';
import { ConfigError } from '../config.js';
import type { SchedulerMetrics } from '../metrics.js';

/** upstream pluginMetricsSamplePercent: per-plugin durations are recorded for this share of cycles */
export const PLUGIN_METRICS_SAMPLE_PERCENT = 10;

type PluginTimer = Histogram.Internal<'plugin' | 'extension_point' | 'status'>;

export interface FrameworkDeps {
  snapshot: Snapshot;
  client?: ApiClient;
  bind?: (pod: Pod, nodeName: string) => Promise<void>;
  /** global percentageOfNodesToScore, used when the profile sets none */
  percentageOfNodesToScore?: number;
  /** name -> factory: the service passes the in-tree registry (plugins/registry.ts) */
  registry: Registry;
  /** passed to plugins as FrameworkHandle.extras */
  extras?: Record<string, unknown>;
  /** where scheduler_plugin_execution_duration_seconds goes (default: not recorded) */
  metrics?: Pick<SchedulerMetrics, 'pluginExecutionDuration'>;
  /** percentage of compiles whose PreFilter plugins are timed (default PLUGIN_METRICS_SAMPLE_PERCENT) */
  pluginMetricsSamplePercent?: number;
}

export interface CompiledClass {
  spec: ClassSpec;
  /** depends on other pods: recompile every cycle */
  volatile: boolean;
  /** a PreFilter plugin's UnschedulableAndUnresolvable message */
  unresolvable?: string;
  unresolvablePlugin?: string;
}

/** Optional per-pod volatility (a plugin volatile only for pods that use it). */
interface PerPodVolatile {
  volatileFor(pod: Pod): boolean;
}

export const ErrNoNodesAvailable = 'no nodes available to schedule pods';

// ---- class masks ----

function padU32(a: Uint32Array, n: number): Uint32Array {
  if (a.length === n) return a;
  const b = new Uint32Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}

function padF64(a: ArrayLike<number>, n: number): Float64Array {
  const b = new Float64Array(Math.max(n, a.length));
  for (let i = 0; i < a.length; i++) b[i] = a[i];
  return b;
}

/** A class with every mask zero, no constraints and every score weight 0. */
export function blankClass(snapshot: Snapshot): ClassSpec {
  const w = snapshot.words();
  const resources = snapshot.core.dims.resources;
  const request = new Float64Array(resources);
  request[Dim.PODS] = 1;
  return {
    filters: 0,
    request,
    nonZeroRequest: new Float64Array(2),
    toleratesUnschedulable: false,
    nodeNameSlot: -1,
    untoleratedHard: new Uint32Array(w.taints),
    untoleratedPreferred: new Uint32Array(w.taints),
    selector: new Uint32Array(w.labels),
    requiredTerms: [],
    preferredTerms: [],
    ports: new Uint32Array(w.ports),
    constraints: [],
    // every score off until the profile's score plugins set their weights
    score: { ...defaultScoreConfig(), fitWeight: 0, balancedWeight: 0, taintWeight: 0, nodeAffinityWeight: 0, spreadWeight: 0, interPodAffinityWeight: 0 },
    percentageOfNodesToScore: 0,
  };
}

/** Pads every mask and vector to the snapshot's current sizes (interning may have grown them). */
export function normalizeClass(cls: ClassSpec, snapshot: Snapshot): void {
  const w = snapshot.words();
  cls.untoleratedHard = padU32(cls.untoleratedHard, w.taints);
  cls.untoleratedPreferred = padU32(cls.untoleratedPreferred, w.taints);
  cls.selector = padU32(cls.selector, w.labels);
  cls.requiredTerms = cls.requiredTerms.map((t) => padU32(t, w.labels));
  cls.preferredTerms = cls.preferredTerms.map((t) => ({ mask: padU32(t.mask, w.labels), weight: t.weight }));
  cls.ports = padU32(cls.ports, w.ports);
  cls.request = padF64(cls.request, snapshot.core.dims.resources);
}

// ---- reasons ----

/** Which core filter owns each reason code. */
const FILTER_OF_REASON: Record<number, number> = {
  [Reason.Unschedulable]: 1 << 0,
  [Reason.NodeName]: 1 << 1,
  [Reason.Taint]: 1 << 2,
  [Reason.NodeAffinity]: 1 << 3,
  [Reason.NodePorts]: 1 << 4,
  [Reason.Insufficient]: 1 << 5,
  [Reason.SpreadMissingLabel]: 1 << 6,
  [Reason.SpreadSkew]: 1 << 6,
  [Reason.PodAffinity]: 1 << 7,
  [Reason.PodAntiAffinity]: 1 << 7,
  [Reason.ExistingAntiAffinity]: 1 << 7,
};

/**
 * upstream NodeResourcesFit's Unresolvable: the pod asks for more of a resource (the pod
 * count aside) than the node can hold at all, so no set of victims makes room for it.
 */
function exceedsAllocatable(detail: number, request: ArrayLike<number>, allocatable: ArrayLike<number>): boolean {
  for (let d = 0; d < 24; d++) {
    if (d === Dim.PODS || !(detail & (1 << d))) continue;
    if (request[d]! > (allocatable[d] ?? 0)) return true;
  }
  return false;
}

/** upstream returns UnschedulableAndUnresolvable for these: preemption cannot help. */
const UNRESOLVABLE_REASONS = new Set<number>([
  Reason.Unschedulable,
  Reason.NodeName,
  Reason.Taint,
  Reason.NodeAffinity,
  Reason.SpreadMissingLabel,
  Reason.PodAffinity,
]);

/**
 * upstream FitError.Error(): "0/N nodes are available: <pre-filter msg | sorted histogram>. <post-filter msg>."
 * The histogram entries are "count reason", sorted as strings (Go's sort.Strings).
 */
export function fitErrorMessage(numAllNodes: number, reasons: Map<string, number>, preFilterMsg?: string, postFilterMsg?: string): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg) {
    msg += ` ${preFilterMsg}.`;
  } else {
    const parts: string[] = [];
    for (const [reason, n] of reasons) parts.push(`${n} ${reason}`);
    parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  // Preemption's sentence already ends with a period; events in the wild show one, not two.
  if (postFilterMsg) msg += postFilterMsg.endsWith('.') ? ` ${postFilterMsg}` : ` ${postFilterMsg}.`;
  return msg;
}

// ---- the framework ----

const POINTS = ['queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'] as const;
type Point = (typeof POINTS)[number];

function implementsPoint(p: Plugin, point: Point): boolean {
  const o = p as unknown as Record<string, unknown>;
  switch (point) {
    case 'queueSort':
      return typeof o.less === 'function';
    case 'preFilter':
      return typeof o.preFilter === 'function';
    case 'filter':
      return typeof o.filterBit === 'number';
    case 'postFilter':
      return typeof o.postFilter === 'function';
    case 'preScore':
      return false;
    case 'score':
      return typeof o.configureScore === 'function';
    case 'reserve':
      return typeof o.reserve === 'function';
    case 'bind':
      return typeof o.bind === 'function';
    default:
      return false;
  }
}

function isDisabled(set: PluginSet | undefined, name: string): boolean {
  return !!set && set.disabled.some((d) => d.name === '*' || d.name === name);
}

/** distinct signature inputs remembered (see Framework.signature) */
const SIGNATURE_MEMO_SIZE = 4096;

export class Framework {
  readonly profileName: string;
  readonly handle: FrameworkHandle;
  readonly snapshot: Snapshot;
  readonly queueSortPlugin?: QueueSortPlugin;
  /** plugins that compile part of the pod (enabled at preFilter, filter or score), in order */
  readonly compilers: PreFilterPlugin[] = [];
  readonly filterPlugins: FilterPlugin[] = [];
  readonly scorePlugins: Array<{ plugin: ScorePlugin; weight: number }> = [];
  readonly postFilterPlugins: PostFilterPlugin[] = [];
  readonly reservePlugins: ReservePlugin[] = [];
  readonly bindPlugins: BindPlugin[] = [];
  readonly percentageOfNodesToScore: number;
  private readonly instances = new Map<string, Plugin>();
  private readonly filterBits: number;
  private readonly filterByBit = new Map<number, FilterPlugin>();
  /** the class last diagnosed: renderReasons (preemption) reads constraint details from it */
  private lastDiagnosed?: ClassSpec;
  private readonly templates = new WeakMap<Pod, PodTemplate>();
  /** template by the JSON of what a signature may read (see template()) */
  private readonly templatesByInputs = new Map<string, PodTemplate>();
  /** the inputs of the pod whose template was last looked up by JSON, and that template */
  private lastTemplate?: { namespace?: string; labels?: unknown; ownerReferences?: unknown; spec?: unknown; template: PodTemplate };
  private readonly pluginDuration?: Histogram<'plugin' | 'extension_point' | 'status'>;
  private readonly pluginSampleRate: number;
  /** per compiler (by index), its PreFilter Success series, bound on first use */
  private readonly preFilterSuccess: Array<PluginTimer | undefined> = [];

  constructor(profile: Profile, deps: FrameworkDeps) {
    this.profileName = profile.schedulerName;
    this.pluginDuration = deps.metrics?.pluginExecutionDuration;
    this.pluginSampleRate = (deps.pluginMetricsSamplePercent ?? PLUGIN_METRICS_SAMPLE_PERCENT) / 100;
    this.snapshot = deps.snapshot;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore ?? deps.percentageOfNodesToScore ?? 0;
    this.handle = { snapshot: deps.snapshot, client: deps.client, profileName: profile.schedulerName, bind: deps.bind, framework: this, extras: deps.extras };
    const registry = deps.registry;
    const plugins = profile.plugins;

    const instance = (name: string): Plugin | undefined => {
      let p = this.instances.get(name);
      if (p) return p;
      const factory = registry[name];
      if (!factory) throw new ConfigError(`profiles[${profile.schedulerName}].plugins`, `plugin "${name}" does not exist`);
      p = factory(profile.pluginConfig[name], this.handle);
      if (p) this.instances.set(name, p);
      return p;
    };

    // upstream expandMultiPointPlugins: explicit entries that override multiPoint keep their
    // place first, then multiPoint plugins, then the other explicit entries
    const expanded = (point: Point): Array<{ plugin: Plugin; weight: number }> => {
      const set = plugins[point];
      const explicit = set?.enabled ?? [];
      const explicitNames = new Set(explicit.map((e) => e.name));
      const mp = plugins.multiPoint?.enabled ?? [];
      const mpNames = new Set(mp.map((e) => e.name));
      const out: Array<{ plugin: Plugin; weight: number }> = [];
      const push = (name: string, weight: number | undefined): void => {
        const p = instance(name);
        if (!p || !implementsPoint(p, point)) return;
        if (out.some((o) => o.plugin === p)) return;
        out.push({ plugin: p, weight: weight || 1 });
      };
      for (const e of explicit) if (mpNames.has(e.name)) push(e.name, e.weight);
      for (const e of mp) {
        if (explicitNames.has(e.name) || isDisabled(set, e.name)) continue;
        push(e.name, e.weight);
      }
      for (const e of explicit) if (!mpNames.has(e.name)) push(e.name, e.weight);
      return out;
    };

    const qs = expanded('queueSort');
    this.queueSortPlugin = qs[0]?.plugin as QueueSortPlugin | undefined;
    const pre = expanded('preFilter');
    const filters = expanded('filter');
    const scores = expanded('score');
    for (const list of [pre, filters, scores]) {
      for (const { plugin } of list) {
        if (implementsPoint(plugin, 'preFilter') && !this.compilers.includes(plugin as PreFilterPlugin)) this.compilers.push(plugin as PreFilterPlugin);
      }
    }
    let bits = 0;
    for (const { plugin } of filters) {
      const f = plugin as FilterPlugin;
      this.filterPlugins.push(f);
      bits |= f.filterBit;
      this.filterByBit.set(f.filterBit, f);
    }
    this.filterBits = bits;
    for (const s of scores) this.scorePlugins.push({ plugin: s.plugin as ScorePlugin, weight: s.weight });
    for (const { plugin } of expanded('postFilter')) this.postFilterPlugins.push(plugin as PostFilterPlugin);
    for (const { plugin } of expanded('reserve')) this.reservePlugins.push(plugin as ReservePlugin);
    for (const { plugin } of expanded('bind')) this.bindPlugins.push(plugin as BindPlugin);
  }

  /** A plugin instance by upstream name, when the profile enables it. */
  plugin(name: string): Plugin | undefined {
    return this.instances.get(name);
  }

  /**
   * The equivalence-class signature: profile name plus every compiling plugin's part. Pods
   * stamped from one template (a ReplicaSet's, a benchmark's) agree in everything a
   * signature may read (PreFilterPlugin.signature), so the signature is looked up by those
   * inputs' JSON, a fraction of what the plugins' parts cost (requests parsed from
   * quantities, tolerations, selectors, constraints each encoded).
   */
  signature(pod: Pod): string {
    return this.template(pod).signature;
  }

  /**
   * The template `pod` was stamped from: pods whose signature inputs (namespace, labels,
   * owner references, spec) are equal share one object, so what depends on those alone
   * (the cache's requests and host ports of a pod) can be derived once per template.
   */
  template(pod: Pod): PodTemplate {
    // informer objects are replaced, never mutated, so a pod object's template is fixed
    let t = this.templates.get(pod);
    if (t !== undefined) return t;
    const m = pod.metadata;
    const last = this.lastTemplate;
    // pods arrive in runs from one template: comparing with the last one's inputs is cheaper than their JSON
    if (last && m?.namespace === last.namespace && jsonEqual(m?.labels, last.labels) && jsonEqual(m?.ownerReferences, last.ownerReferences) && jsonEqual(pod.spec, last.spec)) {
      this.templates.set(pod, last.template);
      return last.template;
    }
    const inputs = JSON.stringify([m?.namespace, m?.labels, m?.ownerReferences, pod.spec]);
    t = this.templatesByInputs.get(inputs);
    if (t === undefined) {
      // priority and preemption policy decide PostFilter, which a class's pods share
      let s = `${this.profileName}\u0000${pod.spec?.priority ?? 0}\u0000${pod.spec?.preemptionPolicy ?? ''}`;
      for (const p of this.compilers) s += '\u0000' + p.signature(pod);
      t = { signature: s };
      // bounded: templates are few, but pods that differ in every spec would only grow it
      if (this.templatesByInputs.size >= SIGNATURE_MEMO_SIZE) this.templatesByInputs.clear();
      this.templatesByInputs.set(inputs, t);
    }
    this.templates.set(pod, t);
    this.lastTemplate = { namespace: m?.namespace, labels: m?.labels, ownerReferences: m?.ownerReferences, spec: pod.spec, template: t };
    return t;
  }

  /**
   * Compiles a pod into a class for this profile. Compiling is PreFilter: on a sampled
   * compile (upstream samples a share of cycles, as timing every plugin would cost more
   * than some plugins do) each plugin's time goes to scheduler_plugin_execution_duration_seconds.
   */
  compile(pod: Pod): CompiledClass {
    const snapshot = this.snapshot;
    const spec = blankClass(snapshot);
    let volatile = false;
    let unresolvable: string | undefined;
    let unresolvablePlugin: string | undefined;
    const timed = this.pluginDuration !== undefined && Math.random() < this.pluginSampleRate;
    const compilers = this.compilers;
    for (let i = 0; i < compilers.length; i++) {
      const p = compilers[i]!;
      const perPod = p as unknown as Partial<PerPodVolatile>;
      if (typeof perPod.volatileFor === 'function' ? perPod.volatileFor(pod) : p.volatile) volatile = true;
      const t0 = timed ? performance.now() : 0;
      const msg = p.preFilter(snapshot, pod, spec);
      if (timed) this.observePreFilter(i, msg !== undefined, (performance.now() - t0) / 1000);
      if (msg !== undefined) {
        // upstream stops at the first PreFilter that rejects the pod
        unresolvable = msg;
        unresolvablePlugin = p.name;
        break;
      }
    }
    spec.filters = this.filterBits;
    for (const { plugin, weight } of this.scorePlugins) plugin.configureScore(spec, weight);
    spec.percentageOfNodesToScore = this.percentageOfNodesToScore;
    normalizeClass(spec, snapshot);
    return { spec, volatile, unresolvable, unresolvablePlugin };
  }

  private observePreFilter(i: number, rejected: boolean, seconds: number): void {
    const plugin = this.compilers[i]!.name;
    if (rejected) {
      this.pluginDuration!.observe({ plugin, extension_point: 'PreFilter', status: 'UnschedulableAndUnresolvable' }, seconds);
      return;
    }
    let timer = this.preFilterSuccess[i];
    if (!timer) this.preFilterSuccess[i] = timer = this.pluginDuration!.labels({ plugin, extension_point: 'PreFilter', status: 'Success' });
    timer.observe(seconds);
  }

  /** queue sort: does `a` go before `b`? */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    if (this.queueSortPlugin) return this.queueSortPlugin.less(a, b);
    return a.priority > b.priority || (a.priority === b.priority && a.timestamp < b.timestamp);
  }

  /** Turns the core's per-slot reasons (core.diagnose) into upstream's Diagnosis. */
  diagnose(classId: number, spec: ClassSpec, reasons: Int32Array): Diagnosis {
    const snapshot = this.snapshot;
    const out: Diagnosis = {
      classId,
      reasons: new Map(),
      unschedulablePlugins: new Set(),
      resolvableSlots: [],
      nodeCount: snapshot.nodeCount(),
    };
    this.lastDiagnosed = spec;
    const n = Math.min(reasons.length, snapshot.core.dims.nodes);
    for (let slot = 0; slot < n; slot++) {
      const node = snapshot.nodeAt(slot);
      if (!node) continue;
      const r = reasons[slot];
      const code = r & 0xff;
      if (code === Reason.Fits) continue;
      const detail = r >>> 8;
      const plugin = this.filterByBit.get(FILTER_OF_REASON[code] ?? 0);
      const msgs = plugin ? plugin.reasons(code, detail, snapshot, spec) : [`unknown reason ${code}`];
      for (const m of msgs) out.reasons.set(m, (out.reasons.get(m) ?? 0) + 1);
      if (plugin) out.unschedulablePlugins.add(plugin.name);
      if (UNRESOLVABLE_REASONS.has(code)) continue;
      if (code === Reason.Insufficient && exceedsAllocatable(detail, spec.request, node.allocatable)) continue;
      out.resolvableSlots.push(slot);
    }
    return out;
  }

  /** Upstream messages for one node's reason code, as the owning filter plugin renders them (for the last diagnosed class). */
  renderReasons(code: number, detail: number, snapshot: Snapshot = this.snapshot, spec?: ClassSpec): string[] {
    const plugin = this.filterByBit.get(FILTER_OF_REASON[code] ?? 0);
    const cls = spec ?? this.lastDiagnosed ?? blankClass(snapshot);
    return plugin ? plugin.reasons(code, detail, snapshot, cls) : [`unknown reason ${code}`];
  }

  /** The Diagnosis of a pod a PreFilter plugin rejected outright (every node unresolvable). */
  unresolvableDiagnosis(message: string, plugin?: string): Diagnosis {
    return {
      classId: -1,
      reasons: new Map(),
      unschedulablePlugins: new Set(plugin ? [plugin] : []),
      resolvableSlots: [],
      nodeCount: this.snapshot.nodeCount(),
      preFilterMsg: message,
    };
  }

  /** upstream's FailedScheduling message for a diagnosis (and PostFilter's "preemption: ..." sentence). */
  failureMessage(diag: Diagnosis, postFilterMessage?: string): string {
    if (diag.nodeCount === 0 && !diag.preFilterMsg) return ErrNoNodesAvailable;
    return fitErrorMessage(diag.nodeCount, diag.reasons, diag.preFilterMsg, postFilterMessage);
  }

  /**
   * Runs PostFilter plugins in order until one nominates a node (upstream RunPostFilterPlugins).
   * Each plugin's time is recorded on every run, not sampled: PostFilter runs only for pods
   * no node fits, and preemption costs far more than the observation.
   */
  async postFilter(pod: Pod, diag: Diagnosis): Promise<{ nominatedNodeName?: string; message: string } | undefined> {
    let last: { nominatedNodeName?: string; message: string } | undefined;
    const timer = this.pluginDuration;
    for (const p of this.postFilterPlugins) {
      const t0 = performance.now();
      let r: { nominatedNodeName?: string; message: string };
      try {
        r = await p.postFilter(this.snapshot, pod, diag);
      } catch (e) {
        timer?.observe({ plugin: p.name, extension_point: 'PostFilter', status: 'Error' }, (performance.now() - t0) / 1000);
        throw e;
      }
      timer?.observe({ plugin: p.name, extension_point: 'PostFilter', status: r.nominatedNodeName ? 'Success' : 'Unschedulable' }, (performance.now() - t0) / 1000);
      if (r.nominatedNodeName) return r;
      last = r;
    }
    return last;
  }

  /** whether a PostFilter plugin's API calls for this pod (a preemption's) are still in flight */
  postFilterInFlight(podKey: string): boolean {
    for (const p of this.postFilterPlugins) if (p.inFlight?.(podKey)) return true;
    return false;
  }

  /** waits for the API calls PostFilter plugins started (the scheduler's stop) */
  async drainPostFilter(): Promise<void> {
    await Promise.all(this.postFilterPlugins.map((p) => p.drain?.()));
  }

  reserve(pod: Pod, nodeName: string): void {
    for (const p of this.reservePlugins) p.reserve(pod, nodeName);
  }

  unreserve(pod: Pod, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) this.reservePlugins[i].unreserve(pod, nodeName);
  }

  /** The first bind plugin binds (upstream: the first that does not skip). */
  bind(pod: Pod, nodeName: string): Promise<void> {
    const b = this.bindPlugins[0];
    if (!b) return Promise.reject(new Error(`profile ${this.profileName} has no bind plugin`));
    return b.bind(pod, nodeName);
  }
}
