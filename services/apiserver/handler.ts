/**
 * The verbs, independent of transport: the HTTP and NATS front ends both turn a request
 * into an ApiRequest and call `ApiHandler.handle`; watches go through `watch`.
 */
import { randomBytes } from 'node:crypto';
import {
  BadRequestError,
  ConflictError,
  MethodNotAllowedError,
  NotFoundError,
  StatusError,
  TimeoutError,
  successStatus,
} from '../../lib/api/errors.js';
import { PODS, type ApiRequest, type BindItem, type DeleteOptions, type ListOptions } from '../../lib/client/mod.js';
import { parseFieldSelector } from '../../lib/api/fields.js';
import {
  checkResourceVersion,
  deleteOptionsFromJson,
  listOptionsFromJson,
  logContainer,
  podLogOptionsFromJson,
  validateDeleteOptions,
  validatePodLogOptions,
  validateListOptions,
} from './options.js';
import { selectorToString, selectorFromLabelSelector } from '../../lib/api/labels.js';
import { managerFromUserAgent, validateWriteOptions, type RawWriteOptions } from '../../lib/api/fieldmanager/mod.js';
import { StoreTimeoutError } from '../../lib/store/kvstore.js';
import { findKind, type ServedKind } from './kinds.js';
import { listObjects, startWatch, type ActiveWatch, type WatchSink } from './query.js';
import { now, ObjectStorage, type WriteContext } from './storage.js';
import type { CachedObject } from './watchcache.js';
import type { PodLogOpener, PodLogStream } from './podlogs.js';
import { metaTime } from '../../lib/api/time.js';
import type { TraceCarrier, Tracing } from '../../lib/tracing/mod.js';
import { traceCreate } from './tracing.js';

export interface HandlerResult {
  code: number;
  body: unknown;
  /** a list result keeps the cached objects for fast encoding */
  list?: { kind: ServedKind; items: CachedObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number };
  /** plain text (pods/log) */
  text?: string;
  /** a log relayed from the pod's node (pods/log on a real node) */
  stream?: PodLogStream;
  warnings: string[];
}

export interface HandlerOptions {
  bookmarkIntervalMs: number;
  /** opens pods/log on the pod's node (absent: every log is empty, as on hollow nodes) */
  podLogs?: PodLogOpener;
  /** traces pod creates (absent: none) */
  tracing?: Pick<Tracing, 'tracer' | 'sampleRoot'>;
}

function getPath(obj: any, path: string[]): any {
  let v = obj;
  for (const p of path) v = v?.[p];
  return v;
}

function setPath(obj: any, path: string[], value: unknown): void {
  let v = obj;
  for (const p of path.slice(0, -1)) v = v[p] ??= {};
  v[path[path.length - 1]] = value;
}

/**
 * The pod a binding writes: `pod` (the cached object, not changed) with spec.nodeName set and
 * the PodScheduled condition, copying only what changes. Its stored bytes are spliced from
 * the created pod's when the watch cache kept them (objectjson.ts splicedStored).
 */
export function boundPod(pod: any, node: string, time: string): any {
  const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: time };
  const others = (pod.status?.conditions ?? []).filter((x: any) => x.type !== 'PodScheduled');
  const at = (pod.status?.conditions ?? []).findIndex((x: any) => x.type === 'PodScheduled');
  const conditions = at < 0 ? [...others, cond] : [...others.slice(0, at), cond, ...others.slice(at)];
  return {
    ...pod,
    metadata: { ...pod.metadata },
    spec: { ...pod.spec, nodeName: node },
    status: { ...pod.status, conditions },
  };
}

export class ApiHandler {
  constructor(
    readonly storage: ObjectStorage,
    readonly opts: HandlerOptions,
  ) {}

  get cache() {
    return this.storage.cache;
  }

  resolve(req: Pick<ApiRequest, 'group' | 'version' | 'resource'>): ServedKind {
    const kind = findKind(req.group ?? '', req.version, req.resource);
    if (!kind) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    return kind;
  }

  private namespaceOf(kind: ServedKind, req: ApiRequest): string {
    if (!kind.def.namespaced) return '';
    return req.namespace ?? '';
  }

