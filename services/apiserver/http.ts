/**
 * The Kubernetes REST API over HTTP: routing, content negotiation (JSON, YAML and
 * protobuf request bodies; JSON and Table responses), watch streaming, discovery,
 * OpenAPI, health and metrics endpoints. Every error is a metav1.Status.
 */
import { carrierFromHttpHeaders } from '../../lib/tracing/mod.js';
import http from 'node:http';
import YAML from 'yaml';
import {
  BadRequestError,
  GoneError,
  MethodNotAllowedError,
  NotAcceptableError,
  RequestEntityTooLargeError,
  StatusError,
  UnsupportedMediaTypeError,
} from '../../lib/api/errors.js';
import type { ApiRequest, DeleteOptions, PatchType, Verb, WatchEvent } from '../../lib/client/mod.js';
import { openapiV2, openapiV2Protobuf, openapiV3Json, openapiV3Paths, OPENAPI_V2_PROTOBUF_CONTENT_TYPE } from '../../lib/schema/openapi.js';
import { decodeDeleteOptionsProtobuf, decodeKubernetesProtobuf } from '../../lib/schema/protobuf.js';
import { renderMetrics } from '../../lib/metrics/mod.js';
import {
  aggregatedDiscovery,
  apiGroupInfo,
  apiGroupList,
  apiResourceList,
  apiVersions,
  versionInfo,
} from './discovery.js';
import { encodeList, errorBody, errorCode, type ApiHandler, type HandlerResult } from './handler.js';
import { findKind, type ServedKind } from './kinds.js';
import { relayPodLog } from './podlogs.js';
import { deleteOptionsFromJson, deleteOptionsFromQuery, listOptionsFromQuery, podLogOptionsFromQuery, queryFlag } from './options.js';
import { upstreamVerb, type ApiServerMetrics, type RequestLabels } from './metrics.js';
import { table, tableRow, type IncludeObject } from './table.js';
import type { CachedObject } from './watchcache.js';
import { handleStreamingUpgrade, isStreamingRequest, type StreamingDeps } from './streaming/upgrade.js';
import type { Aggregator } from './aggregator/aggregator.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

interface Route {
  ref: ApiRequest;
  kind: ServedKind;
  watch: boolean;
}

/** Parses /api/v1/... and /apis/g/v/... into a resource request. */
function route(method: string, segs: string[], q: URLSearchParams): Route | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return undefined;
  let watch = queryFlag(q, 'watch');
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findKind(group, version, rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  if (extra.length || !plural) return undefined;
  const kind = findKind(group, version, plural);
  if (!kind) return undefined;
  if (!kind.def.namespaced && namespace !== undefined) return undefined;
  let verb: Verb;
  if (sub) {
    verb = method === 'GET' ? 'get' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'POST' ? 'create' : 'delete';
  } else if (name) {
    if (method === 'GET') verb = watch ? 'watch' : 'get';
    else if (method === 'PUT') verb = 'update';
    else if (method === 'PATCH') verb = 'patch';
    else if (method === 'DELETE') verb = 'delete';
    else throw new MethodNotAllowedError(`the server does not allow this method on the requested resource`);
  } else {
    if (method === 'GET') verb = watch ? 'watch' : 'list';
    else if (method === 'POST') verb = 'create';
    else if (method === 'DELETE') verb = 'deletecollection';
    else throw new MethodNotAllowedError(`the server does not allow this method on the requested resource`);
  }
  const ref: ApiRequest = { verb, group, version, resource: plural, namespace, name, subresource: sub };
  if (kind.def.kind === 'Namespace' && name) ref.namespace = undefined;
  return { ref, kind, watch: verb === 'watch' };
}

function scopeOf(r: ApiRequest): string {
  if (r.name) return 'resource';
  return r.namespace ? 'namespace' : 'cluster';
}

