/**
 * The node's stream sessions (lib/stream, docs/streaming.md): one server on
 * `flotilla.kubelet.<node>.stream` hands each session to the acceptor of its kind
 * (`log`: logs/server.ts; exec, attach and port-forward add theirs here).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { BadRequestError } from '../../lib/api/errors.js';
import { serveStreams, streamSubject, type StreamAcceptor, type StreamKind, type StreamServer } from '../../lib/stream/mod.js';

export async function serveNodeStreams(nc: NatsConnection, nodeName: string, acceptors: Partial<Record<StreamKind, StreamAcceptor>>): Promise<StreamServer> {
  return serveStreams(nc, streamSubject(nodeName), (req) => {
    const accept = acceptors[req.kind];
    if (!accept) throw new BadRequestError(`this kubelet serves no "${req.kind}" streams`);
    return accept(req);
  });
}
