/**
 * Timestamps as upstream stores and serves them, whatever precision a client wrote:
 * upstream decodes a metav1.Time or metav1.MicroTime into a Go time and encodes it back
 * (Time with whole seconds, MicroTime with six fractional digits, both in UTC), so a
 * Lease renewTime sent with milliseconds comes back with microseconds and a Time sent
 * with a fraction comes back without one. The apiserver does the same on every client
 * write, driven by the schema's `time` and `microTime` props.
 *
 * Cheap on the hot path: per TypeDef, the fields that can hold a time (directly or
 * nested) are worked out once, and a walk visits only those.
 */
import { canonicalTime } from '../api/time.js';
import { allTypes, maybeTypeDef } from './registry.js';
import type { Prop } from './types.js';

/** How to reach the times under one value. */
type Step =
  | { kind: 'time'; micro: boolean }
  | { kind: 'ref'; type: string }
  | { kind: 'array'; item: Step }
  | { kind: 'map'; value: Step };

/** The fields of one TypeDef that lead to a time. */
type Plan = ReadonlyArray<readonly [field: string, step: Step]>;

const plans = new Map<string, Plan | null>();
/** types that reach a time, and how many types were registered when it was computed */
let timeTypes: Set<string> | undefined;
let typesSeen = -1;

function directStep(p: Prop, reaches: (type: string) => boolean): Step | undefined {
  switch (p.type) {
    case 'time':
      return { kind: 'time', micro: false };
    case 'microTime':
      return { kind: 'time', micro: true };
    case 'ref':
      return reaches(p.ref) ? { kind: 'ref', type: p.ref } : undefined;
    case 'array': {
      const item = directStep(p.items, reaches);
      return item && { kind: 'array', item };
    }
    case 'map': {
      const value = directStep(p.values, reaches);
      return value && { kind: 'map', value };
    }
    default:
      return undefined;
  }
}

/** Every type that holds a time somewhere below it: a fixed point over the type graph (types may be recursive). */
function typesWithTimes(): Set<string> {
  const types = allTypes();
  if (timeTypes && typesSeen === types.size) return timeTypes;
  const found = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, t] of types) {
      if (found.has(name)) continue;
      if (Object.values(t.fields).some((f) => directStep(f, (r) => found.has(r)))) {
        found.add(name);
        changed = true;
      }
    }
  }
  // kinds registered later (tests, custom types) invalidate what was planned
  plans.clear();
  typesSeen = types.size;
  return (timeTypes = found);
}

function planFor(type: string): Plan | null {
  const known = typesWithTimes();
  let p = plans.get(type);
  if (p !== undefined) return p;
  const def = maybeTypeDef(type);
  p = null;
  if (def && known.has(type)) {
    const fields: Array<readonly [string, Step]> = [];
    for (const [name, f] of Object.entries(def.fields)) {
      const step = directStep(f, (r) => known.has(r));
      if (step) fields.push([name, step]);
    }
    p = fields;
  }
  plans.set(type, p);
  return p;
}

/** the shape upstream writes (what nearly every write carries): no need to parse it */
function isCanonical(s: string, micro: boolean): boolean {
  return micro
    ? s.length === 27 && s.charCodeAt(26) === 90 /* Z */ && s.charCodeAt(19) === 46 /* . */ && s.charCodeAt(10) === 84 /* T */
    : s.length === 20 && s.charCodeAt(19) === 90 /* Z */ && s.charCodeAt(10) === 84 /* T */;
}

function walk(v: unknown, step: Step): unknown {
  if (v === null || v === undefined) return v;
  switch (step.kind) {
    case 'time':
      if (typeof v !== 'string' || isCanonical(v, step.micro)) return v;
      return canonicalTime(v, step.micro) ?? v;
    case 'ref': {
      if (typeof v !== 'object' || Array.isArray(v)) return v;
      const plan = planFor(step.type);
      if (plan) normaliseWith(v as Record<string, unknown>, plan);
      return v;
    }
    case 'array':
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = walk(v[i], step.item);
      return v;
    case 'map':
      if (typeof v === 'object' && !Array.isArray(v)) {
        const m = v as Record<string, unknown>;
        for (const k of Object.keys(m)) m[k] = walk(m[k], step.value);
      }
      return v;
  }
}

function normaliseWith(obj: Record<string, unknown>, plan: Plan): void {
  for (const [field, step] of plan) {
    const v = obj[field];
    if (v === undefined || v === null) continue;
    const w = walk(v, step);
    if (w !== v) obj[field] = w;
  }
}

/**
 * Rewrites, in place, every `time` and `microTime` of `obj` (an object of the named
 * TypeDef) in upstream's serialised form. Strings that are not RFC 3339 are left for
 * validation to report.
 */
export function normaliseTimestamps(obj: unknown, typeName: string): void {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  const plan = planFor(typeName);
  if (plan) normaliseWith(obj as Record<string, unknown>, plan);
}
