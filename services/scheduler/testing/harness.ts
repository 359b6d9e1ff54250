/**
 * The scheduler's in-process test harness: SchedulerCache (its snapshot given to the
 * Framework) + ReferenceCore + Framework +
 * ClassTable, one pod per cycle, as the scheduling loop drives them. Plugin, cache and
 * framework tests share it; the end-to-end tests use the real service instead.
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ReferenceCore } from '../core/reference.js';
import { SchedulerCache } from '../backend/cache/cache.js';
import { ClassTable } from '../classes.js';
import { defaultSchedulerConfiguration, parseSchedulerConfiguration } from '../config.js';
import { Framework } from '../framework/framework.js';
import { inTreeRegistry } from '../plugins/registry.js';
import { emptyClass, type ClassSpec, type CoreDims } from '../core/types.js';
import type { Diagnosis, FilterPlugin, PreFilterPlugin, ScorePlugin } from '../framework/types.js';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

export function mkNode(name: string, o: NodeOpts = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: o.pods ?? '110', ...o.extra } },
  };
}

/** mkNode as a user would create it through the API: typed, capacity equal to allocatable. */
export function apiNode(name: string, o: NodeOpts = {}): Node {
  const node = mkNode(name, o);
  const resources = node.status!.allocatable;
  return { apiVersion: 'v1', kind: 'Node', ...node, status: { capacity: resources, allocatable: resources } };
}

export function mkPod(name: string, requests: Record<string, string> = {}, spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests } }], ...spec },
  };
}

export interface Outcome {
  node?: string;
  message?: string;
  diag?: Diagnosis;
}

export function harness(configYaml?: string, dims?: Partial<CoreDims>) {
  const cache = new SchedulerCache({ createCore: (d) => new ReferenceCore(d), dims });
  const cfg = configYaml ? parseSchedulerConfiguration(configYaml) : defaultSchedulerConfiguration();
  const fw = new Framework(cfg.profiles[0], { registry: inTreeRegistry, snapshot: cache.snapshot });
  const classes = new ClassTable(cache);
  const schedule = (pod: Pod): Outcome => {
    classes.beginCycle();
    const c = classes.resolve(pod, fw);
    if (c.unresolvable !== undefined) {
      const diag = fw.unresolvableDiagnosis(c.unresolvable, c.unresolvablePlugin);
      return { message: fw.failureMessage(diag), diag };
    }
    const out = new Int32Array(1);
    if (cache.core.place(c.id, 1, out) === 1) {
      const node = cache.nodeAt(out[0])!.name;
      cache.assumePod(pod, node, { placedByCore: true });
      return { node };
    }
    const reasons = new Int32Array(cache.core.dims.nodes);
    cache.core.diagnose(c.id, reasons);
    const diag = fw.diagnose(c.id, c.spec, reasons);
    return { message: fw.failureMessage(diag), diag };
  };
  /** per node name, the total score of the pod (-1 infeasible) */
  const scores = (pod: Pod): Record<string, number> => {
    classes.beginCycle();
    const c = classes.resolve(pod, fw);
    const out = new Float64Array(cache.core.dims.nodes);
    cache.core.scores(c.id, out);
    const r: Record<string, number> = {};
    for (const n of cache.snapshot.nodes()) r[n.name] = out[n.slot];
    return r;
  };
  return { cache, fw, classes, schedule, scores };
}

/** a configuration with one profile; `profile` is the YAML of its list item, after "- " */
export function oneProfile(profile: string): string {
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- ${profile}`;
}

/** a configuration whose only score plugin is `plugin` (weight 1), to read one plugin's score */
export function onlyScore(plugin: string, args = ''): string {
  return oneProfile(`schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: ${plugin}, weight: 1}]
${args}`);
}

/** A plugin probed alone: it compiles the class, owns one filter and one score. */
type ProbedPlugin = PreFilterPlugin & FilterPlugin & ScorePlugin;

/** Compiles `pod` with only `plugin`: its filter on, its score alone at weight 1. */
export function compileWith(cache: SchedulerCache, plugin: ProbedPlugin, pod: Pod): ClassSpec {
  const cls = emptyClass(cache.coreDims());
  cls.filters = plugin.filterBit;
  const rejected = plugin.preFilter(cache.snapshot, pod, cls);
  if (rejected !== undefined) throw new Error(`${plugin.name} rejected ${pod.metadata?.name} in PreFilter: ${rejected}`);
  // only this plugin's score, so resource scores cannot decide the comparisons
  Object.assign(cls.score, { fitWeight: 0, balancedWeight: 0, taintWeight: 0, nodeAffinityWeight: 0, spreadWeight: 0, interPodAffinityWeight: 0 });
  plugin.configureScore(cls, 1);
  return cls;
}

/** node name -> the plugin's upstream message for it, or 'fits' */
export function diagnoseWith(cache: SchedulerCache, plugin: ProbedPlugin, cls: ClassSpec): Record<string, string> {
  cache.core.defineClass(0, cls);
  const out = new Int32Array(cache.coreDims().nodes);
  cache.core.diagnose(0, out);
  const res: Record<string, string> = {};
  for (const ni of cache.snapshot.nodes()) {
    const code = out[ni.slot] & 0xff;
    res[ni.name] = code === 0 ? 'fits' : plugin.reasons(code, out[ni.slot] >> 8, cache.snapshot, cls).join('; ');
  }
  return res;
}

/** the nodes `count` pods of the class go to, in order */
export function placeClass(cache: SchedulerCache, cls: ClassSpec, count: number): string[] {
  cache.core.defineClass(0, cls);
  const out = new Int32Array(count);
  const n = cache.core.place(0, count, out);
  return [...out.subarray(0, n)].map((slot) => cache.nodeAt(slot)!.name);
}

/** node name -> total score of the class (-1 infeasible) */
export function scoreClass(cache: SchedulerCache, cls: ClassSpec): Record<string, number> {
  cache.core.defineClass(0, cls);
  const out = new Float64Array(cache.coreDims().nodes);
  cache.core.scores(0, out);
  const res: Record<string, number> = {};
  for (const ni of cache.snapshot.nodes()) res[ni.name] = out[ni.slot];
  return res;
}
