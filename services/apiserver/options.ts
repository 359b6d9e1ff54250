/**
 * The list and delete options of a request, decoded and checked as upstream's REST
 * handlers do before any storage work, so a bad option fails the request before anything
 * is read or deleted:
 *
 * - query parameters by the rules of upstream's ParameterCodec (integers parse as Go's
 *   strconv.ParseInt, booleans are false only for "0" and "false"): a value that does not
 *   parse is a 400 BadRequest with Go's message;
 * - JSON objects (a DeleteOptions request body, the `list` and `delete` of a NATS request)
 *   by their JSON types: a wrong type is a 400 with encoding/json's message;
 * - then ValidateListOptions / ValidateDeleteOptions (k8s.io/apimachinery): a 422 Invalid
 *   on `ListOptions.meta.k8s.io ""` or `DeleteOptions.meta.k8s.io ""`, with field causes.
 */
import { BadRequestError, InvalidError, StatusError, type StatusCause } from '../../lib/api/errors.js';
import type { DeleteOptions, ListOptions } from '../../lib/client/mod.js';
import type { PodLogOptions } from '../../lib/api/podlog.js';

/** upstream's field.Error: one entry of a field.ErrorList */
interface OptionError {
  field: string;
  type: 'Forbidden' | 'Unsupported value' | 'Invalid value';
  /** the value, for the types that print one (JSON-rendered as Go does for non-strings) */
  value?: unknown;
  /** the value as Go prints it when JSON would not match (%#v of a []string) */
  printed?: string;
  detail: string;
}

const CAUSE_REASON: Record<OptionError['type'], string> = {
  Forbidden: 'FieldValueForbidden',
  'Unsupported value': 'FieldValueNotSupported',
  'Invalid value': 'FieldValueInvalid',
};

/** field.Error.ErrorBody(): `Forbidden: detail`, `Unsupported value: "x": supported values: ...` */
function errorBody(e: OptionError): string {
  let s: string = e.type;
  if (e.type !== 'Forbidden') s += `: ${e.printed ?? JSON.stringify(e.value)}`;
  return e.detail ? `${s}: ${e.detail}` : s;
}

/** errors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: kind}, "", errs) */
function invalidOptions(kind: 'ListOptions' | 'DeleteOptions', errs: OptionError[]): InvalidError {
  const causes: StatusCause[] = errs.map((e) => ({ reason: CAUSE_REASON[e.type], message: errorBody(e), field: e.field }));
  const list = errs.map((e) => `${e.field}: ${errorBody(e)}`);
  const all = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new InvalidError({ resource: '', group: 'meta.k8s.io', kind }, '', causes).withMessage(`${kind}.meta.k8s.io "" is invalid: ${all}`);
}

