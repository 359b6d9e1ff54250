/**
 * kubectl's end of exec and attach, in either protocol it speaks, turned into the same
 * channels (channels.ts) and bridged to the kubelet's stream session over NATS:
 *
 * - SPDY/3.1 (`X-Stream-Protocol-Version: v4.channel.k8s.io`; kubectl before 1.30, and
 *   later ones when the WebSocket upgrade is refused): one SPDY stream per channel, named
 *   by its `streamType` header, each answered with SYN_REPLY as it arrives;
 * - WebSocket (`v5.channel.k8s.io` or `v4.channel.k8s.io`; kubectl 1.30+): one binary
 *   message per write, its first byte the channel; v5's channel 255 closes stdin.
 *
 * The exec's end travels as upstream's: the kubelet relays containerd's v4 error stream (a
 * metav1.Status whose details.causes hold the ExitCode), and kubectl exits with it.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { BadRequestError, InternalError, StatusError, type Status } from '../../../lib/api/errors.js';
import type { RemoteCommandFlags, StreamSession } from '../../../lib/stream/mod.js';
import { SpdySession, type SpdyStream } from '../../../lib/spdy/mod.js';
import { Channel, encodeChannelMessage, decodeChannelMessage, STREAM_TYPE_CHANNEL, WS_REMOTECOMMAND_PROTOCOLS } from './channels.js';

/** kubectl's side of an exec or attach, whatever its protocol. */
export interface ClientEnd {
  stdin?: Readable;
  resize?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  error: Writable;
  /** ends the connection once what was written is out */
  close(): void;
  /** resolves when kubectl went away (or close() ended the connection) */
  gone: Promise<void>;
}

/** how long kubectl has to open its streams after the upgrade (upstream's stream creation timeout) */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** The streams kubectl opens for these flags (stderr never with a TTY; resize only with one). */
export function expectedStreams(f: RemoteCommandFlags): string[] {
  return ['error', ...(f.stdin ? ['stdin'] : []), ...(f.stdout ? ['stdout'] : []), ...(f.stderr && !f.tty ? ['stderr'] : []), ...(f.tty ? ['resize'] : [])];
}

/** Switches the socket to SPDY (101 already written) and waits for kubectl's streams. */
export function spdyClientEnd(socket: Duplex, flags: RemoteCommandFlags): Promise<ClientEnd> {
  const session = new SpdySession(socket, { isServer: true });
  const want = new Set(expectedStreams(flags));
  const got = new Map<string, SpdyStream>();
  const gone = new Promise<void>((r) => session.once('close', () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`kubectl opened ${[...got.keys()].join(', ') || 'no streams'} of ${[...want].join(', ')} within ${STREAM_CREATION_TIMEOUT_MS} ms`));
    }, STREAM_CREATION_TIMEOUT_MS);
    void gone.then(() => {
      clearTimeout(timer);
      reject(new Error('kubectl closed the connection before opening its streams'));
    });
    session.on('stream', (s: SpdyStream) => {
      const type = s.headers.streamtype;
      if (!want.has(type) || got.has(type)) return s.reset(3 /* REFUSED_STREAM */);
      s.reply();
      got.set(type, s);
      // kubectl never writes on its output streams: their read side ends at once
      if (STREAM_TYPE_CHANNEL[type] !== Channel.STDIN && STREAM_TYPE_CHANNEL[type] !== Channel.RESIZE) s.resume();
      if (got.size < want.size) return;
      clearTimeout(timer);
      resolve({
        stdin: got.get('stdin'),
        resize: got.get('resize'),
        stdout: got.get('stdout'),
        stderr: got.get('stderr'),
        error: got.get('error')!,
        close: () => session.close(),
        gone,
      });
    });
  });
}

/** A Writable whose writes become messages of one channel. */
function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb();
      ws.send(encodeChannelMessage(channel, chunk), { binary: true }, (e) => cb(e ?? null));
    },
  });
}

const wss = new WebSocketServer({
  noServer: true,
  // upstream's server order: v5 before v4 whatever the client's
  handleProtocols: (offered) => WS_REMOTECOMMAND_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  perMessageDeflate: false,
});

