/**
 * pods/log from the pod's node: the apiserver opens a `log` stream session
 * (lib/stream, docs/streaming.md) on the kubelet's subject and relays its bytes, where
 * upstream's apiserver proxies to the kubelet's HTTPS port. A pod with no node yet has an
 * empty log (upstream LogLocation gives no location); a hollow node's containers write
 * nothing, so their log is empty too.
 */
import type http from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import { BadRequestError, ServiceUnavailableError, StatusError } from '../../lib/api/errors.js';
import { Channel, openStream, streamSubject, type StreamSession } from '../../lib/stream/mod.js';
import type { PodLogOptions } from '../../lib/api/podlog.js';
import { isHollowNode } from './streaming/target.js';

/** A log being relayed: read `session.channel(Channel.STDOUT)`; abort the session when the client goes. */
export interface PodLogStream {
  session: StreamSession;
}

/** Opens the log of a pod's container on its node, or undefined when the log is empty by definition. */
export type PodLogOpener = (pod: any, container: string, opts: PodLogOptions) => Promise<PodLogStream | undefined>;

export function podLogOpener(nc: NatsConnection, getNode: (name: string) => Promise<any | undefined>): PodLogOpener {
  return async (pod, container, opts) => {
    const nodeName: string | undefined = pod?.spec?.nodeName;
    if (!nodeName) return undefined;
    const node = await getNode(nodeName);
    if (!node || isHollowNode(node)) return undefined;
    const { container: _c, ...options } = opts;
    const target = { namespace: pod.metadata?.namespace, pod: pod.metadata?.name, uid: pod.metadata?.uid, container };
    try {
      const session = await openStream(nc, streamSubject(nodeName), { kind: 'log', target, options: options as Record<string, unknown> });
      return { session };
    } catch (e) {
      if (e instanceof ServiceUnavailableError) throw new ServiceUnavailableError(`the kubelet of node "${nodeName}" does not answer (${e.message})`);
      throw e;
    }
  };
}

/** The whole log as one reply (the NATS API), cut at `maxBytes`. */
export async function collectPodLog(s: PodLogStream, maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const b of s.session.channel(Channel.STDOUT)) {
    const buf = b as Buffer;
    parts.push(buf.subarray(0, Math.max(0, maxBytes - n)));
    n += buf.length;
    if (n >= maxBytes) {
      s.session.abort(new StatusError(413, 'RequestEntityTooLarge', `the log exceeds ${maxBytes} bytes`));
      break;
    }
  }
  // the kubelet failed before sending anything: its error is the answer
  const end = await s.session.done;
  if (end.status && !end.local && n === 0) throw StatusError.fromStatus(end.status);
  return Buffer.concat(parts).toString();
}

/**
 * The log as an HTTP answer: 200 text/plain, chunked, each piece written as it arrives
 * (`follow` keeps the answer open). The client going away aborts the session, which stops
 * the kubelet's reader.
 */
export async function relayPodLog(res: http.ServerResponse, s: PodLogStream): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  const gone = () => s.session.abort(new BadRequestError('the client closed the log request'));
  res.on('close', gone);
  const out = s.session.channel(Channel.STDOUT);
  try {
    for await (const b of out) {
      if (!res.write(b)) await new Promise((r) => res.once('drain', r).once('close', r));
      if (res.destroyed) break;
    }
  } finally {
    res.off('close', gone);
    if (!s.session.ended) s.session.abort(new BadRequestError('the client closed the log request'));
    res.end();
  }
}
