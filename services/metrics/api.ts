/**
 * metrics.k8s.io/v1beta1 over HTTP, as metrics-server serves it behind the apiserver's
 * aggregation: discovery (/apis, /apis/metrics.k8s.io, /apis/metrics.k8s.io/v1beta1),
 * NodeMetrics (`nodes`) and PodMetrics (`pods`, all namespaces or one) with list and get,
 * label and field selectors, and Table output when the client asks for it (`kubectl get
 * nodes.metrics.k8s.io`). CPU is in nanocores ("123456n"), memory in bytes ("1234Ki"),
 * as metrics-server writes them.
 *
 * Only pods and nodes that exist are served (`objects`: the service's informers), as
 * metrics-server serves from its listers: a deleted pod's metrics go at once, not at the
 * next scrape. Selectors are about the objects' labels and fields, which the readings do not carry:
 * a list with a selector asks the apiserver which pods or nodes match (one list over
 * NATS, served from its watch cache), as metrics-server's informers would answer.
 */
import type http from 'node:http';
import { BadRequestError, MethodNotAllowedError, NotFoundError, StatusError } from '../../lib/api/errors.js';
import { metaTime } from '../../lib/api/time.js';
import { type ApiClient, Resources } from '../../lib/client/mod.js';
import type { MetricsStore, Usage } from './store.js';

export const GROUP = 'metrics.k8s.io';
export const VERSION = 'v1beta1';
const GV = `${GROUP}/${VERSION}`;
const NODE_METRICS = { group: GROUP, resource: 'nodemetrics', kind: 'NodeMetrics' };
const POD_METRICS = { group: GROUP, resource: 'podmetrics', kind: 'PodMetrics' };

export const RESOURCE_LIST = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: GV,
  resources: [
    { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
  ],
};

const API_GROUP = { name: GROUP, versions: [{ groupVersion: GV, version: VERSION }], preferredVersion: { groupVersion: GV, version: VERSION } };

/** metrics-server's quantities: CPU as nanocores, memory in bytes (Ki when whole). */
export const cpuQuantity = (nanocores: number) => `${Math.max(0, nanocores)}n`;
export const memoryQuantity = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes));
/** a Go time.Duration as String() writes it for windows of seconds ("15s", "15.003s") */
export const windowText = (ms: number) => `${+(ms / 1000).toFixed(3)}s`;

interface Reply {
  code: number;
  body: unknown;
  contentType?: string;
}

