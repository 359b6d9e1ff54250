/**
 * The scheduler_perf configuration format (upstream test/integration/scheduler_perf):
 * a YAML list of test cases, each a `workloadTemplate` of ops and a list of `workloads`
 * whose `params` fill the ops' `$name` references. Parsing resolves every reference and
 * checks every op up front, so a typo fails before a cluster is started.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export type Params = Record<string, number | string | boolean>;

interface OpBase {
  /** position in the workload template (upstream names a default namespace after it) */
  index: number;
}

export interface CreateNodesOp extends OpBase {
  opcode: 'createNodes';
  count: number;
  nodeTemplatePath?: string;
  uniqueNodeLabelStrategy?: { labelKey: string };
  labelNodePrepareStrategy?: { labelKey: string; labelValues: string[] };
  nodeAllocatableStrategy?: { nodeAllocatable?: Record<string, string> };
}

export interface CreateNamespacesOp extends OpBase {
  opcode: 'createNamespaces';
  prefix: string;
  count: number;
  namespaceTemplatePath?: string;
}

export interface CreatePodsOp extends OpBase {
  opcode: 'createPods';
  count: number;
  podTemplatePath?: string;
  namespace?: string;
  collectMetrics?: boolean;
  skipWaitToCompletion?: boolean;
}

export interface ChurnOp extends OpBase {
  opcode: 'churn';
  mode: 'recreate' | 'create';
  templatePaths: string[];
  intervalMilliseconds: number;
  /** objects per template: at most this many in create mode (0 = no limit), per round in recreate mode */
  number: number;
  namespace?: string;
}

export interface BarrierOp extends OpBase {
  opcode: 'barrier';
  namespaces?: string[];
  /** Scheduled (default): every pod bound; Attempted: every pod bound or found unschedulable */
  stageRequirement: 'Scheduled' | 'Attempted';
}

export interface DeletePodsOp extends OpBase {
  opcode: 'deletePods';
  namespace: string;
  labelSelector?: Record<string, string>;
  deletePodsPerSecond?: number;
  skipWaitToCompletion?: boolean;
}

export interface SleepOp extends OpBase {
  opcode: 'sleep';
  durationMs: number;
}

export interface CreateAnyOp extends OpBase {
  opcode: 'createAny';
  templatePath: string;
  namespace?: string;
  count: number;
}

export type Op = CreateNodesOp | CreateNamespacesOp | CreatePodsOp | ChurnOp | BarrierOp | DeletePodsOp | SleepOp | CreateAnyOp;

export interface Workload {
  /** "<test case>/<workload>", the `Name` label of the results */
  fullName: string;
  testName: string;
  name: string;
  labels: string[];
  threshold?: number;
  params: Params;
  featureGates?: Record<string, boolean>;
  /** the ops with every `$param` resolved and every template path absolute */
  ops: Op[];
  schedulerConfigPath?: string;
}

export interface TestCase {
  name: string;
  labels: string[];
  workloads: Workload[];
}

/** A configuration error, naming the file and where in it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const PARAM_REF = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Resolves `$name` references: a field `fooParam: $name` becomes `foo: <value>` (upstream's
 * countParam, durationParam, ...), and any string value that is exactly `$name` becomes
 * the value. An unknown name is an error.
 */
export function substituteParams(raw: Record<string, unknown>, params: Params, where: string): Record<string, unknown> {
  const resolve = (v: unknown, field: string): unknown => {
    if (typeof v === 'string') {
      const m = PARAM_REF.exec(v);
      if (!m) return v;
      if (!(m[1] in params)) throw new ConfigError(`${where}: ${field} refers to parameter ${v}, which the workload does not set (it has: ${Object.keys(params).join(', ') || 'none'})`);
      return params[m[1]];
    }
    if (Array.isArray(v)) return v.map((x, i) => resolve(x, `${field}[${i}]`));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, `${field}.${k}`)]));
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const value = resolve(v, k);
    if (k.endsWith('Param') && k !== 'Param') out[k.slice(0, -'Param'.length)] = value;
    else out[k] = value;
  }
  return out;
}

