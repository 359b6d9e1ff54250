/**
 * An object's JSON, made once per write. Every write used to stringify its object three
 * times: for the store (without resourceVersion), for its change event and batch reply,
 * and for the watch frames the watch cache fans out once the store's entry comes back.
 * The last two differ from the first only by `metadata.resourceVersion`, which every
 * write path appends last to metadata once the store has answered, so they are the stored
 * text with that one field spliced in: byte for byte what JSON.stringify would give.
 * They are kept as the UTF-8 bytes the store was sent: the change event, the batch reply
 * and the watch frames are spliced from them, so no text is encoded to UTF-8 twice and no
 * frame is built as one long string first. A binding's stored bytes are spliced from the
 * bytes its pod was created with (splicedStored), not encoded from the whole pod again.
 */
import { metadataManagedFieldsMember } from '../../lib/client/mod.js';
import { TurnMemo } from './turnmemo.js';

/** The stored encoding: the object's JSON without resourceVersion and selfLink, and where its metadata ends. */
export interface StoredJson {
  text: string;
  /** index in `text` of the `}` that closes metadata */
  metaEnd: number;
  /**
   * index in `text` of the comma before metadata.managedFields when that member is
   * metadata's last and not its only one (where every write puts it): the member is
   * `text` from here to metaEnd, and a watch that omits managedFields cuts it there
   * without searching the bytes
   */
  managedFields?: number;
}

/**
 * The JSON of objects many writes share (sharedspecs.ts: pods of one template share their
 * spec), each deep-frozen and holding JSON values only, so its text never changes.
 */
const sharedJson = new WeakMap<object, string>();

/** Records `text` as JSON.stringify(obj); the caller vouches that obj is deep-frozen and holds JSON values only. */
export function shareJson(obj: object, text: string): void {
  sharedJson.set(obj, text);
}

/** The same text as JSON.stringify({ ...obj, metadata: <metadata without resourceVersion, selfLink> }). */
export function encodeStored(obj: any): StoredJson {
  const metadata = obj.metadata ?? {};
  const { resourceVersion: _rv, selfLink: _sl, managedFields, ...rest } = metadata;
  // managedFields last: encoded apart, so that where the member starts is known; one
  // elsewhere (rare) keeps its place, so metadata is copied again in its own order
  const apart = managedFields !== undefined && managedFieldsLast(metadata);
  const meta = apart || managedFields === undefined ? rest : withoutUnstored(metadata);
  let text = '{';
  let metaEnd = -1;
  let managedFieldsAt: number | undefined;
  const add = (key: string, value: unknown) => {
    const json = (typeof value === 'object' && value !== null && sharedJson.get(value)) || JSON.stringify(value);
    if (json === undefined) return;
    text += (text.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + json;
  };
  const addMetadata = () => {
    if (!apart) add('metadata', meta);
    else {
      // the text is not read back here (a cons string read is a copy of it): only its length
      const json = JSON.stringify(meta);
      text += `${text.length > 1 ? ',' : ''}"metadata":`;
      if (json.length === 2) text += `{"managedFields":${JSON.stringify(managedFields)}}`;
      else {
        managedFieldsAt = text.length + json.length - 1;
        text += `${json.slice(0, -1)},"managedFields":${JSON.stringify(managedFields)}}`;
      }
    }
    metaEnd = text.length - 1;
  };
  for (const key of Object.keys(obj)) {
    if (key !== 'metadata') add(key, obj[key]);
    else addMetadata();
  }
  // a spread adds the metadata key last when the object had none
  if (metaEnd < 0) addMetadata();
  return { text: text + '}', metaEnd, managedFields: managedFieldsAt };
}

/** Whether managedFields is metadata's last member but for those the store does not keep. */
function managedFieldsLast(metadata: object): boolean {
  const keys = Object.keys(metadata);
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i]!;
    if (k !== 'resourceVersion' && k !== 'selfLink') return k === 'managedFields';
  }
  return false;
}

/** metadata less the members the store does not keep, the rest in their order. */
function withoutUnstored(metadata: object): object {
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = metadata as Record<string, unknown>;
  return meta;
}

/**
 * Whether JSON.parse(JSON.stringify(v)) would give back `v` itself: plain objects and
 * arrays of strings, finite numbers (not -0), booleans and null, with no undefined value
 * anywhere. Such an object can be kept in place of parsing its stored text again.
 */
