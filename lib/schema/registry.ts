/**
 * The registries of named types and served kinds. Kind modules (`kinds/*.ts`) register
 * into them on import; `kinds/mod.ts` imports them all.
 */
import type { KindDef, TypeDef } from './types.js';

const types = new Map<string, TypeDef>();
const kinds: KindDef[] = [];

export function registerType(def: TypeDef): void {
  if (types.has(def.name)) throw new Error(`schema: type ${def.name} defined twice`);
  types.set(def.name, def);
}

export function registerKind(def: KindDef): KindDef {
  if (kinds.some((k) => k.group === def.group && k.version === def.version && k.plural === def.plural)) {
    throw new Error(`schema: kind ${def.group}/${def.version} ${def.plural} registered twice`);
  }
  kinds.push(def);
  return def;
}

export function typeDef(name: string): TypeDef {
  const t = types.get(name);
  if (!t) throw new Error(`schema: unknown type ${name}`);
  return t;
}

export function maybeTypeDef(name: string): TypeDef | undefined {
  return types.get(name);
}

export function allTypes(): ReadonlyMap<string, TypeDef> {
  return types;
}

export function allKinds(): readonly KindDef[] {
  return kinds;
}

export function apiVersionOf(k: Pick<KindDef, 'group' | 'version'>): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}
