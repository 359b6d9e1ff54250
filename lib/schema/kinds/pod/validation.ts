/**
 * core/v1 PodSpec validation, as upstream's ValidatePodSpec and ValidatePodUpdate word it,
 * and the checks core-v1.ts shares for Service ports.
 */
import { jsonEqual } from '../../../api/canonical.js';
import { isDNS1123Label } from '../../../api/names.js';
import { fieldError } from '../../fielderrors.js';
import type { FieldError } from '../../types.js';

/** Upstream's IsDNS1123Label messages for an invalid name at `field`. */
export function validateDNS1123Label(field: string, value: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => fieldError.invalid(field, value, msg));
}

export function validatePortNumber(field: string, port: unknown): FieldError[] {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return [fieldError.invalid(field, port, 'must be between 1 and 65535, inclusive')];
  }
  return [];
}

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

const RESTART_POLICIES = ['Always', 'Never', 'OnFailure'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

function validateContainer(c: any, path: string, volumes: Set<string>, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (!c || typeof c !== 'object') return [fieldError.required(path)];
  // Required fields (name, containerPort, env name, mount name and path) are the schema's to report.
  if (typeof c.name === 'string' && c.name !== '') {
    errs.push(...validateDNS1123Label(`${path}.name`, c.name));
    if (names.has(c.name)) errs.push(fieldError.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (typeof c.image !== 'string' || c.image.trim() === '') errs.push(fieldError.required(`${path}.image`));
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy)) {
    errs.push(fieldError.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  if (c.terminationMessagePolicy !== undefined && !TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy)) {
    errs.push(fieldError.notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES));
  }
  const portNames = new Set<string>();
  (Array.isArray(c.ports) ? c.ports : []).forEach((p: any, j: number) => {
    const pp = `${path}.ports[${j}]`;
    if (p?.containerPort !== undefined) errs.push(...validatePortNumber(`${pp}.containerPort`, p.containerPort));
    if (p?.hostPort !== undefined && p.hostPort !== 0) errs.push(...validatePortNumber(`${pp}.hostPort`, p.hostPort));
    if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) errs.push(fieldError.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
    if (typeof p?.name === 'string' && p.name !== '') {
      if (portNames.has(p.name)) errs.push(fieldError.duplicate(`${pp}.name`, p.name));
      portNames.add(p.name);
    }
  });
  (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m: any, j: number) => {
    if (typeof m?.name === 'string' && m.name !== '' && !volumes.has(m.name)) errs.push(fieldError.notFound(`${path}.volumeMounts[${j}].name`, m.name));
  });
  return errs;
}

/**
 * The kind-specific checks of a PodSpec at `path` ("spec", or "spec.template.spec" inside
 * workloads). Types, enums and required fields are checked from the schema by
 * lib/schema/validate.ts; this adds what the schema cannot say: name syntax and
 * uniqueness, supported values, port ranges, references between fields.
 */
export function validatePodSpec(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [fieldError.required(`${path}.containers`)];
  const volumes = new Set<string>();
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: any, i: number) => {
    const vp = `${path}.volumes[${i}]`;
    if (typeof v?.name !== 'string' || v.name === '') return;
    errs.push(...validateDNS1123Label(`${vp}.name`, v.name));
    if (volumes.has(v.name)) errs.push(fieldError.duplicate(`${vp}.name`, v.name));
    volumes.add(v.name);
  });
  // Container names are unique across app, init and ephemeral containers.
  const names = new Set<string>();
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    (Array.isArray(spec[list]) ? spec[list] : []).forEach((c: any, i: number) => {
      errs.push(...validateContainer(c, `${path}.${list}[${i}]`, volumes, names));
    });
  }
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy)) {
    errs.push(fieldError.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) {
    errs.push(fieldError.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  }
  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0) {
    errs.push(fieldError.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  (Array.isArray(spec.tolerations) ? spec.tolerations : []).forEach((t: any, i: number) => {
    const tp = `${path}.tolerations[${i}]`;
    if (t?.operator !== undefined && !TOLERATION_OPERATORS.includes(t.operator)) errs.push(fieldError.notSupported(`${tp}.operator`, t.operator, TOLERATION_OPERATORS));
    if (t?.effect !== undefined && t.effect !== '' && !TAINT_EFFECTS.includes(t.effect)) errs.push(fieldError.notSupported(`${tp}.effect`, t.effect, TAINT_EFFECTS));
    if (t?.operator === 'Exists' && t?.value) errs.push(fieldError.invalid(`${tp}.operator`, t.operator, 'value must be empty when `operator` is \'Exists\''));
  });
  return errs;
}

/** spec members a pod update may change (and nodeName while it is unset; each container's image) */
const MUTABLE_SPEC_MEMBERS = new Set(['activeDeadlineSeconds', 'terminationGracePeriodSeconds', 'tolerations', 'schedulingGates', 'ephemeralContainers']);

/** Whether two members are equal as JSON, but for the keys `skip` names. */
function equalExcept(a: any, b: any, skip: (key: string) => boolean): boolean {
  for (const k in a) if (!skip(k) && !jsonEqual(a[k], b[k])) return false;
  for (const k in b) if (!skip(k) && a[k] === undefined && b[k] !== undefined) return false;
  return true;
}

/** Container lists equal but for each container's image. */
function sameContainers(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return jsonEqual(a, b);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || typeof x !== 'object' || typeof y !== 'object') {
      if (!jsonEqual(x, y)) return false;
    } else if (!equalExcept(x, y, (k) => k === 'image')) return false;
  }
  return true;
}

/**
 * Upstream lets a pod's spec change only in a few places after creation. Besides those,
 * binding (nodeName set once) and removing scheduling gates are let through here, since
 * the binding subresource and the scheduler's gate handling may arrive as updates.
 */
export function validatePodSpecUpdate(spec: any, old: any): FieldError[] {
  const a = spec ?? {};
  const b = old ?? {};
  const skip = (k: string) => MUTABLE_SPEC_MEMBERS.has(k) || k === 'containers' || k === 'initContainers' || (k === 'nodeName' && !b.nodeName);
  if (a === b || (equalExcept(a, b, skip) && sameContainers(a.containers, b.containers) && sameContainers(a.initContainers, b.initContainers))) return [];
  return [
    fieldError.forbidden(
      'spec',
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  ];
}
