/**
 * Small builders for writing TypeDefs tersely (`fieldType` names the field types):
 *
 *   define(CORE + 'ContainerPort', 'ContainerPort represents a network port in a single container.', {
 *     containerPort: field(3, fieldType.int32, 'Number of port to expose on the pod IP address.', { required: true }),
 *     protocol: field(4, fieldType.string, 'Protocol for port. Must be UDP, TCP, or SCTP.', { default: 'TCP' }),
 *   });
 */
import type { Field, Prop, TypeDef } from './types.js';
import { registerType } from './registry.js';

export const CORE = 'io.k8s.api.core.v1.';
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

export const fieldType = {
  string: { type: 'string' } as Prop,
  int32: { type: 'int32' } as Prop,
  int64: { type: 'int64' } as Prop,
  double: { type: 'double' } as Prop,
  boolean: { type: 'boolean' } as Prop,
  quantity: { type: 'quantity' } as Prop,
  intOrString: { type: 'intOrString' } as Prop,
  time: { type: 'time' } as Prop,
  microTime: { type: 'microTime' } as Prop,
  bytes: { type: 'bytes' } as Prop,
  any: { type: 'any' } as Prop,
  enum: (...values: string[]): Prop => ({ type: 'string', enum: values }),
  ref: (name: string): Prop => ({ type: 'ref', ref: name }),
  array: (items: Prop): Prop => ({ type: 'array', items }),
  map: (values: Prop): Prop => ({ type: 'map', values }),
};

export type FieldExtra = Omit<Partial<Field>, 'type' | 'proto' | 'description'>;

export function field(proto: number, prop: Prop, description: string, extra: FieldExtra = {}): Field {
  return { ...prop, ...extra, proto, description } as Field;
}

/** Registers a named object type and returns it. */
export function define(
  name: string,
  description: string,
  fields: Record<string, Field>,
  opts: { preserveUnknown?: boolean; mapType?: 'atomic' } = {},
): TypeDef {
  const def: TypeDef = { name, description, fields, ...opts };
  registerType(def);
  return def;
}

/**
 * The standard top-level object shape: apiVersion, kind, metadata (ObjectMeta) and the
 * kind's own fields. TypeMeta fields are not in protobuf messages (proto 0: none).
 */
export function defineObject(name: string, description: string, fields: Record<string, Field>): TypeDef {
  return define(name, description, {
    apiVersion: field(0, fieldType.string, 'APIVersion defines the versioned schema of this representation of an object.'),
    kind: field(0, fieldType.string, 'Kind is a string value representing the REST resource this object represents.'),
    metadata: field(1, fieldType.ref(META + 'ObjectMeta'), "Standard object's metadata."),
    ...fields,
  });
}
