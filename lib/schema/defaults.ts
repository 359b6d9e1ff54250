/**
 * Schema defaults: fills absent fields that declare a `default`, walking the object
 * along its TypeDef (only where the enclosing object or list item exists, as upstream's
 * defaulting functions do).
 */
import { maybeTypeDef } from './registry.js';
import type { Prop } from './types.js';

export function applySchemaDefaults(obj: unknown, typeName: string): void {
  walkRef(obj, typeName, 0);
}

function walkRef(obj: unknown, typeName: string, depth: number): void {
  if (depth > 40 || !obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  const def = maybeTypeDef(typeName);
  if (!def) return;
  const o = obj as Record<string, unknown>;
  for (const [name, f] of Object.entries(def.fields)) {
    if (o[name] === undefined && f.default !== undefined) o[name] = structuredClone(f.default);
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
