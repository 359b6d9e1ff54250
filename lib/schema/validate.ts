/**
 * Schema-driven validation of a whole object against its TypeDef (field errors from
 * fielderrors.ts); the strict-decoding checks behind `fieldValidation` are in
 * fieldvalidation.ts, re-exported here as the apiserver's one door to validation.
 *
 * Upstream gets type mismatches from its Go decoder and the rest from hand-written
 * validation; here both come from the one schema, reported as upstream field errors
 * (paths like `spec.containers[0].resources.limits[cpu]`, messages like
 * `Invalid value: "Foo": a lowercase RFC 1123 subdomain ...`).
 */
import {
  annotationsSize,
  isDNS1123Label,
  isQualifiedName,
  isValidAnnotationKey,
  isValidLabelValue,
  TOTAL_ANNOTATION_SIZE_LIMIT_B,
  validateName,
  type NameRule,
} from '../api/names.js';
import { quantityFromJSON } from '../api/quantity.js';
import { maybeTypeDef } from './registry.js';
import { ownMemberSource } from './generated.js';
import type { FieldError, Prop, TypeDef } from './types.js';
import { forbidden, invalid, required, tooLong, typeInvalid, notSupported } from './fielderrors.js';
import { child, isPlainObject } from './fieldvalidation.js';

export type { NameRule } from '../api/names.js';

const META_TYPE = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const OWNER_REFERENCE_TYPE = 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference';

// ---- value formats ----


const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** the last string found valid: every write stamps times of the current second, often several */
let lastRFC3339 = '';

/** Go time.Parse(time.RFC3339, s): the layout plus optional fractional seconds, with range checks. */
export function isRFC3339(s: string): boolean {
  if (s === lastRFC3339) return true;
  const m = RFC3339_RE.exec(s);
  if (!m) return false;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day > days) return false;
  if (+m[4] > 23 || +m[5] > 59 || +m[6] > 59) return false;
  if (m[9] !== undefined && (+m[9] > 23 || +m[10] > 59)) return false;
  lastRFC3339 = s;
  return true;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's base64.StdEncoding as encoding/json decodes []byte (line breaks are ignored). */
export function isBase64(s: string): boolean {
  return BASE64_RE.test(s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, '') : s);
}

// ---- the schema walk ----

interface Walk {
  errs: FieldError[];
}


/** A required field counts as missing when absent, null, "" or an empty list or map (Go cannot tell these apart). */
function isMissing(v: unknown, prop: Prop): boolean {
  if (v === undefined || v === null) return true;
  if (prop.type === 'string' && v === '') return true;
  if (prop.type === 'array' && Array.isArray(v) && v.length === 0) return true;
  if (prop.type === 'map' && isPlainObject(v) && Object.keys(v).length === 0) return true;
  return false;
}

