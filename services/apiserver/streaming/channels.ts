/**
 * Upstream's remote command protocols as kubectl negotiates them, and the channel
 * numbering every leg (kubectl ↔ apiserver ↔ NATS ↔ kubelet ↔ containerd) shares:
 * stdin 0, stdout 1, stderr 2, error 3 (the exec's metav1.Status), resize 4
 * (`{"Width":w,"Height":h}`). Over WebSocket each message is one channel byte and the
 * payload; v5 adds channel 255, whose payload names a channel the client closed.
 */
import { Channel as SessionChannel } from '../../../lib/stream/mod.js';

/** SPDY's X-Stream-Protocol-Version values for exec/attach, newest first; v4 is the one with a Status on the error stream. */
export const SPDY_REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io'] as const;
export const SPDY_PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

/** WebSocket subprotocols for exec/attach, preferred first. */
export const WS_REMOTECOMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
/** kubectl 1.31+ port-forward: SPDY tunnelled through a WebSocket's binary messages. */
export const WS_PORTFORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** lib/stream's channel numbers, and v5's close signal: the client will send no more on the channel its payload names */
export const Channel = { ...SessionChannel, CLOSE: 255 } as const;

/** SPDY stream types, by the `streamType` header of each stream. */
export const STREAM_TYPE_CHANNEL: Record<string, number> = {
  stdin: Channel.STDIN,
  stdout: Channel.STDOUT,
  stderr: Channel.STDERR,
  error: Channel.ERROR,
  resize: Channel.RESIZE,
};

export function encodeChannelMessage(channel: number, data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(1 + data.length);
  b[0] = channel;
  b.set(data, 1);
  return b;
}

export interface ChannelMessage {
  channel: number;
  data: Buffer;
}

/** An empty message carries no channel: upstream's peers skip it, so does this (undefined). */
export function decodeChannelMessage(msg: Buffer): ChannelMessage | undefined {
  if (!msg.length) return undefined;
  return { channel: msg[0], data: msg.subarray(1) };
}

/** Picks the first protocol of ours the client offers (upstream's server order decides), or undefined. */
export function negotiate(offered: string[], ours: readonly string[]): string | undefined {
  const set = new Set(offered.map((p) => p.trim()));
  return ours.find((p) => set.has(p));
}

/** One header that may repeat and may list values with commas, as Go's textproto reads it. */
export function headerValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** A resize message's terminal size, or undefined when it is not one. */
export function parseTerminalSize(json: string): { width: number; height: number } | undefined {
  try {
    const o = JSON.parse(json) as { Width?: unknown; Height?: unknown };
    const width = Number(o.Width);
    const height = Number(o.Height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 0xffff || height > 0xffff) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}
