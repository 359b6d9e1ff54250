/**
 * Object templates: Kubernetes YAML files (a Node, a Pod, a Namespace, anything for
 * createAny) instantiated once per object. Like upstream, names come from
 * `generateName`, so templates carry no index; `{{.Index}}` and `{{.Count}}` in a
 * template's text are replaced for templates that do want one.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import YAML from 'yaml';
import { deepFreeze } from '../../lib/api/canonical.js';
import type { KubeObject, ResourceRef } from '../../lib/client/mod.js';
import { ConfigError, type CreateNodesOp } from './config.js';

/** Put on every object the benchmark creates, so a run on a shared cluster can clean up after itself. */
export const RUN_LABEL = 'scheduler-perf.flotilla.dev/run';

/** Upstream's default node (node-default.yaml): 4 CPUs, 32 GiB, 110 pods, Ready. */
export const DEFAULT_NODE: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { generateName: 'scheduler-perf-' },
  spec: {},
  status: {
    capacity: { pods: '110', cpu: '4', memory: '32Gi' },
    conditions: [{ status: 'True', type: 'Ready' }],
    phase: 'Running',
  },
};

/** Upstream's default pod (pod-default.yaml): pause, 100m CPU and 500Mi requested and limited. Frozen: pods share it. */
export const DEFAULT_POD: Pod = deepFreeze({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'pod-' },
  spec: {
    containers: [
      {
        image: 'registry.k8s.io/pause:3.10',
        name: 'pause',
        ports: [{ containerPort: 80 }],
        resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } },
      },
    ],
  },
});

interface LoadedTemplate {
  text: string;
  /** parsed once when the text has no per-object placeholders; deep-frozen, as objects made from it may share its members */
  parsed?: KubeObject;
}

const cache = new Map<string, LoadedTemplate>();

