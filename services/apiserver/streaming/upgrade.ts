/**
 * The streaming subresources of pods over HTTP upgrades: `pods/exec`, `pods/attach`
 * and `pods/portforward`. The request is checked (target.ts) and the kubelet's stream
 * session opened over NATS (lib/stream, on the pod's node's subject) before kubectl's
 * connection is switched, so a refusal is an ordinary HTTP error with a Status body, as
 * upstream answers one. Then the connection speaks SPDY/3.1 or WebSocket
 * (remotecommand.ts, portforward.ts) until the session ends.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { BadRequestError, StatusError } from '../../../lib/api/errors.js';
import { openStream, streamSubject, type RemoteCommandFlags, type StreamSession } from '../../../lib/stream/mod.js';
import { queryFlag } from '../options.js';
import type { ObjectStorage } from '../storage.js';
import { headerValues, negotiate, SPDY_PORTFORWARD_PROTOCOL, SPDY_REMOTECOMMAND_PROTOCOLS, WS_PORTFORWARD_TUNNEL_PROTOCOL, WS_REMOTECOMMAND_PROTOCOLS } from './channels.js';
import { servePortForward } from './portforward.js';
import { bridgeRemoteCommand, spdyClientEnd, webSocketClientEnd, writeHttpError, type ClientEnd } from './remotecommand.js';
import { resolveTarget, type StreamingSubresource } from './target.js';

export interface StreamingDeps {
  storage: ObjectStorage;
  nc: NatsConnection;
  /** the upgraded connections: the HTTP server no longer tracks them, stop() destroys them */
  sockets: Set<Duplex>;
}

const PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/;

const tunnel = new WebSocketServer({
  noServer: true,
  handleProtocols: (offered) => (offered.has(WS_PORTFORWARD_TUNNEL_PROTOCOL) ? WS_PORTFORWARD_TUNNEL_PROTOCOL : false),
  perMessageDeflate: false,
});

/** True when this module serves the request's path (the HTTP server's 'upgrade' event). */
export function isStreamingRequest(req: http.IncomingMessage): boolean {
  return PATH.test(new URL(req.url ?? '/', 'http://x').pathname);
}

export async function handleStreamingUpgrade(deps: StreamingDeps, req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', () => undefined);
  deps.sockets.add(socket);
  socket.once('close', () => deps.sockets.delete(socket));
  let session: StreamSession | undefined;
  try {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = PATH.exec(url.pathname);
    if (!m) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const [namespace, name, sub] = [decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3] as StreamingSubresource];
    const q = url.searchParams;
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const ws = upgrade === 'websocket';
    if (!ws && upgrade !== 'spdy/3.1') throw new BadRequestError(`unable to upgrade: the protocol "${req.headers.upgrade ?? ''}" is neither SPDY/3.1 nor websocket`);
    const offered = ws ? headerValues(req.headers['sec-websocket-protocol']) : headerValues(req.headers['x-stream-protocol-version']);
    const ours: readonly string[] = sub === 'portforward' ? [ws ? WS_PORTFORWARD_TUNNEL_PROTOCOL : SPDY_PORTFORWARD_PROTOCOL] : ws ? WS_REMOTECOMMAND_PROTOCOLS : SPDY_REMOTECOMMAND_PROTOCOLS;
    const protocol = negotiate(offered, ours);
    if (!protocol) {
      throw new StatusError(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${ours.join(' ')}]`);
    }
    const { nodeName, target } = await resolveTarget(deps.storage, sub, namespace, name, q.get('container') ?? undefined);
    const subject = streamSubject(nodeName);

    if (sub === 'portforward') {
      const open = (port: number) => openStream(deps.nc, subject, { kind: 'portforward', target, options: { port } });
      if (ws) {
        (socket as { upgraded?: boolean }).upgraded = true;
        tunnel.handleUpgrade(req, socket, head, (sock) => {
          const stream = createWebSocketStream(sock);
          stream.on('error', () => undefined);
          void servePortForward(stream, open);
        });
      } else {
        writeSwitching(socket, protocol);
        if (head.length) socket.unshift(head);
        await servePortForward(socket, open);
      }
      return;
    }

    const flags: RemoteCommandFlags = { stdin: queryFlag(q, 'stdin'), stdout: queryFlag(q, 'stdout'), stderr: queryFlag(q, 'stderr'), tty: queryFlag(q, 'tty') };
    if (!flags.stdin && !flags.stdout && !flags.stderr) throw new BadRequestError('you must specify at least 1 of stdin, stdout, stderr');
    const options: Record<string, unknown> = { ...flags };
    if (sub === 'exec') {
      const command = q.getAll('command');
      if (!command.length) throw new BadRequestError('you must specify at least one command for the container');
      options.command = command;
    }
    session = await openStream(deps.nc, subject, { kind: sub, target, options });
    let client: ClientEnd;
    if (ws) {
      (socket as { upgraded?: boolean }).upgraded = true;
      client = await webSocketClientEnd(req, socket, head, flags);
    } else {
      writeSwitching(socket, protocol);
      if (head.length) socket.unshift(head);
      client = await spdyClientEnd(socket, flags);
    }
    await bridgeRemoteCommand(client, session);
  } catch (e) {
    session?.abort(e as Error);
    if (!(socket as { upgraded?: boolean }).upgraded) writeHttpError(socket, e);
    else socket.destroy();
  }
}

function writeSwitching(socket: Duplex, protocol: string): void {
  (socket as { upgraded?: boolean }).upgraded = true;
  (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
}
