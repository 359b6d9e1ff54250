/**
 * Decoding of `application/vnd.kubernetes.protobuf` request bodies (kubectl 1.32+ sends
 * them for `create namespace|configmap|secret|...`), guided by the schema registry: each
 * Field's `proto` number and type say how to read it, so no kind needs its own decoder.
 *
 * The envelope (k8s.io/apimachinery runtime/serializer/protobuf): the magic bytes
 * "k8s\0", then a runtime.Unknown message
 *   { TypeMeta typeMeta = 1 { apiVersion = 1; kind = 2 }; bytes raw = 2;
 *     string contentEncoding = 3; string contentType = 4 }
 * where `raw` is the object's own message.
 *
 * A Go struct embedded inline (Volume's VolumeSource, Probe's ProbeHandler, ...) is flat
 * in JSON but a sub-message in protobuf; the schema marks its fields with protoWrapper
 * and the decoder flattens the sub-message back into the parent.
 *
 * Go's generated marshallers write every non-pointer field, zero or not, but a pointer
 * field only when it is set. The JSON form upstream would produce drops zero values of
 * non-pointer fields (omitempty: empty strings, 0, false; zero times are null), so the
 * decoder drops them too, except for fields the schema marks `pointer` (say
 * `replicas: 0`), whose presence on the wire means they were set.
 */
import { BadRequestError, InternalError } from '../api/errors.js';
import { allKinds, apiVersionOf, maybeTypeDef } from './registry.js';
import type { Field, Prop, TypeDef } from './types.js';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"
const MAX_DEPTH = 64;
/** Go's zero time.Time as a protobuf Timestamp: 0001-01-01T00:00:00Z. */
const GO_ZERO_SECONDS = -62135596800;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

export interface DecodedObject {
  apiVersion: string;
  kind: string;
  object: any;
}

/** A bounds-checked protobuf wire reader: every overrun is a BadRequestError, never a crash. */
class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly where: string,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new BadRequestError(`invalid protobuf body: ${what} at byte ${this.pos} (in ${this.where})`);
  }

  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return result;
    }
    return this.fail('varint longer than 10 bytes');
  }

  tag(): { num: number; wire: number } {
    const t = this.varint();
    if (t > 0xffffffffn) this.fail('field tag out of range');
    const num = Number(t >> 3n);
    if (num === 0) this.fail('field number 0');
    return { num, wire: Number(t & 7n) };
  }

  /** A length-delimited payload, as a reader over its bytes. */
  sub(where: string): WireReader {
    const len = this.varint();
    if (len > BigInt(this.end - this.pos)) this.fail(`length ${len} runs past the end of the message`);
    const r = new WireReader(this.buf, this.pos, this.pos + Number(len), where);
    this.pos += Number(len);
    return r;
  }

  bytes(where: string): Uint8Array {
    const r = this.sub(where);
    return this.buf.subarray(r.start, r.end);
  }

  string(where: string): string {
    return Buffer.from(this.bytes(where)).toString('utf8');
  }

  fixed(n: 4 | 8): DataView {
    if (this.end - this.pos < n) this.fail(`truncated ${n * 8}-bit value`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint(); return;
      case WIRE_FIXED64: this.fixed(8); return;
      case WIRE_LEN: this.sub(this.where); return;
      case WIRE_FIXED32: this.fixed(4); return;
      default: this.fail(`unsupported wire type ${wire}`);
    }
  }
}

function toInt64(v: bigint, r: WireReader): number {
  const signed = BigInt.asIntN(64, v);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
    r.fail(`int64 value ${signed} is beyond what JSON numbers carry exactly`);
  }
  return Number(signed);
}

const toInt32 = (v: bigint) => Number(BigInt.asIntN(32, v));

/** The wire type a value of this shape is written with (arrays: per element). */
function wireOf(p: Prop): number {
  switch (p.type) {
    case 'int32': case 'int64': case 'boolean': return WIRE_VARINT;
    case 'double': return WIRE_FIXED64;
    default: return WIRE_LEN;
  }
}

/**
 * A message's fields by protobuf number. Fields of an inline-embedded Go struct
 * (Field.protoWrapper) are not numbered in the message itself but inside the sub-message
 * at the wrapper's number, so each wrapper gets an index of its own.
 */
interface FieldIndex {
  plain: Map<number, [string, Field]>;
  wrappers: Map<number, FieldIndex>;
}