  /**
   * `userAgent` names the manager of a write that gives no fieldManager (upstream's rule);
   * `trace` is the caller's trace context (its traceparent header), which a pod's create continues.
   * `req.body` becomes the handler's: a create may keep the object it writes from it (the
   * watch cache's copy), so the caller must not use or change it afterwards. `replyAsWritten`:
   * the caller answers with the written object as its change event encoded it.
   */
  async handle(req: ApiRequest, rawBody?: string, userAgent?: string, trace?: TraceCarrier, replyAsWritten = false): Promise<HandlerResult> {
    const kind = this.resolve(req);
    const ns = this.namespaceOf(kind, req);
    if (!req.subresource && kind.def.verbs && !kind.def.verbs.includes(req.verb)) {
      // upstream registers no route for a verb the storage does not implement
      throw new MethodNotAllowedError('the server does not allow this method on the requested resource');
    }
    // options are decoded and validated before anything is read or written (upstream's handlers)
    // a get reads GetOptions: resourceVersion alone, the other list options are not looked at
    const list =
      req.verb === 'get' ? listOptionsFromJson({ resourceVersion: req.list?.resourceVersion })
      : req.verb === 'list' || req.verb === 'deletecollection' ? listOptionsFromJson(req.list)
      : undefined;
    if (list && req.verb !== 'get') validateListOptions(list, false);
    if (list) checkResourceVersion(list.resourceVersion, false, kind.qualified);
    const rawDel = req.verb === 'delete' || req.verb === 'deletecollection' ? deleteOptionsFromJson(req.delete) : undefined;
    const del = rawDel ? validateDeleteOptions(rawDel) : undefined;
    const writing = req.verb === 'create' || req.verb === 'update' || req.verb === 'patch';
    if (writing) {
      const apply = req.verb === 'patch' && req.patchType === 'apply';
      const optionsKind = req.verb === 'create' ? 'CreateOptions' : req.verb === 'update' ? 'UpdateOptions' : 'PatchOptions';
      // the options as sent (HTTP: every dryRun value; NATS: whatever the JSON holds), checked before any work
      const raw = (req.write ?? {}) as RawWriteOptions;
      validateWriteOptions(optionsKind, { fieldManager: raw.fieldManager, force: raw.force, apply, dryRun: raw.dryRun, fieldValidation: raw.fieldValidation });
      const dry = raw.dryRun !== undefined && (!Array.isArray(raw.dryRun) || raw.dryRun.length > 0);
      req.write = { ...req.write, dryRun: dry ? 'All' : undefined, fieldValidation: raw.fieldValidation || undefined } as ApiRequest['write'];
    }
    const ctx: WriteContext = {
      dryRun: req.write?.dryRun === 'All' || del?.dryRun === 'All',
      fieldValidation: req.write?.fieldValidation,
      rawBody,
      warnings: [],
      bodyOwned: req.verb === 'create',
      replyAsWritten,
    };
    if (writing) {
      ctx.fieldManager = req.write?.fieldManager || managerFromUserAgent(userAgent);
      ctx.force = req.verb === 'patch' && req.patchType === 'apply' && req.write?.force === true;
    }
    const ok = (code: number, body: unknown): HandlerResult => ({ code, body, warnings: ctx.warnings });
    const needName = () => {
      if (!req.name) throw new MethodNotAllowedError(`${req.verb} needs a name`);
      return req.name;
    };
    const needNamespace = () => {
      if (kind.def.namespaced && !ns) throw new BadRequestError(`${kind.def.plural} is namespaced: a namespace is required`);
    };
    if (req.subresource) return this.subresource(kind, ns, req, ctx);
    switch (req.verb) {
      case 'get':
        return ok(200, await this.storage.get(kind, ns, needName(), list?.resourceVersion !== '0'));
      case 'list': {
        const r = await listObjects(this.cache, kind, ns, list!);
        return { code: 200, body: undefined, list: { kind, ...r }, warnings: [] };
      }
      case 'create':
        needNamespace();
        if (req.name) throw new MethodNotAllowedError(`create is not allowed on a named ${kind.def.kind}`);
        if (this.opts.tracing && kind.storage === PODS.resource && !kind.def.group) {
          return ok(201, await traceCreate(this.opts.tracing, ns, req.body, trace, () => this.storage.create(kind, ns, req.body, ctx)));
        }
        return ok(201, await this.storage.create(kind, ns, req.body, ctx));
      case 'update':
        needNamespace();
        return ok(200, await this.storage.update(kind, ns, needName(), req.body, ctx));
      case 'patch':
        needNamespace();
        if (req.patchType === 'apply') {
          const r = await this.storage.apply(kind, ns, needName(), req.body, ctx);
          return ok(r.created ? 201 : 200, r.obj);
        }
        return ok(200, await this.storage.patch(kind, ns, needName(), req.patchType ?? 'merge', req.body, ctx));
      case 'delete': {
        needNamespace();
        const name = needName();
        const r = await this.storage.delete(kind, ns, name, del!, ctx);
        // upstream's DeleteResource: 202 Accepted only when the client asked for cascading
        // with the deprecated orphanDependents=false and the object is not gone yet (any
        // other pending delete stays 200, "that will break existing clients"); a
        // deletecollection is always 200
        if (!r.gone) return ok(rawDel!.orphanDependents === false ? 202 : 200, r.obj);
        return ok(200, successStatus({ name, group: kind.def.group, kind: kind.def.plural, uid: r.obj.metadata?.uid }));
      }
      case 'deletecollection':
        return this.deleteCollection(kind, ns, list!, del!, ctx);
      default:
        throw new MethodNotAllowedError(`verb ${req.verb} is not supported here`);
    }
  }