function walkValue(w: Walk, v: unknown, prop: Prop, path: string): void {
  if (v === undefined || v === null) return;
  switch (prop.type) {
    case 'string':
      if (typeof v !== 'string') {
        w.errs.push(typeInvalid(path, v, 'must be of type string'));
      } else if (prop.enum && !prop.enum.includes(v)) {
        w.errs.push(notSupported(path, v, prop.enum));
      } else if (prop.format === 'byte' && !isBase64(v)) {
        w.errs.push(invalid(path, v, 'must be a base64-encoded string'));
      } else if (prop.format === 'date-time' && !isRFC3339(v)) {
        w.errs.push(invalid(path, v, "must be an RFC 3339 date-time (e.g. '2006-01-02T15:04:05Z')"));
      }
      return;
    case 'int32':
      if (!(typeof v === 'number' && Number.isInteger(v)) && typeof v !== 'bigint') {
        w.errs.push(typeInvalid(path, v, 'must be of type int32'));
      } else if (Number(v) > 2147483647 || Number(v) < -2147483648) {
        w.errs.push(invalid(path, v, 'must be a 32-bit integer'));
      }
      return;
    case 'int64':
      if (!(typeof v === 'number' && Number.isInteger(v)) && typeof v !== 'bigint') {
        w.errs.push(typeInvalid(path, v, 'must be of type int64'));
      }
      return;
    case 'double':
      if (typeof v !== 'number' || !Number.isFinite(v)) w.errs.push(typeInvalid(path, v, 'must be of type number'));
      return;
    case 'boolean':
      if (typeof v !== 'boolean') w.errs.push(typeInvalid(path, v, 'must be of type boolean'));
      return;
    case 'quantity':
      if (typeof v !== 'string' && typeof v !== 'number') {
        w.errs.push(typeInvalid(path, v, 'must be of type string'));
        return;
      }
      try {
        quantityFromJSON(v);
      } catch (e) {
        w.errs.push(invalid(path, v, (e as Error).message));
      }
      return;
    case 'intOrString':
      if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
        w.errs.push(typeInvalid(path, v, 'must be an integer or a string'));
      } else if (typeof v === 'number' && (v > 2147483647 || v < -2147483648)) {
        w.errs.push(invalid(path, v, 'must be a 32-bit integer'));
      }
      return;
    case 'time':
    case 'microTime':
      if (typeof v !== 'string') w.errs.push(typeInvalid(path, v, 'must be of type string'));
      else if (!isRFC3339(v)) w.errs.push(invalid(path, v, "must be an RFC 3339 date-time (e.g. '2006-01-02T15:04:05Z')"));
      return;
    case 'bytes':
      if (typeof v !== 'string') w.errs.push(typeInvalid(path, v, 'must be of type string'));
      else if (!isBase64(v)) w.errs.push(invalid(path, v, 'must be a base64-encoded string'));
      return;
    case 'any':
      return;
    case 'array':
      if (!Array.isArray(v)) {
        w.errs.push(typeInvalid(path, v, 'must be of type array'));
        return;
      }
      for (let i = 0; i < v.length; i++) walkValue(w, v[i], prop.items, `${path}[${i}]`);
      return;
    case 'map':
      if (!isPlainObject(v)) {
        w.errs.push(typeInvalid(path, v, 'must be of type object'));
        return;
      }
      for (const k of Object.keys(v)) walkValue(w, v[k], prop.values, `${path}[${k}]`);
      return;
    case 'ref': {
      const def = maybeTypeDef(prop.ref);
      // a type not (yet) registered cannot be judged; another module owns it
      if (!def) return;
      if (def.openapiType === 'string') {
        if (typeof v !== 'string') w.errs.push(typeInvalid(path, v, 'must be of type string'));
        return;
      }
      if (!isPlainObject(v)) {
        w.errs.push(typeInvalid(path, v, 'must be of type object'));
        return;
      }
      walkObject(w, v, def, path);
      return;
    }
  }
}

/** The required field names of a type, computed once. */
const requiredCache = new WeakMap<TypeDef, string[]>();

function requiredFields(def: TypeDef): string[] {
  let r = requiredCache.get(def);
  if (r === undefined) {
    // owner references get upstream's own messages from validateObjectMeta instead
    r = def.name === OWNER_REFERENCE_TYPE ? [] : Object.keys(def.fields).filter((n) => def.fields[n].required);
    requiredCache.set(def, r);
  }
  return r;
}

/** Walks the members present (objects are usually much smaller than their schema), then the required ones. */
function walkObject(w: Walk, obj: Record<string, unknown>, def: TypeDef, path: string): void {
  const fields = def.fields;
  const req = requiredFields(def);
  for (const name in obj) {
    if (!Object.hasOwn(fields, name) || !Object.hasOwn(obj, name)) continue;
    const f = fields[name];
    const v = obj[name];
    if (f.required && req.length && isMissing(v, f) && req.includes(name)) {
      w.errs.push(required(child(path, name)));
      continue;
    }
    if (v !== undefined && v !== null) walkValue(w, v, f, child(path, name));
  }
  for (const name of req) {
    if (!Object.hasOwn(obj, name)) w.errs.push(required(child(path, name)));
  }
}

// ---- the generated check ----

