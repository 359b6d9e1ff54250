/**
 * apiregistration.k8s.io/v1: APIService, which tells the apiserver to serve one group
 * version from another server (API aggregation: services/apiserver/aggregator/).
 * Protobuf numbers follow k8s.io/kube-aggregator apiregistration/v1 generated.proto.
 */
import { define, defineObject, field, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { ageColumn } from './apps-v1.js';
import { invalid, required } from '../fielderrors.js';
import { isDNS1035Label, isDNS1123Subdomain } from '../../api/names.js';

const REG = 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.';

/** upstream's default spec.service.port */
export const DEFAULT_APISERVICE_PORT = 443;

defineObject(REG + 'APIService', 'APIService represents a server for a particular GroupVersion. Name must be "version.group".', {
  spec: field(2, fieldType.ref(REG + 'APIServiceSpec'), 'Spec contains information for locating and communicating with a server.'),
  status: field(3, fieldType.ref(REG + 'APIServiceStatus'), 'Status contains derived information about an API server.'),
});

define(REG + 'APIServiceSpec', 'APIServiceSpec contains information for locating and communicating with a server.', {
  service: field(1, fieldType.ref(REG + 'ServiceReference'), 'The service that serves this group version. Unset means the API is handled locally by this apiserver.'),
  group: field(2, fieldType.string, 'The API group name this server hosts.'),
  version: field(3, fieldType.string, 'The API version this server hosts, e.g. "v1".'),
  insecureSkipTLSVerify: field(4, fieldType.boolean, 'Disables TLS certificate verification when talking to this server.'),
  caBundle: field(5, fieldType.bytes, 'A PEM encoded CA bundle used to validate the serving certificate of the API server.'),
  groupPriorityMinimum: field(7, fieldType.int32, 'The priority this group should have at least; higher priority groups are listed first by clients.', { required: true }),
  versionPriority: field(8, fieldType.int32, 'The ordering of this version inside its group; higher comes first.', { required: true }),
});

define(REG + 'ServiceReference', 'ServiceReference holds a reference to Service.legacy.k8s.io.', {
  namespace: field(1, fieldType.string, 'The namespace of the service.'),
  name: field(2, fieldType.string, 'The name of the service.'),
  port: field(3, fieldType.int32, 'The service port the API server listens on; defaults to 443.', { pointer: true }),
});

define(REG + 'APIServiceStatus', 'APIServiceStatus contains derived information about an API server.', {
  conditions: field(1, fieldType.array(fieldType.ref(REG + 'APIServiceCondition')), 'Current service state of the APIService.', {
    mergeKey: 'type',
    strategy: 'merge',
    listType: 'map',
    listMapKeys: ['type'],
  }),
});

define(REG + 'APIServiceCondition', 'APIServiceCondition describes the state of an APIService at a particular point.', {
  type: field(1, fieldType.string, 'Type is the type of the condition (Available).', { required: true }),
  status: field(2, fieldType.string, 'Status is the status of the condition: True, False or Unknown.', { required: true }),
  lastTransitionTime: field(3, fieldType.time, 'The last time the condition transitioned from one status to another.'),
  reason: field(4, fieldType.string, "Unique, one-word, CamelCase reason for the condition's last transition."),
  message: field(5, fieldType.string, 'Human-readable message indicating details about last transition.'),
});

function validateAPIService(obj: any): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj?.spec ?? {};
  const group: string = spec.group ?? '';
  const version: string = spec.version ?? '';
  const wanted = `${version}.${group}`;
  if (obj?.metadata?.name !== wanted) errs.push(invalid('metadata.name', obj?.metadata?.name, `must be \`spec.version+"."+spec.group\`: "${wanted}"`));
  // only the legacy core group version ("v1.") has no group
  if (!group && version !== 'v1') errs.push(required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group) for (const m of isDNS1123Subdomain(group)) errs.push(invalid('spec.group', group, m));
  if (!version) errs.push(required('spec.version'));
  else for (const m of isDNS1035Label(version)) errs.push(invalid('spec.version', version, m));
  const gpm = spec.groupPriorityMinimum;
  if (!(typeof gpm === 'number' && gpm > 0 && gpm <= 20000)) errs.push(invalid('spec.groupPriorityMinimum', gpm ?? 0, 'must be positive and less than 20000'));
  const vp = spec.versionPriority;
  if (!(typeof vp === 'number' && vp > 0 && vp <= 1000)) errs.push(invalid('spec.versionPriority', vp ?? 0, 'must be positive and less than 1000'));
  if (!spec.service) {
    if (spec.caBundle) errs.push(invalid('spec.caBundle', `${String(spec.caBundle).length} bytes`, 'local APIServices may not have a caBundle'));
    if (spec.insecureSkipTLSVerify) errs.push(invalid('spec.insecureSkipTLSVerify', spec.insecureSkipTLSVerify, 'local APIServices may not have insecureSkipTLSVerify'));
    return errs;
  }
  const svc = spec.service;
  if (!svc.namespace) errs.push(required('spec.service.namespace'));
  if (!svc.name) errs.push(required('spec.service.name'));
  if (svc.port !== undefined && svc.port !== null && !(Number.isInteger(svc.port) && svc.port >= 1 && svc.port <= 65535)) {
    errs.push(invalid('spec.service.port', svc.port, 'port is not valid: must be between 1 and 65535, inclusive'));
  }
  if (spec.insecureSkipTLSVerify && spec.caBundle) errs.push(invalid('spec.insecureSkipTLSVerify', spec.insecureSkipTLSVerify, 'may not be true if caBundle is present'));
  return errs;
}

/** The Available condition, as `kubectl get apiservices` prints it: "True", or "False (Reason)". */
function availableColumn(o: any): string {
  const c = (o?.status?.conditions ?? []).find((x: any) => x?.type === 'Available');
  if (!c) return 'Unknown';
  return c.status === 'True' ? 'True' : `${c.status} (${c.reason ?? ''})`;
}

registerKind({
  group: 'apiregistration.k8s.io',
  version: 'v1',
  kind: 'APIService',
  plural: 'apiservices',
  singular: 'apiservice',
  categories: ['api-extensions'],
  namespaced: false,
  definition: REG + 'APIService',
  subresources: ['status'],
  generation: true,
  validate: validateAPIService,
  defaults: (obj) => {
    if (obj?.spec?.service && (obj.spec.service.port === undefined || obj.spec.service.port === null)) obj.spec.service.port = DEFAULT_APISERVICE_PORT;
  },
  columns: [
    {
      name: 'Service',
      type: 'string',
      priority: 0,
      description: 'The service that serves the group version, or Local.',
      value: (o) => (o?.spec?.service ? `${o.spec.service.namespace}/${o.spec.service.name}` : 'Local'),
    },
    { name: 'Available', type: 'string', priority: 0, description: 'Whether the group version is available.', value: availableColumn },
    ageColumn,
  ],
});