function load(file: string): LoadedTemplate {
  let t = cache.get(file);
  if (t) return t;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read template ${file}: ${(e as Error).message}`);
  }
  t = { text };
  if (!text.includes('{{')) t.parsed = deepFreeze(parseObject(text, file));
  cache.set(file, t);
  return t;
}

function parseObject(text: string, file: string): KubeObject {
  let obj: unknown;
  try {
    obj = YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`template ${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(`template ${file} must hold one object`);
  const o = obj as KubeObject;
  if (!o.kind || !o.apiVersion) throw new ConfigError(`template ${file} must set apiVersion and kind`);
  return o;
}

/** A fresh copy of the template's object for the index-th object of `count`. */
export function instantiate<T extends KubeObject = KubeObject>(file: string, index = 0, count = 1): T {
  const t = load(file);
  if (t.parsed) return structuredClone(t.parsed) as T;
  const text = t.text.replaceAll('{{.Index}}', String(index)).replaceAll('{{.Count}}', String(count));
  if (text.includes('{{')) throw new ConfigError(`template ${file} uses a placeholder other than {{.Index}} and {{.Count}}`);
  return parseObject(text, file) as T;
}

function labelled<T extends KubeObject>(obj: T, runId: string | undefined): T {
  if (runId) {
    obj.metadata ??= {};
    obj.metadata.labels = { ...obj.metadata.labels, [RUN_LABEL]: runId };
  }
  return obj;
}

/**
 * The index-th node of a createNodes op: the template (or upstream's default node) with
 * the op's prepare strategies applied. labelNodePrepareStrategy deals the values out in
 * turn (upstream draws at random; dealing keeps domains even and runs repeatable).
 */
export function makeNode(op: CreateNodesOp, index: number, runId?: string): Node {
  const node: Node = op.nodeTemplatePath ? instantiate<Node>(op.nodeTemplatePath, index, op.count) : structuredClone(DEFAULT_NODE);
  if (node.kind !== 'Node') throw new ConfigError(`node template ${op.nodeTemplatePath} holds a ${node.kind}, not a Node`);
  node.metadata ??= {};
  if (op.labelNodePrepareStrategy) {
    const { labelKey, labelValues } = op.labelNodePrepareStrategy;
    node.metadata.labels = { ...node.metadata.labels, [labelKey]: labelValues[index % labelValues.length] };
  }
  if (op.uniqueNodeLabelStrategy) {
    node.metadata.labels = { ...node.metadata.labels, [op.uniqueNodeLabelStrategy.labelKey]: randomUUID() };
  }
  const allocatable = op.nodeAllocatableStrategy?.nodeAllocatable;
  if (allocatable) {
    const status = { ...node.status };
    // both: the apiserver defaults allocatable from capacity only when allocatable is unset
    status.capacity = { ...status.capacity, ...allocatable };
    status.allocatable = { ...(status.allocatable ?? status.capacity), ...allocatable };
    (node as { status?: typeof status }).status = status;
  }
  return labelled(node, runId);
}

/**
 * The index-th pod of a createPods op, in `namespace`. A pod is only sent, never changed
 * after this: it shares its template's frozen members but metadata, which is its own (a
 * deep copy per pod was a sixth of the benchmark client's CPU, on the two cores the
 * measured processes share).
 */
export function makePod(templatePath: string | undefined, namespace: string, index: number, count: number, runId?: string): Pod {
  const shared = (templatePath ? load(templatePath).parsed : DEFAULT_POD) as Pod | undefined;
  const pod: Pod = shared ? { ...shared, metadata: { ...shared.metadata } } : instantiate<Pod>(templatePath!, index, count);
  if (pod.kind !== 'Pod') throw new ConfigError(`pod template ${templatePath} holds a ${pod.kind}, not a Pod`);
  pod.metadata ??= {};
  pod.metadata.namespace = namespace;
  return labelled(pod, runId);
}

export function makeNamespace(templatePath: string | undefined, name: string, index: number, count: number, runId?: string): Namespace {
  const ns: Namespace = templatePath ? instantiate<Namespace>(templatePath, index, count) : { apiVersion: 'v1', kind: 'Namespace', metadata: {} };
  if (ns.kind !== 'Namespace') throw new ConfigError(`namespace template ${templatePath} holds a ${ns.kind}, not a Namespace`);
  ns.metadata = { ...ns.metadata, name };
  delete ns.metadata.generateName;
  return labelled(ns, runId);
}

/** Where objects of a kind live in the API (a client's REST mapping), for createAny and churn. */
const REST_MAPPING: Record<string, { resource: string; namespaced: boolean }> = {
  'v1/Pod': { resource: 'pods', namespaced: true },
  'v1/Node': { resource: 'nodes', namespaced: false },
  'v1/Namespace': { resource: 'namespaces', namespaced: false },
  'v1/Service': { resource: 'services', namespaced: true },
  'v1/ConfigMap': { resource: 'configmaps', namespaced: true },
  'v1/Secret': { resource: 'secrets', namespaced: true },
  'v1/PersistentVolume': { resource: 'persistentvolumes', namespaced: false },
  'v1/PersistentVolumeClaim': { resource: 'persistentvolumeclaims', namespaced: true },
  'scheduling.k8s.io/v1/PriorityClass': { resource: 'priorityclasses', namespaced: false },
  'policy/v1/PodDisruptionBudget': { resource: 'poddisruptionbudgets', namespaced: true },
  'apps/v1/Deployment': { resource: 'deployments', namespaced: true },
  'apps/v1/ReplicaSet': { resource: 'replicasets', namespaced: true },
};

/** The API reference to create `obj` under (namespaced kinds go to `namespace`, default "default"). */
export function restRef(obj: KubeObject, namespace?: string): ResourceRef {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const m = REST_MAPPING[key];
  if (!m) throw new ConfigError(`no REST mapping for ${key} (known: ${Object.keys(REST_MAPPING).join(', ')})`);
  const slash = obj.apiVersion!.lastIndexOf('/');
  const group = slash < 0 ? '' : obj.apiVersion!.slice(0, slash);
  const version = obj.apiVersion!.slice(slash + 1);
  const ref: ResourceRef = { group, version, resource: m.resource };
  if (m.namespaced) ref.namespace = namespace ?? obj.metadata?.namespace ?? 'default';
  return ref;
}

/** An object for createAny/churn from its template, with the run label and namespace applied. */
export function makeAny(templatePath: string, index: number, count: number, namespace: string | undefined, runId?: string): { ref: ResourceRef; body: KubeObject } {
  const body = instantiate(templatePath, index, count);
  const ref = restRef(body, namespace);
  if (ref.namespace) {
    body.metadata ??= {};
    body.metadata.namespace = ref.namespace;
  }
  return { ref, body: labelled(body, runId) };
}