/**
 * Whether the schema walk (walkObject) would find no error in `obj`, answered by code
 * generated once per type: the walk interprets the schema for every value, reading each
 * member by a computed key through one shared site, which the stream of different kinds
 * and nested types makes megamorphic; the generated code of each type reads its fields by
 * name with inline caches of its own. It never answers true where the walk reports an
 * error; it may answer false where the walk finds none (a bigint, an inherited member):
 * validateObject then walks, which builds the errors and their paths.
 */
export function conformsTo(obj: Record<string, unknown>, def: TypeDef): boolean {
  return checkOf(def)(obj);
}

type Check = (o: Record<string, unknown>) => boolean;

const checks = new WeakMap<TypeDef, Check>();
/** the checks that skip a member (ValidateOptions.conformingMember), by type and member */
const checksSkipping = new WeakMap<TypeDef, Map<string, Check>>();

function checkOf(def: TypeDef, skip?: string): Check {
  if (skip !== undefined) {
    let bySkip = checksSkipping.get(def);
    if (bySkip === undefined) checksSkipping.set(def, (bySkip = new Map()));
    let c = bySkip.get(skip);
    if (c === undefined) bySkip.set(skip, (c = compileCheck(def, skip)));
    return c;
  }
  let c = checks.get(def);
  if (c === undefined) {
    c = compileCheck(def);
    checks.set(def, c);
  }
  return c;
}

/** A named type's check, looked up when called: a type may be registered after the types that name it. */
function refCheck(name: string): (v: unknown) => boolean {
  let seen: TypeDef | undefined;
  let check: Check | undefined;
  return (v) => {
    const def = maybeTypeDef(name);
    // a type not (yet) registered cannot be judged (as the walk)
    if (!def) return true;
    if (def.openapiType === 'string') return typeof v === 'string';
    if (!isPlainObject(v)) return false;
    if (def !== seen) {
      seen = def;
      check = checkOf(def);
    }
    return check!(v);
  };
}

/** quantity strings found valid: a cluster's objects repeat a few ("100m", "500Mi"), each parsed with BigInts */
const validQuantities = new Set<string>();

function isQuantityValue(v: unknown): boolean {
  if (typeof v === 'string' && validQuantities.has(v)) return true;
  if (typeof v !== 'string' && typeof v !== 'number') return false;
  try {
    quantityFromJSON(v);
  } catch {
    return false;
  }
  if (typeof v === 'string') {
    if (validQuantities.size >= 4096) validQuantities.clear();
    validQuantities.add(v);
  }
  return true;
}

const isInt32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v <= 2147483647 && v >= -2147483648;

/** The generated source's helpers, passed in by name. */
interface CheckEnv {
  refs: Array<(v: unknown) => boolean>;
  enums: Array<ReadonlySet<string>>;
}

/** Source of an expression true when `v` (not null or undefined) has no error under `prop`. */
function valueCode(prop: Prop, v: string, env: CheckEnv, depth: number): string {
  switch (prop.type) {
    case 'string': {
      const parts = [`typeof ${v} === 'string'`];
      if (prop.enum) {
        env.enums.push(new Set(prop.enum));
        parts.push(`enums[${env.enums.length - 1}].has(${v})`);
      }
      if (prop.format === 'byte') parts.push(`isBase64(${v})`);
      if (prop.format === 'date-time') parts.push(`isRFC3339(${v})`);
      return parts.join(' && ');
    }
    case 'int32':
      return `isInt32(${v})`;
    case 'int64':
      return `(typeof ${v} === 'number' && Number.isInteger(${v}))`;
    case 'double':
      return `(typeof ${v} === 'number' && Number.isFinite(${v}))`;
    case 'boolean':
      return `typeof ${v} === 'boolean'`;
    case 'quantity':
      return `isQuantityValue(${v})`;
    case 'intOrString':
      return `(typeof ${v} === 'string' || isInt32(${v}))`;
    case 'time':
    case 'microTime':
      return `(typeof ${v} === 'string' && isRFC3339(${v}))`;
    case 'bytes':
      return `(typeof ${v} === 'string' && isBase64(${v}))`;
    case 'any':
      return 'true';
    case 'array': {
      const x = `x${depth}`;
      const item = valueCode(prop.items, x, env, depth + 1);
      return `(Array.isArray(${v}) && ${v}.every((${x}) => ${x} === undefined || ${x} === null || (${item})))`;
    }
    case 'map': {
      const x = `x${depth}`;
      const item = valueCode(prop.values, `${v}[${x}]`, env, depth + 1);
      return `(isPlainObject(${v}) && Object.keys(${v}).every((${x}) => ${v}[${x}] === undefined || ${v}[${x}] === null || (${item})))`;
    }
    case 'ref':
      env.refs.push(refCheck(prop.ref));
      return `refs[${env.refs.length - 1}](${v})`;
  }
}