const fieldIndex = new WeakMap<TypeDef, FieldIndex>();
function indexOf(t: TypeDef): FieldIndex {
  let idx = fieldIndex.get(t);
  if (!idx) {
    idx = { plain: new Map(), wrappers: new Map() };
    for (const [name, f] of Object.entries(t.fields)) {
      if (f.proto <= 0) continue;
      let into = idx;
      if (f.protoWrapper !== undefined) {
        into = idx.wrappers.get(f.protoWrapper) ?? { plain: new Map(), wrappers: new Map() };
        idx.wrappers.set(f.protoWrapper, into);
      }
      into.plain.set(f.proto, [name, f]);
    }
    for (const w of idx.wrappers.keys()) {
      if (idx.plain.has(w)) {
        throw new InternalError(`protobuf decoding: ${t.name} uses field number ${w} both for ${idx.plain.get(w)![0]} and as the wrapper of embedded fields`);
      }
    }
    fieldIndex.set(t, idx);
  }
  return idx;
}

function lookupType(name: string): TypeDef {
  const t = maybeTypeDef(name);
  if (!t) throw new InternalError(`protobuf decoding: the schema references type ${name}, which is not registered`);
  return t;
}

/** A message of a registered type. */
function decodeMessage(r: WireReader, t: TypeDef, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  decodeFields(r, t.name, indexOf(t), out, depth);
  return out;
}

/**
 * Reads the fields of one message into `out`. A wrapper field (an inline-embedded Go
 * struct) is read as a sub-message whose fields land in `out` itself, flat as in JSON.
 */
function decodeFields(r: WireReader, typeName: string, index: FieldIndex, out: Record<string, unknown>, depth: number): void {
  if (depth > MAX_DEPTH) r.fail(`messages nested deeper than ${MAX_DEPTH}`);
  while (!r.done) {
    const { num, wire } = r.tag();
    const hit = index.plain.get(num);
    if (!hit) {
      const embedded = index.wrappers.get(num);
      if (!embedded) {
        r.skip(wire);
        continue;
      }
      if (wire !== WIRE_LEN) r.fail(`${typeName}: embedded message ${num} with wire type ${wire}`);
      decodeFields(r.sub(`${typeName}#${num}`), typeName, embedded, out, depth + 1);
      continue;
    }
    const [name, f] = hit;
    const where = `${typeName}.${name}`;
    if (f.type === 'array') {
      const list = (out[name] as unknown[] | undefined) ?? [];
      out[name] = list;
      const itemWire = wireOf(f.items);
      if (wire === WIRE_LEN && itemWire !== WIRE_LEN) {
        const packed = r.sub(where);
        while (!packed.done) list.push(decodeValue(packed, f.items, itemWire, where, depth, true));
      } else {
        list.push(decodeValue(r, f.items, wire, where, depth, true));
      }
    } else if (f.type === 'map') {
      if (wire !== WIRE_LEN) r.fail(`${where}: map entry with wire type ${wire}`);
      const entry = r.sub(where);
      const map = (out[name] as Record<string, unknown> | undefined) ?? {};
      out[name] = map;
      const [k, v] = decodeMapEntry(entry, f.values, where, depth);
      map[k] = v;
    } else {
      const v = decodeValue(r, f, wire, where, depth, f.pointer === true);
      if (v === undefined) delete out[name];
      else out[name] = v;
    }
  }
}

function decodeMapEntry(r: WireReader, values: Prop, where: string, depth: number): [string, unknown] {
  let key = '';
  let value: unknown;
  while (!r.done) {
    const { num, wire } = r.tag();
    if (num === 1) {
      if (wire !== WIRE_LEN) r.fail(`${where}: map key with wire type ${wire}`);
      key = r.string(where);
    } else if (num === 2) {
      if (values.type === 'array') {
        // repeated map values travel wrapped: message { repeated V items = 1 }
        if (wire !== WIRE_LEN) r.fail(`${where}: map value with wire type ${wire}`);
        value = decodeMessage(r.sub(where), { name: where, description: '', fields: { items: { ...values, proto: 1, description: '' } } }, depth + 1).items ?? [];
      } else {
        value = decodeValue(r, values, wire, where, depth, true);
      }
    } else {
      r.skip(wire);
    }
  }
  return [key, value === undefined ? zeroOf(values) : value];
}

function zeroOf(p: Prop): unknown {
  switch (p.type) {
    case 'string': case 'bytes': return '';
    case 'int32': case 'int64': case 'double': return 0;
    case 'boolean': return false;
    case 'quantity': return '0';
    case 'array': return [];
    case 'ref': case 'map': return {};
    default: return null;
  }
}

