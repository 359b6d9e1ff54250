/**
 * KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) parsing, defaulting and
 * validation with upstream v1.31 semantics: the default plugin set (multiPoint), custom
 * plugin sets merged over it (upstream mergePlugins), per-plugin args with their defaults.
 * Errors name the field path, as upstream's field.ErrorList does.
 */
import { parse as parseYaml } from 'yaml';
import { BadRequestError } from '../../lib/api/errors.js';

export const API_VERSION = 'kubescheduler.config.k8s.io/v1';
export const KIND = 'KubeSchedulerConfiguration';
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** A configuration error at a field path ("profiles[0].plugins.score.enabled[1].weight"). */
export class ConfigError extends BadRequestError {
  readonly field: string;
  constructor(field: string, detail: string) {
    super(`KubeSchedulerConfiguration: ${field}: ${detail}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

export interface PluginEntry {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled: PluginEntry[];
  disabled: PluginEntry[];
}

export const EXTENSION_POINTS = [
  'preEnqueue',
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
  'multiPoint',
] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];
export type Plugins = Record<ExtensionPoint, PluginSet>;

export interface ResourceSpec {
  name: string;
  weight: number;
}

export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

export interface NodeResourcesFitArgs {
  ignoredResources?: string[];
  ignoredResourceGroups?: string[];
  scoringStrategy: {
    type: 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio';
    resources: ResourceSpec[];
    requestedToCapacityRatio?: { shape: UtilizationShapePoint[] };
  };
}

export interface NodeResourcesBalancedAllocationArgs {
  resources: ResourceSpec[];
}

export interface TopologySpreadConstraintArg {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  [k: string]: unknown;
}

export interface PodTopologySpreadArgs {
  defaultConstraints?: TopologySpreadConstraintArg[];
  defaultingType: 'System' | 'List';
}

export interface InterPodAffinityArgs {
  hardPodAffinityWeight: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

export interface NodeAffinityArgs {
  addedAffinity?: Record<string, unknown>;
}

export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage: number;
  minCandidateNodesAbsolute: number;
}

export interface Profile {
  schedulerName: string;
  /** the profile's value, else the global one (undefined: adaptive) */
  percentageOfNodesToScore?: number;
  /** merged with the default plugins (upstream mergePlugins) */
  plugins: Plugins;
  /** plugin name -> args, defaults applied for known plugins */
  pluginConfig: Record<string, unknown>;
}

export interface LeaderElectionConfiguration {
  leaderElect: boolean;
  /** seconds */
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  resourceLock: string;
  resourceName: string;
  resourceNamespace: string;
}

export interface SchedulerConfiguration {
  profiles: Profile[];
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  parallelism: number;
  leaderElection: LeaderElectionConfiguration;
}

/** upstream v1 getDefaultPlugins (v1.31): everything through multiPoint. */
export function defaultPlugins(): Plugins {
  const empty = (): PluginSet => ({ enabled: [], disabled: [] });
  const p = Object.fromEntries(EXTENSION_POINTS.map((e) => [e, empty()])) as Plugins;
  p.multiPoint.enabled = [
    { name: 'SchedulingGates' },
    { name: 'PrioritySort' },
    { name: 'NodeUnschedulable' },
    { name: 'NodeName' },
    { name: 'TaintToleration', weight: 3 },
    { name: 'NodeAffinity', weight: 2 },
    { name: 'NodePorts' },
    { name: 'NodeResourcesFit', weight: 1 },
    { name: 'VolumeRestrictions' },
    { name: 'NodeVolumeLimits' },
    { name: 'VolumeBinding' },
    { name: 'VolumeZone' },
    { name: 'PodTopologySpread', weight: 2 },
    { name: 'InterPodAffinity', weight: 2 },
    { name: 'DefaultPreemption' },
    { name: 'NodeResourcesBalancedAllocation', weight: 1 },
    { name: 'ImageLocality', weight: 1 },
    { name: 'DefaultBinder' },
  ];
  return p;
}

const DEFAULT_RESOURCES = (): ResourceSpec[] => [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

/** upstream v1 SetDefaults_* for the args of each in-tree plugin */
function defaultArgs(name: string): unknown {
  switch (name) {
    case 'NodeResourcesFit':
      return { scoringStrategy: { type: 'LeastAllocated', resources: DEFAULT_RESOURCES() } } satisfies NodeResourcesFitArgs;
    case 'NodeResourcesBalancedAllocation':
      return { resources: DEFAULT_RESOURCES() } satisfies NodeResourcesBalancedAllocationArgs;
    case 'PodTopologySpread':
      return { defaultingType: 'System' } satisfies PodTopologySpreadArgs;
    case 'InterPodAffinity':
      return { hardPodAffinityWeight: 1 } satisfies InterPodAffinityArgs;
    case 'NodeAffinity':
      return {} satisfies NodeAffinityArgs;
    case 'DefaultPreemption':
      return { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 } satisfies DefaultPreemptionArgs;
    default:
      return undefined;
  }
}

/** upstream systemDefaultConstraints for PodTopologySpread's defaultingType System */
export const SYSTEM_DEFAULT_SPREAD_CONSTRAINTS: readonly TopologySpreadConstraintArg[] = [
  { topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/** The constraints PodTopologySpread applies to pods without their own. */
export function effectiveDefaultConstraints(args: PodTopologySpreadArgs): readonly TopologySpreadConstraintArg[] {
  return args.defaultingType === 'System' ? SYSTEM_DEFAULT_SPREAD_CONSTRAINTS : (args.defaultConstraints ?? []);
}

export function defaultLeaderElection(): LeaderElectionConfiguration {
  return {
    leaderElect: true,
    leaseDuration: 15,
    renewDeadline: 10,
    retryPeriod: 2,
    resourceLock: 'leases',
    resourceName: 'kube-scheduler',
    resourceNamespace: 'kube-system',
  };
}

function defaultProfile(name = DEFAULT_SCHEDULER_NAME): Profile {
  const pluginConfig: Record<string, unknown> = {};
  for (const n of ['DefaultPreemption', 'InterPodAffinity', 'NodeAffinity', 'NodeResourcesBalancedAllocation', 'NodeResourcesFit', 'PodTopologySpread']) {
    pluginConfig[n] = defaultArgs(n);
  }
  return { schedulerName: name, plugins: defaultPlugins(), pluginConfig };
}

export function defaultSchedulerConfiguration(): SchedulerConfiguration {
  return {
    profiles: [defaultProfile()],
    podInitialBackoffSeconds: 1,
    podMaxBackoffSeconds: 10,
    parallelism: 16,
    leaderElection: defaultLeaderElection(),
  };
}

// ---- parsing helpers ----

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new ConfigError(field, 'must be an object');
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(field, 'must be a list');
  return v;
}

function int(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(field, `Invalid value: ${JSON.stringify(v)}: must be an integer`);
  return v;
}

function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(field, `Invalid value: ${JSON.stringify(v)}: must be a string`);
  return v;
}

function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(field, `Invalid value: ${JSON.stringify(v)}: must be a boolean`);
  return v;
}

/** metav1.Duration ("15s", "1m30s", "500ms") -> seconds */
function duration(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(field, `Invalid value: ${JSON.stringify(v)}: must be a duration`);
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(v)) !== null) {
    total += parseFloat(m[1]) * unit[m[2]];
    consumed = re.lastIndex;
  }
  if (consumed !== v.length || v.length === 0) throw new ConfigError(field, `Invalid value: "${v}": must be a duration such as "15s"`);
  return total;
}

function parsePluginSet(v: unknown, field: string): PluginSet {
  const o = obj(v, field);
  const entries = (key: 'enabled' | 'disabled'): PluginEntry[] =>
    list(o[key], `${field}.${key}`).map((e, i) => {
      const f = `${field}.${key}[${i}]`;
      const eo = obj(e, f);
      const name = str(eo.name, `${f}.name`);
      if (!name) throw new ConfigError(`${f}.name`, 'Required value');
      const weight = int(eo.weight, `${f}.weight`);
      if (weight !== undefined && weight < 0) throw new ConfigError(`${f}.weight`, `Invalid value: ${weight}: must be non-negative`);
      return weight === undefined ? { name } : { name, weight };
    });
  return { enabled: entries('enabled'), disabled: entries('disabled') };
}

/** upstream mergePluginSet: custom disabled removes defaults ("*" all), custom enabled overrides in place or appends. */
function mergePluginSet(def: PluginSet, custom: PluginSet): PluginSet {
  const disabledAll = custom.disabled.some((d) => d.name === '*');
  const disabled = new Set(custom.disabled.map((d) => d.name));
  const customByName = new Map(custom.enabled.map((e) => [e.name, e]));
  const enabled: PluginEntry[] = [];
  const used = new Set<string>();
  if (!disabledAll) {
    for (const d of def.enabled) {
      if (disabled.has(d.name)) continue;
      const c = customByName.get(d.name);
      if (c) {
        enabled.push(c);
        used.add(c.name);
      } else {
        enabled.push(d);
      }
    }
  }
  for (const c of custom.enabled) if (!used.has(c.name)) enabled.push(c);
  return { enabled, disabled: custom.disabled };
}

const MAX_WEIGHT = 100;

function parseResources(v: unknown, field: string, balanced: boolean): ResourceSpec[] {
  return list(v, field).map((r, i) => {
    const f = `${field}[${i}]`;
    const ro = obj(r, f);
    const name = str(ro.name, `${f}.name`);
    if (!name) throw new ConfigError(`${f}.name`, 'Required value');
    const weight = int(ro.weight, `${f}.weight`) ?? 1;
    if (balanced ? weight !== 1 : weight < 1 || weight > MAX_WEIGHT) {
      throw new ConfigError(`${f}.weight`, balanced ? `Invalid value: ${weight}: must be 1` : `Invalid value: ${weight}: resource weight of ${name} not in valid range [1, 100]`);
    }
    return { name, weight };
  });
}

function parseArgs(name: string, raw: unknown, field: string): unknown {
  const a = obj(raw, field);
  switch (name) {
    case 'NodeResourcesFit': {
      const out = defaultArgs(name) as NodeResourcesFitArgs;
      if (a.ignoredResources !== undefined) out.ignoredResources = list(a.ignoredResources, `${field}.ignoredResources`).map(String);
      if (a.ignoredResourceGroups !== undefined) out.ignoredResourceGroups = list(a.ignoredResourceGroups, `${field}.ignoredResourceGroups`).map(String);
      if (a.scoringStrategy !== undefined) {
        const f = `${field}.scoringStrategy`;
        const s = obj(a.scoringStrategy, f);
        const type = str(s.type, `${f}.type`) ?? 'LeastAllocated';
        if (!['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'].includes(type)) {
          throw new ConfigError(`${f}.type`, `Unsupported value: "${type}": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"`);
        }
        out.scoringStrategy = { type: type as NodeResourcesFitArgs['scoringStrategy']['type'], resources: s.resources !== undefined ? parseResources(s.resources, `${f}.resources`, false) : DEFAULT_RESOURCES() };
        if (type === 'RequestedToCapacityRatio') {
          const rf = `${f}.requestedToCapacityRatio`;
          const r = obj(s.requestedToCapacityRatio, rf);
          const shape = list(r.shape, `${rf}.shape`).map((p, i) => {
            const pf = `${rf}.shape[${i}]`;
            const po = obj(p, pf);
            const utilization = int(po.utilization, `${pf}.utilization`) ?? 0;
            const score = int(po.score, `${pf}.score`) ?? 0;
            if (utilization < 0 || utilization > 100) throw new ConfigError(`${pf}.utilization`, `Invalid value: ${utilization}: not in valid range [0, 100]`);
            if (score < 0 || score > 10) throw new ConfigError(`${pf}.score`, `Invalid value: ${score}: not in valid range [0, 10]`);
            return { utilization, score };
          });
          if (shape.length === 0) throw new ConfigError(`${rf}.shape`, 'Required value: at least one point must be specified');
          for (let i = 1; i < shape.length; i++) {
            if (shape[i].utilization <= shape[i - 1].utilization) {
              throw new ConfigError(`${rf}.shape[${i}].utilization`, `Invalid value: ${shape[i].utilization}: utilization values must be sorted in increasing order`);
            }
          }
          out.scoringStrategy.requestedToCapacityRatio = { shape };
        }
      }
      return out;
    }
    case 'NodeResourcesBalancedAllocation': {
      const out = defaultArgs(name) as NodeResourcesBalancedAllocationArgs;
      if (a.resources !== undefined) out.resources = parseResources(a.resources, `${field}.resources`, true);
      return out;
    }
    case 'PodTopologySpread': {
      const out = defaultArgs(name) as PodTopologySpreadArgs;
      const type = str(a.defaultingType, `${field}.defaultingType`) ?? 'System';
      if (type !== 'System' && type !== 'List') throw new ConfigError(`${field}.defaultingType`, `Unsupported value: "${type}": supported values: "List", "System"`);
      out.defaultingType = type;
      const constraints = list(a.defaultConstraints, `${field}.defaultConstraints`).map((c, i) => {
        const f = `${field}.defaultConstraints[${i}]`;
        const co = obj(c, f);
        const maxSkew = int(co.maxSkew, `${f}.maxSkew`) ?? 0;
        if (maxSkew <= 0) throw new ConfigError(`${f}.maxSkew`, `Invalid value: ${maxSkew}: must be greater than zero`);
        const topologyKey = str(co.topologyKey, `${f}.topologyKey`);
        if (!topologyKey) throw new ConfigError(`${f}.topologyKey`, 'Required value: can not be empty');
        const when = str(co.whenUnsatisfiable, `${f}.whenUnsatisfiable`);
        if (when !== 'DoNotSchedule' && when !== 'ScheduleAnyway') {
          throw new ConfigError(`${f}.whenUnsatisfiable`, `Unsupported value: "${when ?? ''}": supported values: "DoNotSchedule", "ScheduleAnyway"`);
        }
        if (co.labelSelector !== undefined) throw new ConfigError(`${f}.labelSelector`, 'Forbidden: constraint must not define a selector, as they deduced for each pod');
        return { ...co, maxSkew, topologyKey, whenUnsatisfiable: when } as TopologySpreadConstraintArg;
      });
      if (type === 'System' && constraints.length > 0) {
        throw new ConfigError(`${field}.defaultingType`, 'Invalid value: "System": when .defaultConstraints are not empty');
      }
      if (constraints.length > 0) out.defaultConstraints = constraints;
      return out;
    }
    case 'InterPodAffinity': {
      const out = defaultArgs(name) as InterPodAffinityArgs;
      const w = int(a.hardPodAffinityWeight, `${field}.hardPodAffinityWeight`);
      if (w !== undefined) {
        if (w < 0 || w > MAX_WEIGHT) throw new ConfigError(`${field}.hardPodAffinityWeight`, `Invalid value: ${w}: not in valid range [0, 100]`);
        out.hardPodAffinityWeight = w;
      }
      const ig = bool(a.ignorePreferredTermsOfExistingPods, `${field}.ignorePreferredTermsOfExistingPods`);
      if (ig !== undefined) out.ignorePreferredTermsOfExistingPods = ig;
      return out;
    }
    case 'NodeAffinity': {
      const out = defaultArgs(name) as NodeAffinityArgs;
      if (a.addedAffinity !== undefined) {
        const aa = obj(a.addedAffinity, `${field}.addedAffinity`);
        const req = obj(aa.requiredDuringSchedulingIgnoredDuringExecution, `${field}.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution`);
        if (aa.requiredDuringSchedulingIgnoredDuringExecution !== undefined && list(req.nodeSelectorTerms, `${field}.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`).length === 0) {
          throw new ConfigError(`${field}.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`, 'Required value: must have at least one node selector term');
        }
        out.addedAffinity = aa;
      }
      return out;
    }
    case 'DefaultPreemption': {
      const out = defaultArgs(name) as DefaultPreemptionArgs;
      const p = int(a.minCandidateNodesPercentage, `${field}.minCandidateNodesPercentage`);
      const n = int(a.minCandidateNodesAbsolute, `${field}.minCandidateNodesAbsolute`);
      if (p !== undefined) {
        if (p < 0 || p > 100) throw new ConfigError(`${field}.minCandidateNodesPercentage`, `Invalid value: ${p}: not in valid range [0, 100]`);
        out.minCandidateNodesPercentage = p;
      }
      if (n !== undefined) {
        if (n < 0) throw new ConfigError(`${field}.minCandidateNodesAbsolute`, `Invalid value: ${n}: not in valid range [0, inf)`);
        out.minCandidateNodesAbsolute = n;
      }
      if (out.minCandidateNodesPercentage === 0 && out.minCandidateNodesAbsolute === 0) {
        throw new ConfigError(`${field}`, 'Invalid value: both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero');
      }
      return out;
    }
    default:
      return raw;
  }
}

