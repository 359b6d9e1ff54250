/**
 * The vocabulary of field management (server-side apply), as upstream names it in
 * metav1.ManagedFieldsEntry and sigs.k8s.io/structured-merge-diff.
 */

export type ManagedFieldsOperation = 'Apply' | 'Update';

/** FieldsV1: a trie of path elements ("f:name", 'k:{"name":"x"}', 'v:"x"', "i:0"); "." marks the node itself. */
export type FieldsV1 = { [pathElement: string]: FieldsV1 };

/** metav1.ManagedFieldsEntry as it is stored and served. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: ManagedFieldsOperation;
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/**
 * The shape of a value as field management sees it, compiled once per schema type
 * (upstream's structured-merge-diff schema): scalars are leaves; structs and maps are
 * "granular" (each field owned on its own) unless atomic; lists are atomic, sets (items
 * are their own keys) or maps keyed by some of their items' fields.
 */
export type ShapeNode = ScalarShape | StructShape | MapShape | ListShape | UntypedShape;

export interface ScalarShape {
  kind: 'scalar';
}

export interface StructShape {
  kind: 'struct';
  /** the schema type name, for messages */
  name: string;
  fields: Map<string, ShapeNode>;
  atomic: boolean;
  /** unknown fields are kept (x-kubernetes-preserve-unknown-fields) and deduced */
  preserveUnknown: boolean;
  /**
   * fields that a Go zero value of this struct already carries (non-pointer structs such
   * as a Deployment's spec.template): an Update that fills them does not add the field itself
   */
  zeroPresent: ReadonlySet<string>;
}

export interface MapShape {
  kind: 'map';
  values: ShapeNode;
  atomic: boolean;
}

export interface ListShape {
  kind: 'list';
  items: ShapeNode;
  relationship: 'atomic' | 'set' | 'map';
  /** for relationship "map": the key fields, sorted by name as path elements sort them */
  keys: readonly string[];
  /** key fields' schema defaults, used when an item omits them (a port's protocol "TCP") */
  keyDefaults: Readonly<Record<string, unknown>>;
}

/** free-form JSON (RawExtension, preserved unknown fields): objects granular, lists atomic */
export interface UntypedShape {
  kind: 'untyped';
}

/** Which part of an object a write may own: all of it but status, only status, or a single path (scale). */
export type FieldScope =
  | { kind: 'main'; ignoreStatus: boolean }
  | { kind: 'status' }
  | { kind: 'path'; path: readonly string[] };

/** A conflict: a field another manager owns whose value the apply changes. */
export interface FieldConflict {
  /** the manager identifier (upstream's JSON identifier of the entry) */
  manager: string;
  /** upstream's path string, e.g. `.spec.containers[name="web"].image` */
  path: string;
}
