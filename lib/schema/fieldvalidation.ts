/**
 * The strict-decoding checks behind `fieldValidation=Strict|Warn|Ignore`: unknown fields
 * found by walking the decoded object against its TypeDef, and duplicate fields found by a
 * scanner over the raw JSON (or the YAML document), as upstream's strict decoder reports them.
 */
import { parseDocument, isMap, isScalar, visit, LineCounter } from 'yaml';
import { BadRequestError } from '../api/errors.js';
import { goQuote } from '../api/labels.js';
import { maybeTypeDef } from './registry.js';
import type { Prop, TypeDef } from './types.js';

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `path.name`, or `name` at the root. */
export const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);

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