function supported(values: string[]): string {
  return `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64), with its error text */
function parseInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new BadRequestError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw new BadRequestError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/** runtime.Convert_Slice_string_To_bool: only "0" and "false" (any case) are false */
function parseQueryBool(s: string): boolean {
  return !(s === '0' || s.toLowerCase() === 'false');
}

/** A boolean query parameter (watch, force, exec's stdin…): false when absent. */
export function queryFlag(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  return v !== null && parseQueryBool(v);
}

/** Query parameters into ListOptions (upstream ParameterCodec.DecodeParameters). */
export function listOptionsFromQuery(q: URLSearchParams): ListOptions {
  const o: ListOptions = {};
  const str = (k: string) => q.get(k) ?? undefined;
  if (q.has('labelSelector')) o.labelSelector = str('labelSelector');
  if (q.has('fieldSelector')) o.fieldSelector = str('fieldSelector');
  if (q.has('resourceVersion')) o.resourceVersion = str('resourceVersion');
  if (q.get('resourceVersionMatch')) o.resourceVersionMatch = str('resourceVersionMatch') as ListOptions['resourceVersionMatch'];
  if (q.has('limit')) o.limit = parseInt64(q.get('limit')!);
  if (q.has('continue')) o.continue = str('continue');
  if (q.has('allowWatchBookmarks')) o.allowWatchBookmarks = parseQueryBool(q.get('allowWatchBookmarks')!);
  if (q.has('timeoutSeconds')) o.timeoutSeconds = parseInt64(q.get('timeoutSeconds')!);
  if (q.has('sendInitialEvents')) o.sendInitialEvents = parseQueryBool(q.get('sendInitialEvents')!);
  return o;
}

type JsonType = 'string' | 'int64' | 'bool' | 'string[]' | 'object';

/** how encoding/json names the JSON value it could not store */
function jsonValueWord(v: unknown, into: JsonType): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return into === 'int64' ? `number ${v}` : 'number';
  return typeof v;
}

const GO_TYPE: Record<JsonType, string> = { string: 'string', int64: 'int64', bool: 'bool', 'string[]': '[]string', object: 'v1.Preconditions' };

/** checks one JSON value's type; a mismatch is encoding/json's UnmarshalTypeError */
function checkJsonField(struct: string, field: string, v: unknown, t: JsonType): void {
  if (v === null) return;
  if (t === 'string[]' && Array.isArray(v)) {
    const bad = v.find((x) => typeof x !== 'string');
    if (bad !== undefined) throw new BadRequestError(`json: cannot unmarshal ${jsonValueWord(bad, 'string')} into Go struct field ${struct}.${field} of type string`);
    return;
  }
  const ok =
    t === 'string' ? typeof v === 'string'
    : t === 'int64' ? typeof v === 'number' && Number.isSafeInteger(v)
    : t === 'bool' ? typeof v === 'boolean'
    : t === 'object' ? typeof v === 'object' && !Array.isArray(v)
    : false;
  if (!ok) throw new BadRequestError(`json: cannot unmarshal ${jsonValueWord(v, t)} into Go struct field ${struct}.${field} of type ${GO_TYPE[t]}`);
}

const LIST_FIELDS: Record<keyof ListOptions, JsonType> = {
  labelSelector: 'string',
  fieldSelector: 'string',
  resourceVersion: 'string',
  resourceVersionMatch: 'string',
  limit: 'int64',
  continue: 'string',
  allowWatchBookmarks: 'bool',
  timeoutSeconds: 'int64',
  sendInitialEvents: 'bool',
};

/** A ListOptions object as JSON (the `list` of a NATS request): its fields' types are checked. */
export function listOptionsFromJson(v: unknown): ListOptions {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`json: cannot unmarshal ${jsonValueWord(v, 'object')} into Go value of type v1.ListOptions`);
  const o = v as Record<string, unknown>;
  const r: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const t = LIST_FIELDS[k as keyof ListOptions];
    if (!t || o[k] === null || o[k] === undefined) continue;
    checkJsonField('ListOptions', k, o[k], t);
    r[k] = o[k];
  }
  return r as ListOptions;
}

/**
 * upstream ValidateListOptions, after SetListOptionsDefaults (the WatchList feature is on:
 * a watch from "" or "0" without sendInitialEvents is a legacy watch and valid).
 */
export function validateListOptions(o: ListOptions, watch: boolean): void {
  const errs: OptionError[] = [];
  const match = o.resourceVersionMatch as string | undefined;
  const forbid = (field: string, detail: string) => errs.push({ field, type: 'Forbidden', detail });
  if (watch) {
    const legacy = !o.resourceVersion || o.resourceVersion === '0';
    const defaulted = o.sendInitialEvents === undefined && !match && legacy;
    if (!defaulted) {
      if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
        forbid('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
      }
      if (match) {
        if (o.sendInitialEvents === undefined) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
        if (match !== 'NotOlderThan') errs.push({ field: 'resourceVersionMatch', type: 'Unsupported value', value: match, detail: supported(['NotOlderThan']) });
        if (o.continue) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
      }
    }
  } else {
    if (match) {
      if (!o.resourceVersion) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (o.continue) forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
      if (match !== 'Exact' && match !== 'NotOlderThan') {
        errs.push({ field: 'resourceVersionMatch', type: 'Unsupported value', value: match, detail: supported(['Exact', 'NotOlderThan', '']) });
      }
      if (match === 'Exact' && o.resourceVersion === '0') forbid('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
    if (o.sendInitialEvents !== undefined) forbid('sendInitialEvents', 'sendInitialEvents is forbidden for list');
  }
  if (errs.length) throw invalidOptions('ListOptions', errs);
}

/**
 * A resourceVersion that does not parse, as upstream's storage reports it: APIObjectVersioner's
 * field error, which reaches the client unconverted (a 500 without a reason) from a get or
 * list and as a 422 on the resource from a watch.
 */
export function checkResourceVersion(rv: string | undefined, watch: boolean, resource: { resource: string; group?: string }): void {
  if (rv === undefined || rv === '' || rv === '0') return;
  let why: string | undefined;
  if (!/^\+?\d+$/.test(rv)) why = 'invalid syntax';
  else if (BigInt(rv) > 2n ** 64n - 1n) why = 'value out of range';
  if (!why) return;
  const detail = `strconv.ParseUint: parsing ${JSON.stringify(rv)}: ${why}`;
  const err: OptionError = { field: 'resourceVersion', type: 'Invalid value', value: rv, detail };
  const text = `resourceVersion: ${errorBody(err)}`;
  if (watch) {
    const causes = [{ reason: CAUSE_REASON[err.type], message: errorBody(err), field: err.field }];
    throw new InvalidError({ resource: resource.resource, group: resource.group, kind: resource.resource }, '', causes).withMessage(
      `${resource.group ? `${resource.resource}.${resource.group}` : resource.resource} "" is invalid: ${text}`,
    );
  }
  throw new UnknownStatusError(500, text);
}

/** A failure upstream reports without a reason (StatusReasonUnknown): an error storage did not convert. */
export class UnknownStatusError extends StatusError {
  constructor(code: number, message: string) {
    super(code, 'InternalError', message);
  }
  override toStatus() {
    const s = super.toStatus();
    s.reason = '';
    return s;
  }
}

/** DeleteOptions as a client sends them, before validation (metav1.DeleteOptions' JSON). */
export interface RawDeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** Query parameters into DeleteOptions (used when a DELETE has no body, as upstream). */
export function deleteOptionsFromQuery(q: URLSearchParams): RawDeleteOptions {
  const o: RawDeleteOptions = {};
  if (q.has('gracePeriodSeconds')) o.gracePeriodSeconds = parseInt64(q.get('gracePeriodSeconds')!);
  if (q.has('propagationPolicy')) o.propagationPolicy = q.get('propagationPolicy')!;
  if (q.has('orphanDependents')) o.orphanDependents = parseQueryBool(q.get('orphanDependents')!);
  if (q.has('dryRun')) o.dryRun = q.getAll('dryRun');
  return o;
}

const DELETE_FIELDS: Record<keyof RawDeleteOptions, JsonType> = {
  gracePeriodSeconds: 'int64',
  propagationPolicy: 'string',
  orphanDependents: 'bool',
  preconditions: 'object',
  dryRun: 'string[]',
};

/**
 * A DeleteOptions object as JSON: an HTTP request body (metav1.DeleteOptions, any group
 * version, as upstream accepts for backwards compatibility) or the `delete` of a NATS
 * request, where `dryRun` may also be the single string "All".
 */
export function deleteOptionsFromJson(v: unknown): RawDeleteOptions {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`json: cannot unmarshal ${jsonValueWord(v, 'object')} into Go value of type v1.DeleteOptions`);
  const o = { ...(v as Record<string, unknown>) };
  if (o.kind !== undefined && o.kind !== 'DeleteOptions') throw new BadRequestError('decoded object cannot be converted to DeleteOptions');
  if (typeof o.dryRun === 'string') o.dryRun = [o.dryRun];
  for (const k of Object.keys(o)) {
    const t = DELETE_FIELDS[k as keyof RawDeleteOptions];
    if (t) checkJsonField('DeleteOptions', k, o[k], t);
  }
  const pre = o.preconditions as Record<string, unknown> | undefined | null;
  if (pre) {
    for (const k of ['uid', 'resourceVersion']) if (pre[k] !== undefined) checkJsonField('Preconditions', k, pre[k], 'string');
  }
  const r: RawDeleteOptions = {};
  if (typeof o.gracePeriodSeconds === 'number') r.gracePeriodSeconds = o.gracePeriodSeconds;
  if (typeof o.propagationPolicy === 'string') r.propagationPolicy = o.propagationPolicy;
  if (typeof o.orphanDependents === 'boolean') r.orphanDependents = o.orphanDependents;
  if (pre) r.preconditions = pre as RawDeleteOptions['preconditions'];
  if (Array.isArray(o.dryRun)) r.dryRun = o.dryRun as string[];
  return r;
}

const POLICIES = ['Foreground', 'Background', 'Orphan'];

/**
 * upstream ValidateDeleteOptions, then what the delete path makes of valid options: the
 * deprecated orphanDependents becomes a propagation policy (true: Orphan, false: the
 * dependents go, Background), a negative grace period is one second (rest.BeforeDelete).
 */
export function validateDeleteOptions(o: RawDeleteOptions): DeleteOptions {
  const errs: OptionError[] = [];
  if (o.orphanDependents !== undefined && o.propagationPolicy !== undefined) {
    errs.push({ field: 'propagationPolicy', type: 'Invalid value', value: o.propagationPolicy, detail: 'orphanDependents and deletionPropagation cannot be both set' });
  }
  if (o.propagationPolicy !== undefined && !POLICIES.includes(o.propagationPolicy)) {
    errs.push({ field: 'propagationPolicy', type: 'Unsupported value', value: o.propagationPolicy, detail: supported([...POLICIES, 'nil']) });
  }
  if (o.dryRun?.some((d) => d !== 'All')) {
    const printed = `[]string{${o.dryRun.map((d) => JSON.stringify(d)).join(', ')}}`;
    errs.push({ field: 'dryRun', type: 'Unsupported value', printed, detail: supported(['All']) });
  }
  if (errs.length) throw invalidOptions('DeleteOptions', errs);
  const d: DeleteOptions = {};
  if (o.gracePeriodSeconds !== undefined) d.gracePeriodSeconds = o.gracePeriodSeconds < 0 ? 1 : o.gracePeriodSeconds;
  if (o.propagationPolicy) d.propagationPolicy = o.propagationPolicy as DeleteOptions['propagationPolicy'];
  else if (o.orphanDependents !== undefined) d.propagationPolicy = o.orphanDependents ? 'Orphan' : 'Background';
  if (o.preconditions) d.preconditions = o.preconditions;
  if (o.dryRun?.length) d.dryRun = 'All';
  return d;
}

const LOG_FIELDS: Record<keyof PodLogOptions, JsonType> = {
  container: 'string',
  follow: 'bool',
  previous: 'bool',
  timestamps: 'bool',
  sinceSeconds: 'int64',
  sinceTime: 'string',
  tailLines: 'int64',
  limitBytes: 'int64',
};

export function podLogOptionsFromQuery(q: URLSearchParams): PodLogOptions {
  const o: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(LOG_FIELDS)) {
    const v = q.get(k);
    if (v === null) continue;
    o[k] = t === 'int64' ? parseInt64(v) : t === 'bool' ? parseQueryBool(v) : v;
  }
  return o as PodLogOptions;
}

export function podLogOptionsFromJson(v: unknown): PodLogOptions {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`json: cannot unmarshal ${jsonValueWord(v, 'object')} into Go value of type v1.PodLogOptions`);
  const o = v as Record<string, unknown>;
  const r: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(LOG_FIELDS)) {
    if (o[k] === undefined || o[k] === null) continue;
    checkJsonField('PodLogOptions', k, o[k], t);
    r[k] = o[k];
  }
  return r as PodLogOptions;
}

/** upstream ValidatePodLogOptions: a 422 on `PodLogOptions "<pod>"` */
export function validatePodLogOptions(o: PodLogOptions, pod: string): void {
  const errs: OptionError[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0) errs.push({ field: 'tailLines', type: 'Invalid value', value: o.tailLines, detail: 'must be greater than or equal to 0' });
  if (o.limitBytes !== undefined && o.limitBytes < 1) errs.push({ field: 'limitBytes', type: 'Invalid value', value: o.limitBytes, detail: 'must be greater than 0' });
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) {
    errs.push({ field: '', type: 'Forbidden', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (o.sinceSeconds !== undefined && o.sinceSeconds < 1) {
    errs.push({ field: 'sinceSeconds', type: 'Invalid value', value: o.sinceSeconds, detail: 'must be greater than 0' });
  }
  if (!errs.length) return;
  const causes: StatusCause[] = errs.map((e) => ({ reason: CAUSE_REASON[e.type], message: errorBody(e), field: e.field }));
  const list = errs.map((e) => `${e.field ? `${e.field}: ` : ''}${errorBody(e)}`);
  throw new InvalidError({ resource: 'pods', group: '', kind: 'PodLogOptions' }, pod, causes).withMessage(
    `PodLogOptions ${JSON.stringify(pod)} is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`,
  );
}

/**
 * upstream LogLocation's choice of container: the one named, which the pod must have
 * (among its containers, init and ephemeral containers), or the only one.
 */
export function logContainer(pod: any, name: string, container: string | undefined): string {
  const spec = pod?.spec ?? {};
  const names = (l: any[] | undefined) => (l ?? []).map((c) => c?.name as string);
  if (!container) {
    const containers = names(spec.containers);
    if (containers.length === 1) return containers[0];
    if (containers.length === 0) throw new BadRequestError(`a container name must be specified for pod ${name}`);
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    const init = names(spec.initContainers);
    if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
    throw new BadRequestError(msg);
  }
  const all = [...names(spec.containers), ...names(spec.initContainers), ...names(spec.ephemeralContainers)];
  if (!all.includes(container)) throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
  return container;
}
