/**
 * OpenAPI documents derived from the schema registry: swagger 2.0 for `/openapi/v2`
 * (JSON, and protobuf for kubectl 1.27–1.28) and OpenAPI 3.0 per group-version for
 * `/openapi/v3`. kubectl relies on three things here: `x-kubernetes-group-version-kind`
 * on kind schemas (explain), every `$ref` resolving (apply parses the whole v2 document
 * and gives up on a dangling one), and a `fieldValidation` query parameter on each kind's
 * PATCH operation (its QueryParamVerifier decides server-side validation from that).
 *
 * Parameters are written inline on each operation, never as `$ref`s into global
 * parameters: kubectl's v3 verifier does not resolve such references.
 */
import { createHash } from 'node:crypto';
import { field, META, fieldType } from './dsl.js';
import { allKinds, allTypes } from './registry.js';
import type { Field, KindDef, Prop, SubresourceName, TypeDef } from './types.js';
import { encodeOpenAPIv2 } from './openapi-proto.js';
import './kinds/meta-v1.js';

type Json = Record<string, any>;
interface GVK {
  group: string;
  version: string;
  kind: string;
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIME = META + 'Time';
const MICRO_TIME = META + 'MicroTime';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const DELETE_OPTIONS = META + 'DeleteOptions';
const STATUS = META + 'Status';
const WATCH_EVENT = META + 'WatchEvent';
const PATCH = META + 'Patch';
const API_RESOURCE_LIST = META + 'APIResourceList';
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
const PRODUCES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const PRODUCES_WATCH = [...PRODUCES, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];

// ---------------------------------------------------------------------------------
// Types Flotilla serves but no kind module describes: apimachinery's wire types and the
// bodies of subresources. A registered TypeDef of the same name always wins.

/** Types whose JSON form is a scalar: written as literal schemas, per document version. */
const SCALAR_TYPES: Record<string, { v2: Json; v3: Json }> = {
  [QUANTITY]: {
    v2: { type: 'string' },
    v3: { oneOf: [{ type: 'string' }, { type: 'number' }] },
  },
  [INT_OR_STRING]: {
    v2: { type: 'string', format: 'int-or-string' },
    v3: { oneOf: [{ type: 'integer' }, { type: 'string' }], format: 'int-or-string' },
  },
  [TIME]: { v2: { type: 'string', format: 'date-time' }, v3: { type: 'string', format: 'date-time' } },
  [MICRO_TIME]: { v2: { type: 'string', format: 'date-time' }, v3: { type: 'string', format: 'date-time' } },
  [RAW_EXTENSION]: { v2: { type: 'object' }, v3: { type: 'object' } },
  [PATCH]: { v2: { type: 'object' }, v3: { type: 'object' } },
};
const SCALAR_DESCRIPTIONS: Record<string, string> = {
  [QUANTITY]:
    'Quantity is a fixed-point representation of a number, serialized as a string such as "500m", "1Gi" or "2e3".',
  [INT_OR_STRING]: 'IntOrString is a type that can hold an int32 or a string.',
  [TIME]: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON, in RFC 3339 form.',
  [MICRO_TIME]: 'MicroTime is version of Time with microsecond level precision.',
  [RAW_EXTENSION]: 'RawExtension is used to hold extensions in external versions: any JSON object.',
  [PATCH]: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
};

function builtin(name: string, description: string, fields: Record<string, Field>): TypeDef {
  return { name, description, fields };
}

const apiVersionField = field(0, fieldType.string, 'APIVersion defines the versioned schema of this representation of an object.');
const kindField = field(0, fieldType.string, 'Kind is a string value representing the REST resource this object represents.');

/** Object types that have a standard shape but may be left undescribed by the kind modules. */
const BUILTIN_TYPES: TypeDef[] = [
  builtin(DELETE_OPTIONS, 'DeleteOptions may be provided when deleting an API object.', {
    apiVersion: apiVersionField,
    dryRun: field(5, fieldType.array(fieldType.string), 'When present, indicates that modifications should not be persisted. Valid value: "All".', { listType: 'atomic' }),
    gracePeriodSeconds: field(1, fieldType.int64, 'The duration in seconds before the object should be deleted. Zero means delete immediately.'),
    ignoreStoreReadErrorWithClusterBreakingPotential: field(6, fieldType.boolean, 'If set, an object that cannot be read from the store is deleted anyway; may break the cluster.'),
    kind: kindField,
    orphanDependents: field(3, fieldType.boolean, 'Deprecated: use propagationPolicy. Whether dependents should be orphaned.'),
    preconditions: field(2, fieldType.ref(META + 'Preconditions'), 'Must be fulfilled before a deletion is carried out.'),
    propagationPolicy: field(4, fieldType.string, "Whether and how garbage collection is performed: 'Orphan', 'Background' or 'Foreground'."),
  }),
  builtin(META + 'Preconditions', 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.', {
    resourceVersion: field(2, fieldType.string, 'Specifies the target ResourceVersion'),
    uid: field(1, fieldType.string, 'Specifies the target UID.'),
  }),
  builtin(STATUS, 'Status is a return value for calls that do not return other objects.', {
    apiVersion: apiVersionField,
    code: field(6, fieldType.int32, 'Suggested HTTP return code for this status, 0 if not set.'),
    details: field(5, fieldType.ref(META + 'StatusDetails'), 'Extended data associated with the reason.'),
    kind: kindField,
    message: field(3, fieldType.string, 'A human-readable description of the status of this operation.'),
    metadata: field(1, fieldType.ref(META + 'ListMeta'), "Standard list metadata."),
    reason: field(4, fieldType.string, 'A machine-readable description of why this operation is in the "Failure" status.'),
    status: field(2, fieldType.string, 'Status of the operation. One of: "Success" or "Failure".'),
  }),
  builtin(META + 'StatusDetails', 'StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.', {
    causes: field(4, fieldType.array(fieldType.ref(META + 'StatusCause')), 'The Causes array includes more details associated with the StatusReason failure.', { listType: 'atomic' }),
    group: field(2, fieldType.string, 'The group attribute of the resource associated with the status StatusReason.'),
    kind: field(3, fieldType.string, 'The kind attribute of the resource associated with the status StatusReason.'),
    name: field(1, fieldType.string, 'The name attribute of the resource associated with the status StatusReason.'),
    retryAfterSeconds: field(5, fieldType.int32, 'If specified, the time in seconds before the operation should be retried.'),
    uid: field(6, fieldType.string, 'UID of the resource.'),
  }),
  builtin(META + 'StatusCause', 'StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.', {
    field: field(3, fieldType.string, 'The field of the resource that has caused this error, as named by its JSON serialization.'),
    message: field(2, fieldType.string, 'A human-readable description of the cause of the error.'),
    reason: field(1, fieldType.string, 'A machine-readable description of the cause of the error.'),
  }),
  builtin(WATCH_EVENT, 'Event represents a single event to a watched resource.', {
    object: field(2, fieldType.ref(RAW_EXTENSION), 'Object is: the object, for ADDED, MODIFIED and DELETED; a Status for ERROR; an object with only resourceVersion for BOOKMARK.', { required: true }),
    type: field(1, fieldType.string, 'ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.', { required: true }),
  }),
  builtin(API_RESOURCE_LIST, 'APIResourceList is a list of APIResource, it is used to expose the name of the resources supported in a specific group and version, and if the resource is namespaced.', {
    apiVersion: apiVersionField,
    groupVersion: field(1, fieldType.string, 'groupVersion is the group and version this APIResourceList is for.', { required: true }),
    kind: kindField,
    resources: field(2, fieldType.array(fieldType.ref(META + 'APIResource')), 'resources contains the name of the resources and if they are namespaced.', { required: true, listType: 'atomic' }),
  }),
  builtin(META + 'APIResource', 'APIResource specifies the name of a resource and whether it is namespaced.', {
    categories: field(7, fieldType.array(fieldType.string), 'categories is a list of the grouped resources this resource belongs to (e.g. "all").', { listType: 'atomic' }),
    group: field(8, fieldType.string, 'group is the preferred group of the resource.'),
    kind: field(3, fieldType.string, "kind is the kind for the resource (e.g. 'Foo' is the kind for a resource 'foo')", { required: true }),
    name: field(1, fieldType.string, 'name is the plural name of the resource.', { required: true }),
    namespaced: field(2, fieldType.boolean, 'namespaced indicates if a resource is namespaced or not.', { required: true }),
    shortNames: field(5, fieldType.array(fieldType.string), 'shortNames is a list of suggested short names of the resource.', { listType: 'atomic' }),
    singularName: field(6, fieldType.string, 'singularName is the singular name of the resource.', { required: true }),
    verbs: field(4, fieldType.array(fieldType.string), 'verbs is a list of supported kube verbs.', { required: true }),
    version: field(9, fieldType.string, 'version is the preferred version of the resource.'),
  }),
  builtin(SCALE, 'Scale represents a scaling request for a resource.', {
    apiVersion: apiVersionField,
    kind: kindField,
    metadata: field(1, fieldType.ref(META + 'ObjectMeta'), "Standard object metadata."),
    spec: field(2, fieldType.ref('io.k8s.api.autoscaling.v1.ScaleSpec'), 'spec defines the behavior of the scale.'),
    status: field(3, fieldType.ref('io.k8s.api.autoscaling.v1.ScaleStatus'), 'status is the current status of the scale. Read-only.'),
  }),
  builtin('io.k8s.api.autoscaling.v1.ScaleSpec', 'ScaleSpec describes the attributes of a scale subresource.', {
    replicas: field(1, fieldType.int32, 'replicas is the desired number of instances for the scaled object.'),
  }),
  builtin('io.k8s.api.autoscaling.v1.ScaleStatus', 'ScaleStatus represents the current status of a scale subresource.', {
    replicas: field(1, fieldType.int32, 'replicas is the actual number of observed instances of the scaled object.', { required: true }),
    selector: field(2, fieldType.string, 'selector is the label query over pods that should match the replicas count, in the string form of a label selector.'),
  }),
];

