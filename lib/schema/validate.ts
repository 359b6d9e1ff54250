/**
 * Schema-driven validation of a whole object against its TypeDef, and the strict-decoding
 * checks behind `fieldValidation=Strict|Warn|Ignore` (unknown and duplicate fields).
 *
 * Upstream gets type mismatches from its Go decoder and the rest from hand-written
 * validation; here both come from the one schema, reported as upstream field errors
 * (paths like `spec.containers[0].resources.limits[cpu]`, messages like
 * `Invalid value: "Foo": a lowercase RFC 1123 subdomain ...`).
 */
import { parseDocument, isMap, isScalar, visit, LineCounter } from 'yaml';
import { BadRequestError } from '../api/errors.js';
import { goQuote } from '../api/labels.js';
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
import type { FieldError, Prop, TypeDef } from './types.js';

export type { NameRule } from '../api/names.js';

const META_TYPE = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const OWNER_REFERENCE_TYPE = 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference';

// ---- field errors shaped like upstream field.Error.ErrorBody() ----

/** Go's rendering of a bad value: strings quoted, numbers and booleans bare, the rest as JSON. */
function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function required(field: string, detail = ''): FieldError {
  return { field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${showValue(value)}${detail ? ': ' + detail : ''}` };
}

export function typeInvalid(field: string, value: unknown, detail: string): FieldError {
  return { field, reason: 'FieldValueTypeInvalid', message: `Invalid value: ${showValue(value)}${detail ? ': ' + detail : ''}` };
}

export function notSupported(field: string, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length ? 'supported values: ' + valid.map(goQuote).join(', ') : '';
  return { field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${showValue(value)}${detail ? ': ' + detail : ''}` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { field, reason: 'FieldValueForbidden', message: detail ? `Forbidden: ${detail}` : 'Forbidden' };
}

export function tooLong(field: string, maxBytes: number): FieldError {
  return { field, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${maxBytes} bytes` };
}

// ---- value formats ----

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** Go time.Parse(time.RFC3339, s): the layout plus optional fractional seconds, with range checks. */
export function isRFC3339(s: string): boolean {
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

const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);

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
  if (def) {
    const w: Walk = { errs };
    walkObject(w, obj, def, '');
  }
  return errs;
}

// ---- fieldValidation: unknown and duplicate fields ----

/** How the strict scanner treats the value it is in. */
type Ctx =
  | { k: 'struct'; def: TypeDef }
  | { k: 'map'; values: Prop }
  | { k: 'array'; items: Prop }
  /** no schema: only duplicates are reported */
  | { k: 'free' }
  /** raw or unknown content: nothing is reported (upstream skips it too) */
  | { k: 'skip' };

const SKIP: Ctx = { k: 'skip' };
const FREE: Ctx = { k: 'free' };

/** Member contexts are looked up once per Prop; the registry only grows, so this never goes stale. */
const ctxCache = new WeakMap<Prop, Ctx>();

function ctxOf(prop: Prop): Ctx {
  let c = ctxCache.get(prop);
  if (c === undefined) {
    c = computeCtx(prop);
    // an unregistered ref may be registered later; do not pin its FREE answer
    if (!(prop.type === 'ref' && c === FREE)) ctxCache.set(prop, c);
  }
  return c;
}

function computeCtx(prop: Prop): Ctx {
  switch (prop.type) {
    case 'ref': {
      const def = maybeTypeDef(prop.ref);
      if (!def) return FREE;
      return def.openapiType === 'string' ? SKIP : { k: 'struct', def };
    }
    case 'array':
      return { k: 'array', items: prop.items };
    case 'map':
      return { k: 'map', values: prop.values };
    default:
      return SKIP;
  }
}

function rootCtx(typeName: string | undefined): Ctx {
  const def = typeName ? maybeTypeDef(typeName) : undefined;
  return def ? { k: 'struct', def } : FREE;
}

/** The context of a member of an object parsed in `ctx`, reporting it if it is unknown. */
function memberCtx(ctx: Ctx, key: string, path: string, unknown: ((p: string) => void) | undefined): Ctx {
  switch (ctx.k) {
    case 'struct': {
      const f = Object.hasOwn(ctx.def.fields, key) ? ctx.def.fields[key] : undefined;
      if (f) return ctxOf(f);
      if (ctx.def.preserveUnknown) return FREE;
      unknown?.(path);
      return SKIP;
    }
    case 'map':
      return ctxOf(ctx.values);
    case 'free':
      return FREE;
    default:
      return SKIP;
  }
}

function elementCtx(ctx: Ctx): Ctx {
  if (ctx.k === 'array') return ctxOf(ctx.items);
  return ctx.k === 'free' ? FREE : SKIP;
}

/**
 * Paths of fields the schema does not know, in upstream's strict-decoding form
 * (`spec.foo`, `spec.containers[0].bar`, map members joined with '.'), for an already
 * parsed object. Types with preserveUnknown and `any` fields accept everything below them.
 */
export function findUnknownFields(obj: unknown, typeName: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown, ctx: Ctx, path: string): void => {
    if (out.length >= MAX_STRICT_ERRORS) return;
    if (Array.isArray(v)) {
      if (ctx.k !== 'array' && ctx.k !== 'free') return;
      const ec = elementCtx(ctx);
      if (ec.k === 'skip') return;
      for (let i = 0; i < v.length; i++) walk(v[i], ec, `${path}[${i}]`);
      return;
    }
    if (!isPlainObject(v) || (ctx.k !== 'struct' && ctx.k !== 'map')) return;
    for (const key of Object.keys(v)) {
      const p = child(path, key);
      const mc = memberCtx(ctx, key, p, (u) => out.push(u));
      if (mc.k !== 'skip' && mc.k !== 'free') walk(v[key], mc, p);
    }
  };
  walk(obj, rootCtx(typeName), '');
  return out.slice(0, MAX_STRICT_ERRORS);
}

/** Upstream keeps at most this many strict decoding errors. */
const MAX_STRICT_ERRORS = 100;

interface StrictProblem {
  kind: 'unknown field' | 'duplicate field';
  path: string;
}

const strictMessage = (p: StrictProblem): string => `${p.kind} ${goQuote(p.path)}`;

interface Frame {
  obj: boolean;
  ctx: Ctx;
  path: string;
  index: number;
  keys: Set<string> | undefined;
}

/**
 * One pass over raw JSON text reporting `unknown field "p"` and `duplicate field "p"` in
 * document order, de-duplicated and capped as upstream's strict decoder does. Returns
 * undefined when the text is not well-formed JSON (the caller's parser reports that).
 */
function scanStrictJson(text: string, root: Ctx, reportUnknown: boolean): StrictProblem[] | undefined {
  const out: StrictProblem[] = [];
  const seen = new Set<string>();
  const report = (kind: StrictProblem['kind'], path: string): void => {
    if (out.length >= MAX_STRICT_ERRORS) return;
    const id = kind + '\0' + path;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ kind, path });
  };
  const onUnknown = reportUnknown ? (p: string) => report('unknown field', p) : undefined;
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;
  let ctx: Ctx = root;
  let path = '';

  const ws = (j: number): number => {
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      j++;
    }
    return j;
  };
  /** index just past the string starting at j (text[j] is '"'), or -1 */
  const endOfString = (j: number): number => {
    let k = j + 1;
    for (;;) {
      const q = text.indexOf('"', k);
      if (q < 0) return -1;
      let b = q - 1;
      while (b > j && text.charCodeAt(b) === 0x5c) b--;
      if ((q - 1 - b) % 2 === 0) return q + 1;
      k = q + 1;
    }
  };
  const readKey = (): string | undefined => {
    i = ws(i);
    if (text.charCodeAt(i) !== 0x22) return undefined;
    const end = endOfString(i);
    if (end < 0) return undefined;
    const raw = text.slice(i + 1, end - 1);
    i = ws(end);
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (!raw.includes('\\')) return raw;
    try {
      return JSON.parse(text.slice(end - raw.length - 2, end)) as string;
    } catch {
      return undefined;
    }
  };
  /** after reading a key in the top object frame: note duplicates, pick the member's context */
  const enterMember = (key: string): void => {
    const top = stack[stack.length - 1];
    const p = child(top.path, key);
    // upstream checks struct members for repeats only when the field is known
    const tracked = top.ctx.k !== 'struct' || top.ctx.def.preserveUnknown || Object.hasOwn(top.ctx.def.fields, key);
    if (top.keys && tracked) {
      if (top.keys.has(key)) report('duplicate field', p);
      else top.keys.add(key);
    }
    ctx = memberCtx(top.ctx, key, p, onUnknown);
    path = p;
  };

  for (;;) {
    // a value starts here, parsed in (ctx, path)
    i = ws(i);
    if (i >= n) return undefined;
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      i++;
      const tracked = ctx.k === 'struct' || ctx.k === 'map' || ctx.k === 'free';
      stack.push({ obj: true, ctx: tracked ? ctx : SKIP, path, index: 0, keys: tracked ? new Set() : undefined });
      i = ws(i);
      if (text.charCodeAt(i) !== 0x7d) {
        const key = readKey();
        if (key === undefined) return undefined;
        enterMember(key);
        continue;
      }
      i++;
      stack.pop();
    } else if (c === 0x5b /* [ */) {
      i++;
      stack.push({ obj: false, ctx: ctx.k === 'array' || ctx.k === 'free' ? ctx : SKIP, path, index: 0, keys: undefined });
      i = ws(i);
      if (text.charCodeAt(i) !== 0x5d) {
        const top = stack[stack.length - 1];
        ctx = elementCtx(top.ctx);
        path = `${top.path}[0]`;
        continue;
      }
      i++;
      stack.pop();
    } else if (c === 0x22 /* " */) {
      const end = endOfString(i);
      if (end < 0) return undefined;
      i = end;
    } else {
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
        i++;
      }
      if (i === start) return undefined;
    }
    // the value is complete: close finished containers, or move to the next member
    for (;;) {
      i = ws(i);
      if (stack.length === 0) return i === n ? out : undefined;
      const top = stack[stack.length - 1];
      const d = text.charCodeAt(i);
      if (d === 0x2c /* , */) {
        i++;
        if (top.obj) {
          const key = readKey();
          if (key === undefined) return undefined;
          enterMember(key);
        } else {
          top.index++;
          ctx = elementCtx(top.ctx);
          path = `${top.path}[${top.index}]`;
        }
        break;
      }
      if ((top.obj && d === 0x7d) || (!top.obj && d === 0x5d)) {
        i++;
        stack.pop();
        continue;
      }
      return undefined;
    }
  }
}

/**
 * Paths of repeated object keys in raw JSON text (`metadata.name`, `spec.containers[0].image`),
 * as upstream's strict decoder reports them, in document order. Schema-free. Returns []
 * for text that is not well-formed JSON.
 */
export function findDuplicateFields(jsonText: string): string[] {
  return (scanStrictJson(jsonText, FREE, false) ?? []).map((p) => p.path);
}

/**
 * Duplicate keys in a YAML body, as upstream's YAML-to-JSON step reports them: one error
 * `yaml: unmarshal errors:\n  line N: key "x" already set in map` listing every repeat.
 */
export function findDuplicateYamlKeys(yamlText: string): string | undefined {
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(yamlText, { lineCounter, uniqueKeys: false });
  } catch {
    return undefined;
  }
  const lines: string[] = [];
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = pair.key;
        if (!isScalar(k)) continue;
        const id = `${typeof k.value}:${String(k.value)}`;
        if (seen.has(id)) {
          const line = k.range ? lineCounter.linePos(k.range[0]).line : 0;
          const shown = typeof k.value === 'string' ? goQuote(k.value) : String(k.value);
          lines.push(`  line ${line}: key ${shown} already set in map`);
        } else {
          seen.add(id);
        }
      }
    },
  });
  return lines.length ? `yaml: unmarshal errors:\n${lines.join('\n')}` : undefined;
}

export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

/** JSON bodies start with an object or array; anything else the apiserver got as YAML. */
function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) continue;
    return c === 0x7b || c === 0x5b;
  }
  return false;
}

/**
 * The `fieldValidation` check for a create, update or patch body. `rawText` is the body
 * as received (JSON or YAML; undefined when there is none, e.g. protobuf or an object
 * built by a patch), `obj` the decoded object. Strict puts each problem in `errors`
 * (answer 400 with strictDecodingError(errors)); Warn puts them in `warnings` (one
 * `Warning:` header each); Ignore does no work at all.
 */
export function checkFieldValidation(
  rawText: string | undefined,
  obj: unknown,
  typeName: string,
  mode: FieldValidationMode,
  contentType?: 'json' | 'yaml',
): { errors: string[]; warnings: string[] } {
  if (mode === 'Ignore') return { errors: [], warnings: [] };
  let msgs: string[] | undefined;
  if (rawText !== undefined) {
    const yaml = contentType === 'yaml' || (contentType === undefined && !looksLikeJson(rawText));
    if (!yaml) {
      msgs = scanStrictJson(rawText, rootCtx(typeName), true)?.map(strictMessage);
    } else {
      const dup = findDuplicateYamlKeys(rawText);
      msgs = (dup ? [dup] : []).concat(findUnknownFields(obj, typeName).map((p) => `unknown field ${goQuote(p)}`));
    }
  }
  msgs ??= findUnknownFields(obj, typeName).map((p) => `unknown field ${goQuote(p)}`);
  return mode === 'Strict' ? { errors: msgs, warnings: [] } : { errors: [], warnings: msgs };
}

/** The 400 BadRequest upstream answers in Strict mode: `strict decoding error: unknown field "spec.foo", ...`. */
export function strictDecodingError(errors: readonly string[]): BadRequestError {
  return new BadRequestError(`strict decoding error: ${errors.join(', ')}`);
}
