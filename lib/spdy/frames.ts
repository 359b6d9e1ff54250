/**
 * SPDY/3.1 frames (draft-mbelshe-httpbis-spdy-00 and the 3.1 amendments): the binary
 * layout of control and data frames, and a parser that cuts a byte stream into frames.
 * Header blocks stay compressed here; headers.ts inflates and deflates them, because
 * their zlib context spans the whole session.
 */

export const SPDY_VERSION = 3;

export const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

/** GOAWAY status codes */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

/** A frame's length field is 24 bits. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedId: number; priority: number; flags: number; block: Buffer }
  | { type: 'synReply'; streamId: number; flags: number; block: Buffer }
  | { type: 'headers'; streamId: number; flags: number; block: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { id: number; flags: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastStreamId: number; status: number }
  | { type: 'windowUpdate'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; flags: number; payload: Buffer };

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(`SPDY protocol error: ${message}`);
    this.name = 'SpdyProtocolError';
  }
}

function control(type: FrameType, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`control frame of ${payload.length} bytes`);
  const b = Buffer.allocUnsafe(8 + payload.length);
  b.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(b, 8);
  return b;
}

export function encodeData(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`data frame of ${data.length} bytes`);
  const b = Buffer.allocUnsafe(8 + data.length);
  b.writeUInt32BE(streamId & 0x7fffffff, 0);
  b.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  data.copy(b, 8);
  return b;
}

export function encodeSynStream(streamId: number, block: Buffer, opts: { fin?: boolean; unidirectional?: boolean; associatedId?: number; priority?: number } = {}): Buffer {
  const p = Buffer.allocUnsafe(10 + block.length);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE((opts.associatedId ?? 0) & 0x7fffffff, 4);
  p[8] = ((opts.priority ?? 0) & 0x7) << 5;
  p[9] = 0; // slot (credential frames were dropped in 3.1)
  block.copy(p, 10);
  return control(FrameType.SynStream, (opts.fin ? FLAG_FIN : 0) | (opts.unidirectional ? FLAG_UNIDIRECTIONAL : 0), p);
}

function streamBlock(type: FrameType, streamId: number, block: Buffer, fin: boolean): Buffer {
  const p = Buffer.allocUnsafe(4 + block.length);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  block.copy(p, 4);
  return control(type, fin ? FLAG_FIN : 0, p);
}

export const encodeSynReply = (streamId: number, block: Buffer, fin = false) => streamBlock(FrameType.SynReply, streamId, block, fin);

function twoWords(type: FrameType, a: number, b: number): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeUInt32BE(a >>> 0, 0);
  p.writeUInt32BE(b >>> 0, 4);
  return control(type, 0, p);
}

export const encodeRstStream = (streamId: number, status: number) => twoWords(FrameType.RstStream, streamId & 0x7fffffff, status);
export const encodeGoAway = (lastStreamId: number, status: number) => twoWords(FrameType.GoAway, lastStreamId & 0x7fffffff, status);
export const encodeWindowUpdate = (streamId: number, delta: number) => twoWords(FrameType.WindowUpdate, streamId & 0x7fffffff, delta & 0x7fffffff);

export function encodePing(id: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(id >>> 0, 0);
  return control(FrameType.Ping, 0, p);
}

export function encodeSettings(entries: { id: number; value: number; flags?: number }[]): Buffer {
  const p = Buffer.allocUnsafe(4 + 8 * entries.length);
  p.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    p.writeUInt32BE((((e.flags ?? 0) & 0xff) << 24) | (e.id & 0xffffff), 4 + 8 * i);
    p.writeUInt32BE(e.value >>> 0, 8 + 8 * i);
  });
  return control(FrameType.Settings, 0, p);
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes, at least ${n} expected`);
}

function decodeControl(type: number, flags: number, payload: Buffer): Frame {
  switch (type) {
    case FrameType.SynStream:
      need(payload, 10, 'SYN_STREAM');
      return {
        type: 'synStream',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        associatedId: payload.readUInt32BE(4) & 0x7fffffff,
        priority: payload[8] >> 5,
        flags,
        block: payload.subarray(10),
      };
    case FrameType.SynReply:
      need(payload, 4, 'SYN_REPLY');
      return { type: 'synReply', streamId: payload.readUInt32BE(0) & 0x7fffffff, flags, block: payload.subarray(4) };
    case FrameType.Headers:
      need(payload, 4, 'HEADERS');
      return { type: 'headers', streamId: payload.readUInt32BE(0) & 0x7fffffff, flags, block: payload.subarray(4) };
    case FrameType.RstStream:
      need(payload, 8, 'RST_STREAM');
      return { type: 'rstStream', streamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    case FrameType.Settings: {
      need(payload, 4, 'SETTINGS');
      const n = payload.readUInt32BE(0);
      need(payload, 4 + 8 * n, 'SETTINGS');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const w = payload.readUInt32BE(4 + 8 * i);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: payload.readUInt32BE(8 + 8 * i) });
      }
      return { type: 'settings', flags, entries };
    }
    case FrameType.Ping:
      need(payload, 4, 'PING');
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.GoAway:
      need(payload, 4, 'GOAWAY');
      // SPDY/2 peers send no status; 3 does
      return { type: 'goAway', lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
    case FrameType.WindowUpdate:
      need(payload, 8, 'WINDOW_UPDATE');
      return { type: 'windowUpdate', streamId: payload.readUInt32BE(0) & 0x7fffffff, delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', frameType: type, flags, payload };
  }
}

/** Cuts a byte stream into frames; `push` returns the frames completed by a chunk. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const w0 = this.buf.readUInt32BE(off);
      const w1 = this.buf.readUInt32BE(off + 4);
      const flags = w1 >>> 24;
      const len = w1 & 0xffffff;
      if (len > this.maxPayload) throw new SpdyProtocolError(`frame of ${len} bytes exceeds the limit of ${this.maxPayload}`);
      if (this.buf.length - off < 8 + len) break;
      // copy: the frame outlives the chunk it came in
      const payload = Buffer.from(this.buf.subarray(off + 8, off + 8 + len));
      off += 8 + len;
      if (w0 & 0x80000000) {
        const version = (w0 >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`version ${version}, only ${SPDY_VERSION} is spoken`);
        out.push(decodeControl(w0 & 0xffff, flags, payload));
      } else {
        out.push({ type: 'data', streamId: w0 & 0x7fffffff, flags, data: payload });
      }
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }
}