export function isPlainJson(v: unknown, depth = 0): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth > 100) return false;
      // an object's members are where shared ones sit (a pod's spec)
      if (depth === 1 && sharedJson.has(v)) return true;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i], depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype) return false;
      const o = v as Record<string, unknown>;
      for (const k in o) if (!isPlainJson(o[k], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** The stored encoding as the UTF-8 bytes the store keeps, and where metadata ends in them. */
export interface StoredBytes {
  bytes: Buffer;
  /** index in `bytes` of the `}` that closes metadata */
  metaEnd: number;
  /** index in `bytes` of the comma before metadata's last member managedFields (StoredJson's, counted in bytes) */
  managedFields?: number;
  /** the text the bytes were encoded from (writtenText splices it rather than decoding the bytes again) */
  json?: StoredJson;
  /** the written JSON as parts, once withResourceVersionParts made them for the revision they carry */
  written?: { rev: string; parts: readonly Buffer[] };
}

/** The stored text as bytes (what the store is sent), metadata's end found in them. */
export function storedBytes(s: StoredJson): StoredBytes {
  const bytes = Buffer.from(s.text);
  // all ASCII (the usual case): a character is a byte
  const ascii = bytes.length === s.text.length;
  const metaEnd = ascii ? s.metaEnd : Buffer.byteLength(s.text.slice(0, s.metaEnd));
  // the member is ASCII but for strings in its fields (a label's key): count from metadata's end
  const managedFields = ascii || s.managedFields === undefined ? s.managedFields : metaEnd - Buffer.byteLength(s.text.slice(s.managedFields, s.metaEnd));
  return { bytes, metaEnd, managedFields, json: s };
}

/** `,"status":` as bytes */
const STATUS_KEY = ',"status":';

/** the members of `b` are those of `a` in the same order with the very same values (`skip` left out of both), then `b`'s extra ones */
function sameMembers(a: Record<string, unknown>, b: Record<string, unknown>, ak: string[], bk: string[], skip?: (k: string) => boolean): number {
  let j = 0;
  for (let i = 0; i < ak.length; i++) {
    const k = ak[i]!;
    if (skip?.(k)) continue;
    while (j < bk.length && skip?.(bk[j]!)) j++;
    if (bk[j] !== k || b[k] !== a[k]) return -1;
    j++;
  }
  while (j < bk.length && skip?.(bk[j]!)) j++;
  return j;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const notStored = (k: string) => k === 'resourceVersion' || k === 'selfLink';

/**
 * encodeStored(next) as bytes, spliced from `current`'s stored bytes (`base`, what the store
 * was sent for it) without stringifying the whole object: for a write that changes `current`
 * as a binding does (pods/binding sets spec.nodeName and the PodScheduled condition). `next`
 * must have `current`'s members in the same order with the very same values but spec and
 * status; metadata's the same (resourceVersion and selfLink aside, which are not stored);
 * spec's the same with members appended; status the last member (replaced, or added after
 * spec). The bytes are then `base` up to spec's `}`, the new spec members, and the new
 * status: byte for byte what encodeStored and storedBytes give. Undefined when `next` or
 * `base` is in any other shape (the caller encodes then). The caller vouches that `base`
 * is storedBytes(encodeStored(current)) and that `current` holds JSON values only (the watch
 * cache's object and the bytes it was written from).
 */
export function splicedStored(current: unknown, base: StoredBytes, next: unknown): StoredBytes | undefined {
  if (!isRecord(current) || !isRecord(next)) return undefined;
  const ck = Object.keys(current);
  const nk = Object.keys(next);
  const n = nk.length;
  // status last with spec before it, in both (status added when the current object had none)
  if (n < 2 || nk[n - 1] !== 'status' || nk[n - 2] !== 'spec') return undefined;
  const hadStatus = ck.length === n;
  if (!hadStatus && ck.length !== n - 1) return undefined;
  for (let i = 0; i < ck.length; i++) {
    const k = ck[i]!;
    if (nk[i] !== k) return undefined;
    if (k !== 'metadata' && k !== 'spec' && k !== 'status' && next[k] !== current[k]) return undefined;
  }
  const cm = current.metadata;
  const nm = next.metadata;
  const cs = current.spec;
  const ns = next.spec;
  if (!isRecord(cm) || !isRecord(nm) || !isRecord(cs) || !isRecord(ns)) return undefined;
  const nmk = Object.keys(nm);
  if (sameMembers(cm, nm, Object.keys(cm), nmk, notStored) !== nmk.length) return undefined;
  const csk = Object.keys(cs);
  const nsk = Object.keys(ns);
  if (sameMembers(cs, ns, csk, nsk) !== csk.length) return undefined;
  const status = JSON.stringify(next.status);
  if (status === undefined) return undefined;
  // where spec's `}` is in the bytes: before `,"status":<old status>}`, or before the object's `}`
  const bytes = base.bytes;
  const end = bytes.length - 1;
  let specClose = end - 1;
  if (hadStatus) {
    const old = JSON.stringify(current.status);
    if (old === undefined) return undefined;
    // the bytes end with the old status (a few dozen bytes to decode)
    specClose = end - Buffer.byteLength(old) - STATUS_KEY.length - 1;
    if (specClose < 0 || bytes.toString('utf8', specClose + 1, end) !== STATUS_KEY + old) return undefined;
  }
  if (bytes[end] !== 0x7d || bytes[specClose] !== 0x7d || !(base.metaEnd < specClose)) return undefined;
  let tail = '';
  let empty = bytes[specClose - 1] === 0x7b; // spec was {}
  for (let i = csk.length; i < nsk.length; i++) {
    const json = JSON.stringify(ns[nsk[i]!]);
    if (json === undefined) continue;
    tail += `${empty ? '' : ','}${JSON.stringify(nsk[i])}:${json}`;
    empty = false;
  }
  tail += `}${STATUS_KEY}${status}}`;
  const out = Buffer.allocUnsafe(specClose + Buffer.byteLength(tail));
  bytes.copy(out, 0, 0, specClose);
  out.write(tail, specClose);
  // metadata is base's, byte for byte
  return { bytes: out, metaEnd: base.metaEnd, managedFields: base.managedFields };
}

/**
 * JSON.stringify of the written object as text: the stored text with its revision spliced in
 * as withResourceVersionParts does (the watch cache keeps every object it wrote as this
 * text), made from the text the bytes were encoded from when it is known, not by decoding
 * the bytes again.
 */
export function writtenText(s: StoredBytes, rev: number | string): string {
  const j = s.json;
  // decoded part by part: they are cut where an ASCII character ends (metadata's last member, its `}`)
  if (j === undefined) return withResourceVersionParts(s, rev).map((p) => p.toString('utf8')).join('');
  return `${j.text.slice(0, j.metaEnd)}${resourceVersionMember(j.text.charCodeAt(j.metaEnd - 1), rev)}${j.text.slice(j.metaEnd)}`;
}

/** `"resourceVersion":"<rev>"` as metadata's last member, after the code unit before metadata's `}` (no comma after `{`). */
function resourceVersionMember(before: number, rev: number | string): string {
  return `${before === 0x7b ? '' : ','}"resourceVersion":"${rev}"`; // a revision is digits: nothing to escape
}

/**
 * JSON.stringify of the written object as UTF-8, in parts: the stored bytes up to
 * metadata's `}`, `"resourceVersion":"<rev>"` as metadata's last member, and the rest of
 * the stored bytes. The two are views of the stored bytes, not copies: a message made of
 * them (a change event, a watch frame, a write's reply) is written to the socket from them
 * (lib/client publishParts), and no new ArrayBuffer, whose allocation paces V8's
 * scavenges, holds the object's bytes again. Only for an object whose metadata has
 * resourceVersion last and no selfLink, and is otherwise what was encoded. Made once per
 * write: the change event and the watch cache's copy for watch frames share them.
 */
export function withResourceVersionParts(s: StoredBytes, rev: number | string): readonly Buffer[] {
  const r = String(rev);
  if (s.written?.rev !== r) {
    const { bytes, metaEnd } = s;
    const parts = [bytes.subarray(0, metaEnd), Buffer.from(resourceVersionMember(bytes[metaEnd - 1]!, r), 'latin1'), bytes.subarray(metaEnd)];
    if (s.managedFields !== undefined) managedFieldsIn.set(parts, s.managedFields);
    s.written = { rev: r, parts };
  }
  return s.written.parts;
}

/**
 * Where metadata's last member managedFields starts (its comma) in the first of a written
 * object's parts, when its encoding recorded it: withoutManagedFieldsParts cuts there
 * instead of walking the bytes for the member and then through it (a pod's managedFields
 * are ~40% of its bytes).
 */
const managedFieldsIn = new WeakMap<readonly Uint8Array[], number>();

/**
 * Encodings of objects the watch cache just took from the store (their written JSON is
 * known), until a watch frame uses them. Bounded: an encoding nobody sent is dropped
 * oldest first, and the object is then simply stringified.
 */
const MAX_KNOWN = 16_384;
const known = new Map<object, readonly Uint8Array[]>();

/** Records `json` as the UTF-8 bytes of JSON.stringify(obj), in parts; the caller vouches that obj is not changed afterwards. */
export function rememberJson(obj: object, json: readonly Uint8Array[]): void {
  if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value!);
  known.set(obj, json);
}

/** The encoding kept for obj by rememberJson and not yet taken by objectJson (what a test can see of it). */
export function rememberedJson(obj: object): readonly Uint8Array[] | undefined {
  return known.get(obj);
}

/** The objects watch frames carried this turn, encoded: once per turn rather than once per watcher. */
const encodedThisTurn = new TurnMemo<object, readonly Uint8Array[]>();

/** JSON.stringify(obj) as UTF-8 parts, from its write's encoding or this turn's when there is one. */
export function objectJson(obj: object): readonly Uint8Array[] {
  let json = encodedThisTurn.get(obj);
  if (json === undefined) {
    json = known.get(obj);
    if (json !== undefined) known.delete(obj);
    else json = [Buffer.from(JSON.stringify(obj))];
    encodedThisTurn.set(obj, json);
  }
  return json;
}

/** The objects watch frames without managedFields carried this turn, encoded (as encodedThisTurn). */
const trimmedThisTurn = new TurnMemo<object, readonly Uint8Array[]>();

/**
 * JSON.stringify(obj) as UTF-8 without metadata.managedFields, for the watches that asked
 * to omit them: the parts of the object's encoding around them (views, not copies: a
 * frame is sent from them, frameParts), cut once per turn for all such watchers.
 */
export function objectJsonWithoutManagedFields(obj: object): readonly Uint8Array[] {
  if ((obj as { metadata?: { managedFields?: unknown } }).metadata?.managedFields === undefined) return objectJson(obj);
  let pieces = trimmedThisTurn.get(obj);
  if (pieces === undefined) {
    pieces = withoutManagedFieldsParts(objectJson(obj));
    trimmedThisTurn.set(obj, pieces);
  }
  return pieces;
}

/**
 * An object's JSON parts less metadata.managedFields. The member lies in the first part
 * (a written object's parts split at metadata's end, after every member but the spliced
 * resourceVersion); when it is there the last, with no comma before it to take along, the
 * parts are joined and cut as one.
 */
function withoutManagedFieldsParts(parts: readonly Uint8Array[]): readonly Uint8Array[] {
  const first = parts[0]!;
  const at = managedFieldsIn.get(parts);
  if (at !== undefined) return [first.subarray(0, at), ...parts.slice(1)];
  const member = metadataManagedFieldsMember(first);
  if (!member) return parts;
  // the member and the comma before it go (memberAt); without one, it was metadata's only member
  if (member[1] === first.length && parts.length > 1 && first[member[0]] !== 0x2c) return cutJoined(parts);
  return [first.subarray(0, member[0]), first.subarray(member[1]), ...parts.slice(1)];
}

function cutJoined(parts: readonly Uint8Array[]): readonly Uint8Array[] {
  const json = Buffer.concat(parts);
  const member = metadataManagedFieldsMember(json);
  return member ? [json.subarray(0, member[0]), json.subarray(member[1])] : [json];
}

const COMMA = Buffer.from(',');

/**
 * `${head}${items.join(',')}${tail}` for items given as UTF-8 parts, as parts: a message
 * (a watch frame, a batch reply) sent from them as they are (lib/client publishParts), its
 * objects' bytes not copied into one buffer.
 */
export function frameParts(head: Uint8Array, items: ReadonlyArray<readonly Uint8Array[]>, tail: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [head];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA);
    for (const p of items[i]!) parts.push(p);
  }
  parts.push(tail);
  return parts;
}
