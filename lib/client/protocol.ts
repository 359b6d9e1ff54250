/**
 * The NATS API: the Kubernetes API as request/reply subjects. The apiserver answers
 * these in the queue group `flotilla-apiserver`, so several instances share the load.
 * docs/nats-api.md describes the same contract for users of other NATS clients.
 *
 *   flotilla.api.<verb>       request/reply, JSON ApiRequest -> JSON reply
 *   flotilla.api.watch        request: ApiRequest; replies stream to the request's reply
 *                             subject (see WatchFrame); keepalive/stop on the control
 *                             subject named in the first frame
 *   flotilla.api.batch.create BatchCreateRequest -> BatchReply
 *   flotilla.api.batch.bind   BatchBindRequest -> BatchReply
 *   flotilla.api.discovery    any body (ignored) -> DiscoveryReply
 *   flotilla.events.<resource>.<namespace>.<name>  change events (WatchEvent JSON)
 *
 * A reply is the object (or list) on success, or a metav1.Status with status "Failure"
 * on error: the same bodies the REST API returns.
 */
import type { APIGroupList, APIResourceList } from 'kubernetes-types/meta/v1.js';

export const API_PREFIX = 'flotilla.api';
export const EVENTS_PREFIX = 'flotilla.events';
export const APISERVER_QUEUE = 'flotilla-apiserver';

export type Verb =
  | 'get'
  | 'list'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection'
  | 'watch';

/** "apply" is server-side apply: the body is the applied configuration (an object, or YAML text). */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Which resource a request is about. `group` is "" for core. */
export interface ResourceRef {
  group: string;
  version: string;
  /** plural, e.g. "pods" */
  resource: string;
  /** e.g. "status", "scale", "binding" */
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  limit?: number;
  continue?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

export interface WriteOptions {
  dryRun?: 'All';
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** the manager the write's fields are recorded under (required for apply) */
  fieldManager?: string;
  /** apply only: take over fields other managers own instead of failing with a conflict */
  force?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ApiRequest extends ResourceRef {
  verb: Verb;
  /** create/update: the object; patch: the patch document */
  body?: unknown;
  patchType?: PatchType;
  list?: ListOptions;
  write?: WriteOptions;
  delete?: DeleteOptions;
  /**
   * watch only, Flotilla's own (the HTTP API has no such option): the frames carry every
   * object without `metadata.managedFields`, for a reader that never looks at them (about
   * 40% of a pod's bytes)
   */
  omitManagedFields?: boolean;
}

/** A watch stream message: one or more events, in order. */
export interface WatchFrame {
  /** first frame only: subject to publish "keepalive" or "stop" on */
  control?: string;
  /**
   * first frame only: every object in this watch's frames comes without
   * metadata.managedFields (the request's omitManagedFields, which an apiserver that does
   * not know it ignores)
   */
  managedFieldsOmitted?: boolean;
  events?: WatchEvent[];
  /** the stream ended (timeout, error, server shutdown); an error is a Status in `error` */
  done?: boolean;
  error?: unknown;
}

export interface WatchEvent<T = any> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * What one NATS API message (a watch frame, a batch request) should stay under when its
 * receiver decodes it as one string: V8 puts a string over 128 KiB in its large-object
 * space, and making one costs 30-60 times more per byte (Node 20: UTF-8 decoding a 133 KB
 * watch frame 5-15 us per event against 0.1-0.3 us for a 100 KB one; JSON.parse of it 24
 * against 6 us per event). A single larger item still travels, alone.
 */
export const MAX_DECODED_MESSAGE_BYTES = 96 * 1024;

/** Watch streams without a keepalive for this long are dropped by the server. */
export const WATCH_KEEPALIVE_MS = 10_000;
export const WATCH_IDLE_LIMIT_MS = 35_000;

/**
 * Any batch request may ask for outcomes alone: its reply's `results` then hold `null` for
 * each item that succeeded and the Failure Status of each that failed, not the written
 * objects (most of a reply's bytes), for a caller that only wants to know which failed.
 */
export interface BatchOutcomesOption {
  outcomes?: boolean;
}

export interface BatchCreateRequest extends BatchOutcomesOption {
  items: Array<ResourceRef & { body: unknown }>;
  write?: WriteOptions;
}

/** Many patches in one request (status writes of a kubelet, a scheduler, a controller). */
export interface BatchPatchRequest extends BatchOutcomesOption {
  items: Array<ResourceRef & { patchType: PatchType; body: unknown }>;
  write?: WriteOptions;
}

export interface BindItem {
  namespace: string;
  name: string;
  /** the node the pod goes to */
  node: string;
  /** optional precondition on the pod */
  uid?: string;
}

export interface BatchBindRequest extends BatchOutcomesOption {
  items: BindItem[];
}

/** One result per item, in order: the object (`null` when only outcomes were asked for) or a Failure Status. */
export interface BatchReply {
  results: unknown[];
}

/**
 * The reply of `flotilla.api.discovery`: what the REST API's discovery serves, in one
 * message, so a client learns every served resource in one round trip (client-go's
 * ServerGroupsAndResources).
 */
export interface DiscoveryReply {
  /**
   * The APIGroupList of GET /apis with the core group first, named "" with group
   * versions written bare ("v1"). Each group's `preferredVersion` is the version a
   * client should use; `versions` are in the server's order of preference.
   */
  groups: APIGroupList;
  /**
   * One APIResourceList per served group version, as GET /api/v1 and
   * GET /apis/<group>/<version> answer: subresources are entries named
   * "<resource>/<subresource>".
   */
  resources: APIResourceList[];
}
