/**
 * The one description of every API kind. A kind is written once here (its fields and
 * types, docs, required fields, defaults, strategic-merge keys, protobuf field numbers,
 * printer columns, short names, scope) and everything else is derived from it:
 * validation, OpenAPI v2/v3, strategic merge patch, server-side Table output and
 * protobuf request decoding.
 */

/** The shape of one value. Named object types are referenced by their OpenAPI name. */
export type Prop =
  | { type: 'string'; format?: 'byte' | 'date-time'; enum?: readonly string[] }
  | { type: 'int32' }
  | { type: 'int64' }
  | { type: 'double' }
  | { type: 'boolean' }
  /** a named object type (TypeDef), e.g. "io.k8s.api.core.v1.Container" */
  | { type: 'ref'; ref: string }
  | { type: 'array'; items: Prop }
  /** string-keyed map (protobuf map<string, V>, OpenAPI additionalProperties) */
  | { type: 'map'; values: Prop }
  /** resource.Quantity: a string like "500m" or "1Gi"; protobuf message {string string = 1} */
  | { type: 'quantity' }
  /** intstr.IntOrString: JSON int or string; protobuf {int64 type=1; int32 intVal=2; string strVal=3} */
  | { type: 'intOrString' }
  /** metav1.Time (RFC 3339, seconds); protobuf google.protobuf.Timestamp-like {int64 seconds=1; int32 nanos=2} */
  | { type: 'time' }
  /** metav1.MicroTime (RFC 3339 with microseconds); same protobuf shape as time */
  | { type: 'microTime' }
  /** []byte: base64 in JSON, bytes in protobuf */
  | { type: 'bytes' }
  /** runtime.RawExtension / free-form JSON: any value is accepted and kept */
  | { type: 'any' };

export type PatchStrategy = 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';

/** A field of a named object type. */
export type Field = Prop & {
  /** protobuf field number in the enclosing message (upstream generated.proto) */
  proto: number;
  description: string;
  required?: boolean;
  /** default applied on create when the field is absent */
  default?: unknown;
  /** strategic merge patch: the key that identifies list items (e.g. "name") */
  mergeKey?: string;
  /** strategic merge patch strategy for this list or map */
  strategy?: PatchStrategy;
  /** x-kubernetes-list-type */
  listType?: 'atomic' | 'set' | 'map';
  /** x-kubernetes-list-map-keys */
  listMapKeys?: readonly string[];
  /** x-kubernetes-map-type of a map field (Go `+mapType=atomic`): replaced whole by server-side apply */
  mapType?: 'atomic' | 'granular';
  /**
   * Set on fields of a Go struct that is embedded inline (Volume's VolumeSource, Probe's
   * ProbeHandler, EphemeralContainer's common fields, the LocalObjectReference in key
   * selectors): JSON shows the field in this object, but protobuf wraps such fields in a
   * sub-message at field number `protoWrapper` of the enclosing message, where `proto` is
   * the field's number inside that sub-message. Protobuf numbers are unique per
   * (protoWrapper, proto) pair.
   */
  protoWrapper?: number;
  /**
   * Go pointer field (`*int32`, `*bool`, ...): zero values are meaningful and kept when
   * decoding protobuf. Go writes non-pointer scalars even when zero, while their JSON is
   * omitempty, so the decoder drops zero numbers and false for fields without this flag.
   */
  pointer?: true;
};

/** A named object type: an OpenAPI definition and a protobuf message. */
export interface TypeDef {
  /** OpenAPI definition name, e.g. "io.k8s.api.core.v1.Pod" */
  name: string;
  description: string;
  fields: Record<string, Field>;
  /** accept and keep fields not listed (x-kubernetes-preserve-unknown-fields) */
  preserveUnknown?: boolean;
  /**
   * x-kubernetes-map-type of the object (Go `+structType=atomic`): server-side apply owns
   * and replaces it whole (a LabelSelector, an object reference)
   */
  mapType?: 'atomic' | 'granular';
  /** upstream JSON shape is not an object (e.g. an OpenAPI "string" typed struct); rarely used */
  openapiType?: 'string' | 'object';
}

