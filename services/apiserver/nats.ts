/**
 * The same API as a NATS service (see lib/client/protocol.ts and docs/nats-api.md):
 * request/reply verbs in a queue group, streamed watches with keepalive, batch verbs,
 * and change events published for every write this instance makes.
 */
import { carrierFromNatsHeaders } from '../../lib/tracing/mod.js';
import { headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import YAML from 'yaml';
import { BadRequestError, RequestEntityTooLargeError, ServiceUnavailableError, StatusError, successStatus } from '../../lib/api/errors.js';
import {
  API_PREFIX,
  APISERVER_QUEUE,
  EVENTS_PREFIX,
  MAX_DECODED_MESSAGE_BYTES,
  WATCH_IDLE_LIMIT_MS,
  type ApiRequest,
  type BatchBindRequest,
  type BatchCreateRequest,
  type BatchOutcomesOption,
  type BatchPatchRequest,
  type Verb,
  type WatchEvent,
  type WatchFrame,
  partsLength,
  publishParts,
} from '../../lib/client/mod.js';
import { objectKey } from '../../lib/store/keys.js';
import { discoveryDocument } from './discovery.js';
import { encodedItems, encodeList, errorBody, type ApiHandler, type HandlerResult } from './handler.js';
import { shortenPage } from './query.js';
import { collectPodLog } from './podlogs.js';
import { upstreamVerb, type ApiServerMetrics } from './metrics.js';
import type { ChangeNotice } from './storage.js';
import { frameParts, objectJson, objectJsonWithoutManagedFields, withResourceVersionParts } from './objectjson.js';
import { TurnMemo } from './turnmemo.js';

/** the reply header naming an HTTP code the body does not show (202) */
export const STATUS_CODE_HEADER = 'Status-Code';
const VERBS = new Set(['get', 'list', 'create', 'update', 'patch', 'delete', 'deletecollection']);
/** written objects' encodings waiting for their reply, at most (a reply that never comes loses its oldest) */
const MAX_WRITTEN = 16_384;
/** events per watch frame, so one slow consumer cannot make frames huge */
const MAX_EVENTS_PER_FRAME = 512;
/** room left under max_payload for the frame's wrapping and the message's headers */
const FRAME_ENVELOPE_BYTES = 1024;

interface NatsWatch {
  stop(): void;
  /** tells the watcher the stream ended (server shutdown) */
  notifyDone(): void;
  lastSeen: number;
}

export class NatsApi {
  private subs: Subscription[] = [];
  private readonly watches = new Map<string, NatsWatch>();
  private readonly instance = randomUUID().slice(0, 8);
  private reaper?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly handler: ApiHandler,
    private readonly metrics: ApiServerMetrics,
    /** aggregated group versions (APIServices) for the discovery document */
    private readonly aggregated?: () => { groups: object[]; resources: object[] },
  ) {}

  start(): void {
    const q = { queue: APISERVER_QUEUE };
    this.subs.push(this.nc.subscribe(`${API_PREFIX}.*`, { ...q, callback: (err, m) => void (err || this.onRequest(m)) }));
    this.subs.push(this.nc.subscribe(`${API_PREFIX}.batch.*`, { ...q, callback: (err, m) => void (err || this.onBatch(m)) }));
    this.subs.push(
      this.nc.subscribe(`${API_PREFIX}.watchctl.${this.instance}.*`, { callback: (err, m) => void (err || this.onWatchControl(m)) }),
    );
    this.reaper = setInterval(() => {
      const cutoff = Date.now() - WATCH_IDLE_LIMIT_MS;
      for (const [id, w] of this.watches) if (w.lastSeen < cutoff) this.endWatch(id);
    }, 5_000);
    this.reaper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.reaper);
    this.stopping = true;
    // Drain rather than unsubscribe: a request already on its way to this instance is
    // answered (a watch with 503), never silently dropped to time out at the client; once
    // drained, new requests find the other apiservers or "no responders".
    await Promise.all(this.subs.map((s) => s.drain().catch(() => undefined)));
    this.subs = [];
    for (const [id, w] of [...this.watches]) {
      this.endWatch(id);
      w.notifyDone();
    }
  }

  /**
   * Objects this instance wrote, as their change event encoded them (UTF-8 parts): a
   * create, update or patch, single or batched, answers with the very object (untouched
   * since the write), so it is encoded once, not twice.
   */
  private readonly written = new Map<object, readonly Uint8Array[]>();

  /** JSON.stringify(v) as UTF-8 parts, from the change event's encoding when `v` is an object just written. */
  private encodeWritten(v: unknown): readonly Uint8Array[] {
    if (v !== null && typeof v === 'object') {
      const json = this.written.get(v);
      if (json !== undefined) {
        this.written.delete(v);
        return json;
      }
    }
    return [Buffer.from(JSON.stringify(v) ?? 'null')];
  }

  /** Publishes a change event; called for every write this instance makes. */
  publishChange(n: ChangeNotice): void {
    const key = objectKey(n.kind.storage, n.kind.def.namespaced ? n.obj.metadata?.namespace : undefined, n.obj.metadata?.name ?? '');
    const head = CHANGE_HEADS[n.type];
    // the bytes the store was sent, with the revision between them, when the write gave them
    // (never for a kind stored in another shape, as events.k8s.io's Events are)
    const object = n.stored && !n.kind.def.storage ? withResourceVersionParts(n.stored, n.obj.metadata.resourceVersion) : [Buffer.from(JSON.stringify(n.obj))];
    // the object a batch write answers with: its reply reuses this encoding. Only then: a
    // kept encoding lives as long as its object, and a cached object lives long
    if (n.forReply) {
      if (this.written.size >= MAX_WRITTEN) this.written.delete(this.written.keys().next().value!);
      this.written.set(n.obj, object);
    }
    try {
      publishParts(this.nc, `${EVENTS_PREFIX}.${key}`, [head, ...object, OBJECT_TAIL]);
    } catch {
      /* a closed connection drops events; watchers get them from watches */
    }
  }

  /** Answers a request; a body given as parts is sent from them (publishParts). */
  private reply(m: Msg, body: string | Uint8Array | readonly Uint8Array[], code = 200): void {
    if (!m.reply) return;
    // a reply's body says what it is; 202 Accepted (a delete not finished at once) would not
    // show, so that code travels in a header (docs/nats-api.md); other replies carry none
    let opts: { headers: MsgHdrs } | undefined;
    if (code === 202) {
      opts = { headers: headers() };
      opts.headers.set(STATUS_CODE_HEADER, String(code));
    }
    if (typeof body === 'string' || body instanceof Uint8Array) m.respond(body, opts);
    else publishParts(this.nc, m.reply, body, opts);
  }

  private parse<T>(m: Msg): T {
    try {
      return JSON.parse(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8')) as T;
    } catch (e) {
      throw new BadRequestError(`request on ${m.subject} is not valid JSON: ${(e as Error).message}`);
    }
  }

  private async onRequest(m: Msg): Promise<void> {
    const verb = m.subject.slice(API_PREFIX.length + 1);
    if (verb === 'discovery') {
      // not a resource request: its body is ignored and it is not counted per resource
      this.reply(m, JSON.stringify(discoveryDocument(this.aggregated?.())));
      return;
    }
    const started = process.hrtime.bigint();
    let code = 500;
    let req: ApiRequest | undefined;
    try {
      req = this.parse<ApiRequest>(m);
      if (!req || typeof req !== 'object') throw new BadRequestError('request must be a JSON object');
      req.verb = verb as ApiRequest['verb'];
      req.group ??= '';
      if (verb === 'watch') {
        code = 200;
        await this.startWatch(m, req);
        return;
      }
      if (!VERBS.has(verb)) throw new BadRequestError(`unknown verb "${verb}" on ${m.subject}`);
      if (typeof req.resource !== 'string' || typeof req.version !== 'string') {
        throw new BadRequestError('request needs "version" and "resource"');
      }
      // a write of an object answers with the object written: its change event's encoding
      // is reused for the reply, as a batch reply's is (a status write's too; not another
      // subresource's, whose reply is another object: its encoding would only wait in
      // `written` to be dropped)
      const reuse = (verb === 'create' || verb === 'update' || verb === 'patch') && (!req.subresource || req.subresource === 'status');
      // a NATS client names itself as an HTTP client does, for writes without a fieldManager
      const result = await this.handler.handle(req, applyText(req), m.headers?.get('User-Agent') || undefined, carrierFromNatsHeaders(m.headers), reuse);
      code = result.code;
      const max = this.nc.info?.max_payload ?? 1024 * 1024;
      // a log from a real node: the reply carries it whole, so a follow waits for its end
      if (result.stream) result.text = await collectPodLog(result.stream, max - FRAME_ENVELOPE_BYTES);
      if (verb === 'list' && result.list && (req.list?.limit ?? 0) > 0) result.list = fitPage(result.list, max, req);
      // encoded to UTF-8 once: its size is checked on the bytes the reply sends
      let body: readonly Uint8Array[] = reuse && !result.list && result.text === undefined ? this.encodeWritten(result.body) : [Buffer.from(encodeResult(result))];
      let size = partsLength(body);
      if (size > max && verb === 'deletecollection' && result.list) {
        // the objects are deleted already: a failure would be untrue, so the reply says how
        // many went instead of listing them
        const n = result.list.items.length;
        body = [
          Buffer.from(
            JSON.stringify({
              ...successStatus({ group: req.group, kind: req.resource }),
              message: `deleted ${n} ${req.resource}; the list of them (${size} bytes) exceeds the NATS max payload of ${max} bytes`,
            }),
          ),
        ];
        size = partsLength(body);
      }
      if (size > max) {
        code = 413;
        throw new RequestEntityTooLargeError(max).withMessage(
          `the reply (${size} bytes) exceeds the NATS max payload of ${max} bytes: page the list with "limit" and "continue"`,
        );
      }
      this.reply(m, body, code);
    } catch (e) {
      code = (e as StatusError).code ?? 500;
      this.reply(m, JSON.stringify(errorBody(e)));
    } finally {
      if (req && verb !== 'watch') {
        this.metrics.observe(
          {
            verb: upstreamVerb(verb as Verb),
            group: req.group ?? '',
            version: req.version ?? '',
            resource: req.resource ?? '',
            subresource: req.subresource,
            scope: req.name ? 'resource' : req.namespace ? 'namespace' : 'cluster',
            component: 'apiserver',
            dryRun: req.write?.dryRun === 'All',
          },
          code,
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      }
    }
  }

  private async onBatch(m: Msg): Promise<void> {
    const userAgent = m.headers?.get('User-Agent') || undefined;
    const trace = carrierFromNatsHeaders(m.headers);
    const op = m.subject.slice(`${API_PREFIX}.batch.`.length);
    try {
      if (op === 'create' || op === 'patch') {
        // each item is the single-object verb, so it behaves (and fails) exactly as one
        const b = this.parse<BatchCreateRequest | BatchPatchRequest>(m);
        if (!Array.isArray(b?.items)) throw new BadRequestError(`batch ${op} needs "items"`);
        const outcomes = outcomesOnly(b);
        const results = await Promise.all(
          b.items.map(async (it: BatchCreateRequest['items'][number] | BatchPatchRequest['items'][number]) => {
            try {
              const one: ApiRequest = { ...it, group: it.group ?? '', verb: op, write: b.write };
              const r = await this.handler.handle(one, applyText(one), userAgent, trace, !outcomes);
              return outcomes ? null : r.body;
            } catch (e) {
              return errorBody(e);
            }
          }),
        );
        this.reply(m, frameParts(RESULTS_HEAD, results.map((r) => (r === null ? [NULL] : this.encodeWritten(r))), ARRAY_OBJECT_TAIL));
      } else if (op === 'bind') {
        const b = this.parse<BatchBindRequest>(m);
        if (!Array.isArray(b?.items)) throw new BadRequestError('batch bind needs "items"');
        const outcomes = outcomesOnly(b);
        this.reply(m, JSON.stringify({ results: await this.handler.bindMany(b.items, outcomes) }));
      } else {
        throw new BadRequestError(`unknown batch operation "${op}"`);
      }
    } catch (e) {
      this.reply(m, JSON.stringify(errorBody(e)));
    }
  }

  private async startWatch(m: Msg, req: ApiRequest): Promise<void> {
    const inbox = m.reply;
    if (!inbox) throw new BadRequestError('a watch request needs a reply subject');
    const id = randomUUID().slice(0, 12);
    const control = `${API_PREFIX}.watchctl.${this.instance}.${id}`;
    let queue: WatchEvent[] = [];
    let scheduled = false;
    let ended = false;
    let lost = false;
    const publishFrame = (body: string | readonly Uint8Array[]) => {
      if (lost) return;
      try {
        if (typeof body === 'string') this.nc.publish(inbox, body);
        else publishParts(this.nc, inbox, body);
      } catch (e) {
        // the watcher must hear at once that it missed events (it re-lists), not at its next keepalive
        lost = true;
        this.endWatch(id);
        try {
          const err = new StatusError(500, 'InternalError', `watch ${req.resource}: a frame of ${typeof body === 'string' ? Buffer.byteLength(body) : partsLength(body)} bytes could not be sent: ${(e as Error).message}`);
          this.nc.publish(inbox, JSON.stringify({ done: true, error: errorBody(err) }));
        } catch {
          /* the connection is gone: the watcher's keepalive finds out */
        }
      }
    };
    const sendFrame = (f: WatchFrame) => publishFrame(JSON.stringify(f));
    const omitManagedFields = req.omitManagedFields === true;
    // Frames are cut by bytes as well as by count: a publish over max_payload throws, and
    // the watch would end with the watcher unaware until its next keepalive (up to 10 s of
    // missed events, then a full re-list); and a frame the watcher decodes as one string
    // costs it far more past V8's large-object size (MAX_DECODED_MESSAGE_BYTES).
    const flush = () => {
      scheduled = false;
      const max = Math.min(MAX_DECODED_MESSAGE_BYTES, (this.nc.info?.max_payload ?? 1024 * 1024) - FRAME_ENVELOPE_BYTES);
      const events = queue;
      queue = [];
      for (const frame of watchFrames(events, omitManagedFields, max)) publishFrame(frame);
    };
    const labels = { group: req.group, version: req.version, kind: req.resource };
    let w: { stop(): void } | undefined;
    const entry: NatsWatch = {
      lastSeen: Date.now(),
      notifyDone: () => sendFrame({ done: true, error: errorBody(shuttingDown()) }),
      stop: () => {
        if (ended) return;
        ended = true;
        w?.stop();
        flush();
        this.metrics.watchers.dec(labels);
      },
    };
    if (this.stopping) {
      sendFrame({ done: true, error: errorBody(shuttingDown()) });
      return;
    }
    try {
      if (req.omitManagedFields !== undefined && typeof req.omitManagedFields !== 'boolean') {
        throw new BadRequestError(`"omitManagedFields" must be a boolean, not ${JSON.stringify(req.omitManagedFields)}`);
      }
      // the first frame says that managedFields are left out, so the watcher need not look for them
      sendFrame(omitManagedFields ? { control, managedFieldsOmitted: true } : { control });
      w = await this.handler.watch(req, {
        send: (ev) => {
          if (ended) return;
          queue.push(ev);
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        },
        end: () => {
          this.endWatch(id);
          sendFrame({ done: true });
        },
      });
    } catch (e) {
      sendFrame({ done: true, error: errorBody(e) });
      return;
    }
    this.metrics.watchers.inc(labels);
    this.watches.set(id, entry);
    // stop() ran while the watch was being set up: it did not see this one
    if (this.stopping) {
      this.endWatch(id);
      entry.notifyDone();
    }
  }

  private onWatchControl(m: Msg): void {
    const id = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const w = this.watches.get(id);
    const cmd = new TextDecoder().decode(m.data).trim();
    if (!w) {
      if (m.reply) m.respond(JSON.stringify({ done: true }));
      return;
    }
    if (cmd === 'stop') this.endWatch(id);
    else w.lastSeen = Date.now();
    if (m.reply) m.respond(JSON.stringify({ ok: true }));
  }

  private endWatch(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    this.watches.delete(id);
    w.stop();
  }
}

/**
 * A paged list cut to the whole items that fit one NATS message, with a continue token
 * after the last: a client paging with `limit` never fails on size. An unpaged list is
 * left whole (it fails with 413, as it would have to).
 */
function fitPage(l: NonNullable<HandlerResult['list']>, max: number, req: ApiRequest): NonNullable<HandlerResult['list']> {
  const items = encodedItems(l);
  // the list's wrapping (kind, apiVersion, metadata with a continue token) and the headers
  let room = max - FRAME_ENVELOPE_BYTES - Buffer.byteLength(encodeList({ ...l, items: [] }));
  let keep = 0;
  for (const json of items) {
    room -= Buffer.byteLength(json) + 1;
    if (room < 0) break;
    keep++;
  }
  if (keep === items.length || keep === 0) return l;
  return { ...l, ...shortenPage(l, keep, !!(req.list?.labelSelector || req.list?.fieldSelector)) };
}

/** Whether a batch request asked for outcomes alone (BatchOutcomesOption). */
function outcomesOnly(b: BatchOutcomesOption): boolean {
  if (b.outcomes !== undefined && typeof b.outcomes !== 'boolean') throw new BadRequestError(`"outcomes" must be a boolean, not ${JSON.stringify(b.outcomes)}`);
  return b.outcomes === true;
}

/** An apply body may come as YAML text; the handler gets the object and the text (for fieldValidation). */
function applyText(req: ApiRequest): string | undefined {
  if (req.verb !== 'patch' || req.patchType !== 'apply' || typeof req.body !== 'string') return undefined;
  const text = req.body;
  try {
    req.body = YAML.parse(text, { maxAliasCount: 100, uniqueKeys: false });
  } catch (e) {
    throw new BadRequestError(`error decoding YAML: ${(e as Error).message}`);
  }
  return text;
}

const EVENT_HEADS: Record<string, Buffer> = Object.fromEntries(
  ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'].map((t) => [t, Buffer.from(`{"type":"${t}","object":`)]),
);
/** the wrapping of a change event, by type */
const CHANGE_HEADS = EVENT_HEADS as Record<ChangeNotice['type'], Buffer>;
const OBJECT_TAIL = Buffer.from('}');
const NULL = Buffer.from('null');
const EVENTS_HEAD = Buffer.from('{"events":[');
const RESULTS_HEAD = Buffer.from('{"results":[');
const ARRAY_OBJECT_TAIL = Buffer.from(']}');

/**
 * The frames carrying `events`, each cut by count and by bytes: each frame the parts of its
 * events' encodings between the frame's wrapping, sent as they are (publishParts), neither
 * a string encoded again nor a buffer they are copied into. Watchers of one resource are usually
 * queued the very same events in a turn (the scheduler's informer and the benchmark's
 * tracker both watch every pod): frames made for the same events with the same options
 * this turn are sent again rather than joined again.
 */
function watchFrames(events: WatchEvent[], omitManagedFields: boolean, max: number): Array<readonly Uint8Array[]> {
  if (events.length === 0) return [];
  const first = events[0]!.object;
  const shareable = first !== null && typeof first === 'object';
  if (shareable) {
    for (const made of framesThisTurn.get(first) ?? []) {
      if (made.omitManagedFields === omitManagedFields && made.max === max && sameEvents(made.events, events)) return made.frames;
    }
  }
  const frames: Array<readonly Uint8Array[]> = [];
  let pieces: Uint8Array[][] = [];
  let bytes = 0;
  const send = () => {
    frames.push(frameParts(EVENTS_HEAD, pieces, ARRAY_OBJECT_TAIL));
    pieces = [];
    bytes = 0;
  };
  for (const ev of events) {
    const p = encodeWatchEvent(ev, omitManagedFields);
    let size = 1;
    for (const x of p) size += x.length;
    if (pieces.length >= MAX_EVENTS_PER_FRAME || (pieces.length > 0 && bytes + size > max)) send();
    pieces.push(p);
    bytes += size;
  }
  send();
  if (shareable) {
    let made = framesThisTurn.get(first);
    if (!made) framesThisTurn.set(first, (made = []));
    made.push({ events, omitManagedFields, max, frames });
  }
  return frames;
}

/** Frames made this turn, by their first event's object. */
const framesThisTurn = new TurnMemo<object, Array<{ events: WatchEvent[]; omitManagedFields: boolean; max: number; frames: Array<readonly Uint8Array[]> }>>();


/** Whether two event lists encode alike: the same types and the very same objects, and nothing else in the events. */
function sameEvents(a: WatchEvent[], b: WatchEvent[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && (x.type !== y.type || x.object !== y.object || !isPlainEvent(x) || !isPlainEvent(y))) return false;
  }
  return true;
}