/** Completes the WebSocket handshake (101 with the chosen subprotocol) and maps its channels. */
export function webSocketClientEnd(req: IncomingMessage, socket: Duplex, head: Buffer, flags: RemoteCommandFlags): Promise<ClientEnd> {
  return new Promise((resolve) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const v5 = ws.protocol === 'v5.channel.k8s.io';
      const stdin = flags.stdin ? new PassThrough() : undefined;
      const resize = flags.tty ? new PassThrough() : undefined;
      const gone = new Promise<void>((r) => ws.once('close', () => r()));
      void gone.then(() => {
        stdin?.end();
        resize?.end();
      });
      ws.on('error', () => undefined);
      ws.on('message', (raw: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        const m = decodeChannelMessage(raw);
        if (!m) return;
        if (m.channel === Channel.STDIN && stdin && !stdin.writableEnded) {
          // a full stdin buffer pauses the socket until the kubelet took the bytes
          if (!stdin.write(m.data)) {
            ws.pause();
            stdin.once('drain', () => ws.resume());
          }
        } else if (m.channel === Channel.RESIZE && resize && !resize.writableEnded) resize.write(m.data);
        else if (m.channel === Channel.CLOSE && v5 && m.data[0] === Channel.STDIN) stdin?.end();
      });
      resolve({
        stdin,
        resize,
        stdout: flags.stdout ? channelWriter(ws, Channel.STDOUT) : undefined,
        stderr: flags.stderr && !flags.tty ? channelWriter(ws, Channel.STDERR) : undefined,
        error: channelWriter(ws, Channel.ERROR),
        close: () => ws.close(1000),
        gone,
      });
    });
  });
}

function quiet(s: { on(ev: 'error', f: () => void): unknown }): void {
  s.on('error', () => undefined);
}

/**
 * Bridges kubectl's channels and the kubelet's session until the session ended, then
 * closes kubectl's connection. A session that failed before the kubelet said how the
 * command ended puts its Status on the error channel, so kubectl prints it.
 */
export async function bridgeRemoteCommand(client: ClientEnd, session: StreamSession): Promise<void> {
  void client.gone.then(() => {
    if (!session.ended) session.abort(new BadRequestError('the client closed the connection'));
  });
  const ch = (id: number) => {
    const c = session.channel(id);
    quiet(c);
    return c;
  };
  if (client.stdin) {
    quiet(client.stdin);
    client.stdin.pipe(ch(Channel.STDIN));
  }
  if (client.resize) {
    quiet(client.resize);
    client.resize.pipe(ch(Channel.RESIZE));
  }
  const outputs: Promise<unknown>[] = [];
  for (const [w, id] of [[client.stdout, Channel.STDOUT], [client.stderr, Channel.STDERR]] as const) {
    if (!w) continue;
    quiet(w);
    ch(id).pipe(w);
    // our writing side only: kubectl never ends its side of an output stream
    outputs.push(finished(w, { readable: false }).catch(() => undefined));
  }
  let statusSeen = false;
  const errorIn = ch(Channel.ERROR);
  errorIn.on('data', () => (statusSeen = true));
  quiet(client.error);
  errorIn.pipe(client.error, { end: false });
  const errorDone = finished(errorIn, { writable: false }).catch(() => undefined);
  const end = await session.done;
  await Promise.all([...outputs, errorDone]);
  if (end.status && !statusSeen) client.error.write(JSON.stringify(statusForClient(end.status)));
  client.error.end();
  await finished(client.error, { readable: false }).catch(() => undefined);
  client.close();
}

/** The Status kubectl gets when the session failed: the kubelet's own, or an internal error. */
function statusForClient(s: Status): Status {
  return s.kind === 'Status' ? s : new InternalError(String((s as { message?: string }).message ?? s)).toStatus();
}

/** A refusal before the upgrade: the HTTP response upstream sends (a Status body). */
export function writeHttpError(socket: Duplex, e: unknown): void {
  const err = e instanceof StatusError ? e : new InternalError((e as Error).message);
  const body = JSON.stringify(err.toStatus());
  const text = STATUS_CODES[err.code] ?? 'Error';
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${err.code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
