/**
 * Schema defaults: fills absent fields that declare a `default`, walking the object
 * along its TypeDef (only where the enclosing object or list item exists, as upstream's
 * defaulting functions do).
 */
import { maybeTypeDef } from './registry.js';
import { GeneratedCodeSwitch } from './generated.js';
import type { Field, Prop } from './types.js';

export function applySchemaDefaults(obj: unknown, typeName: string): void {
  walkRef(obj, typeName, 0);
}

/**
 * Per type, the fields that have a default or can lead to one, computed once: most of a
 * pod's schema has no defaults, and every write walks it.
 */
const relevant = new Map<string, Array<[string, Field]>>();

function relevantFields(typeName: string): Array<[string, Field]> {
  let r = relevant.get(typeName);
  if (r) return r;
  relevant.set(typeName, []); // cycle guard: a type reaching itself adds nothing new
  const def = maybeTypeDef(typeName);
  r = def ? Object.entries(def.fields).filter(([, f]) => f.default !== undefined || propLeadsToDefault(f)) : [];
  relevant.set(typeName, r);
  return r;
}

function propLeadsToDefault(p: Prop): boolean {
  switch (p.type) {
    case 'ref':
      return relevantFields(p.ref).length > 0;
    case 'array':
      return propLeadsToDefault(p.items);
    case 'map':
      return propLeadsToDefault(p.values);
    default:
      return false;
  }
}

/** whether types are defaulted by their generated code (applySchemaDefaultsWalked turns it off) */
const generated = new GeneratedCodeSwitch();

/** applySchemaDefaults by the walk alone, without generated code: what the generated code must agree with. */
export function applySchemaDefaultsWalked(obj: unknown, typeName: string): void {
  generated.withoutIt(() => walkRef(obj, typeName, 0));
}

type Defaulter = (o: Record<string, unknown>, depth: number) => void;

const defaulters = new Map<string, Defaulter>();

/**
 * walkRef's loop for one type as code generated once: each relevant field read by name,
 * its default written in, the walk below called only for fields that can lead to more
 * defaults. The loop read every type's fields by computed key at one site shared by every
 * kind (megamorphic on a busy apiserver) and looked the type's fields up per object.
 */
function defaulterOf(typeName: string): Defaulter {
  let d = defaulters.get(typeName);
  if (d === undefined) {
    const fields = relevantFields(typeName);
    const lines = ['let c;'];
    fields.forEach(([name, f], i) => {
      const key = JSON.stringify(name);
      lines.push(`c = o[${key}];`);
      if (f.default !== undefined) {
        // a scalar default is assigned as is: structuredClone serializes even a string
        const value = typeof f.default === 'object' && f.default !== null ? `structuredClone(fields[${i}][1].default)` : `fields[${i}][1].default`;
        lines.push(`if (c === undefined) o[${key}] = c = ${value};`);
      }
      if (f.type === 'ref' || f.type === 'array' || f.type === 'map') lines.push(`if (c !== undefined) walkProp(c, fields[${i}][1], depth + 1);`);
    });
    const make = new Function('fields', 'walkProp', `return function defaults(o, depth) {\n${lines.join('\n')}\n};`);
    d = make(fields, walkProp) as Defaulter;
    defaulters.set(typeName, d);
  }
  return d;
}

function walkRef(obj: unknown, typeName: string, depth: number): void {
  if (depth > 40 || !obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  const o = obj as Record<string, unknown>;
  if (generated.on) {
    defaulterOf(typeName)(o, depth);
    return;
  }
  for (const [name, f] of relevantFields(typeName)) {
    // a scalar default is assigned as is: structuredClone serializes even a string (0.6% of the apiserver's CPU)
    if (o[name] === undefined && f.default !== undefined) o[name] = typeof f.default === 'object' && f.default !== null ? structuredClone(f.default) : f.default;
    if (o[name] !== undefined) walkProp(o[name], f, depth + 1);
  }
}

function walkProp(v: unknown, p: Prop, depth: number): void {
  switch (p.type) {
    case 'ref':
      walkRef(v, p.ref, depth);
      break;
    case 'array':
      if (Array.isArray(v)) for (const item of v) walkProp(item, p.items, depth + 1);
      break;
    case 'map':
      if (v && typeof v === 'object') for (const item of Object.values(v)) walkProp(item, p.values, depth + 1);
      break;
  }
}
