/**
 * The API client over NATS, in the manner of client-go's REST client: each verb is one
 * JSON request to `flotilla.api.<verb>` (see protocol.ts); a Failure Status reply comes
 * back as the typed StatusError; NATS transport failures become ServiceUnavailable (no
 * apiserver answers) or Timeout, naming the subject and the object (transport.ts).
 * Watches (watch.ts), typed resource handles (resourceclient.ts), discovery helpers
 * (discovery.ts) and the rest_client_* metrics (metrics.ts) live beside it.
 */
import { headers, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { APIResourceList, ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Registry } from 'prom-client';
import { InternalError, ServiceUnavailableError, StatusError, type Status } from '../api/errors.js';
import { preferredResources, type PreferredResourcesOptions } from './discovery.js';
import { ClientMetrics } from './metrics.js';
import {
  API_PREFIX,
  WATCH_KEEPALIVE_MS,
  type ApiRequest,
  type BatchBindRequest,
  type BatchPatchRequest,
  type BatchCreateRequest,
  type BatchReply,
  type BindItem,
  type DeleteOptions,
  type DiscoveryReply,
  type ListOptions,
  type PatchType,
  type ResourceRef,
  type Verb,
  type WriteOptions,
} from './protocol.js';
import { ResourceClient } from './resourceclient.js';
import { describe, isFailure, transportError } from './transport.js';
import { Watch, type WatchClientOptions } from './watch.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

export interface ApiClientOptions {
  /** how long a request waits for its reply (default 30 s) */
  requestTimeoutMs?: number;
  /** how often a watch tells the apiserver it is still there (default WATCH_KEEPALIVE_MS) */
  watchKeepaliveMs?: number;
  /** where rest_client_* metrics go; none are kept without one */
  registry?: Registry;
  /** the `host` label of the metrics (default: the NATS server the connection uses) */
  host?: string;
  /** subject prefix of the API (default API_PREFIX) */
  prefix?: string;
  /**
   * Sent as the `User-Agent` header of every request, as client-go sends one: the apiserver
   * names the field manager of a write without `fieldManager` after its first "/"-segment
   * (e.g. "kube-scheduler/v1.31.0-flotilla" records "kube-scheduler").
   */
  userAgent?: string;
}


const enc = new TextEncoder();

/** How every batch reply starts (protocol.ts BatchReply). */
const BATCH_REPLY_HEAD = Buffer.from('{"results":[');
/** In every Failure Status (`"status":"Failure"`), whatever the spacing. */
const FAILURE_MARK = Buffer.from('"Failure"');

/**
 * True when a batch reply holds no Failure Status, read from its bytes without decoding
 * them: the common reply to a batch of writes is the written objects, most of its bytes,
 * which a caller that only wants each item's outcome need not parse. A "Failure" anywhere
 * else (an object's own text) only means the reply is decoded after all.
 */
function batchAllSucceeded(data: Uint8Array): boolean {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return b.length > BATCH_REPLY_HEAD.length && b.subarray(0, BATCH_REPLY_HEAD.length).equals(BATCH_REPLY_HEAD) && b.indexOf(FAILURE_MARK) < 0;
}

export class ApiClient {
  readonly nc: NatsConnection;
  readonly requestTimeoutMs: number;
  readonly watchKeepaliveMs: number;
  private readonly prefix: string;
  private readonly metrics?: ClientMetrics;
  private readonly host: string;
  private readonly watches = new Set<Watch<any>>();
  private statusIter?: AsyncIterable<{ type: string }> & { stop?: () => void };
  private readonly requestHeaders?: MsgHdrs;

  constructor(nc: NatsConnection, opts: ApiClientOptions = {}) {
    this.nc = nc;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.watchKeepaliveMs = opts.watchKeepaliveMs ?? WATCH_KEEPALIVE_MS;
    this.prefix = opts.prefix ?? API_PREFIX;
    this.host = opts.host ?? nc.getServer();
    if (opts.registry) this.metrics = new ClientMetrics(opts.registry);
    if (opts.userAgent) {
      this.requestHeaders = headers();
      this.requestHeaders.set('User-Agent', opts.userAgent);
    }
    this.watchConnection();
  }

  /**
   * Frames published while the connection is down are lost, so every open watch is
   * failed on a disconnect: its owner (an informer) re-lists.
   */
  private watchConnection(): void {
    const iter = this.nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.statusIter = iter;
    void (async () => {
      for await (const s of iter) {
        if (s.type === 'disconnect' || s.type === 'reconnect') {
          for (const w of [...this.watches]) w.fail(new ServiceUnavailableError(`NATS connection lost (${s.type}); watch of ${w.what} ended`));
        }
      }
    })().catch(() => {});
  }

  /** Ends every open watch and stops following the connection (the connection stays open). */
  close(): void {
    for (const w of [...this.watches]) w.stop();
    this.statusIter?.stop?.();
  }

  /** One request/reply exchange; a Failure Status is thrown as its typed error. */
  async request<R>(req: ApiRequest, subject = `${this.prefix}.${req.verb}`): Promise<R> {
    return this.exchange<R>(subject, req, describe(req, req.body), req.verb, req.verb === 'create' ? '201' : '200');
  }

  /**
   * Sends `payload`, decodes the reply, throws typed errors and records the request metrics.
   * `undecoded`, when given, may answer from the reply's bytes instead (undefined: decode).
   */
  private async exchange<R>(subject: string, payload: unknown, what: string, verb: Verb, okCode: string, undecoded?: (data: Uint8Array) => R | undefined): Promise<R> {
    const start = performance.now();
    let code = '<error>';
    try {
      let msg: Msg;
      try {
        msg = await this.nc.request(subject, enc.encode(JSON.stringify(payload)), { timeout: this.requestTimeoutMs, headers: this.requestHeaders });
      } catch (e) {
        throw transportError(e, subject, what, this.requestTimeoutMs);
      }
      const quick = undecoded?.(msg.data);
      if (quick !== undefined) {
        code = okCode;
        return quick;
      }
      let body: unknown;
      try {
        body = msg.json();
      } catch (e) {
        throw new InternalError(`unreadable reply on ${subject} (${what}): ${(e as Error).message}`);
      }
      if (isFailure(body)) {
        code = String(body.code);
        throw StatusError.fromStatus(body);
      }
      code = okCode;
      return body as R;
    } finally {
      this.metrics?.observe(verb, this.host, code, (performance.now() - start) / 1000);
    }
  }

  get<T = KubeObject>(ref: ResourceRef, opts: Pick<ListOptions, 'resourceVersion'> = {}): Promise<T> {
    return this.request<T>({ ...ref, verb: 'get', list: opts.resourceVersion !== undefined ? opts : undefined });
  }

  list<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>({ ...ref, verb: 'list', list: opts });
  }

  /** POST to the collection; the namespace defaults to the object's. */
  create<T extends KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T> {
    const namespace = ref.namespace ?? obj.metadata?.namespace;
    return this.request<T>({ ...ref, namespace, name: undefined, verb: 'create', body: obj, write: opts });
  }

  /** PUT: a compare-and-swap on metadata.resourceVersion when the object carries one. */
  update<T extends KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T> {
    const namespace = ref.namespace ?? obj.metadata?.namespace;
    const name = ref.name ?? obj.metadata?.name;
    return this.request<T>({ ...ref, namespace, name, verb: 'update', body: obj, write: opts });
  }

  updateStatus<T extends KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T> {
    return this.update({ ...ref, subresource: 'status' }, obj, opts);
  }

  patch<T = KubeObject>(ref: ResourceRef, patchType: PatchType, body: unknown, opts?: WriteOptions): Promise<T> {
    return this.request<T>({ ...ref, verb: 'patch', patchType, body, write: opts });
  }

  /** Resolves to the object when it lingers (finalizers, grace period), else a Success Status. */
  delete<T = KubeObject>(ref: ResourceRef, opts?: DeleteOptions): Promise<T | Status> {
    return this.request<T | Status>({ ...ref, verb: 'delete', delete: opts });
  }

  deleteCollection<T = KubeObject>(ref: ResourceRef, list: ListOptions = {}, opts?: DeleteOptions): Promise<ObjectList<T> | Status> {
    return this.request<ObjectList<T> | Status>({ ...ref, verb: 'deletecollection', list, delete: opts });
  }

  /**
   * Opens a watch. Events arrive in order through async iteration; the watch ends when
   * the server says done; a server error (e.g. 410 Gone) is thrown from the iteration.
   */
  watch<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}, clientOpts?: WatchClientOptions): Watch<T> {
    const req: ApiRequest = { ...ref, verb: 'watch', list: opts };
    // the apiserver leaves them out of the frames; the watch cuts them itself when its first frame does not say so (an apiserver without the option)
    if (clientOpts?.omitManagedFields) req.omitManagedFields = true;
    const w = new Watch<T>(this, req, `${this.prefix}.watch`, () => this.watches.delete(w), clientOpts);
    this.watches.add(w);
    w.open();
    return w;
  }

  /** Creates many objects in one request; each result is the object or its error. */
  async batchCreate<T = KubeObject>(items: BatchCreateRequest['items'], write?: WriteOptions): Promise<Array<T | StatusError>> {
    const req: BatchCreateRequest = { items, write };
    const reply = await this.batch(req, 'create', `${items.length} objects`);
    return reply.results.map((r) => (isFailure(r) ? StatusError.fromStatus(r) : (r as T)));
  }

  /** Patches many objects (or their subresources) in one request; each result is the object or its error. */
  async batchPatch<T = KubeObject>(items: BatchPatchRequest['items'], write?: WriteOptions): Promise<Array<T | StatusError>> {
    const req: BatchPatchRequest = { items, write };
    const reply = await this.batch(req, 'patch', `${items.length} patches`);
    return reply.results.map((r) => (isFailure(r) ? StatusError.fromStatus(r) : (r as T)));
  }

  /** Binds many pods to nodes in one request; each result is the reply or its error. */
  async batchBind(items: BindItem[]): Promise<Array<unknown | StatusError>> {
    const req: BatchBindRequest = { items };
    const reply = await this.batch(req, 'bind', `${items.length} bindings`);
    return reply.results.map((r) => (isFailure(r) ? StatusError.fromStatus(r) : r));
  }

  /**
   * batchCreate for a caller that needs only each item's outcome (an event recorder, a
   * benchmark): undefined where the object was created, else its typed error. A reply
   * without failures is not decoded at all (the created objects are most of its bytes).
   */
  batchCreateOutcomes(items: BatchCreateRequest['items'], write?: WriteOptions): Promise<Array<StatusError | undefined>> {
    return this.outcomes({ items, write }, 'create', `${items.length} objects`, items.length);
  }

  /** batchPatch for a caller that needs only each item's outcome (see batchCreateOutcomes). */
  batchPatchOutcomes(items: BatchPatchRequest['items'], write?: WriteOptions): Promise<Array<StatusError | undefined>> {
    return this.outcomes({ items, write }, 'patch', `${items.length} patches`, items.length);
  }

  /** batchBind for a caller that needs only each binding's outcome (see batchCreateOutcomes). */
  batchBindOutcomes(items: BindItem[]): Promise<Array<StatusError | undefined>> {
    return this.outcomes({ items }, 'bind', `${items.length} bindings`, items.length);
  }

  private async outcomes(req: BatchCreateRequest | BatchPatchRequest | BatchBindRequest, kind: 'create' | 'patch' | 'bind', what: string, n: number): Promise<Array<StatusError | undefined>> {
    // the apiserver answers null for each success instead of the written object
    const reply = await this.exchange<BatchReply | Array<undefined>>(`${this.prefix}.batch.${kind}`, { ...req, outcomes: true }, what, 'create', '200', (data) =>
      batchAllSucceeded(data) ? new Array<undefined>(n).fill(undefined) : undefined,
    );
    if (Array.isArray(reply)) return reply;
    return reply.results.map((r) => (isFailure(r) ? StatusError.fromStatus(r) : undefined));
  }

  private batch(req: BatchCreateRequest | BatchPatchRequest | BatchBindRequest, kind: 'create' | 'patch' | 'bind', what: string): Promise<BatchReply> {
    return this.exchange<BatchReply>(`${this.prefix}.batch.${kind}`, req, what, 'create', '200');
  }

  /** Every served group and group version's resources in one request (client-go ServerGroupsAndResources). */
  discovery(): Promise<DiscoveryReply> {
    // counted as the GET it is over HTTP
    return this.exchange<DiscoveryReply>(`${this.prefix}.discovery`, {}, 'discovery', 'get', '200');
  }

  /**
   * client-go ServerPreferredResources (with `namespaced: true`,
   * ServerPreferredNamespacedResources; `false`: only cluster-scoped resources): see
   * preferredResources.
   */
  async serverPreferredResources(opts: PreferredResourcesOptions = {}): Promise<APIResourceList[]> {
    return preferredResources(await this.discovery(), opts);
  }

  /** A typed handle on one resource: `client.resource<Pod>('', 'v1', 'pods').namespace('default').get('web')`. */
  resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string): ResourceClient<T> {
    return new ResourceClient<T>(this, { group, version, resource: plural });
  }
}