function wantsTable(accept: string): boolean {
  return /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** Which pods and nodes exist now (the metrics service's informers). */
export interface ExistingObjects {
  pod(namespace: string, name: string): boolean;
  node(name: string): boolean;
}

export class MetricsApi {
  constructor(
    private readonly store: MetricsStore,
    private readonly client: ApiClient,
    private readonly objects: ExistingObjects,
  ) {}

  async handle(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const accept = String(req.headers.accept ?? '');
    if (segs[0] !== 'apis') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (segs.length === 1) return { code: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [API_GROUP] } };
    if (segs[1] !== GROUP) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (segs.length === 2) return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...API_GROUP } };
    if (segs[2] !== VERSION) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (segs.length === 3) return { code: 200, body: RESOURCE_LIST };
    let rest = segs.slice(3);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] === 'pods') {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, ...extra] = rest;
    if (extra.length || (resource !== 'nodes' && resource !== 'pods') || (resource === 'nodes' && namespace !== undefined)) {
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError('the server does not allow this method on the requested resource');
    const q = url.searchParams;
    if (q.get('watch') === 'true' || q.get('watch') === '1') throw new MethodNotAllowedError('the server does not allow this method on the requested resource');
    const table = wantsTable(accept);
    if (resource === 'nodes') {
      const items = name ? [this.nodeMetrics(name, undefined, true)!] : await this.listNodes(q);
      return this.answer(items, 'NodeMetrics', !!name, table);
    }
    if (name) {
      if (namespace === undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      return this.answer([this.podMetrics(namespace, name, undefined, true)!], 'PodMetrics', true, table);
    }
    return this.answer(await this.listPods(namespace, q), 'PodMetrics', false, table);
  }

  private answer(items: any[], kind: 'NodeMetrics' | 'PodMetrics', single: boolean, table: boolean): Reply {
    if (table) return { code: 200, body: toTable(items, kind), contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
    if (single) return { code: 200, body: items[0] };
    return { code: 200, body: { kind: `${kind}List`, apiVersion: GV, metadata: {}, items } };
  }

  private nodeMetrics(name: string, labels: Record<string, string> | undefined, mustExist: boolean): object | undefined {
    const u = this.objects.node(name) ? this.store.nodeUsage(name) : undefined;
    if (!u) {
      if (mustExist) throw new NotFoundError(NODE_METRICS, name);
      return undefined;
    }
    return { kind: 'NodeMetrics', apiVersion: GV, metadata: meta(name, undefined, labels), ...window(u), usage: { cpu: cpuQuantity(u.cpu), memory: memoryQuantity(u.memory) } };
  }

  private podMetrics(namespace: string, name: string, labels: Record<string, string> | undefined, mustExist: boolean): object | undefined {
    const u = this.objects.pod(namespace, name) ? this.store.podUsage(namespace, name) : undefined;
    if (!u) {
      if (mustExist) throw new NotFoundError(POD_METRICS, `${namespace}/${name}`);
      return undefined;
    }
    return {
      kind: 'PodMetrics',
      apiVersion: GV,
      metadata: meta(name, namespace, labels),
      timestamp: metaTime(u.timestamp),
      window: windowText(u.windowMs),
      containers: u.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpu), memory: memoryQuantity(c.memory) } })),
    };
  }

  private selectors(q: URLSearchParams): { labelSelector?: string; fieldSelector?: string } | undefined {
    const labelSelector = q.get('labelSelector') || undefined;
    const fieldSelector = q.get('fieldSelector') || undefined;
    return labelSelector || fieldSelector ? { labelSelector, fieldSelector } : undefined;
  }

  private async listNodes(q: URLSearchParams): Promise<object[]> {
    const sel = this.selectors(q);
    if (!sel) return [...this.store.nodeNames()].sort().flatMap((n) => this.nodeMetrics(n, undefined, false) ?? []);
    const nodes = await this.matching(Resources.nodes, undefined, sel);
    return nodes.flatMap((o) => this.nodeMetrics(o.metadata.name, o.metadata.labels, false) ?? []);
  }

  private async listPods(namespace: string | undefined, q: URLSearchParams): Promise<object[]> {
    const sel = this.selectors(q);
    if (!sel) {
      const keys = [...this.store.podKeys(namespace)].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
      return keys.flatMap(([ns, name]) => this.podMetrics(ns, name, undefined, false) ?? []);
    }
    const pods = await this.matching(Resources.pods, namespace, sel);
    return pods.flatMap((o) => this.podMetrics(o.metadata.namespace, o.metadata.name, o.metadata.labels, false) ?? []);
  }

  /** The objects the apiserver says match the selectors (a bad selector is its 400, passed on). */
  private async matching(gvr: { group: string; version: string; resource: string }, namespace: string | undefined, sel: { labelSelector?: string; fieldSelector?: string }): Promise<any[]> {
    try {
      return (await this.client.list<any>({ ...gvr, namespace }, sel)).items;
    } catch (e) {
      if (e instanceof StatusError) throw e;
      throw new BadRequestError(`listing ${gvr.resource} for the selector: ${(e as Error).message}`);
    }
  }
}

function meta(name: string, namespace: string | undefined, labels: Record<string, string> | undefined): object {
  const m: Record<string, unknown> = { name };
  if (namespace !== undefined) m.namespace = namespace;
  // as metrics-server: the metrics object is made now
  m.creationTimestamp = metaTime();
  if (labels && Object.keys(labels).length) m.labels = labels;
  return m;
}

function window(u: Usage): { timestamp: string; window: string } {
  return { timestamp: metaTime(u.timestamp), window: windowText(u.windowMs) };
}

/** metrics-server's table: Name, CPU, Memory, Window. */
function toTable(items: any[], kind: 'NodeMetrics' | 'PodMetrics'): object {
  const usage = (o: any, r: 'cpu' | 'memory') => (kind === 'NodeMetrics' ? o.usage[r] : sumQuantities(o.containers.map((c: any) => c.usage[r]), r));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
      { name: 'CPU', type: 'string', format: '', description: 'CPU usage', priority: 0 },
      { name: 'Memory', type: 'string', format: '', description: 'Memory usage', priority: 0 },
      { name: 'Window', type: 'string', format: '', description: 'Interval over which the usage was measured', priority: 0 },
    ],
    rows: items.map((o) => ({
      cells: [o.metadata.name, usage(o, 'cpu'), usage(o, 'memory'), o.window],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

function sumQuantities(qs: string[], r: 'cpu' | 'memory'): string {
  if (r === 'cpu') return cpuQuantity(qs.reduce((s, q) => s + Number(q.replace(/n$/, '')), 0));
  return memoryQuantity(qs.reduce((s, q) => s + (q.endsWith('Ki') ? Number(q.slice(0, -2)) * 1024 : Number(q)), 0));
}
