/**
 * The kubelet as a client of the container runtime's streaming server: CRI Exec, Attach
 * and PortForward answer with a one-time URL on containerd's server (127.0.0.1, see
 * containerd/config.ts), and the kubelet connects there as upstream's kubelet and
 * kubectl do: an HTTP upgrade to SPDY/3.1 naming the stream protocol. SPDY rather than
 * WebSocket because containerd 1.6 speaks only the v4 WebSocket protocol, which cannot
 * close stdin (`echo hi | kubectl exec -i POD -- cat` would never end).
 */
import http from 'node:http';
import { SpdySession } from '../../../lib/spdy/mod.js';

export class RuntimeStreamError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'RuntimeStreamError';
  }
}

/** Upgrades a POST to `url` to SPDY/3.1 offering `protocols`; resolves with the session and the protocol the server chose. */
export function dialRuntimeStream(url: string, protocols: string[], timeoutMs = 10_000): Promise<{ session: SpdySession; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
      timeout: timeoutMs,
    });
    req.on('upgrade', (res, socket, head) => {
      const protocol = String(res.headers['x-stream-protocol-version'] ?? '');
      if (!protocols.includes(protocol)) {
        socket.destroy();
        return reject(new RuntimeStreamError(`the runtime's streaming server chose stream protocol "${protocol}", none of ${protocols.join(', ')}`));
      }
      socket.setNoDelay(true);
      if (head.length) socket.unshift(head);
      resolve({ session: new SpdySession(socket, { isServer: false }), protocol });
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => reject(new RuntimeStreamError(`the runtime's streaming server answered ${res.statusCode}: ${Buffer.concat(parts).toString().trim()}`, res.statusCode)));
    });
    req.on('timeout', () => req.destroy(new RuntimeStreamError(`the runtime's streaming server at ${new URL(url).host} did not answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof RuntimeStreamError ? e : new RuntimeStreamError(`connecting to the runtime's streaming server: ${e.message}`)));
    req.end();
  });
}
