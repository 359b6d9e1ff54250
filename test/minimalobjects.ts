/**
 * The smallest valid object of each served kind, for tests that must exercise every kind
 * (delete-collection, option handling): what each kind's validation requires and nothing
 * more. A kind without an entry (one a test registers) gets its required fields filled
 * from the schema.
 */
import { apiVersionOf, maybeTypeDef } from '../lib/schema/registry.js';
import type { KindDef, Prop } from '../lib/schema/types.js';

const podSpec = () => ({ containers: [{ name: 'c', image: 'busybox' }] });
const template = (labels: Record<string, string>, restartPolicy?: string) => ({
  metadata: { labels },
  spec: { ...podSpec(), ...(restartPolicy ? { restartPolicy } : {}) },
});

/** the parts beyond metadata, by `<group>/<Kind>`; `name` lets a kind tie its selector to the object */
const BODIES: Record<string, (name: string) => Record<string, unknown>> = {
  '/Pod': () => ({ spec: podSpec() }),
  '/PodTemplate': (n) => ({ template: template({ app: n }) }),
  '/Node': () => ({}),
  '/Service': (n) => ({ spec: { ports: [{ port: 80 }], selector: { app: n } } }),
  '/Endpoints': () => ({}),
  '/ConfigMap': () => ({ data: { a: '1' } }),
  '/Secret': () => ({ stringData: { a: '1' } }),
  '/ServiceAccount': () => ({}),
  '/Event': (n) => ({
    involvedObject: { kind: 'Pod', name: n, apiVersion: 'v1' },
    reason: 'Test',
    message: 'minimal event',
    source: { component: 'test' },
    type: 'Normal',
  }),
  'apps/Deployment': (n) => ({ spec: { selector: { matchLabels: { app: n } }, template: template({ app: n }) } }),
  'apps/ReplicaSet': (n) => ({ spec: { selector: { matchLabels: { app: n } }, template: template({ app: n }) } }),
  'apps/DaemonSet': (n) => ({ spec: { selector: { matchLabels: { app: n } }, template: template({ app: n }) } }),
  'apps/StatefulSet': (n) => ({ spec: { serviceName: n, selector: { matchLabels: { app: n } }, template: template({ app: n }) } }),
  'apps/ControllerRevision': () => ({ revision: 1 }),
  'batch/Job': () => ({ spec: { template: { spec: { ...podSpec(), restartPolicy: 'Never' } } } }),
  'batch/CronJob': () => ({
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { ...podSpec(), restartPolicy: 'Never' } } } } },
  }),
  'coordination.k8s.io/Lease': () => ({ spec: {} }),
  'scheduling.k8s.io/PriorityClass': () => ({ value: 1000 }),
  // the name is "<version>.<group>" (minimalName makes one)
  'apiregistration.k8s.io/APIService': (n) => ({ spec: { group: n.replace(/^v1\./, ''), version: 'v1', groupPriorityMinimum: 1, versionPriority: 1 } }),
  'discovery.k8s.io/EndpointSlice': () => ({ addressType: 'IPv4', endpoints: [] }),
  'events.k8s.io/Event': (n) => ({
    eventTime: '2026-01-01T00:00:00.000000Z',
    reportingController: 'example.com/test',
    reportingInstance: 'test-1',
    action: 'Test',
    reason: 'Test',
    type: 'Normal',
    regarding: { kind: 'Pod', name: n, apiVersion: 'v1' },
  }),
  'policy/PodDisruptionBudget': (n) => ({ spec: { minAvailable: 1, selector: { matchLabels: { app: n } } } }),
};

/** a value for a required field the schema describes, for kinds without an entry above */
function placeholder(p: Prop, depth: number): unknown {
  switch (p.type) {
    case 'string':
      return p.enum?.[0] ?? 'x';
    case 'int32':
    case 'int64':
    case 'double':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'map':
      return {};
    case 'quantity':
      return '1';
    case 'intOrString':
      return 1;
    case 'time':
      return '2026-01-01T00:00:00Z';
    case 'microTime':
      return '2026-01-01T00:00:00.000000Z';
    case 'bytes':
      return '';
    case 'any':
      return {};
    case 'ref':
      return depth > 4 ? {} : requiredFields(p.ref, depth + 1);
  }
}

function requiredFields(typeName: string, depth: number): Record<string, unknown> {
  const t = maybeTypeDef(typeName);
  const out: Record<string, unknown> = {};
  if (!t) return out;
  for (const [name, f] of Object.entries(t.fields)) {
    if (f.required && name !== 'metadata' && name !== 'apiVersion' && name !== 'kind') out[name] = placeholder(f, depth);
  }
  return out;
}

/** A name valid for `kind` made from `base`: an APIService's must be "<version>.<group>". */
export function minimalName(kind: KindDef, base: string): string {
  return kind.group === 'apiregistration.k8s.io' && kind.kind === 'APIService' ? `v1.${base}.example.com` : base;
}

/** A valid object of `kind` named `name` (in `namespace` when the kind is namespaced). */
export function minimalObject(kind: KindDef, name: string, labels: Record<string, string> = {}, namespace?: string): any {
  const body = BODIES[`${kind.group}/${kind.kind}`]?.(name) ?? requiredFields(kind.definition, 0);
  const metadata: Record<string, unknown> = { name, labels };
  if (kind.namespaced && namespace) metadata.namespace = namespace;
  return { apiVersion: apiVersionOf(kind), kind: kind.kind, metadata, ...body };
}
