/**
 * The NATS connection every component opens: named (it shows in the server's
 * connection list), reconnecting forever, since a component must outlive a NATS restart.
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

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
