/**
 * The client side of Kubernetes' SPDY streaming: an HTTP upgrade to SPDY/3.1 naming the
 * stream protocol (`X-Stream-Protocol-Version`), as kubectl and upstream's kubelet dial,
 * and the streams of a remote command (exec, attach) opened in upstream's client order.
 * The kubelet dials containerd's streaming server with it; the dashboard dials the
 * apiserver's pods/exec.
 */
import http from 'node:http';
import { SpdySession, type SpdyStream } from './session.js';

export class SpdyDialError extends Error {
  constructor(
    message: string,
    /** the HTTP status when the server answered without upgrading */
    readonly statusCode?: number,
    /** that answer's body (a metav1.Status from an apiserver) */
    readonly body?: string,
  ) {
    super(message);
    this.name = 'SpdyDialError';
  }
}

export interface DialSpdyOptions {
  /** who is dialled, for error messages (default: "the streaming server") */
  peer?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Upgrades a POST to `url` to SPDY/3.1 offering `protocols`; resolves with the session and the protocol the server chose. */
export function dialSpdy(url: string, protocols: string[], opts: DialSpdyOptions = {}): Promise<{ session: SpdySession; protocol: string }> {
  const peer = opts.peer ?? 'the streaming server';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { ...opts.headers, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
      timeout: timeoutMs,
    });
    req.on('upgrade', (res, socket, head) => {
      const protocol = String(res.headers['x-stream-protocol-version'] ?? '');
      if (!protocols.includes(protocol)) {
        socket.destroy();
        return reject(new SpdyDialError(`${peer} chose stream protocol "${protocol}", none of ${protocols.join(', ')}`));
      }
      socket.setNoDelay(true);
      if (head.length) socket.unshift(head);
      resolve({ session: new SpdySession(socket, { isServer: false }), protocol });
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const body = Buffer.concat(parts).toString().trim();
        reject(new SpdyDialError(`${peer} answered ${res.statusCode}: ${body}`, res.statusCode, body));
      });
    });
    req.on('timeout', () => req.destroy(new SpdyDialError(`${peer} at ${new URL(url).host} did not answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof SpdyDialError ? e : new SpdyDialError(`connecting to ${peer}: ${e.message}`)));
    req.end();
  });
}

export interface RemoteCommandStreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** A remote command's streams (v4.channel.k8s.io): the error stream carries its final metav1.Status. */
export interface RemoteCommandStreams {
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
}

/**
 * Opens the streams of an exec or attach as upstream's v4 client does: error first, then
 * stdin, stdout, stderr (never with a TTY), resize (only with one). Streams only read from
 * are ended by their SYN_STREAM: a FIN frame sent after the last SYN would arrive while
 * the command already runs, and a short command's end can beat it; containerd then closes
 * its socket with that frame unread, its kernel resets the connection, and the queued exit
 * status is lost.
 */
export async function openRemoteCommandStreams(session: SpdySession, flags: RemoteCommandStreamFlags): Promise<RemoteCommandStreams> {
  const open = (type: string, fin: boolean) => session.openStream({ streamtype: type }, { fin });
  const error = await open('error', true);
  const stdin = flags.stdin ? await open('stdin', false) : undefined;
  const stdout = flags.stdout ? await open('stdout', true) : undefined;
  const stderr = flags.stderr && !flags.tty ? await open('stderr', true) : undefined;
  const resize = flags.tty ? await open('resize', false) : undefined;
  return { error, stdin, stdout, stderr, resize };
}