function percentage(v: unknown, field: string): number | undefined {
  const p = int(v, field);
  if (p !== undefined && (p < 0 || p > 100)) throw new ConfigError(field, `Invalid value: ${p}: not in valid range [0-100]`);
  return p;
}

/** Parses, defaults and validates a KubeSchedulerConfiguration YAML (or JSON) document. */
export function parseSchedulerConfiguration(text: string): SchedulerConfiguration {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError('<document>', `not valid YAML: ${(e as Error).message}`);
  }
  const root = obj(doc, '<document>');
  const apiVersion = str(root.apiVersion, 'apiVersion');
  if (apiVersion !== API_VERSION) throw new ConfigError('apiVersion', `Unsupported value: "${apiVersion ?? ''}": supported values: "${API_VERSION}"`);
  const kind = str(root.kind, 'kind');
  if (kind !== KIND) throw new ConfigError('kind', `Unsupported value: "${kind ?? ''}": supported values: "${KIND}"`);

  const cfg = defaultSchedulerConfiguration();
  cfg.percentageOfNodesToScore = percentage(root.percentageOfNodesToScore, 'percentageOfNodesToScore');
  cfg.podInitialBackoffSeconds = int(root.podInitialBackoffSeconds, 'podInitialBackoffSeconds') ?? 1;
  cfg.podMaxBackoffSeconds = int(root.podMaxBackoffSeconds, 'podMaxBackoffSeconds') ?? 10;
  if (cfg.podInitialBackoffSeconds <= 0) throw new ConfigError('podInitialBackoffSeconds', `Invalid value: ${cfg.podInitialBackoffSeconds}: must be greater than 0`);
  if (cfg.podMaxBackoffSeconds < cfg.podInitialBackoffSeconds) {
    throw new ConfigError('podMaxBackoffSeconds', `Invalid value: ${cfg.podMaxBackoffSeconds}: must be greater than or equal to PodInitialBackoffSeconds`);
  }
  cfg.parallelism = int(root.parallelism, 'parallelism') ?? 16;
  if (cfg.parallelism <= 0) throw new ConfigError('parallelism', `Invalid value: ${cfg.parallelism}: should be an integer value greater than zero`);

  const le = obj(root.leaderElection, 'leaderElection');
  const l = cfg.leaderElection;
  l.leaderElect = bool(le.leaderElect, 'leaderElection.leaderElect') ?? l.leaderElect;
  l.leaseDuration = duration(le.leaseDuration, 'leaderElection.leaseDuration') ?? l.leaseDuration;
  l.renewDeadline = duration(le.renewDeadline, 'leaderElection.renewDeadline') ?? l.renewDeadline;
  l.retryPeriod = duration(le.retryPeriod, 'leaderElection.retryPeriod') ?? l.retryPeriod;
  l.resourceLock = str(le.resourceLock, 'leaderElection.resourceLock') ?? l.resourceLock;
  l.resourceName = str(le.resourceName, 'leaderElection.resourceName') ?? l.resourceName;
  l.resourceNamespace = str(le.resourceNamespace, 'leaderElection.resourceNamespace') ?? l.resourceNamespace;
  if (l.leaderElect) {
    if (l.leaseDuration <= 0) throw new ConfigError('leaderElection.leaseDuration', 'Invalid value: must be greater than zero');
    if (l.renewDeadline <= 0) throw new ConfigError('leaderElection.renewDeadline', 'Invalid value: must be greater than zero');
    if (l.retryPeriod <= 0) throw new ConfigError('leaderElection.retryPeriod', 'Invalid value: must be greater than zero');
    if (l.leaseDuration <= l.renewDeadline) throw new ConfigError('leaderElection.leaseDuration', 'Invalid value: LeaseDuration must be greater than RenewDeadline');
    if (!l.resourceName) throw new ConfigError('leaderElection.resourceName', 'Required value');
  }

  const rawProfiles = list(root.profiles, 'profiles');
  if (rawProfiles.length > 0) {
    cfg.profiles = rawProfiles.map((rp, i) => {
      const f = `profiles[${i}]`;
      const po = obj(rp, f);
      const profile = defaultProfile(str(po.schedulerName, `${f}.schedulerName`) ?? DEFAULT_SCHEDULER_NAME);
      if (profile.schedulerName === '') throw new ConfigError(`${f}.schedulerName`, 'Required value');
      profile.percentageOfNodesToScore = percentage(po.percentageOfNodesToScore, `${f}.percentageOfNodesToScore`);
      const pl = obj(po.plugins, `${f}.plugins`);
      for (const key of Object.keys(pl)) {
        if (!(EXTENSION_POINTS as readonly string[]).includes(key)) throw new ConfigError(`${f}.plugins.${key}`, 'unknown extension point');
      }
      for (const point of EXTENSION_POINTS) {
        if (pl[point] === undefined) continue;
        const custom = parsePluginSet(pl[point], `${f}.plugins.${point}`);
        profile.plugins[point] = mergePluginSet(profile.plugins[point], custom);
      }
      const seenArgs = new Set<string>();
      list(po.pluginConfig, `${f}.pluginConfig`).forEach((pc, j) => {
        const pf = `${f}.pluginConfig[${j}]`;
        const pco = obj(pc, pf);
        const name = str(pco.name, `${pf}.name`);
        if (!name) throw new ConfigError(`${pf}.name`, 'Required value');
        if (seenArgs.has(name)) throw new ConfigError(`${pf}`, `Duplicate value: "${name}"`);
        seenArgs.add(name);
        profile.pluginConfig[name] = parseArgs(name, pco.args, `${pf}.args`);
      });
      return profile;
    });
  }
  for (const p of cfg.profiles) if (p.percentageOfNodesToScore === undefined) p.percentageOfNodesToScore = cfg.percentageOfNodesToScore;
  const names = new Set<string>();
  cfg.profiles.forEach((p, i) => {
    if (names.has(p.schedulerName)) throw new ConfigError(`profiles[${i}].schedulerName`, `Duplicate value: "${p.schedulerName}"`);
    names.add(p.schedulerName);
    validateWeights(p, i);
  });
  return cfg;
}

function validateWeights(p: Profile, i: number): void {
  for (const point of ['score', 'multiPoint'] as const) {
    p.plugins[point].enabled.forEach((e, j) => {
      if (e.weight !== undefined && e.weight > MAX_WEIGHT) {
        throw new ConfigError(`profiles[${i}].plugins.${point}.enabled[${j}].weight`, `Invalid value: ${e.weight}: must be in the range [0, ${MAX_WEIGHT}]`);
      }
    });
  }
}
