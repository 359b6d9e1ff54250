/**
 * The API client over NATS, in the manner of client-go's REST client: each verb is one
 * JSON request to `flotilla.api.<verb>` (see protocol.ts); a Failure Status reply comes
 * back as the typed StatusError; NATS transport failures become ServiceUnavailable (no
 * apiserver answers) or Timeout, naming the subject and the object.
 */
import {
  NoRespondersError,
  RequestError,
  TimeoutError as NatsTimeoutError,
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import type { APIResourceList, ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  InternalError,
  ServiceUnavailableError,
  StatusError,
  TimeoutError,
  type Status,
} from '../api/errors.js';
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
  type WatchEvent,
  type WatchFrame,
  type WriteOptions,
} from './protocol.js';
import type { GroupVersionResource } from './resources.js';

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
}

const HTTP_METHOD: Record<Verb, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

const enc = new TextEncoder();

function isFailure(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as Status).kind === 'Status' && (v as Status).status === 'Failure';
}

/** The error a Failure Status (or anything else a server put in an error slot) stands for. */
export function toStatusError(v: unknown): StatusError {
  if (isFailure(v)) return StatusError.fromStatus(v);
  if (v instanceof StatusError) return v;
  return new InternalError(`unexpected error from the apiserver: ${JSON.stringify(v)}`);
}

/** `pods/status default/web` for messages. */
function describe(ref: ResourceRef, body?: unknown): string {
  const name = ref.name ?? (body as KubeObject | undefined)?.metadata?.name ?? (body as KubeObject | undefined)?.metadata?.generateName;
  const what = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
  const qual = ref.group ? `${what}.${ref.group}` : what;
  const obj = name ? ` ${ref.namespace ? `${ref.namespace}/` : ''}${name}` : ref.namespace ? ` in namespace ${ref.namespace}` : '';
  return `${qual}${obj}`;
}

function isNoResponders(e: unknown): boolean {
  if (e instanceof NoRespondersError) return true;
  if (e instanceof RequestError) return e.isNoResponders();
  return false;
}

/** A NATS failure as the typed error callers react to. */
function transportError(e: unknown, subject: string, what: string, timeoutMs: number): StatusError {
  if (e instanceof StatusError) return e;
  if (isNoResponders(e)) return new ServiceUnavailableError(`no apiserver answers on ${subject} (${what})`);
  if (e instanceof NatsTimeoutError || (e instanceof Error && e.name === 'TimeoutError'))
    return new TimeoutError(`no reply on ${subject} within ${timeoutMs} ms (${what})`);
  const msg = e instanceof Error ? e.message : String(e);
  return new ServiceUnavailableError(`request on ${subject} failed (${what}): ${msg}`);
}

class ClientMetrics {
  private readonly requests: Counter<'code' | 'method' | 'host'>;
  private readonly duration: Histogram<'verb' | 'host'>;
  constructor(registry: Registry) {
    const registers = [registry];
    this.requests =
      (registry.getSingleMetric('rest_client_requests_total') as Counter<'code' | 'method' | 'host'> | undefined) ??
      new Counter({
        name: 'rest_client_requests_total',
        help: 'Number of HTTP requests, partitioned by status code, method, and host.',
        labelNames: ['code', 'method', 'host'],
        registers,
      });
    this.duration =
      (registry.getSingleMetric('rest_client_request_duration_seconds') as Histogram<'verb' | 'host'> | undefined) ??
      new Histogram({
        name: 'rest_client_request_duration_seconds',
        help: 'Request latency in seconds. Broken down by verb, and host.',
        labelNames: ['verb', 'host'],
        buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
        registers,
      });
  }
  observe(verb: Verb, host: string, code: string, seconds: number): void {
    const method = HTTP_METHOD[verb];
    this.requests.inc({ code, method, host });
    this.duration.observe({ verb: method, host }, seconds);
  }
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

