/**
 * What the browser may change, each one call over its WebSocket ({op: 'call', id, method,
 * args}): scale, restart and delete a workload, cordon, uncordon and drain a node, read
 * and replace any object as YAML. Each is the same request kubectl makes (a merge patch of
 * spec.replicas, of the template's restartedAt annotation, of spec.unschedulable; a
 * pod's eviction; a PUT with fieldValidation=Strict), so the apiserver validates and
 * answers as it does for kubectl.
 */
import YAML from 'yaml';
import type { ApiClient, KubeObject } from '../../lib/client/mod.js';
import { PODS, StatusError } from '../../lib/client/mod.js';
import type { ObjectRef } from './objectwatch.js';
import { QueryError } from './tables.js';

/** A cause of a refused write, with the line of the submitted YAML its field is on. */
export interface FieldCause {
  field?: string;
  message: string;
  reason?: string;
  line?: number;
}

/** A refused edit: the apiserver's Status (or the YAML's own errors), each cause placed at its line. */
export class EditError extends Error {
  constructor(
    message: string,
    readonly causes: FieldCause[],
    readonly status?: StatusError,
  ) {
    super(message);
  }
}

const SCALABLE = new Set(['deployments', 'statefulsets', 'replicasets']);
const RESTARTABLE = new Set(['deployments', 'statefulsets', 'daemonsets']);

function ref(args: any): ObjectRef {
  const r = args?.ref;
  if (!r || typeof r.resource !== 'string' || typeof r.name !== 'string' || !r.name) throw new QueryError('args.ref {group, version, resource, namespace, name} is required');
  return { group: r.group ?? '', version: r.version ?? 'v1', resource: r.resource, namespace: r.namespace || undefined, name: r.name };
}

/** "spec.template.spec.containers[0].image" → ['spec', 'template', 'spec', 'containers', 0, 'image'] */
export function fieldPath(field: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** The 1-based line of the YAML the field is on, or of its nearest parent that is there. */
export function lineOf(doc: YAML.Document, text: string, field: string): number | undefined {
  const path = fieldPath(field);
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as YAML.Node | undefined;
    // a scalar's range starts at its value; its key is on the same line
    const at = node && 'range' in node ? node.range?.[0] : undefined;
    if (at !== undefined) return text.slice(0, at).split('\n').length;
  }
  return undefined;
}

export async function call(client: ApiClient, method: string, args: any): Promise<unknown> {
  switch (method) {
    case 'scale': {
      const r = ref(args);
      if (!SCALABLE.has(r.resource)) throw new QueryError(`${r.resource} cannot be scaled`);
      const replicas = Number(args.replicas);
      if (!Number.isInteger(replicas) || replicas < 0) throw new QueryError(`replicas must be a whole number >= 0, not ${args.replicas}`);
      return await client.patch(r, 'merge', { spec: { replicas } });
    }
    case 'restart': {
      const r = ref(args);
      if (!RESTARTABLE.has(r.resource)) throw new QueryError(`${r.resource} cannot be restarted`);
      // kubectl rollout restart's annotation: a template change rolls every pod
      return await client.patch(r, 'merge', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
    }
    case 'delete':
      return await client.delete(ref(args), { propagationPolicy: 'Background' });
    case 'cordon':
    case 'uncordon': {
      const name = String(args?.name ?? '');
      if (!name) throw new QueryError('args.name (the node) is required');
      return await client.patch({ group: '', version: 'v1', resource: 'nodes', name }, 'merge', { spec: { unschedulable: method === 'cordon' ? true : null } });
    }
    case 'drain':
      return await drain(client, String(args?.name ?? ''));
    case 'yaml': {
      const obj = await client.get<KubeObject>(ref(args));
      delete obj.metadata?.managedFields;
      return { yaml: YAML.stringify(obj) };
    }
    case 'replace':
      return await replace(client, ref(args), String(args?.yaml ?? ''));
    default:
      throw new QueryError(`unknown method "${method}"`);
  }
}

/** kubectl drain: cordon, then evict every pod on the node but DaemonSets' and mirror pods (they would come back). */
async function drain(client: ApiClient, node: string): Promise<{ evicted: string[] }> {
  if (!node) throw new QueryError('args.name (the node) is required');
  await client.patch({ group: '', version: 'v1', resource: 'nodes', name: node }, 'merge', { spec: { unschedulable: true } });
  const pods = await client.list<any>(PODS, { fieldSelector: `spec.nodeName=${node}` });
  const evict = pods.items.filter(
    (p) => !p.metadata?.ownerReferences?.some((o: any) => o.kind === 'DaemonSet') && !p.metadata?.annotations?.['kubernetes.io/config.mirror'] && !p.metadata?.deletionTimestamp,
  );
  await Promise.all(
    evict.map((p) =>
      client.request({ ...PODS, namespace: p.metadata.namespace, name: p.metadata.name, subresource: 'eviction', verb: 'create', body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: p.metadata.namespace } } }),
    ),
  );
  return { evicted: evict.map((p) => `${p.metadata.namespace}/${p.metadata.name}`) };
}

async function replace(client: ApiClient, r: ObjectRef, text: string): Promise<KubeObject> {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) {
    const causes = doc.errors.map((e) => ({ message: e.message.split('\n')[0]!, line: e.linePos?.[0]?.line }));
    throw new EditError('the YAML does not parse', causes);
  }
  const obj = doc.toJS() as KubeObject;
  if (!obj || typeof obj !== 'object') throw new EditError('the YAML is not an object', []);
  try {
    return await client.update(r, obj, { fieldValidation: 'Strict' });
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    const causes = (e.details?.causes ?? []).map((c) => ({ field: c.field, message: c.message ?? '', reason: c.reason, line: c.field ? lineOf(doc, text, c.field) : undefined }));
    throw new EditError(e.message, causes, e);
  }
}