/** Subresources posted as their own kind: the body's type and GVK. */
const SUBRESOURCE_BODIES: Partial<Record<SubresourceName, { type: string; gvk: GVK; description: string }>> = {
  scale: { type: SCALE, gvk: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, description: 'Scale represents a scaling request for a resource.' },
  binding: { type: 'io.k8s.api.core.v1.Binding', gvk: { group: '', version: 'v1', kind: 'Binding' }, description: 'Binding ties one object to another; for example, a pod is bound to a node by a scheduler.' },
  eviction: { type: 'io.k8s.api.policy.v1.Eviction', gvk: { group: 'policy', version: 'v1', kind: 'Eviction' }, description: 'Eviction evicts a pod from its node subject to certain policies and safety constraints.' },
  token: { type: 'io.k8s.api.authentication.v1.TokenRequest', gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, description: 'TokenRequest requests a token for a given service account.' },
};

// ---------------------------------------------------------------------------------
// Paths, independent of the document version.

interface Param {
  name: string;
  in: 'query' | 'path';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

interface Operation {
  method: 'get' | 'put' | 'post' | 'delete' | 'patch';
  id: string;
  description: string;
  action: string;
  gvk?: GVK;
  tag: string;
  params: Param[];
  /** request body type name; `patch` bodies take the patch content types */
  body?: string;
  /** response type per status code; undefined: a plain string (pod logs) */
  responses: Record<string, string | undefined>;
  produces: string[];
  consumes: string[];
}

interface PathSpec {
  path: string;
  params: Param[];
  ops: Operation[];
}

const queryParam = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description });
/** The query parameters upstream documents, by name. */
const QUERY_PARAMS = {
  pretty: queryParam('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: queryParam('dryRun', 'string', 'When present, indicates that modifications should not be persisted. The only valid value is "All".'),
  fieldManager: queryParam('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  fieldValidation: queryParam('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict.'),
  force: queryParam('force', 'boolean', 'Force is going to "force" Apply requests: re-acquire conflicting fields owned by other people. Must be unset for non-apply patch requests.'),
  allowWatchBookmarks: queryParam('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  continue: queryParam('continue', 'string', 'The continue option should be set when retrieving more results from the server, with the value the previous list returned.'),
  fieldSelector: queryParam('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: queryParam('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: queryParam('limit', 'integer', 'limit is a maximum number of responses to return for a list call; more can be fetched with continue.'),
  resourceVersion: queryParam('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  resourceVersionMatch: queryParam('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  sendInitialEvents: queryParam('sendInitialEvents', 'boolean', 'sendInitialEvents=true may be set together with watch=true to start the watch with synthetic events for the current state.'),
  timeoutSeconds: queryParam('timeoutSeconds', 'integer', 'Timeout for the list/watch call, regardless of any activity or inactivity.'),
  watch: queryParam('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
  gracePeriodSeconds: queryParam('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted. Zero means delete immediately.'),
  orphanDependents: queryParam('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy.'),
  propagationPolicy: queryParam('propagationPolicy', 'string', "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'."),
  ignoreStoreReadError: queryParam('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'If set, an object that cannot be read from the store is deleted anyway; may break the cluster.'),
};
const LIST_PARAMS = [QUERY_PARAMS.allowWatchBookmarks, QUERY_PARAMS.continue, QUERY_PARAMS.fieldSelector, QUERY_PARAMS.labelSelector, QUERY_PARAMS.limit, QUERY_PARAMS.resourceVersion, QUERY_PARAMS.resourceVersionMatch, QUERY_PARAMS.sendInitialEvents, QUERY_PARAMS.timeoutSeconds, QUERY_PARAMS.watch];
const WRITE_PARAMS = [QUERY_PARAMS.dryRun, QUERY_PARAMS.fieldManager, QUERY_PARAMS.fieldValidation];
const DELETE_PARAMS = [QUERY_PARAMS.dryRun, QUERY_PARAMS.gracePeriodSeconds, QUERY_PARAMS.ignoreStoreReadError, QUERY_PARAMS.orphanDependents, QUERY_PARAMS.propagationPolicy];
const DELETECOLLECTION_PARAMS = [QUERY_PARAMS.continue, QUERY_PARAMS.dryRun, QUERY_PARAMS.fieldSelector, QUERY_PARAMS.gracePeriodSeconds, QUERY_PARAMS.ignoreStoreReadError, QUERY_PARAMS.labelSelector, QUERY_PARAMS.limit, QUERY_PARAMS.orphanDependents, QUERY_PARAMS.propagationPolicy, QUERY_PARAMS.resourceVersion, QUERY_PARAMS.resourceVersionMatch, QUERY_PARAMS.sendInitialEvents, QUERY_PARAMS.timeoutSeconds];
const LOG_PARAMS = [
  queryParam('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
  queryParam('follow', 'boolean', 'Follow the log stream of the pod.'),
  queryParam('insecureSkipTLSVerifyBackend', 'boolean', 'Do not verify the serving certificate of the backend.'),
  queryParam('limitBytes', 'integer', 'If set, the number of bytes to read from the server before terminating the log output.'),
  queryParam('previous', 'boolean', 'Return previous terminated container logs.'),
  queryParam('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs.'),
  queryParam('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show.'),
  queryParam('timestamps', 'boolean', 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output.'),
];

/** Upstream operation-id fragment of a group: "" -> Core, rbac.authorization.k8s.io -> RbacAuthorization. */
function groupWord(group: string): string {
  if (!group) return 'Core';
  return group.replace(/\.k8s\.io$/, '').split(/[.-]/).map(upperFirst).join('');
}
const upperFirst = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
const lowerFirst = (s: string) => (s ? s[0].toLowerCase() + s.slice(1) : s);

export function groupVersionPath(k: Pick<KindDef, 'group' | 'version'>): string {
  return k.group ? `apis/${k.group}/${k.version}` : `api/${k.version}`;
}

function listDefinitionName(k: KindDef): string {
  return k.listDefinition ?? `${k.definition}List`;
}

function kindPaths(k: KindDef): PathSpec[] {
  const verbs = new Set(k.verbs ?? ALL_VERBS);
  const gvk: GVK = { group: k.group, version: k.version, kind: k.kind };
  const prefix = `/${groupVersionPath(k)}`;
  const ns = k.namespaced ? 'Namespaced' : '';
  const idMid = `${groupWord(k.group)}${upperFirst(k.version)}`;
  const tag = `${lowerFirst(groupWord(k.group))}_${k.version}`;
  const nsSeg = k.namespaced ? '/namespaces/{namespace}' : '';
  const nsParam: Param[] = k.namespaced ? [{ name: 'namespace', in: 'path', type: 'string', description: 'object name and auth scope, such as for teams and projects', required: true }] : [];
  const nameParam: Param = { name: 'name', in: 'path', type: 'string', description: `name of the ${k.kind}`, required: true };
  const list = listDefinitionName(k);
  const op = (o: Omit<Operation, 'tag' | 'consumes' | 'produces'> & Partial<Pick<Operation, 'consumes' | 'produces'>>): Operation => ({
    tag,
    consumes: ['*/*'],
    produces: PRODUCES,
    ...o,
  });
  const paths: PathSpec[] = [];

  const collection: Operation[] = [];
  if (verbs.has('list')) {
    collection.push(op({ method: 'get', id: `list${idMid}${ns}${k.kind}`, description: `list or watch objects of kind ${k.kind}`, action: 'list', gvk, params: LIST_PARAMS, responses: { '200': list }, produces: PRODUCES_WATCH }));
  }
  if (verbs.has('create')) {
    collection.push(op({ method: 'post', id: `create${idMid}${ns}${k.kind}`, description: `create a ${k.kind}`, action: 'post', gvk, params: WRITE_PARAMS, body: k.definition, responses: { '200': k.definition, '201': k.definition, '202': k.definition } }));
  }
  if (verbs.has('deletecollection')) {
    collection.push(op({ method: 'delete', id: `delete${idMid}Collection${ns}${k.kind}`, description: `delete collection of ${k.kind}`, action: 'deletecollection', gvk, params: DELETECOLLECTION_PARAMS, body: DELETE_OPTIONS, responses: { '200': STATUS } }));
  }
  if (collection.length) paths.push({ path: `${prefix}${nsSeg}/${k.plural}`, params: [...nsParam, QUERY_PARAMS.pretty], ops: collection });

  const item: Operation[] = [];
  if (verbs.has('get')) {
    item.push(op({ method: 'get', id: `read${idMid}${ns}${k.kind}`, description: `read the specified ${k.kind}`, action: 'get', gvk, params: [], responses: { '200': k.definition } }));
  }
  if (verbs.has('update')) {
    item.push(op({ method: 'put', id: `replace${idMid}${ns}${k.kind}`, description: `replace the specified ${k.kind}`, action: 'put', gvk, params: WRITE_PARAMS, body: k.definition, responses: { '200': k.definition, '201': k.definition } }));
  }
  if (verbs.has('patch')) {
    item.push(op({ method: 'patch', id: `patch${idMid}${ns}${k.kind}`, description: `partially update the specified ${k.kind}`, action: 'patch', gvk, params: [...WRITE_PARAMS, QUERY_PARAMS.force], body: PATCH, responses: { '200': k.definition, '201': k.definition }, consumes: PATCH_TYPES }));
  }
  if (verbs.has('delete')) {
    item.push(op({ method: 'delete', id: `delete${idMid}${ns}${k.kind}`, description: `delete a ${k.kind}`, action: 'delete', gvk, params: DELETE_PARAMS, body: DELETE_OPTIONS, responses: { '200': k.definition, '202': k.definition } }));
  }
  if (item.length) paths.push({ path: `${prefix}${nsSeg}/${k.plural}/{name}`, params: [nameParam, ...nsParam, QUERY_PARAMS.pretty], ops: item });

  if (verbs.has('watch')) {
    paths.push({
      path: `${prefix}/watch${nsSeg}/${k.plural}`,
      params: [...LIST_PARAMS.slice(0, 4), QUERY_PARAMS.limit, ...nsParam, QUERY_PARAMS.pretty, ...LIST_PARAMS.slice(5)],
      ops: [op({ method: 'get', id: `watch${idMid}${ns}${k.kind}List`, description: `watch individual changes to a list of ${k.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', gvk, params: [], responses: { '200': WATCH_EVENT }, produces: PRODUCES_WATCH })],
    });
    paths.push({
      path: `${prefix}/watch${nsSeg}/${k.plural}/{name}`,
      params: [...LIST_PARAMS.slice(0, 4), QUERY_PARAMS.limit, nameParam, ...nsParam, QUERY_PARAMS.pretty, ...LIST_PARAMS.slice(5)],
      ops: [op({ method: 'get', id: `watch${idMid}${ns}${k.kind}`, description: `watch changes to an object of kind ${k.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, action: 'watch', gvk, params: [], responses: { '200': WATCH_EVENT }, produces: PRODUCES_WATCH })],
    });
  }
  if (k.namespaced && verbs.has('list')) {
    paths.push({
      path: `${prefix}/${k.plural}`,
      params: [...LIST_PARAMS.slice(0, 5), QUERY_PARAMS.pretty, ...LIST_PARAMS.slice(5)],
      ops: [op({ method: 'get', id: `list${idMid}${k.kind}ForAllNamespaces`, description: `list or watch objects of kind ${k.kind}`, action: 'list', gvk, params: [], responses: { '200': list }, produces: PRODUCES_WATCH })],
    });
    if (verbs.has('watch')) {
      paths.push({
        path: `${prefix}/watch/${k.plural}`,
        params: [...LIST_PARAMS.slice(0, 5), QUERY_PARAMS.pretty, ...LIST_PARAMS.slice(5)],
        ops: [op({ method: 'get', id: `watch${idMid}${k.kind}ListForAllNamespaces`, description: `watch individual changes to a list of ${k.kind}. deprecated: use the 'watch' parameter with a list operation instead.`, action: 'watchlist', gvk, params: [], responses: { '200': WATCH_EVENT }, produces: PRODUCES_WATCH })],
      });
    }
  }

  for (const sub of k.subresources ?? []) {
    const word = upperFirst(sub);
    const subPath = `${prefix}${nsSeg}/${k.plural}/{name}/${sub}`;
    const itemParams = [{ ...nameParam, description: `name of the ${SUBRESOURCE_BODIES[sub]?.gvk.kind ?? k.kind}` }, ...nsParam, QUERY_PARAMS.pretty];
    if (sub === 'status' || sub === 'scale' || sub === 'ephemeralcontainers') {
      const body = sub === 'scale' ? SCALE : k.definition;
      const subGvk = sub === 'scale' ? SUBRESOURCE_BODIES.scale!.gvk : gvk;
      paths.push({
        path: subPath,
        params: itemParams,
        ops: [
          op({ method: 'get', id: `read${idMid}${ns}${k.kind}${word}`, description: `read ${sub} of the specified ${k.kind}`, action: 'get', gvk: subGvk, params: [], responses: { '200': body } }),
          op({ method: 'put', id: `replace${idMid}${ns}${k.kind}${word}`, description: `replace ${sub} of the specified ${k.kind}`, action: 'put', gvk: subGvk, params: WRITE_PARAMS, body, responses: { '200': body, '201': body } }),
          op({ method: 'patch', id: `patch${idMid}${ns}${k.kind}${word}`, description: `partially update ${sub} of the specified ${k.kind}`, action: 'patch', gvk: subGvk, params: [...WRITE_PARAMS, QUERY_PARAMS.force], body: PATCH, responses: { '200': body, '201': body }, consumes: PATCH_TYPES }),
        ],
      });
    } else if (sub === 'log') {
      paths.push({
        path: subPath,
        params: [...LOG_PARAMS.slice(0, 2), ...itemParams.slice(0, 1), ...LOG_PARAMS.slice(2, 5), ...itemParams.slice(1), ...LOG_PARAMS.slice(5)],
        ops: [op({ method: 'get', id: `read${idMid}${ns}${k.kind}Log`, description: `read log of the specified ${k.kind}`, action: 'get', gvk, params: [], responses: { '200': undefined }, produces: ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'] })],
      });
    } else if (sub === 'finalize') {
      paths.push({
        path: subPath,
        params: itemParams,
        ops: [op({ method: 'put', id: `replace${idMid}${ns}${k.kind}${word}`, description: `replace finalize of the specified ${k.kind}`, action: 'put', gvk, params: WRITE_PARAMS, body: k.definition, responses: { '200': k.definition, '201': k.definition } })],
      });
    } else if (SUBRESOURCE_BODIES[sub]) {
      const b = SUBRESOURCE_BODIES[sub]!;
      paths.push({
        path: subPath,
        params: itemParams,
        ops: [op({ method: 'post', id: `create${idMid}${ns}${k.kind}${word}`, description: `create ${sub} of a ${k.kind}`, action: 'post', gvk: b.gvk, params: WRITE_PARAMS, body: b.type, responses: { '200': b.type, '201': b.type, '202': b.type } })],
      });
    }
    // Other subresources (connect-style ones) have no typed body to describe.
  }
  return paths;
}

/** `GET /api/v1/` and friends: the group-version's resource list. */
function resourceListPath(group: string, version: string): PathSpec {
  const idMid = `${groupWord(group)}${upperFirst(version)}`;
  return {
    path: `/${groupVersionPath({ group, version })}/`,
    params: [],
    ops: [{
      method: 'get', id: `get${idMid}APIResources`, description: 'get available resources', action: '', tag: `${lowerFirst(groupWord(group))}_${version}`,
      params: [], responses: { '200': API_RESOURCE_LIST }, produces: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'], consumes: ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
    }],
  };
}

// ---------------------------------------------------------------------------------
// The model: every type a document may use, with its GVKs.

interface Model {
  kinds: readonly KindDef[];
  /** object types by name: registered, synthesized lists, built-ins */
  types: Map<string, TypeDef>;
  gvks: Map<string, GVK[]>;
  /** names referenced but described nowhere */
  dangling: Set<string>;
  paths: Map<string, PathSpec[]>; // by group-version path
}

function groupVersions(kinds: readonly KindDef[]): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of kinds) seen.set(groupVersionPath(k), { group: k.group, version: k.version });
  return [...seen.values()];
}

function buildModel(): Model {
  const kinds = allKinds();
  const types = new Map<string, TypeDef>();
  const gvks = new Map<string, GVK[]>();
  const addGvk = (name: string, g: GVK) => {
    const list = gvks.get(name) ?? [];
    if (!list.some((x) => x.group === g.group && x.version === g.version && x.kind === g.kind)) list.push(g);
    gvks.set(name, list);
  };
  for (const t of BUILTIN_TYPES) types.set(t.name, t);
  for (const [name, t] of allTypes()) types.set(name, t);

  const gvs = groupVersions(kinds);
  for (const gv of [{ group: '', version: 'v1' }, ...gvs]) {
    addGvk(DELETE_OPTIONS, { ...gv, kind: 'DeleteOptions' });
    addGvk(WATCH_EVENT, { ...gv, kind: 'WatchEvent' });
  }
  addGvk(STATUS, { group: '', version: 'v1', kind: 'Status' });
  addGvk(API_RESOURCE_LIST, { group: '', version: 'v1', kind: 'APIResourceList' });

  for (const k of kinds) {
    addGvk(k.definition, { group: k.group, version: k.version, kind: k.kind });
    const list = listDefinitionName(k);
    addGvk(list, { group: k.group, version: k.version, kind: `${k.kind}List` });
    if (!types.has(list)) {
      types.set(list, {
        name: list,
        description: `${k.kind}List is a list of ${k.kind} objects.`,
        fields: {
          apiVersion: apiVersionField,
          items: field(2, fieldType.array(fieldType.ref(k.definition)), `List of ${k.plural}.`, { required: true }),
          kind: kindField,
          metadata: field(1, fieldType.ref(META + 'ListMeta'), 'Standard list metadata.'),
        },
      });
    }
    for (const sub of k.subresources ?? []) {
      const b = SUBRESOURCE_BODIES[sub];
      if (!b) continue;
      addGvk(b.type, b.gvk);
      if (!types.has(b.type)) {
        types.set(b.type, {
          name: b.type,
          description: b.description,
          preserveUnknown: true,
          fields: { apiVersion: apiVersionField, kind: kindField, metadata: field(1, fieldType.ref(META + 'ObjectMeta'), 'Standard object metadata.') },
        });
      }
    }
  }

  const paths = new Map<string, PathSpec[]>();
  for (const gv of gvs) paths.set(groupVersionPath(gv), [resourceListPath(gv.group, gv.version)]);
  for (const k of kinds) paths.get(groupVersionPath(k))!.push(...kindPaths(k));

  const dangling = new Set<string>();
  const known = (n: string) => types.has(n) || n in SCALAR_TYPES;
  const visit = (p: Prop) => {
    if (p.type === 'ref' && !known(p.ref)) dangling.add(p.ref);
    else if (p.type === 'array') visit(p.items);
    else if (p.type === 'map') visit(p.values);
  };
  for (const t of types.values()) for (const f of Object.values(t.fields)) visit(f);
  return { kinds, types, gvks, dangling, paths };
}

// ---------------------------------------------------------------------------------
// Rendering schemas. v2 puts `description` beside `$ref`; v3 wraps the `$ref` in allOf
// when it has siblings, as upstream's v3 does.

interface Style {
  version: 2 | 3;
  refPrefix: string;
}
const V2: Style = { version: 2, refPrefix: '#/definitions/' };
const V3: Style = { version: 3, refPrefix: '#/components/schemas/' };

function refSchema(style: Style, name: string, siblings: Json): Json {
  const ref = { $ref: style.refPrefix + name };
  if (style.version === 2 || Object.keys(siblings).length === 0) return { ...ref, ...siblings };
  return { allOf: [ref], ...siblings };
}

/** The schema of one value, with the siblings (description etc.) placed as the style wants. */
function propSchema(style: Style, p: Prop, siblings: Json = {}): Json {
  switch (p.type) {
    case 'string': {
      const s: Json = { type: 'string' };
      if (p.format) s.format = p.format;
      if (p.enum) s.enum = [...p.enum];
      return { ...s, ...siblings };
    }
    case 'int32':
      return { type: 'integer', format: 'int32', ...siblings };
    case 'int64':
      return { type: 'integer', format: 'int64', ...siblings };
    case 'double':
      return { type: 'number', format: 'double', ...siblings };
    case 'boolean':
      return { type: 'boolean', ...siblings };
    case 'bytes':
      return { type: 'string', format: 'byte', ...siblings };
    case 'ref':
      return refSchema(style, p.ref, siblings);
    case 'quantity':
      return refSchema(style, QUANTITY, siblings);
    case 'intOrString':
      return refSchema(style, INT_OR_STRING, siblings);
    case 'time':
      return refSchema(style, TIME, siblings);
    case 'microTime':
      return refSchema(style, MICRO_TIME, siblings);
    case 'array':
      return { type: 'array', items: propSchema(style, p.items), ...siblings };
    case 'map':
      return { type: 'object', additionalProperties: propSchema(style, p.values), ...siblings };
    case 'any':
      return style.version === 3
        ? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...siblings }
        : { type: 'object', ...siblings };
  }
}

function fieldSchema(style: Style, f: Field): Json {
  const siblings: Json = {};
  if (f.description) siblings.description = f.description;
  if (f.default !== undefined && (style.version === 3 || !isRefProp(f))) siblings.default = f.default;
  if (f.listType) siblings['x-kubernetes-list-type'] = f.listType;
  if (f.listMapKeys) siblings['x-kubernetes-list-map-keys'] = [...f.listMapKeys];
  if (f.mapType) siblings['x-kubernetes-map-type'] = f.mapType;
  if (f.mergeKey) siblings['x-kubernetes-patch-merge-key'] = f.mergeKey;
  if (f.strategy) siblings['x-kubernetes-patch-strategy'] = f.strategy;
  return propSchema(style, f, siblings);
}

function isRefProp(p: Prop): boolean {
  return p.type === 'ref' || p.type === 'quantity' || p.type === 'intOrString' || p.type === 'time' || p.type === 'microTime';
}

function definitionSchema(style: Style, model: Model, name: string): Json {
  const scalar = SCALAR_TYPES[name];
  if (scalar) return { description: SCALAR_DESCRIPTIONS[name], ...(style.version === 2 ? scalar.v2 : scalar.v3) };
  const t = model.types.get(name);
  if (!t) {
    // Described nowhere (see unresolvedSchemaRefs): an open object keeps every client parsing.
    return { description: `${name} (no schema is published for this type)`, type: 'object' };
  }
  const s: Json = { description: t.description };
  if (t.openapiType === 'string') {
    s.type = 'string';
  } else {
    s.type = 'object';
    s.properties = {};
    const required: string[] = [];
    for (const [fname, f] of Object.entries(t.fields)) {
      s.properties[fname] = fieldSchema(style, f);
      if (f.required) required.push(fname);
    }
    if (required.length) s.required = required;
    if (t.preserveUnknown) s['x-kubernetes-preserve-unknown-fields'] = true;
    if (t.mapType) s['x-kubernetes-map-type'] = t.mapType;
  }
  const g = model.gvks.get(name);
  if (g) s['x-kubernetes-group-version-kind'] = g.map((x) => ({ group: x.group, kind: x.kind, version: x.version }));
  return s;
}

function gvkExt(g: GVK): Json {
  return { group: g.group, kind: g.kind, version: g.version };
}

function renderV2Path(p: PathSpec): Json {
  const item: Json = {};
  for (const o of p.ops) {
    const params: Json[] = [];
    if (o.body) params.push({ name: 'body', in: 'body', required: true, schema: { $ref: V2.refPrefix + o.body } });
    for (const x of o.params) params.push(v2Param(x));
    const responses: Json = {};
    for (const [code, type] of Object.entries(o.responses)) {
      responses[code] = { description: httpText(code), schema: type ? { $ref: V2.refPrefix + type } : { type: 'string' } };
    }
    responses['401'] = { description: 'Unauthorized' };
    const op: Json = {
      description: o.description,
      consumes: o.consumes,
      produces: o.produces,
      schemes: ['https'],
      tags: [o.tag],
      operationId: o.id,
    };
    if (params.length) op.parameters = params;
    op.responses = responses;
    if (o.action) op['x-kubernetes-action'] = o.action;
    if (o.gvk) op['x-kubernetes-group-version-kind'] = gvkExt(o.gvk);
    item[o.method] = op;
  }
  if (p.params.length) item.parameters = p.params.map(v2Param);
  return item;
}

function v2Param(x: Param): Json {
  const s: Json = { uniqueItems: true, type: x.type, description: x.description, name: x.name, in: x.in };
  if (x.required) s.required = true;
  return s;
}

function v3Param(x: Param): Json {
  const s: Json = { name: x.name, in: x.in, description: x.description, schema: { type: x.type, uniqueItems: true } };
  if (x.required) s.required = true;
  return s;
}

function renderV3Path(p: PathSpec): Json {
  const item: Json = {};
  for (const o of p.ops) {
    const op: Json = { tags: [o.tag], description: o.description, operationId: o.id };
    if (o.params.length) op.parameters = o.params.map(v3Param);
    if (o.body) {
      const schema = { $ref: V3.refPrefix + o.body };
      const content: Json = {};
      for (const t of o.method === 'patch' ? PATCH_TYPES : ['*/*']) content[t] = { schema };
      op.requestBody = { content, required: true };
    }
    const responses: Json = {};
    for (const [code, type] of Object.entries(o.responses)) {
      const schema = type ? { $ref: V3.refPrefix + type } : { type: 'string' };
      const content: Json = {};
      for (const t of o.produces) content[t] = { schema };
      responses[code] = { description: httpText(code), content };
    }
    responses['401'] = { description: 'Unauthorized' };
    op.responses = responses;
    if (o.action) op['x-kubernetes-action'] = o.action;
    if (o.gvk) op['x-kubernetes-group-version-kind'] = gvkExt(o.gvk);
    item[o.method] = op;
  }
  if (p.params.length) item.parameters = p.params.map(v3Param);
  return item;
}

function httpText(code: string): string {
  return ({ '200': 'OK', '201': 'Created', '202': 'Accepted' } as Record<string, string>)[code] ?? code;
}

/** Names of every `$ref` in a rendered schema or path. */
function collectRefs(node: unknown, prefix: string, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const x of node) collectRefs(x, prefix, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) out.add(v.slice(prefix.length));
      else collectRefs(v, prefix, out);
    }
  }
}

/** Every definition name the roots reach, in a stable order. */
function closure(style: Style, model: Model, roots: Iterable<string>, cache: Map<string, Json>): string[] {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    let s = cache.get(name);
    if (!s) cache.set(name, (s = definitionSchema(style, model, name)));
    const refs = new Set<string>();
    collectRefs(s, style.refPrefix, refs);
    for (const r of refs) if (!seen.has(r)) queue.push(r);
  }
  return [...seen].sort();
}

// ---------------------------------------------------------------------------------
// The documents, cached until the registry grows.

interface Built {
  key: string;
  model: Model;
  v2?: Json;
  v2Proto?: Uint8Array;
  v3?: Map<string, { doc: Json; json: string; hash: string }>;
}
let built: Built | undefined;

function current(): Built {
  const key = `${allKinds().length}/${allTypes().size}`;
  if (!built || built.key !== key) built = { key, model: buildModel() };
  return built;
}

const INFO = { title: 'Kubernetes', version: 'unversioned' };

/**
 * Media type of `/openapi/v2` as protobuf. kubectl asks with the deprecated "@" form
 * (application/com.github.proto-openapi.spec.v2@v1.0+protobuf); the answer must carry the
 * "." form, because Go's mime parser (and so kubectl) rejects a Content-Type with "@" in it.
 */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** The swagger 2.0 document served at `/openapi/v2`. */
export function openapiV2(): object {
  const b = current();
  if (b.v2) return b.v2;
  const { model } = b;
  const paths: Json = {};
  const roots = new Set<string>(model.types.keys());
  for (const specs of model.paths.values()) {
    for (const p of specs) {
      paths[p.path] = renderV2Path(p);
      collectRefs(paths[p.path], V2.refPrefix, roots);
    }
  }
  const cache = new Map<string, Json>();
  const definitions: Json = {};
  for (const name of closure(V2, model, roots, cache)) definitions[name] = cache.get(name);
  b.v2 = { swagger: '2.0', info: INFO, paths, definitions };
  return b.v2;
}

/** `/openapi/v2` as gnostic's openapi_v2.Document protobuf (Accept application/com.github.proto-openapi.spec.v2@v1.0+protobuf). */
export function openapiV2Protobuf(): Uint8Array {
  const b = current();
  if (!b.v2Proto) b.v2Proto = encodeOpenAPIv2(openapiV2());
  return b.v2Proto;
}

function v3Documents(): Map<string, { doc: Json; json: string; hash: string }> {
  const b = current();
  if (b.v3) return b.v3;
  const out = new Map<string, { doc: Json; json: string; hash: string }>();
  const cache = new Map<string, Json>();
  for (const [gvPath, specs] of b.model.paths) {
    const paths: Json = {};
    const roots = new Set<string>();
    for (const p of specs) {
      paths[p.path] = renderV3Path(p);
      collectRefs(paths[p.path], V3.refPrefix, roots);
    }
    const schemas: Json = {};
    for (const name of closure(V3, b.model, roots, cache)) schemas[name] = cache.get(name);
    const doc = { openapi: '3.0.0', info: INFO, paths, components: { schemas } };
    const json = JSON.stringify(doc);
    out.set(gvPath, { doc, json, hash: createHash('sha512').update(json).digest('hex').toUpperCase() });
  }
  b.v3 = out;
  return out;
}

/** The `/openapi/v3` index: `{"paths": openapiV3Paths()}`, keyed "api/v1", "apis/apps/v1", ... */
export function openapiV3Paths(): Record<string, { serverRelativeURL: string }> {
  const out: Record<string, { serverRelativeURL: string }> = {};
  for (const [gvPath, d] of v3Documents()) out[gvPath] = { serverRelativeURL: `/openapi/v3/${gvPath}?hash=${d.hash}` };
  return out;
}

/** The OpenAPI 3.0 document of one group-version ("api/v1", "apis/apps/v1"), or undefined. */
export function openapiV3Document(gvPath: string): object | undefined {
  return v3Documents().get(gvPath.replace(/^\/+|\/+$/g, ''))?.doc;
}

/**
 * The same document serialized, with its hash (sha512 of the JSON, upper-case hex:
 * upstream's ETag and `?hash=` value). Serving it as upstream's handler does:
 * Content-Type application/json, `Etag: "<hash>"`; when the request's `hash` differs,
 * 301 to the current serverRelativeURL; when it matches, `Cache-Control: public,
 * immutable`, `Vary: Accept` and an Expires a year ahead.
 */
export function openapiV3Json(gvPath: string): { json: string; hash: string } | undefined {
  const d = v3Documents().get(gvPath.replace(/^\/+|\/+$/g, ''));
  return d && { json: d.json, hash: d.hash };
}

/**
 * Type names that kinds reference but nothing describes. The documents still parse
 * (each gets an open object schema), but a non-empty answer is a gap in a kind module.
 */
export function unresolvedSchemaRefs(): string[] {
  return [...current().model.dangling].sort();
}