/**
 * One value. Returns undefined for values upstream's JSON would omit (empty string, 0,
 * false, zero time) unless `keepEmpty` (map values, list items and pointer fields keep them).
 */
function decodeValue(r: WireReader, p: Prop, wire: number, where: string, depth: number, keepEmpty = false): unknown {
  const expected = wireOf(p);
  if (wire !== expected) r.fail(`${where}: wire type ${wire} where ${expected} was expected`);
  switch (p.type) {
    case 'string': {
      const s = r.string(where);
      return s === '' && !keepEmpty ? undefined : s;
    }
    case 'bytes': {
      const b = r.bytes(where);
      return b.length === 0 && !keepEmpty ? undefined : Buffer.from(b).toString('base64');
    }
    case 'int32': return omitZero(toInt32(r.varint()), keepEmpty);
    case 'int64': return omitZero(toInt64(r.varint(), r), keepEmpty);
    case 'boolean': {
      const b = r.varint() !== 0n;
      return b || keepEmpty ? b : undefined;
    }
    case 'double': return omitZero(r.fixed(8).getFloat64(0, true), keepEmpty);
    case 'ref': return decodeMessage(r.sub(where), lookupType(p.ref), depth + 1);
    case 'quantity': {
      const m = r.sub(where);
      let s = '';
      while (!m.done) {
        const { num, wire: w } = m.tag();
        if (num === 1 && w === WIRE_LEN) s = m.string(where);
        else m.skip(w);
      }
      return s;
    }
    case 'intOrString': {
      const m = r.sub(where);
      let type = 0;
      let intVal = 0;
      let strVal = '';
      while (!m.done) {
        const { num, wire: w } = m.tag();
        if (num === 1 && w === WIRE_VARINT) type = toInt64(m.varint(), m);
        else if (num === 2 && w === WIRE_VARINT) intVal = toInt32(m.varint());
        else if (num === 3 && w === WIRE_LEN) strVal = m.string(where);
        else m.skip(w);
      }
      return type === 1 ? strVal : intVal;
    }
    case 'time':
    case 'microTime': {
      const m = r.sub(where);
      let seconds = 0;
      let nanos = 0;
      while (!m.done) {
        const { num, wire: w } = m.tag();
        if (num === 1 && w === WIRE_VARINT) seconds = toInt64(m.varint(), m);
        else if (num === 2 && w === WIRE_VARINT) nanos = toInt32(m.varint());
        else m.skip(w);
      }
      if (seconds === GO_ZERO_SECONDS && nanos === 0 && !keepEmpty) return undefined;
      return formatTime(seconds, nanos, p.type === 'microTime', r);
    }
    case 'any': {
      const m = r.sub(where);
      let raw: Uint8Array | undefined;
      while (!m.done) {
        const { num, wire: w } = m.tag();
        if (num === 1 && w === WIRE_LEN) raw = m.bytes(where);
        else m.skip(w);
      }
      if (!raw || raw.length === 0) return keepEmpty ? null : undefined;
      try {
        return JSON.parse(Buffer.from(raw).toString('utf8'));
      } catch (e) {
        return r.fail(`${where}: embedded raw object is not JSON (${(e as Error).message})`);
      }
    }
    case 'array':
    case 'map':
      throw new InternalError(`protobuf decoding: ${where} nests a ${p.type} directly in a list or map, which has no protobuf form here`);
  }
}

function omitZero(n: number, keepEmpty: boolean): number | undefined {
  return n === 0 && !keepEmpty ? undefined : n;
}

function formatTime(seconds: number, nanos: number, micro: boolean, r: WireReader): string {
  if (nanos < 0 || nanos > 999_999_999) r.fail(`timestamp nanos ${nanos} out of range`);
  const d = new Date(seconds * 1000);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 1 || year > 9999) r.fail(`timestamp seconds ${seconds} out of range`);
  const base = d.toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/**
 * The TypeDef of a top-level object: a served kind's definition or, for bodies of
 * subresources that are no kind of their own (authentication/v1 TokenRequest for
 * serviceaccounts/token), the type upstream's OpenAPI names after the group and kind.
 */
function objectType(apiVersion: string, kind: string): TypeDef {
  const k = allKinds().find((x) => x.kind === kind && apiVersionOf(x) === apiVersion);
  if (k) return lookupType(k.definition);
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  // io.k8s.api.<package>.<version>.<Kind>: the package is the group's first label ("core" for "").
  const pkg = group === '' ? 'core' : group.split('.')[0];
  const t = maybeTypeDef(`io.k8s.api.${pkg}.${version}.${kind}`);
  // only object types (with apiVersion/kind), so an envelope cannot name a nested type
  if (t && t.fields.apiVersion?.proto === 0 && t.fields.kind?.proto === 0) return t;
  throw new BadRequestError(`no kind "${kind}" is registered for version "${apiVersion}"`);
}