  constructor(nc: NatsConnection, opts: ApiClientOptions = {}) {
    this.nc = nc;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.watchKeepaliveMs = opts.watchKeepaliveMs ?? WATCH_KEEPALIVE_MS;
    this.prefix = opts.prefix ?? API_PREFIX;
    this.host = opts.host ?? nc.getServer();
    if (opts.registry) this.metrics = new ClientMetrics(opts.registry);
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

  /** Sends `payload`, decodes the reply, throws typed errors and records the request metrics. */
  private async exchange<R>(subject: string, payload: unknown, what: string, verb: Verb, okCode: string): Promise<R> {
    const start = performance.now();
    let code = '<error>';
    try {
      let msg: Msg;
      try {
        msg = await this.nc.request(subject, enc.encode(JSON.stringify(payload)), { timeout: this.requestTimeoutMs });
      } catch (e) {
        throw transportError(e, subject, what, this.requestTimeoutMs);
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
  watch<T = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Watch<T> {
    const w = new Watch<T>(this, { ...ref, verb: 'watch', list: opts }, `${this.prefix}.watch`, () => this.watches.delete(w));
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

export interface PreferredResourcesOptions {
  /** true: only namespaced resources; false: only cluster-scoped ones; unset: both */
  namespaced?: boolean;
}

/**
 * What client-go's ServerPreferredResources makes of a discovery: for each group, the
 * resources of its preferred version, plus any resource only other versions serve, taken
 * from the first of them in the group's order. Subresources ("pods/status") are left
 * out, and so are lists the filter leaves empty. Lists are in the group's version order.
 */
export function preferredResources(d: DiscoveryReply, opts: PreferredResourcesOptions = {}): APIResourceList[] {
  const byGroupVersion = new Map(d.resources.map((l) => [l.groupVersion, l]));
  const out: APIResourceList[] = [];
  for (const g of d.groups.groups) {
    const preferred = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
    const order = [...g.versions.filter((v) => v.groupVersion === preferred), ...g.versions.filter((v) => v.groupVersion !== preferred)];
    // which version each resource is taken from
    const chosen = new Map<string, string>();
    for (const v of order) {
      for (const r of byGroupVersion.get(v.groupVersion)?.resources ?? []) {
        if (!r.name.includes('/') && !chosen.has(r.name)) chosen.set(r.name, v.groupVersion);
      }
    }
    for (const v of g.versions) {
      const list = byGroupVersion.get(v.groupVersion);
      if (!list) continue;
      const resources = list.resources.filter(
        (r) => chosen.get(r.name) === v.groupVersion && (opts.namespaced === undefined || r.namespaced === opts.namespaced),
      );
      if (resources.length) out.push({ groupVersion: v.groupVersion, resources });
    }
  }
  return out;
}

export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly client: ApiClient,
    readonly gvr: GroupVersionResource,
    readonly ns?: string,
  ) {}

  namespace(ns: string): ResourceClient<T> {
    return new ResourceClient<T>(this.client, this.gvr, ns);
  }

  ref(name?: string, subresource?: string): ResourceRef {
    return { ...this.gvr, namespace: this.ns, name, subresource };
  }

  get(name: string, opts?: Pick<ListOptions, 'resourceVersion'>): Promise<T> {
    return this.client.get<T>(this.ref(name), opts);
  }
  list(opts?: ListOptions): Promise<ObjectList<T>> {
    return this.client.list<T>(this.ref(), opts);
  }
  create(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.create<T>(this.ref(), obj, opts);
  }
  update(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.update<T>(this.ref(), obj, opts);
  }
  updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.updateStatus<T>(this.ref(), obj, opts);
  }
  patch(name: string, patchType: PatchType, body: unknown, opts?: WriteOptions & { subresource?: string }): Promise<T> {
    return this.client.patch<T>(this.ref(name, opts?.subresource), patchType, body, opts);
  }
  delete(name: string, opts?: DeleteOptions): Promise<T | Status> {
    return this.client.delete<T>(this.ref(name), opts);
  }
  deleteCollection(list?: ListOptions, opts?: DeleteOptions): Promise<ObjectList<T> | Status> {
    return this.client.deleteCollection<T>(this.ref(), list, opts);
  }
  watch(opts?: ListOptions): Watch<T> {
    return this.client.watch<T>(this.ref(), opts);
  }
}

/**
 * One watch stream. The request goes to `flotilla.api.watch` with a private inbox as
 * its reply subject; frames arrive there. While open, a keepalive request goes to the
 * control subject every keepalive period: if nobody subscribes to it any more (the
 * apiserver holding the stream died) NATS answers "no responders" and the watch fails,
 * so its owner notices within one period instead of waiting forever.
 */
export class Watch<T = KubeObject> implements AsyncIterable<WatchEvent<T>> {
  /** resolves once the server acknowledged the watch (first frame); rejects if it refused */
  readonly ready: Promise<void>;
  readonly what: string;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;
  private readyDone = false;
  private sub?: Subscription;
  private control?: string;
  private keepalive?: NodeJS.Timeout;
  private startTimer?: NodeJS.Timeout;
  private buffer: WatchEvent<T>[] = [];
  private bufferHead = 0;
  private wake?: () => void;
  private ended = false;
  private error?: StatusError;
  private iterating = false;

  constructor(
    private readonly client: ApiClient,
    private readonly req: ApiRequest,
    private readonly subject: string,
    private readonly onClose: () => void,
  ) {
    this.what = describe(req);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // a rejected ready promise nobody awaits must not crash the process
    this.ready.catch(() => {});
  }

  /** @internal */
  open(): void {
    const nc = this.client.nc;
    const inbox = createInbox();
    try {
      this.sub = nc.subscribe(inbox, { callback: (err, msg) => (err ? this.fail(transportError(err, this.subject, this.what, 0)) : this.onMsg(msg)) });
      nc.publish(this.subject, enc.encode(JSON.stringify(this.req)), { reply: inbox });
    } catch (e) {
      this.fail(transportError(e, this.subject, this.what, 0));
      return;
    }
    const timeout = this.client.requestTimeoutMs;
    this.startTimer = setTimeout(() => this.fail(new TimeoutError(`no reply on ${this.subject} within ${timeout} ms (watch ${this.what})`)), timeout);
  }

  private onMsg(msg: Msg): void {
    if (this.ended) return;
    // NATS's own "no responders" status: no apiserver subscribes to the watch subject
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.fail(new ServiceUnavailableError(`no apiserver answers on ${this.subject} (watch ${this.what})`));
      return;
    }
    let frame: WatchFrame;
    try {
      frame = msg.json<WatchFrame>();
    } catch (e) {
      this.fail(new InternalError(`unreadable watch frame on ${this.subject} (watch ${this.what}): ${(e as Error).message}`));
      return;
    }
    if (frame.control && !this.control) {
      this.control = frame.control;
      this.startKeepalive();
    }
    if (frame.events?.length) {
      for (const ev of frame.events) this.buffer.push(ev as WatchEvent<T>);
      this.signal();
    }
    if (frame.error !== undefined && frame.error !== null) {
      this.fail(toStatusError(frame.error));
      return;
    }
    if (!this.readyDone) this.markReady();
    if (frame.done) this.finish();
  }

  private markReady(): void {
    this.readyDone = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.resolveReady();
  }

  private startKeepalive(): void {
    const period = this.client.watchKeepaliveMs;
    this.keepalive = setInterval(() => {
      if (!this.control || this.ended) return;
      this.client.nc.request(this.control, enc.encode('keepalive'), { timeout: period }).then(
        (reply) => {
          // the server answers {done:true} for a stream it no longer has (e.g. reaped as idle)
          let r: WatchFrame | undefined;
          try {
            r = reply.json<WatchFrame>();
          } catch {
            return;
          }
          if (r?.done && !this.ended) this.fail(new ServiceUnavailableError(`the apiserver no longer serves the watch of ${this.what}`));
        },
        (e) => {
          // a timeout only means a busy server; no responders means the instance is gone
          if (isNoResponders(e)) this.fail(new ServiceUnavailableError(`the apiserver serving the watch of ${this.what} went away`));
        },
      );
    }, period);
    this.keepalive.unref();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private cleanup(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.startTimer) clearTimeout(this.startTimer);
    this.keepalive = undefined;
    this.startTimer = undefined;
    try {
      this.sub?.unsubscribe();
    } catch {
      // the connection is already closed: nothing to unsubscribe from
    }
    this.onClose();
  }

  /** @internal The stream broke: iteration throws err once buffered events are consumed. */
  fail(err: StatusError): void {
    if (this.ended) return;
    this.error = err;
    if (!this.readyDone) {
      this.readyDone = true;
      this.rejectReady(err);
    }
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.readyDone) this.markReady();
    this.cleanup();
    this.signal();
  }

  /** Ends the watch and tells the server to stop streaming. */
  stop(): void {
    if (this.ended) return;
    if (this.control) {
      try {
        this.client.nc.publish(this.control, enc.encode('stop'));
      } catch {
        // the connection is closed: the server drops the stream on its own
      }
    }
    this.finish();
  }

  /** True once the stream ended (done, error or stop). */
  get closed(): boolean {
    return this.ended;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterating) throw new Error(`watch of ${this.what} is already being iterated`);
    this.iterating = true;
    try {
      for (;;) {
        if (this.bufferHead < this.buffer.length) {
          const ev = this.buffer[this.bufferHead++];
          if (this.bufferHead === this.buffer.length) {
            this.buffer = [];
            this.bufferHead = 0;
          }
          yield ev;
          continue;
        }
        if (this.ended) {
          if (this.error) throw this.error;
          return;
        }
        await new Promise<void>((r) => (this.wake = r));
      }
    } finally {
      // leaving the loop early (break, throw in the body) ends the watch
      this.stop();
    }
  }
}