/** Go's time.ParseDuration for the units a benchmark uses (ns..h, combined like "1m30s"). */
export function parseDurationMs(v: unknown, where: string): number {
  if (typeof v === 'number') return v / 1e6; // a bare number is a Go Duration in nanoseconds
  if (typeof v !== 'string') throw new ConfigError(`${where}: duration must be a string such as "5s", got ${JSON.stringify(v)}`);
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * unitMs[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== v.length) throw new ConfigError(`${where}: cannot read duration ${JSON.stringify(v)}`);
  return total;
}

function int(v: unknown, where: string, min = 0): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new ConfigError(`${where} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined ? undefined : str(v, where);
}

function optBool(v: unknown, where: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`${where} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where} must be a map`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

const KNOWN_FIELDS: Record<Op['opcode'], string[]> = {
  createNodes: ['count', 'nodeTemplatePath', 'uniqueNodeLabelStrategy', 'labelNodePrepareStrategy', 'nodeAllocatableStrategy'],
  createNamespaces: ['prefix', 'count', 'namespaceTemplatePath'],
  createPods: ['count', 'podTemplatePath', 'namespace', 'collectMetrics', 'skipWaitToCompletion'],
  churn: ['mode', 'templatePaths', 'intervalMilliseconds', 'number', 'namespace'],
  barrier: ['namespaces', 'stageRequirement', 'labelSelector'],
  deletePods: ['namespace', 'labelSelector', 'deletePodsPerSecond', 'skipWaitToCompletion'],
  sleep: ['duration'],
  createAny: ['templatePath', 'namespace', 'count'],
};

/** One op of a workload, parameters resolved, paths made absolute against `baseDir`. */
export function parseOp(raw: unknown, index: number, params: Params, baseDir: string, defaultPodTemplate: string | undefined, where: string): Op {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: an op must be a map with an opcode`);
  const r = substituteParams(raw as Record<string, unknown>, params, where);
  const opcode = r.opcode as Op['opcode'];
  if (!(opcode in KNOWN_FIELDS)) throw new ConfigError(`${where}: unsupported opcode ${JSON.stringify(r.opcode)} (supported: ${Object.keys(KNOWN_FIELDS).join(', ')})`);
  const unknown = Object.keys(r).filter((k) => k !== 'opcode' && !KNOWN_FIELDS[opcode].includes(k));
  if (unknown.length) throw new ConfigError(`${where}: ${opcode} does not support ${unknown.join(', ')}`);
  const abs = (p: unknown, f: string) => path.resolve(baseDir, str(p, `${where}: ${f}`));
  switch (opcode) {
    case 'createNodes': {
      const op: CreateNodesOp = { opcode, index, count: int(r.count, `${where}: createNodes count`) };
      if (r.nodeTemplatePath !== undefined) op.nodeTemplatePath = abs(r.nodeTemplatePath, 'nodeTemplatePath');
      if (r.uniqueNodeLabelStrategy !== undefined) {
        const s = r.uniqueNodeLabelStrategy as { labelKey?: unknown };
        op.uniqueNodeLabelStrategy = { labelKey: str(s?.labelKey, `${where}: uniqueNodeLabelStrategy.labelKey`) };
      }
      if (r.labelNodePrepareStrategy !== undefined) {
        const s = r.labelNodePrepareStrategy as { labelKey?: unknown; labelValues?: unknown };
        if (!Array.isArray(s?.labelValues) || s.labelValues.length === 0) throw new ConfigError(`${where}: labelNodePrepareStrategy.labelValues must be a non-empty list`);
        op.labelNodePrepareStrategy = { labelKey: str(s.labelKey, `${where}: labelNodePrepareStrategy.labelKey`), labelValues: s.labelValues.map(String) };
      }
      if (r.nodeAllocatableStrategy !== undefined) {
        const s = r.nodeAllocatableStrategy as Record<string, unknown>;
        const extra = Object.keys(s ?? {}).filter((k) => k !== 'nodeAllocatable');
        if (extra.length) throw new ConfigError(`${where}: nodeAllocatableStrategy supports only nodeAllocatable (not ${extra.join(', ')}: there are no CSINode objects)`);
        op.nodeAllocatableStrategy = { nodeAllocatable: stringMap(s.nodeAllocatable, `${where}: nodeAllocatableStrategy.nodeAllocatable`) };
      }
      return op;
    }
    case 'createNamespaces':
      return {
        opcode,
        index,
        prefix: str(r.prefix, `${where}: createNamespaces prefix`),
        count: int(r.count, `${where}: createNamespaces count`),
        namespaceTemplatePath: r.namespaceTemplatePath === undefined ? undefined : abs(r.namespaceTemplatePath, 'namespaceTemplatePath'),
      };
    case 'createPods': {
      const template = r.podTemplatePath !== undefined ? abs(r.podTemplatePath, 'podTemplatePath') : defaultPodTemplate;
      return {
        opcode,
        index,
        count: int(r.count, `${where}: createPods count`),
        podTemplatePath: template,
        namespace: optStr(r.namespace, `${where}: namespace`),
        collectMetrics: optBool(r.collectMetrics, `${where}: collectMetrics`),
        skipWaitToCompletion: optBool(r.skipWaitToCompletion, `${where}: skipWaitToCompletion`),
      };
    }
    case 'churn': {
      if (r.mode !== 'recreate' && r.mode !== 'create') throw new ConfigError(`${where}: churn mode must be recreate or create, got ${JSON.stringify(r.mode)}`);
      if (!Array.isArray(r.templatePaths) || r.templatePaths.length === 0) throw new ConfigError(`${where}: churn templatePaths must be a non-empty list`);
      return {
        opcode,
        index,
        mode: r.mode,
        templatePaths: r.templatePaths.map((p, i) => abs(p, `templatePaths[${i}]`)),
        intervalMilliseconds: r.intervalMilliseconds === undefined ? 500 : int(r.intervalMilliseconds, `${where}: intervalMilliseconds`, 1),
        number: r.number === undefined ? (r.mode === 'recreate' ? 1 : 0) : int(r.number, `${where}: number`),
        namespace: optStr(r.namespace, `${where}: namespace`),
      };
    }
    case 'barrier': {
      const stage = r.stageRequirement ?? 'Scheduled';
      if (stage !== 'Scheduled' && stage !== 'Attempted') throw new ConfigError(`${where}: stageRequirement must be Scheduled or Attempted`);
      if (r.labelSelector !== undefined) throw new ConfigError(`${where}: barrier labelSelector is not supported`);
      if (r.namespaces !== undefined && !Array.isArray(r.namespaces)) throw new ConfigError(`${where}: barrier namespaces must be a list`);
      return { opcode, index, namespaces: (r.namespaces as unknown[] | undefined)?.map(String), stageRequirement: stage };
    }
    case 'deletePods':
      return {
        opcode,
        index,
        namespace: str(r.namespace, `${where}: deletePods namespace`),
        labelSelector: r.labelSelector === undefined ? undefined : stringMap(r.labelSelector, `${where}: labelSelector`),
        deletePodsPerSecond: r.deletePodsPerSecond === undefined ? undefined : int(r.deletePodsPerSecond, `${where}: deletePodsPerSecond`, 1),
        skipWaitToCompletion: optBool(r.skipWaitToCompletion, `${where}: skipWaitToCompletion`),
      };
    case 'sleep':
      return { opcode, index, durationMs: parseDurationMs(r.duration, `${where}: sleep duration`) };
    case 'createAny':
      return {
        opcode,
        index,
        templatePath: abs(r.templatePath, 'templatePath'),
        namespace: optStr(r.namespace, `${where}: namespace`),
        count: r.count === undefined ? 1 : int(r.count, `${where}: createAny count`),
      };
  }
}