  /**
   * upstream Store.DeleteCollection: lists what the selectors select (one page when a limit
   * is given, else everything), deletes each object with the same DeleteOptions (one that is
   * already gone is skipped; any other failure ends the request) and answers the list of
   * the objects as they were listed.
   */
  private async deleteCollection(kind: ServedKind, ns: string, list: ListOptions, del: DeleteOptions, ctx: WriteContext): Promise<HandlerResult> {
    const r = await listObjects(this.cache, kind, ns, list);
    for (const c of r.items) {
      try {
        await this.storage.delete(kind, c.namespace, c.name, del, ctx);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    return { code: 200, body: undefined, list: { kind, ...r }, warnings: ctx.warnings };
  }

  async watch(req: ApiRequest, sink: WatchSink): Promise<ActiveWatch> {
    const kind = this.resolve(req);
    const ns = this.namespaceOf(kind, req);
    const opts: ListOptions = listOptionsFromJson(req.list);
    validateListOptions(opts, true);
    checkResourceVersion(opts.resourceVersion, true, kind.qualified);
    if (req.name) {
      // a watch on one object: its name is the field selector (upstream listOpts)
      const fs = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector) : undefined;
      if (fs && !fs.empty()) {
        if (fs.requiresExactMatch('metadata.name') !== req.name) throw new BadRequestError("fieldSelector metadata.name doesn't match requested name");
      } else opts.fieldSelector = `metadata.name=${req.name}`;
    }
    return startWatch(this.cache, kind, ns, { ...opts, bookmarkIntervalMs: this.opts.bookmarkIntervalMs }, sink, (o) =>
      this.storage.present(kind, o),
    );
  }

  private async subresource(kind: ServedKind, ns: string, req: ApiRequest, ctx: WriteContext): Promise<HandlerResult> {
    const name = req.name;
    const sub = req.subresource!;
    if (!name) throw new NotFoundError(kind.qualified, '');
    const allowed = (kind.def.subresources ?? []) as string[];
    const ok = (code: number, body: unknown): HandlerResult => ({ code, body, warnings: ctx.warnings });
    const isNamespaceFinalize = kind.def.kind === 'Namespace' && sub === 'finalize';
    if (!allowed.includes(sub) && !isNamespaceFinalize) throw new NotFoundError(kind.qualified, `${name}/${sub}`);
    switch (sub) {
      case 'status':
      case 'finalize':
        if (req.verb === 'get') return ok(200, await this.storage.get(kind, ns, name));
        if (req.verb === 'update') return ok(200, await this.storage.update(kind, ns, name, req.body, ctx, sub === 'status' ? 'status' : undefined));
        if (req.verb === 'patch' && req.patchType === 'apply' && sub === 'status') return ok(200, (await this.storage.apply(kind, ns, name, req.body, ctx, 'status')).obj);
        if (req.verb === 'patch') return ok(200, await this.storage.patch(kind, ns, name, req.patchType ?? 'merge', req.body, ctx, 'status'));
        break;
      case 'scale':
        return this.scale(kind, ns, name, req, ctx);
      case 'binding':
        if (req.verb === 'create') {
          const target = (req.body as any)?.target;
          await this.bind(kind, ns, { namespace: ns, name, node: target?.name, uid: (req.body as any)?.metadata?.uid }, ctx);
          return ok(201, successStatus());
        }
        break;
      case 'log':
        if (req.verb === 'get') {
          // the PodLogOptions: HTTP's query, decoded by the front end, or a NATS request's body
          const opts = podLogOptionsFromJson(req.body);
          validatePodLogOptions(opts, name);
          const pod = await this.storage.get(kind, ns, name);
          const container = logContainer(pod, name, opts.container);
          const stream = await this.opts.podLogs?.(pod, container, opts);
          if (stream) return { code: 200, body: undefined, stream, warnings: [] };
          // no node yet, or a hollow one: the log is empty
          return { code: 200, body: undefined, text: '', warnings: [] };
        }
        break;
      case 'token':
        if (req.verb === 'create') return ok(201, await this.token(kind, ns, name, req.body));
        break;
      case 'exec':
      case 'attach':
      case 'portforward':
        // served as HTTP upgrades (streaming/upgrade.ts); anything else is upstream's refusal
        throw new BadRequestError('Upgrade request required');
      case 'eviction':
        if (req.verb === 'create') {
          const r = await this.storage.delete(kind, ns, name, (req.body as any)?.deleteOptions ?? {}, ctx);
          void r;
          return ok(201, successStatus());
        }
        break;
    }
    throw new MethodNotAllowedError(`${req.verb} is not supported on ${kind.def.plural}/${sub}`);
  }

  /** pods/binding: sets spec.nodeName once and marks the pod scheduled. */
  async bind(kind: ServedKind, ns: string, item: BindItem, ctx: WriteContext): Promise<any> {
    if (typeof item.node !== 'string' || !item.node) throw new BadRequestError('binding target name is required');
    return this.storage.patchWith(kind, ns, item.name, ctx, (pod) => {
      if (item.uid && pod.metadata.uid !== item.uid) {
        throw new ConflictError(kind.qualified, item.name, `Precondition failed: UID in precondition: ${item.uid}, UID in object meta: ${pod.metadata.uid}`);
      }
      if (pod.spec?.nodeName) {
        throw new ConflictError(kind.qualified, item.name, `pod ${item.name} is already assigned to node "${pod.spec.nodeName}"`);
      }
      if (pod.metadata.deletionTimestamp) {
        throw new ConflictError(kind.qualified, item.name, `pod ${item.name} is being deleted, cannot be assigned to a host`);
      }
      return boundPod(pod, item.node, now());
    }, { trusted: true });
  }

  /** Each binding's Status; with `outcomesOnly`, null for each success (no Status is built for it). */
  async bindMany(items: BindItem[], outcomesOnly = false): Promise<unknown[]> {
    const kind = this.resolve(PODS);
    return Promise.all(
      items.map(async (it) => {
        try {
          await this.bind(kind, it.namespace, it, { warnings: [] });
          return outcomesOnly ? null : successStatus({ name: it.name, kind: 'pods' });
        } catch (e) {
          return errorBody(e);
        }
      }),
    );
  }

  private async scale(kind: ServedKind, ns: string, name: string, req: ApiRequest, ctx: WriteContext): Promise<HandlerResult> {
    const spec = kind.def.scale;
    if (!spec) throw new NotFoundError(kind.qualified, `${name}/scale`);
    const toScale = (obj: any) => {
      const sel = getPath(obj, spec.labelSelector);
      let selector = '';
      try {
        selector = sel ? selectorToString(selectorFromLabelSelector(sel)) : '';
      } catch {
        selector = '';
      }
      return {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: {
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
          creationTimestamp: obj.metadata.creationTimestamp,
        },
        spec: { replicas: getPath(obj, spec.specReplicas) ?? 0 },
        status: { replicas: getPath(obj, spec.statusReplicas) ?? 0, selector },
      };
    };
    const ok = (body: unknown): HandlerResult => ({ code: 200, body, warnings: ctx.warnings });
    if (req.verb === 'get') return ok(toScale(await this.storage.get(kind, ns, name)));
    if (req.verb !== 'update' && req.verb !== 'patch') throw new MethodNotAllowedError(`${req.verb} is not supported on scale`);
    if (req.patchType === 'apply') {
      // a Scale's replicas applied as the object's own replicas, owned under the scale subresource
      const cfg = req.body as any;
      if (!cfg || typeof cfg !== 'object' || cfg.apiVersion !== 'autoscaling/v1' || cfg.kind !== 'Scale') {
        throw new BadRequestError(`invalid object type: ${cfg?.apiVersion ?? ''}, Kind=${cfg?.kind ?? ''}`);
      }
      const parent: any = { apiVersion: kind.apiVersion, kind: kind.def.kind, metadata: { name: cfg.metadata?.name ?? name } };
      if (cfg.spec?.replicas !== undefined) setPath(parent, spec.specReplicas, cfg.spec.replicas);
      const r = await this.storage.apply(kind, ns, name, parent, ctx, 'scale');
      return ok(toScale(r.obj));
    }
    const pinned = req.verb === 'update' ? (req.body as any)?.metadata?.resourceVersion : undefined;
    const updated = await this.storage.patchWith(kind, ns, name, ctx, (obj) => {
      if (pinned && pinned !== obj.metadata.resourceVersion) {
        throw new ConflictError(kind.qualified, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      let scale: any = toScale(obj);
      if (req.verb === 'update') scale = req.body;
      else scale = this.storage.applyPatchTo((req.patchType ?? 'merge') as Exclude<typeof req.patchType, 'apply' | undefined>, scale, req.body, 'io.k8s.api.autoscaling.v1.Scale');
      const replicas = scale?.spec?.replicas;
      if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
        throw new BadRequestError(`Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
      }
      const next = structuredClone(obj);
      setPath(next, spec.specReplicas, replicas ?? 0);
      return next;
    }, { track: 'scale' });
    return ok(toScale(updated));
  }

  private async token(kind: ServedKind, ns: string, name: string, body: any): Promise<object> {
    const sa = await this.storage.get(kind, ns, name);
    const seconds = Math.max(600, Number(body?.spec?.expirationSeconds ?? 3600));
    const exp = new Date(Date.now() + seconds * 1000);
    const payload = {
      iss: 'https://flotilla.local',
      sub: `system:serviceaccount:${ns}:${name}`,
      aud: body?.spec?.audiences ?? ['https://flotilla.local'],
      exp: Math.floor(exp.getTime() / 1000),
      iat: Math.floor(Date.now() / 1000),
      'kubernetes.io': { namespace: ns, serviceaccount: { name, uid: sa.metadata.uid } },
    };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.${randomBytes(16).toString('base64url')}`;
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: null },
      spec: { audiences: payload.aud, expirationSeconds: seconds, boundObjectReference: body?.spec?.boundObjectReference ?? null },
      status: { token, expirationTimestamp: metaTime(exp.getTime()) },
    };
  }
}

function cachedJson(c: CachedObject & { json?: string }): string {
  return (c.json ??= JSON.stringify(c.obj));
}

/** Each item of a list reply as the JSON encodeList writes for it. */
export function encodedItems(l: NonNullable<HandlerResult['list']>): string[] {
  const conv = l.kind.def.storage;
  return conv ? l.items.map((c) => JSON.stringify(conv.fromStorage(c.obj))) : l.items.map(cachedJson);
}

/**
 * A list reply as JSON text, built from each cached object's memoized JSON so a list of
 * thousands of objects is not re-serialized object by object on every request.
 */
export function encodeList(l: NonNullable<HandlerResult['list']>): string {
  const meta: Record<string, unknown> = { resourceVersion: l.resourceVersion };
  if (l.continue) meta.continue = l.continue;
  if (l.remainingItemCount !== undefined) meta.remainingItemCount = l.remainingItemCount;
  const items = encodedItems(l);
  return `{"kind":${JSON.stringify(l.kind.def.kind + 'List')},"apiVersion":${JSON.stringify(l.kind.apiVersion)},"metadata":${JSON.stringify(meta)},"items":[${items.join(',')}]}`;
}

/**
 * A store that did not acknowledge in time answers as upstream's apiserver does when etcd
 * does not: 504 Timeout, which clients (kubectl, client-go) know may have been applied.
 */
function asStatus(e: unknown): unknown {
  return e instanceof StoreTimeoutError ? new TimeoutError(`Timeout: request did not complete within requested timeout - ${e.message}`) : e;
}

/** The HTTP code for an error, whatever threw it. */
export function errorCode(e: unknown): number {
  return (asStatus(e) as StatusError).code ?? 500;
}

/** The Status body for an error, whatever threw it. */
export function errorBody(err: unknown): object {
  const e = asStatus(err);
  if (e && typeof e === 'object' && 'toStatus' in e && typeof (e as any).toStatus === 'function') return (e as any).toStatus();
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${(e as Error)?.message ?? String(e)}`,
    reason: 'InternalError',
    code: 500,
  };
}
