/**
 * kubectl port-forward's end: a SPDY/3.1 session (`portforward.k8s.io` after an HTTP
 * upgrade, or, from kubectl 1.31, tunnelled through a WebSocket's binary messages with
 * the subprotocol `SPDY/3.1+portforward.k8s.io`). Each local connection kubectl accepts
 * becomes a pair of streams, an error and a data stream sharing the headers `port` and
 * `requestID`; each pair is one stream session to the kubelet (data on channel 0, error
 * text on channel 1).
 */
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from '../../../lib/spdy/mod.js';
import type { StreamSession } from '../../../lib/stream/mod.js';

/** Opens the kubelet's session for one forwarded connection. */
export type PortSessionOpener = (port: number) => Promise<StreamSession>;

const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

function quiet(s: { on(ev: 'error', f: () => void): unknown }): void {
  s.on('error', () => undefined);
}

/** Serves kubectl's port-forward session on `socket` (a TCP socket after the 101, or a WebSocket stream) until it closes. */
export function servePortForward(socket: Duplex, open: PortSessionOpener): Promise<void> {
  const session = new SpdySession(socket, { isServer: true });
  const pairs = new Map<string, Pair>();
  const running = new Set<StreamSession>();
  session.on('stream', (s: SpdyStream) => {
    quiet(s);
    const type = s.headers.streamtype;
    const id = s.headers.requestid ?? '';
    const port = Number(s.headers.port);
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port < 1 || port > 65535) return s.reset(3 /* REFUSED_STREAM */);
    s.reply();
    let p = pairs.get(id);
    if (!p) {
      p = { timer: setTimeout(() => timeOut(id), PAIR_TIMEOUT_MS) };
      pairs.set(id, p);
    }
    p[type] = s;
    if (!p.error || !p.data) return;
    clearTimeout(p.timer);
    pairs.delete(id);
    void forward(port, p.error, p.data);
  });
  const timeOut = (id: string) => {
    const p = pairs.get(id);
    pairs.delete(id);
    p?.error?.reset();
    p?.data?.reset();
  };
  const forward = async (port: number, error: SpdyStream, data: SpdyStream) => {
    // kubectl never writes on the error stream
    error.resume();
    let ns: StreamSession;
    try {
      ns = await open(port);
    } catch (e) {
      error.end(`error forwarding port ${port}: ${(e as Error).message}`);
      data.end();
      return;
    }
    running.add(ns);
    const d = ns.channel(0);
    const errIn = ns.channel(1);
    for (const c of [d, errIn]) quiet(c);
    data.pipe(d);
    d.pipe(data);
    errIn.pipe(error);
    await ns.done;
    running.delete(ns);
    if (!data.writableEnded) data.end();
    if (!error.writableEnded) error.end();
  };
  return new Promise((resolve) => {
    session.once('close', () => {
      for (const p of pairs.values()) clearTimeout(p.timer);
      for (const ns of running) ns.abort(new Error('the client closed the connection'));
      resolve();
    });
  });
}