/** Reads a config file: every test case with every workload's ops resolved. */
export function loadConfig(file: string): TestCase[] {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseConfig(doc, path.dirname(path.resolve(file)), file);
}

/** The same from an already parsed document; relative paths are against baseDir. */
export function parseConfig(doc: unknown, baseDir: string, file = '<config>'): TestCase[] {
  if (!Array.isArray(doc)) throw new ConfigError(`${file}: the top level must be a list of test cases`);
  const seen = new Set<string>();
  return doc.map((tc: any, i: number) => {
    const name = str(tc?.name, `${file}: test case ${i} name`);
    if (seen.has(name)) throw new ConfigError(`${file}: test case ${name} appears twice`);
    seen.add(name);
    if (!Array.isArray(tc.workloadTemplate)) throw new ConfigError(`${file}: ${name}: workloadTemplate must be a list of ops`);
    if (!Array.isArray(tc.workloads) || tc.workloads.length === 0) throw new ConfigError(`${file}: ${name}: workloads must be a non-empty list`);
    const labels: string[] = Array.isArray(tc.labels) ? tc.labels.map(String) : [];
    const defaultPodTemplate = tc.defaultPodTemplatePath === undefined ? undefined : path.resolve(baseDir, str(tc.defaultPodTemplatePath, `${file}: ${name}: defaultPodTemplatePath`));
    const schedulerConfigPath = tc.schedulerConfigPath === undefined ? undefined : path.resolve(baseDir, str(tc.schedulerConfigPath, `${file}: ${name}: schedulerConfigPath`));
    const workloadNames = new Set<string>();
    const workloads = tc.workloads.map((w: any, j: number): Workload => {
      const wname = str(w?.name, `${file}: ${name}: workload ${j} name`);
      if (workloadNames.has(wname)) throw new ConfigError(`${file}: ${name}: workload ${wname} appears twice`);
      workloadNames.add(wname);
      const params: Params = w.params && typeof w.params === 'object' ? w.params : {};
      const where = `${file}: ${name}/${wname}`;
      const ops = tc.workloadTemplate.map((raw: unknown, k: number) => parseOp(raw, k, params, baseDir, defaultPodTemplate, `${where}: op ${k}`));
      let threshold: number | undefined;
      if (w.threshold !== undefined) {
        if (typeof w.threshold !== 'number' || w.threshold < 0) throw new ConfigError(`${where}: threshold must be a number of pods/s`);
        threshold = w.threshold;
      }
      return {
        fullName: `${name}/${wname}`,
        testName: name,
        name: wname,
        labels: [...new Set([...labels, ...(Array.isArray(w.labels) ? w.labels.map(String) : [])])],
        threshold,
        params,
        featureGates: { ...(tc.featureGates ?? {}), ...(w.featureGates ?? {}) },
        ops,
        schedulerConfigPath,
      };
    });
    return { name, labels, workloads };
  });
}

/**
 * Upstream's label filter: comma-separated labels; `label` or `+label` must be present,
 * `-label` must be absent. An empty filter selects everything.
 */
export function matchesLabelFilter(labels: readonly string[], filter: string): boolean {
  for (const raw of filter.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw.startsWith('-')) {
      if (labels.includes(raw.slice(1))) return false;
    } else if (!labels.includes(raw.startsWith('+') ? raw.slice(1) : raw)) return false;
  }
  return true;
}

/**
 * The workloads to run: `name` matches a workload's own name or its "<test>/<workload>"
 * full name (or a test case name, selecting all its workloads).
 */
export function selectWorkloads(cases: readonly TestCase[], opts: { name?: string; labelFilter?: string }): Workload[] {
  const all = cases.flatMap((c) => c.workloads);
  return all.filter(
    (w) =>
      (!opts.name || w.name === opts.name || w.fullName === opts.name || w.testName === opts.name) &&
      (!opts.labelFilter || matchesLabelFilter(w.labels, opts.labelFilter)),
  );
}