/** Accept header parsing for the alternatives kubectl sends. */
function wantsTable(accept: string): boolean {
  return /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

function acceptsJson(accept: string): boolean {
  if (!accept) return true;
  return accept.split(',').some((a) => {
    const t = a.split(';')[0].trim();
    return t === 'application/json' || t === '*/*' || t === 'application/*' || t === 'application/yaml' || t === PROTOBUF || t === 'text/plain';
  });
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  if (v) throw new BadRequestError(`includeObject: Unsupported value: "${v}"`);
  return 'Metadata';
}

export interface HttpServerDeps {
  handler: ApiHandler;
  metrics: ApiServerMetrics;
  ready: () => boolean;
  /** pods/exec, attach and portforward (HTTP upgrades relayed to the node's kubelet over NATS) */
  streaming?: StreamingDeps;
  /** API aggregation: group versions of APIServices that name a service are proxied there */
  aggregator?: Aggregator;
}

export function createHttpServer(deps: HttpServerDeps): http.Server {
  const server = http.createServer((req, res) => {
    serve(deps, req, res).catch((e) => {
      if (!res.headersSent) sendJson(res, errorCode(e), errorBody(e));
      else res.destroy();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (deps.streaming && isStreamingRequest(req)) return void handleStreamingUpgrade(deps.streaming, req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

function sendJson(res: http.ServerResponse, code: number, body: unknown, contentType = 'application/json', warnings: string[] = []): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' };
  if (warnings.length) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (len > MAX_BODY_BYTES) throw new RequestEntityTooLargeError(MAX_BODY_BYTES);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestEntityTooLargeError(MAX_BODY_BYTES);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Decodes a request body by its Content-Type; returns the object and its text (for duplicate-field checks). */
function decodeBody(kind: ServedKind, contentType: string, raw: Buffer, patch: boolean): { body: unknown; text?: string; patchType?: PatchType } {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  if (patch) {
    const pt = PATCH_TYPES[ct];
    if (!pt) throw new UnsupportedMediaTypeError(contentType || '(none)');
    if (pt === 'apply') return { body: parseApplyYaml(raw), text: raw.toString('utf8'), patchType: pt };
    return { body: parseJson(raw), text: raw.toString('utf8'), patchType: pt };
  }
  if (ct === 'application/json' || ct === '') return { body: parseJson(raw), text: raw.toString('utf8') };
  if (ct === 'application/yaml' || ct === 'application/x-yaml' || ct === 'text/yaml') {
    const text = raw.toString('utf8');
    try {
      return { body: YAML.parse(text, { maxAliasCount: 100 }), text };
    } catch (e) {
      throw new BadRequestError(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  if (ct === PROTOBUF) {
    const d = decodeKubernetesProtobuf(new Uint8Array(raw.buffer, raw.byteOffset, raw.length));
    return { body: d.object };
  }
  throw new UnsupportedMediaTypeError(contentType);
}

/**
 * A DeleteOptions body in any of the media types upstream's NegotiateInputSerializer
 * takes (JSON when no Content-Type is given); another is a 415.
 */
function decodeDeleteOptionsBody(contentType: string, raw: Buffer): unknown {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  if (ct === 'application/json' || ct === '') return parseJson(raw);
  if (ct === 'application/yaml') {
    try {
      return YAML.parse(raw.toString('utf8'), { maxAliasCount: 100 });
    } catch (e) {
      throw new BadRequestError(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  if (ct === PROTOBUF) return decodeDeleteOptionsProtobuf(new Uint8Array(raw.buffer, raw.byteOffset, raw.length)).object;
  throw new UnsupportedMediaTypeError(contentType);
}

/** An apply body: YAML (JSON is YAML too); repeated keys are for fieldValidation to judge, as upstream. */
function parseApplyYaml(raw: Buffer): unknown {
  try {
    return YAML.parse(raw.toString('utf8'), { maxAliasCount: 100, uniqueKeys: false });
  } catch (e) {
    throw new BadRequestError(`error decoding YAML: ${(e as Error).message}`);
  }
}

function parseJson(raw: Buffer): unknown {
  if (!raw.length) throw new BadRequestError('the request body is empty: an object is required');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new BadRequestError(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

async function serve(deps: HttpServerDeps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams;
  const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = (req.method ?? 'GET').toUpperCase();
  const accept = String(req.headers.accept ?? '');

  // non-resource endpoints
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const remote = deps.aggregator?.match(segs);
  if (remote) return deps.aggregator!.proxy(remote, req, res);
  if (method === 'GET' || method === 'HEAD') {
    if (p === '/healthz' || p === '/livez') return sendText(res, 200, 'ok');
    if (p === '/readyz') return deps.ready() ? sendText(res, 200, 'ok') : sendText(res, 503, 'not ready: watch cache not synced');
    if (p === '/version') return sendJson(res, 200, versionInfo());
    if (p === '/metrics') {
      const m = await renderMetrics(deps.metrics.registry);
      return sendText(res, 200, m.body, m.contentType);
    }
    if (p === '/api' || p === '/apis') return discoveryRoot(res, p === '/api' ? 'api' : 'apis', accept, req.headers.host ?? '', deps.aggregator);
    if (p === '/openapi/v2') return openapiV2Response(res, accept);
    if (p === '/openapi/v3') return sendJson(res, 200, { paths: openapiV3Paths() });
    if (p.startsWith('/openapi/v3/')) {
      const doc = openapiV3Json(p.slice('/openapi/v3/'.length));
      if (!doc) return sendJson(res, 404, new StatusError(404, 'NotFound', `the server could not find the requested resource`).toStatus());
      const headers: Record<string, string> = { ETag: `"${doc.hash}"`, Vary: 'Accept' };
      const asked = q.get('hash');
      if (asked && asked !== doc.hash) {
        res.writeHead(301, { Location: `${p}?hash=${doc.hash}`, 'Content-Length': 0 });
        return void res.end();
      }
      if (asked) {
        headers['Cache-Control'] = 'public, immutable';
        headers['Expires'] = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
      }
      return sendText(res, 200, doc.json, 'application/json', headers);
    }
    if (segs[0] === 'api' && segs.length === 2) {
      const l = apiResourceList('', segs[1]);
      if (l) return sendJson(res, 200, l);
    }
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroupInfo(segs[1]) ?? deps.aggregator?.apiGroup(segs[1]);
      if (g) return sendJson(res, 200, g);
    }
    if (segs[0] === 'apis' && segs.length === 3) {
      const l = apiResourceList(segs[1], segs[2]);
      if (l) return sendJson(res, 200, l);
    }
  }

  // upstream answers a streaming subresource asked without an upgrade so
  if (isStreamingRequest(req)) return sendJson(res, 400, new BadRequestError('Upgrade request required').toStatus());
  const r = route(method, segs, q);
  if (!r) return sendJson(res, 404, new StatusError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
  const started = process.hrtime.bigint();
  const labels: RequestLabels = {
    verb: upstreamVerb(r.ref.verb),
    group: r.ref.group,
    version: r.ref.version,
    resource: r.ref.resource,
    subresource: r.ref.subresource,
    scope: scopeOf(r.ref),
    component: 'apiserver',
  };
  const kindLabel = r.ref.verb === 'get' || r.ref.verb === 'list' || r.ref.verb === 'watch' ? 'readOnly' : 'mutating';
  if (r.ref.verb !== 'watch') deps.metrics.inflight.inc({ request_kind: kindLabel });
  let code = 500;
  try {
    if (!acceptsJson(accept)) throw new NotAcceptableError(`only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
    if (r.ref.verb === 'watch') {
      code = 200;
      return await serveWatch(deps, r, q, accept, req, res);
    }
    const mutating = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
    let text: string | undefined;
    if (mutating) {
      const raw = await readBody(req);
      if (method === 'DELETE') {
        // upstream: the list options of a deletecollection come from the query; the
        // DeleteOptions from the body when there is one, else from the query
        if (r.ref.verb === 'deletecollection') r.ref.list = listOptionsFromQuery(q);
        const d = raw.length ? deleteOptionsFromJson(decodeDeleteOptionsBody(String(req.headers['content-type'] ?? ''), raw)) : deleteOptionsFromQuery(q);
        r.ref.delete = d as DeleteOptions;
        labels.dryRun = !!d.dryRun?.includes('All');
      } else {
        const d = decodeBody(r.kind, String(req.headers['content-type'] ?? ''), raw, method === 'PATCH');
        r.ref.body = d.body;
        r.ref.patchType = d.patchType;
        text = d.text;
        // dryRun and fieldValidation as sent: the handler checks them (a 422 on the write's options, as upstream)
        const dryRun = q.getAll('dryRun');
        r.ref.write = {
          dryRun: dryRun.length ? dryRun : undefined,
          fieldValidation: q.get('fieldValidation') ?? undefined,
          fieldManager: q.get('fieldManager') ?? undefined,
        } as ApiRequest['write'] & {};
        if (q.has('force')) r.ref.write.force = queryFlag(q, 'force');
        labels.dryRun = dryRun.length > 0 && dryRun.every((v) => v === 'All');
      }
    } else {
      // a get takes GetOptions (resourceVersion alone), as upstream decodes it
      r.ref.list = r.ref.verb === 'get' ? (q.has('resourceVersion') ? { resourceVersion: q.get('resourceVersion')! } : {}) : listOptionsFromQuery(q);
      if (r.ref.subresource === 'log') r.ref.body = podLogOptionsFromQuery(q);
    }
    const result = await deps.handler.handle(r.ref, text, String(req.headers['user-agent'] ?? ''), carrierFromHttpHeaders(req.headers));
    code = result.code;
    respond(res, r, result, accept, q);
  } catch (e) {
    code = errorCode(e);
    sendJson(res, code, errorBody(e));
  } finally {
    if (r.ref.verb !== 'watch') deps.metrics.inflight.dec({ request_kind: kindLabel });
    deps.metrics.observe(labels, code, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

function sendText(res: http.ServerResponse, code: number, body: string, contentType = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function respond(res: http.ServerResponse, r: Route, result: HandlerResult, accept: string, q: URLSearchParams): void {
  if (result.stream) return void relayPodLog(res, result.stream);
  if (result.text !== undefined) return sendText(res, result.code, result.text);
  const asTable = wantsTable(accept) && (r.ref.verb === 'list' || r.ref.verb === 'get') && !r.ref.subresource;
  const tableCT = 'application/json;as=Table;v=v1;g=meta.k8s.io';
  if (result.list) {
    const l = result.list;
    const present = (c: CachedObject) => (r.kind.def.storage ? r.kind.def.storage.fromStorage(c.obj) : c.obj);
    if (asTable) {
      const t = table(r.kind, l.items.map(present), {
        include: includeObject(q),
        withColumns: true,
        resourceVersion: l.resourceVersion,
        continue: l.continue,
        remainingItemCount: l.remainingItemCount,
      });
      return sendJson(res, 200, t, tableCT, result.warnings);
    }
    const body = encodeList(l);
    return sendJson(res, 200, body, 'application/json', result.warnings);
  }
  if (asTable && result.code < 300 && (result.body as any)?.kind === r.kind.def.kind) {
    const t = table(r.kind, [result.body], { include: includeObject(q), withColumns: true, resourceVersion: (result.body as any).metadata?.resourceVersion });
    return sendJson(res, result.code, t, tableCT, result.warnings);
  }
  sendJson(res, result.code, result.body, 'application/json', result.warnings);
}

async function serveWatch(deps: HttpServerDeps, r: Route, q: URLSearchParams, accept: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  r.ref.list = listOptionsFromQuery(q);
  const asTable = wantsTable(accept);
  const include = includeObject(q);
  let first = true;
  const encode = (ev: WatchEvent): string => {
    if (!asTable || ev.type === 'BOOKMARK' || ev.type === 'ERROR') return JSON.stringify(ev);
    const now = Date.now();
    const t = table(r.kind, [], { include, withColumns: first, resourceVersion: ev.object?.metadata?.resourceVersion });
    (t as any).rows = [tableRow(r.kind, ev.object, include, now)];
    first = false;
    return JSON.stringify({ type: ev.type, object: t });
  };
  let open = true;
  let headerSent = false;
  const sendHeaders = () => {
    if (headerSent) return;
    headerSent = true;
    res.writeHead(200, {
      'Content-Type': asTable ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
  };
  const labels = { group: r.ref.group, version: r.ref.version, kind: r.kind.def.kind };
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!open || !pending.length) return;
    const chunk = pending.join('');
    pending = [];
    res.write(chunk);
  };
  const sink = {
    send: (ev: WatchEvent) => {
      if (!open) return;
      sendHeaders();
      pending.push(encode(ev) + '\n');
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    end: () => {
      if (!open) return;
      flush();
      open = false;
      sendHeaders();
      res.end();
    },
  };
  let w: { stop(): void };
  try {
    w = await deps.handler.watch(r.ref, sink);
  } catch (e) {
    if (!(e instanceof GoneError)) throw e;
    // upstream's cacher answers a watch from a compacted resourceVersion with 200 and one
    // ERROR event carrying the 410 Expired Status; clients re-list on it
    sink.send({ type: 'ERROR', object: e.toStatus() });
    sink.end();
    return;
  }
  sendHeaders();
  // clients (client-go) wait for the response headers before reading events
  res.flushHeaders();
  flush();
  deps.metrics.watchers.inc(labels);
  const close = () => {
    if (!open && !w) return;
    open = false;
    w.stop();
    deps.metrics.watchers.dec(labels);
  };
  req.on('close', close);
  res.on('close', close);
}

function discoveryRoot(res: http.ServerResponse, root: 'api' | 'apis', accept: string, host: string, aggregator?: Aggregator): void {
  const m = /as=APIGroupDiscoveryList/.test(accept);
  if (m) {
    const alts = accept.split(',').map((a) => a.trim());
    let version: 'v2' | 'v2beta1' | undefined;
    for (const a of alts) {
      if (!/as=APIGroupDiscoveryList/.test(a) || !/g=apidiscovery\.k8s\.io/.test(a)) continue;
      if (/v=v2beta1/.test(a)) {
        version = 'v2beta1';
        break;
      }
      if (/v=v2(;|$)/.test(a)) {
        version = 'v2';
        break;
      }
    }
    if (version) {
      const ct = `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
      res.setHeader('Vary', 'Accept');
      const doc = aggregatedDiscovery(root, version) as { items: object[] };
      if (root === 'apis' && aggregator) doc.items.push(...aggregator.discoveryItems());
      return sendJson(res, 200, doc, ct);
    }
  }
  if (root === 'api') return sendJson(res, 200, apiVersions(host));
  const list = apiGroupList() as { groups: object[] };
  if (aggregator) list.groups.push(...aggregator.apiGroups());
  return sendJson(res, 200, list);
}

function openapiV2Response(res: http.ServerResponse, accept: string): void {
  if (/application\/com\.github\.proto-openapi\.spec\.v2/.test(accept)) {
    const buf = openapiV2Protobuf();
    res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF_CONTENT_TYPE, 'Content-Length': buf.length, Vary: 'Accept' });
    res.end(buf);
    return;
  }
  const doc = openapiV2();
  sendText(res, 200, typeof doc === 'string' ? doc : JSON.stringify(doc), 'application/json', { Vary: 'Accept' });
}

