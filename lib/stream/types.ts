/**
 * The wire contract of byte streams over NATS (docs/streaming.md): the open request and
 * its answer (JSON), and the binary frame every later message is. Nothing here does I/O.
 */
import type { Status } from '../api/errors.js';

/** What a session carries; the server decides what `target` and `options` mean for each. */
export type StreamKind = 'log' | 'exec' | 'attach' | 'portforward';

/** The options of an exec or attach session (upstream's PodExecOptions / PodAttachOptions streams). */
export interface RemoteCommandFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What the opener asks for (the JSON of the open request, without the wire fields). */
export interface StreamRequest {
  kind: StreamKind;
  /** e.g. {namespace, pod, uid, container} for a pod's container */
  target: Record<string, unknown>;
  /** kind-specific: PodLogOptions for `log`, the command and channels for `exec`, ports for `portforward` */
  options?: Record<string, unknown>;
}

/** The open request's JSON, sent on the server's subject with NATS request/reply. */
export interface OpenMessage extends StreamRequest {
  /** protocol version: 1 */
  v: number;
  /** where the server sends its frames */
  inbox: string;
  /** the opener's receive window per channel, bytes */
  window: number;
  /** how often each side sends a PING when it has sent nothing else */
  heartbeatMs: number;
  /** a side that hears nothing for this long ends the session with a Timeout */
  idleTimeoutMs: number;
}

/** The server's reply to the open request: its inbox and window, or why it refuses. */
export type OpenReply = { inbox: string; window: number } | { error: Status };

export const PROTOCOL_VERSION = 1;

/** Frame types (byte 0 of a frame). */
export const FrameType = {
  /** bytes of one channel; flags FIN and RESET */
  DATA: 1,
  /** the sender may send `credit` more bytes on `channel` */
  CREDIT: 2,
  /** keeps an idle session alive */
  PING: 3,
  /** the session is over; the payload is JSON `{status?: Status}` (absent: success) */
  END: 4,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** DATA flags (byte 2). */
export const FIN = 0x01;
export const RESET = 0x02;

/** bytes before a frame's payload */
export const FRAME_HEADER_BYTES = 12;

/**
 * One frame, the body of one NATS message:
 *   0 u8 type · 1 u8 channel · 2 u8 flags · 3 u8 reserved (0)
 *   4 u32 BE sequence: 1, 2, 3, … per direction over every frame of the session
 *   8 u32 BE credit: bytes granted (CREDIT), else 0
 *  12 payload: DATA bytes; the RESET reason (UTF-8); END's JSON
 */
export interface Frame {
  type: FrameType;
  channel: number;
  flags: number;
  seq: number;
  credit: number;
  payload: Uint8Array;
}

export function encodeFrame(f: Frame): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + f.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, f.type);
  dv.setUint8(1, f.channel);
  dv.setUint8(2, f.flags);
  dv.setUint32(4, f.seq);
  dv.setUint32(8, f.credit);
  out.set(f.payload, FRAME_HEADER_BYTES);
  return out;
}

/** Throws on a message too short to be a frame or of an unknown type. */
export function decodeFrame(b: Uint8Array): Frame {
  if (b.length < FRAME_HEADER_BYTES) throw new Error(`stream frame of ${b.length} bytes is shorter than its ${FRAME_HEADER_BYTES}-byte header`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = dv.getUint8(0) as FrameType;
  if (type < FrameType.DATA || type > FrameType.END) throw new Error(`unknown stream frame type ${type}`);
  return { type, channel: dv.getUint8(1), flags: dv.getUint8(2), seq: dv.getUint32(4), credit: dv.getUint32(8), payload: b.subarray(FRAME_HEADER_BYTES) };
}

/** How a session ended: `status` is set when it failed (aborted, timed out, refused). */
export interface StreamEnd {
  status?: Status;
  /** true when this side ended it */
  local: boolean;
}

export interface StreamTuning {
  /** receive window per channel, bytes (default 256 KiB) */
  window?: number;
  /** PING period when idle (default 5 s) */
  heartbeatMs?: number;
  /** silence after which the peer counts as dead (default 3 heartbeats) */
  idleTimeoutMs?: number;
  /** largest DATA payload (default 64 KiB, and never above the server's max_payload) */
  maxFrameBytes?: number;
}

export const DEFAULT_WINDOW = 256 * 1024;
export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/** Channel numbers, as upstream's remotecommand and port-forward protocols number them. */
export const Channel = {
  STDIN: 0,
  STDOUT: 1,
  STDERR: 2,
  /** the exec's end: a metav1.Status JSON */
  ERROR: 3,
  /** terminal size JSON {Width, Height} */
  RESIZE: 4,
} as const;