/** an event of a type and an object and nothing else, encoded from the object's shared encoding */
function isPlainEvent(ev: WatchEvent): boolean {
  const keys = Object.keys(ev);
  return keys.length === 2 && keys[0] === 'type' && keys[1] === 'object' && ev.object !== null && typeof ev.object === 'object' && EVENT_HEADS[ev.type] !== undefined;
}

/**
 * JSON.stringify(ev) as UTF-8 pieces, byte for byte: the event's wrapping around the
 * object's encoding, which is shared between watchers (less its metadata.managedFields for
 * a watch that asked to omit them).
 */
function encodeWatchEvent(ev: WatchEvent, omitManagedFields: boolean): Uint8Array[] {
  if (!isPlainEvent(ev)) {
    return [Buffer.from(JSON.stringify(omitManagedFields ? { ...ev, object: dropManagedFieldsCopy(ev.object) } : ev))];
  }
  const obj = ev.object as object;
  const head = EVENT_HEADS[ev.type]!;
  return [head, ...(omitManagedFields ? objectJsonWithoutManagedFields(obj) : objectJson(obj)), OBJECT_TAIL];
}

/** A shallow copy of an object without metadata.managedFields (the cached object is shared: never changed). */
function dropManagedFieldsCopy(obj: unknown): unknown {
  const meta = (obj as { metadata?: { managedFields?: unknown } } | null)?.metadata;
  if (!meta || typeof meta !== 'object' || meta.managedFields === undefined) return obj;
  const { managedFields: _mf, ...rest } = meta;
  return { ...(obj as object), metadata: rest };
}


/** What watchers hear when this apiserver stops: retry elsewhere (upstream closes the stream). */
function shuttingDown(): StatusError {
  return new ServiceUnavailableError('the apiserver is shutting down');
}

/** The reply body: the object, the list, or a Status. */
export function encodeResult(r: HandlerResult): string {
  if (r.list) return encodeList(r.list);
  if (r.text !== undefined) return JSON.stringify({ text: r.text });
  return JSON.stringify(r.body);
}