/** One printer column of a server-side Table. */
export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** "name" marks the NAME column */
  format?: string;
  description: string;
  /** 0: always shown; 1: shown with -o wide */
  priority: 0 | 1;
  /** the cell for one object; `now` is the time the Table is rendered (ms since epoch) */
  value: (obj: any, now: number) => string | number | boolean | null;
}

export interface FieldError {
  /** the path, upstream style: "spec.containers[0].image" */
  field: string;
  /** FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong */
  reason: string;
  message: string;
}

/** exec, attach and portforward are connect-style: served as HTTP upgrades (services/apiserver/streaming/), listed for discovery */
export type SubresourceName = 'status' | 'scale' | 'binding' | 'log' | 'token' | 'eviction' | 'ephemeralcontainers' | 'finalize' | 'exec' | 'attach' | 'portforward';

/** How `/scale` maps onto an object (apps/v1 kinds). */
export interface ScaleSpec {
  /** path of the desired replicas, e.g. ["spec","replicas"] */
  specReplicas: string[];
  statusReplicas: string[];
  /** path of a metav1.LabelSelector, rendered as a string selector in Scale.status.selector */
  labelSelector: string[];
}

/** A served API kind. */
export interface KindDef {
  group: string; // "" for core
  version: string;
  kind: string;
  /** plural resource name, e.g. "pods" */
  plural: string;
  singular: string;
  shortNames?: readonly string[];
  categories?: readonly string[];
  namespaced: boolean;
  /** which names are valid (upstream: namespaces are DNS labels, services DNS-1035 labels); default subdomain */
  nameRule?: 'subdomain' | 'label' | 'dns1035' | 'path-segment';
  /** TypeDef name of the object, e.g. "io.k8s.api.core.v1.Pod" */
  definition: string;
  /** TypeDef name of the list; derived ("...PodList") when absent */
  listDefinition?: string;
  /** verbs served on the main resource; defaults to all of them */
  verbs?: readonly string[];
  subresources?: readonly SubresourceName[];
  scale?: ScaleSpec;
  /** printer columns after NAME (NAME is implied and first) */
  columns: readonly Column[];
  /** field selectors beyond metadata.name / metadata.namespace */
  fieldSelectors?: Record<string, (obj: any) => string | undefined>;
  /** kind-specific validation beyond what the schema checks; `old` is set on update */
  validate?: (obj: any, old?: any) => FieldError[];
  /**
   * Upstream's strategy PrepareForCreate: runs once on create after the apiserver has
   * reset status (e.g. a new Pod starts Pending with its QoS class).
   */
  prepareForCreate?: (obj: any) => void;
  /**
   * Upstream's delete strategy. `gracePeriodSeconds`: how long a deleted object stays
   * (marked with deletionTimestamp) before it goes, given the requested period; absent
   * means 0 (pods bound to a node get their termination grace period). `holds`: what
   * keeps a deleted object besides metadata.finalizers (a namespace's spec.finalizers).
   * `prepareForDelete`: changes made when deletion starts (a namespace turns Terminating).
   */
  deletion?: {
    gracePeriodSeconds?: (obj: any, requested: number | undefined) => number;
    holds?: (obj: any) => readonly string[];
    prepareForDelete?: (obj: any) => void;
    /**
     * The DELETE answers only once this apiserver's own cache shows the object being
     * deleted: its admission reads the cache (a Namespace refuses new content then).
     */
    readYourDelete?: boolean;
  };
  /** defaults applied on create (and update) after schema defaults */
  defaults?: (obj: any) => void;
  /**
   * Whether the object has a spec whose changes bump metadata.generation
   * (true for kinds with spec/status split).
   */
  generation?: boolean;
  /**
   * Another kind's storage is shared (events.k8s.io/v1 Event is stored as core/v1
   * Event). Convert to/from the stored representation.
   */
  storage?: {
    plural: string;
    group: string;
    toStorage: (obj: any) => any;
    fromStorage: (obj: any) => any;
  };
}