/** Source of an expression true when a required `v` counts as missing (isMissing). */
function missingCode(prop: Prop, v: string): string {
  const parts = [`${v} === undefined`, `${v} === null`];
  if (prop.type === 'string') parts.push(`${v} === ''`);
  if (prop.type === 'array') parts.push(`(Array.isArray(${v}) && ${v}.length === 0)`);
  if (prop.type === 'map') parts.push(`(isPlainObject(${v}) && Object.keys(${v}).length === 0)`);
  return parts.join(' || ');
}

function compileCheck(def: TypeDef, skip?: string): Check {
  const env: CheckEnv = { refs: [], enums: [] };
  const required = new Set(requiredFields(def));
  const lines: string[] = ['let v;'];
  for (const name of Object.keys(def.fields)) {
    if (name === skip) continue;
    const f = def.fields[name];
    const get = ownMemberSource('v', 'o', name);
    const value = valueCode(f, 'v', env, 0);
    if (required.has(name)) lines.push(`${get} if (${missingCode(f, 'v')} || !(${value})) return false;`);
    else lines.push(`${get} if (v !== undefined && v !== null && !(${value})) return false;`);
  }
  lines.push('return true;');
  const make = new Function('refs', 'enums', 'isInt32', 'isQuantityValue', 'isRFC3339', 'isBase64', 'isPlainObject', `return function check(o) {\n${lines.join('\n')}\n};`);
  return make(env.refs, env.enums, isInt32, isQuantityValue, isRFC3339, isBase64, isPlainObject) as Check;
}

/** The walk's errors of `obj` against its type: every field's type, format, enum and required-ness. */
export function schemaErrors(obj: Record<string, unknown>, def: TypeDef): FieldError[] {
  const w: Walk = { errs: [] };
  walkObject(w, obj, def, '');
  return w.errs;
}

// ---- metadata ----

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Upstream schema.ParseGroupVersion, reduced to "does it name a version". */
function apiVersionHasVersion(apiVersion: string): boolean {
  if (apiVersion === '') return false;
  const parts = apiVersion.split('/');
  if (parts.length === 1) return true;
  if (parts.length === 2) return parts[1] !== '';
  return false;
}

export interface MetaOptions {
  nameRule?: NameRule;
  namespaced: boolean;
}

