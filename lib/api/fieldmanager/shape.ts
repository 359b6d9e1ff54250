/**
 * Compiles the one schema of a kind (lib/schema TypeDefs) into the shapes field
 * management walks, once per type. List relationships follow upstream's conversion of
 * its OpenAPI (kube-openapi schemaconv): `x-kubernetes-list-type` when given; otherwise a
 * strategic-merge "merge" list with a merge key is a map keyed by it, one without a key
 * is a set, and anything else is atomic. Structs and maps are granular unless their
 * `x-kubernetes-map-type` is atomic.
 */
import { maybeTypeDef } from '../../schema/registry.js';
import type { Field, Prop } from '../../schema/types.js';
import type { ListShape, MapShape, ScalarShape, ShapeNode, StructShape, UntypedShape } from './types.js';

const SCALAR: ScalarShape = { kind: 'scalar' };
export const UNTYPED: UntypedShape = { kind: 'untyped' };

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/**
 * Struct types that Go API types hold by value, not by pointer, where they are nested:
 * a zero object already carries them (empty), so an Update that fills them owns their
 * fields but not the struct itself (upstream's managed fields show `f:template` without ".").
 * Top-level fields of a kind (metadata, spec, status) are held by value too.
 */
const BY_VALUE_TYPES = new Set([
  META + 'ObjectMeta',
  'io.k8s.api.core.v1.PodTemplateSpec',
  'io.k8s.api.core.v1.PodSpec',
  'io.k8s.api.batch.v1.JobTemplateSpec',
  'io.k8s.api.batch.v1.JobSpec',
  'io.k8s.api.apps.v1.DeploymentStrategy',
  'io.k8s.api.apps.v1.DaemonSetUpdateStrategy',
  'io.k8s.api.apps.v1.StatefulSetUpdateStrategy',
]);

/** Fields a Go zero value writes as null rather than omitting (no omitempty): present, so not added. */
const NULL_IN_ZERO_FIELDS: Record<string, readonly string[]> = {
  'io.k8s.api.core.v1.PodSpec': ['containers'],
};

const structs = new Map<string, ShapeNode>();

/** The shape of a named type; unknown names are free-form. */
function structShape(typeName: string): ShapeNode {
  const cached = structs.get(typeName);
  if (cached) return cached;
  const def = maybeTypeDef(typeName);
  if (!def || def.openapiType === 'string') {
    const u: ShapeNode = def ? SCALAR : UNTYPED;
    structs.set(typeName, u);
    return u;
  }
  const zeroPresent = new Set<string>();
  const s: StructShape = {
    kind: 'struct',
    name: typeName,
    fields: new Map(),
    atomic: def.mapType === 'atomic',
    preserveUnknown: !!def.preserveUnknown,
    zeroPresent,
  };
  // cached before its fields are compiled: types may refer to themselves
  structs.set(typeName, s);
  for (const [name, f] of Object.entries(def.fields)) {
    s.fields.set(name, fieldShape(f));
    if (f.type === 'ref' && BY_VALUE_TYPES.has(f.ref)) zeroPresent.add(name);
  }
  for (const name of NULL_IN_ZERO_FIELDS[typeName] ?? []) zeroPresent.add(name);
  return s;
}

/** The shape of a kind's object: its top-level structs are held by value. */
export function rootShape(typeName: string): ShapeNode {
  const s = structShape(typeName);
  if (s.kind === 'struct' && !rootsDone.has(typeName)) {
    rootsDone.add(typeName);
    const def = maybeTypeDef(typeName)!;
    const zp = s.zeroPresent as Set<string>;
    for (const [name, f] of Object.entries(def.fields)) if (f.type === 'ref' && !TOP_LEVEL_POINTERS.has(name)) zp.add(name);
  }
  return s;
}
const rootsDone = new Set<string>();
/** Top-level struct fields Go holds by pointer (an Event's series and related): absent from a zero object. */
const TOP_LEVEL_POINTERS = new Set(['series', 'related']);

function fieldShape(f: Field): ShapeNode {
  return propShape(f, f);
}

function propShape(p: Prop, f?: Partial<Field>): ShapeNode {
  switch (p.type) {
    case 'ref':
      return structShape(p.ref);
    case 'array':
      return listShape(p.items, f ?? {});
    case 'map': {
      const m: MapShape = { kind: 'map', values: propShape(p.values), atomic: f?.mapType === 'atomic' };
      return m;
    }
    case 'any':
      return UNTYPED;
    default:
      return SCALAR;
  }
}

function listShape(items: Prop, f: Partial<Field>): ListShape {
  const merge = !!f.strategy && f.strategy.split(',').includes('merge');
  let relationship: ListShape['relationship'];
  let keys: string[] = [];
  if (f.listType) {
    relationship = f.listType;
    if (f.listType === 'map') keys = [...(f.listMapKeys ?? (f.mergeKey ? [f.mergeKey] : []))];
  } else if (merge && f.mergeKey) {
    relationship = 'map';
    keys = [f.mergeKey];
  } else if (merge) {
    relationship = 'set';
  } else {
    relationship = 'atomic';
  }
  keys.sort();
  const keyDefaults: Record<string, unknown> = {};
  if (relationship === 'map' && items.type === 'ref') {
    const def = maybeTypeDef(items.ref);
    for (const k of keys) {
      const d = def?.fields[k]?.default;
      if (d !== undefined) keyDefaults[k] = d;
    }
  }
  return { kind: 'list', items: propShape(items), relationship, keys, keyDefaults };
}
