/**
 * Test harness: an apiserver with a bucket of its own, on the run's shared nats-server
 * unless a NATS URL is given.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats } from '../lib/client/mod.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../services/apiserver/server.js';
import { sharedNats } from './harness.js';

export async function testApiServer(opts: Partial<ApiServerOptions> = {}): Promise<ApiServer & { natsUrl: string; bucket: string }> {
  const natsUrl = opts.natsUrl ?? (await sharedNats()).url;
  const bucket = opts.bucket ?? `t${randomUUID().slice(0, 8)}`;
  const s = await startApiServer({ httpPort: 0, ...opts, natsUrl, bucket });
  return Object.assign(s, { natsUrl, bucket });
}

/** fetch() against the apiserver, answering {status, body (parsed JSON or text), headers}. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as any) : JSON.stringify(body);
    if (!headers['content-type']) (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The first `n` lines of a watch over HTTP at `url` (fewer when the stream ends first); the stream is then closed. */
export async function watchLines(url: string, n: number): Promise<string[]> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  const lines: string[] = [];
  let rest = '';
  const dec = new TextDecoder();
  try {
    for await (const chunk of res.body!) {
      rest += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0 && lines.length < n) {
        lines.push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
      if (lines.length >= n) break;
    }
  } finally {
    ac.abort();
  }
  return lines;
}

/** A test apiserver and a client of the test's own, stopped together. */
export interface ConnectedApiServer {
  server: Awaited<ReturnType<typeof testApiServer>>;
  nc: NatsConnection;
  client: ApiClient;
  /** Closes the client and its connection, then stops the apiserver. */
  stop(): Promise<void>;
}

/** testApiServer(opts) plus a client connected as `name`. */
export async function connectedApiServer(name: string, opts: Partial<ApiServerOptions> = {}): Promise<ConnectedApiServer> {
  const server = await testApiServer(opts);
  try {
    const nc = await connectNats(server.natsUrl, { name });
    const client = new ApiClient(nc);
    return {
      server,
      nc,
      client,
      async stop() {
        client.close();
        await nc.close();
        await server.stop();
      },
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