/** Upstream ValidateObjectMeta: names, namespace, labels, annotations, owner references, finalizers. */
export function validateObjectMeta(meta: unknown, opts: MetaOptions, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const m = isPlainObject(meta) ? meta : {};
  const rule = opts.nameRule ?? 'subdomain';
  if (rule !== 'none') {
    const generateName = str(m.generateName);
    if (generateName) {
      for (const msg of validateName(rule, generateName, true)) errs.push(invalid(child(path, 'generateName'), generateName, msg));
    }
    const name = str(m.name);
    if (!name) errs.push(required(child(path, 'name'), 'name or generateName is required'));
    else for (const msg of validateName(rule, name, false)) errs.push(invalid(child(path, 'name'), name, msg));
  }
  const namespace = str(m.namespace);
  if (opts.namespaced) {
    if (!namespace) errs.push(required(child(path, 'namespace')));
    else for (const msg of isDNS1123Label(namespace)) errs.push(invalid(child(path, 'namespace'), namespace, msg));
  } else if (namespace) {
    errs.push(forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) {
    errs.push(invalid(child(path, 'generation'), m.generation, 'must be greater than or equal to 0'));
  }
  if (isPlainObject(m.labels)) {
    const p = child(path, 'labels');
    for (const k of Object.keys(m.labels)) {
      for (const msg of isQualifiedName(k)) errs.push(invalid(p, k, msg));
      const v = m.labels[k];
      if (typeof v === 'string') for (const msg of isValidLabelValue(v)) errs.push(invalid(p, v, msg));
    }
  }
  if (isPlainObject(m.annotations)) {
    const p = child(path, 'annotations');
    for (const k of Object.keys(m.annotations)) for (const msg of isValidAnnotationKey(k)) errs.push(invalid(p, k, msg));
    if (annotationsSize(m.annotations as Record<string, string>) > TOTAL_ANNOTATION_SIZE_LIMIT_B) {
      errs.push(tooLong(p, TOTAL_ANNOTATION_SIZE_LIMIT_B));
    }
  }
  if (Array.isArray(m.ownerReferences)) errs.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  if (Array.isArray(m.finalizers)) {
    const p = child(path, 'finalizers');
    for (const f of m.finalizers) {
      if (typeof f === 'string') for (const msg of isQualifiedName(f)) errs.push(invalid(p, f, msg));
    }
    if (m.finalizers.includes('orphan') && m.finalizers.includes('foregroundDeletion')) {
      errs.push(invalid(p, m.finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
    }
  }
  return errs;
}

/** Upstream reports owner reference problems on the list's path, not per index. */
function validateOwnerReferences(refs: unknown[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const r of refs) {
    if (!isPlainObject(r)) continue;
    const apiVersion = str(r.apiVersion);
    const kind = str(r.kind);
    if (!apiVersionHasVersion(apiVersion)) errs.push(invalid(child(path, 'apiVersion'), apiVersion, 'version must not be empty'));
    if (!kind) errs.push(invalid(child(path, 'kind'), kind, 'kind must not be empty'));
    if (!str(r.name)) errs.push(invalid(child(path, 'name'), str(r.name), 'name must not be empty'));
    if (!str(r.uid)) errs.push(invalid(child(path, 'uid'), str(r.uid), 'uid must not be empty'));
    if (apiVersion === 'v1' && kind === 'Event') errs.push(invalid(path, r, '/v1, Kind=Event is disallowed from being an owner'));
    if (r.controller === true) {
      const cur = `${kind}/${str(r.name)}`;
      if (firstController) {
        errs.push(
          invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`),
        );
      } else {
        firstController = cur;
      }
    }
  }
  return errs;
}

// ---- the entry point for create and update ----

export interface ValidateOptions {
  /** how metadata.name is checked; 'subdomain' when absent */
  nameRule?: NameRule;
  namespaced: boolean;
  /**
   * a member whose value is known to pass the schema check (a spec shared by pods of one
   * template that passed it before): the check skips it; the walk, should anything else fail, does not
   */
  conformingMember?: string;
}

/**
 * Validates a whole object of the named type: metadata rules first, then every field's
 * type, format, enum and required-ness. An empty list means valid. Kind-specific rules
 * (KindDef.validate) are the caller's to add.
 */
export function validateObject(obj: unknown, typeName: string, opts: ValidateOptions): FieldError[] {
  if (!isPlainObject(obj)) return [typeInvalid('', obj, 'must be of type object')];
  const def = maybeTypeDef(typeName);
  const errs: FieldError[] = [];
  const mf = def && Object.hasOwn(def.fields, 'metadata') ? def.fields.metadata : undefined;
  const hasMeta = !def || (mf !== undefined && mf.type === 'ref' && mf.ref === META_TYPE);
  if (hasMeta) errs.push(...validateObjectMeta(obj.metadata, opts));
  if (def && !(opts.conformingMember === undefined ? conformsTo(obj, def) : checkOf(def, opts.conformingMember)(obj))) errs.push(...schemaErrors(obj, def));
  return errs;
}