/**
 * Decodes a Kubernetes protobuf request body into the object's JSON form, with
 * apiVersion and kind set. Throws BadRequestError for a malformed body or a kind the
 * registry does not know. KindDef.protobuf is not consulted here.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): DecodedObject {
  const { apiVersion, kind, raw } = readEnvelope(body);
  const t = objectType(apiVersion, kind);
  const fields = raw ? decodeMessage(new WireReader(raw.buf, raw.start, raw.end, t.name), t, 0) : {};
  return { apiVersion, kind, object: { apiVersion, kind, ...fields } };
}

/**
 * A DeleteOptions request body (meta/v1 DeleteOptions, under any group version as
 * clients send it): no kind of the registry, so its message is read here, by
 * k8s.io/apimachinery's generated.proto: gracePeriodSeconds = 1, preconditions = 2
 * { uid = 1, resourceVersion = 2 }, orphanDependents = 3, propagationPolicy = 4,
 * repeated dryRun = 5. Fields it does not know are skipped, as Go's unmarshaller does.
 */
export function decodeDeleteOptionsProtobuf(body: Uint8Array): DecodedObject {
  const { apiVersion, kind, raw } = readEnvelope(body);
  const out: Record<string, unknown> = { apiVersion, kind };
  if (kind !== 'DeleteOptions') return { apiVersion, kind, object: out };
  const r = raw ?? new WireReader(body, body.length, body.length, 'DeleteOptions');
  const dryRun: string[] = [];
  while (!r.done) {
    const { num, wire } = r.tag();
    if (num === 1 && wire === WIRE_VARINT) out.gracePeriodSeconds = toInt64(r.varint(), r);
    else if (num === 2 && wire === WIRE_LEN) {
      const p = r.sub('Preconditions');
      const pre: Record<string, string> = {};
      while (!p.done) {
        const t = p.tag();
        if (t.num === 1 && t.wire === WIRE_LEN) pre.uid = p.string('Preconditions.uid');
        else if (t.num === 2 && t.wire === WIRE_LEN) pre.resourceVersion = p.string('Preconditions.resourceVersion');
        else p.skip(t.wire);
      }
      out.preconditions = pre;
    } else if (num === 3 && wire === WIRE_VARINT) out.orphanDependents = r.varint() !== 0n;
    else if (num === 4 && wire === WIRE_LEN) out.propagationPolicy = r.string('DeleteOptions.propagationPolicy');
    else if (num === 5 && wire === WIRE_LEN) dryRun.push(r.string('DeleteOptions.dryRun'));
    else r.skip(wire);
  }
  if (dryRun.length) out.dryRun = dryRun;
  return { apiVersion, kind, object: out };
}

/** The runtime.Unknown envelope: the type it names and a reader over the object's message. */
function readEnvelope(body: Uint8Array): { apiVersion: string; kind: string; raw?: WireReader } {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw new BadRequestError('invalid protobuf body: it does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  }
  const r = new WireReader(body, MAGIC.length, body.length, 'runtime.Unknown');
  let apiVersion = '';
  let kind = '';
  let raw: WireReader | undefined;
  let contentEncoding = '';
  while (!r.done) {
    const { num, wire } = r.tag();
    if (num === 1 && wire === WIRE_LEN) {
      const tm = r.sub('runtime.TypeMeta');
      while (!tm.done) {
        const t = tm.tag();
        if (t.num === 1 && t.wire === WIRE_LEN) apiVersion = tm.string('TypeMeta.apiVersion');
        else if (t.num === 2 && t.wire === WIRE_LEN) kind = tm.string('TypeMeta.kind');
        else tm.skip(t.wire);
      }
    } else if (num === 2 && wire === WIRE_LEN) {
      raw = r.sub('runtime.Unknown.raw');
    } else if (num === 3 && wire === WIRE_LEN) {
      contentEncoding = r.string('runtime.Unknown.contentEncoding');
    } else {
      r.skip(wire);
    }
  }
  if (!kind || !apiVersion) throw new BadRequestError('invalid protobuf body: the envelope names no apiVersion and kind');
  if (contentEncoding) throw new BadRequestError(`invalid protobuf body: content encoding "${contentEncoding}" is not supported`);
  return { apiVersion, kind, raw };
}
