/**
 * The NATS connection every component opens: named (it shows in the server's
 * connection list), reconnecting forever, since a component must outlive a NATS restart.
 */
import { connect, type NatsConnection, type NodeConnectionOptions, type PublishOptions } from '@nats-io/transport-node';

export interface ConnectOptions {
  /** the connection's name, e.g. "scheduler" or "kubelet/node-1" */
  name: string;
  /** keep trying when no server is up yet (default true: components may start first) */
  waitOnFirstConnect?: boolean;
  /** ms between reconnect attempts (default 250) */
  reconnectTimeWaitMs?: number;
  /** extra options passed through to the NATS client */
  extra?: Partial<NodeConnectionOptions>;
}

/** Connects to a NATS URL (several may be given comma-separated, for a cluster). */
export async function connectNats(url: string, opts: ConnectOptions): Promise<NatsConnection> {
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return await connect({
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 250,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? true,
    // no Error (and stack) built per request: it is a tenth of a busy client's CPU
    noAsyncTraces: true,
    ...opts.extra,
  });
}

/**
 * Publishes a payload given as parts: the message carries their bytes in order, and each
 * part goes to the socket as it is, not joined into one buffer first (patches/: nats-core's
 * publish takes an array of parts). A part must not change until the socket has written it.
 * For a message made of bytes that exist already (a stored object and its revision), this
 * saves the copy, and the ArrayBuffer whose allocation paces V8's scavenges.
 */
export function publishParts(nc: NatsConnection, subject: string, parts: readonly Uint8Array[], opts?: PublishOptions): void {
  nc.publish(subject, parts as unknown as Uint8Array, opts);
}

/** How many bytes a payload given as parts carries. */
export function partsLength(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}
