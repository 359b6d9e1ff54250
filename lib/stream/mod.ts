/**
 * Byte streams over NATS (docs/streaming.md), so a node serves logs, exec, attach and
 * port-forward with no inbound port: the apiserver opens a session on the kubelet's
 * subject (`streamSubject(node)`), the kubelet serves it.
 *
 *   // the server (a kubelet)
 *   const server = await serveStreams(nc, streamSubject(node), async (req) => {
 *     if (!ok(req)) throw new BadRequestError('…');        // the opener's openStream rejects with it
 *     return async (session) => {                          // runs once the session is open
 *       const out = session.channel(Channel.STDOUT);
 *       out.write('hello\n');                              // waits for the peer's credit
 *       out.end();                                         // FIN
 *     };                                                   // returning ends the session (END);
 *   });                                                    // throwing aborts it with the error's Status
 *
 *   // the opener (the apiserver)
 *   const s = await openStream(nc, streamSubject(node), { kind: 'log', target: {…}, options: {…} });
 *   for await (const chunk of s.channel(Channel.STDOUT)) res.write(chunk);
 *   const { status } = await s.done;                       // set when the session failed
 */
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { BadRequestError, InternalError, ServiceUnavailableError, StatusError, TimeoutError, type Status } from '../api/errors.js';
import { isNoResponders } from '../client/transport.js';
import { StreamSession } from './session.js';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_WINDOW,
  FRAME_HEADER_BYTES,
  PROTOCOL_VERSION,
  type OpenMessage,
  type OpenReply,
  type StreamRequest,
  type StreamTuning,
} from './types.js';

export * from './types.js';
export { StreamChannel, StreamEndedError, StreamResetError, StreamSession } from './session.js';

/** The subject a node's kubelet serves stream sessions on. */
export function streamSubject(nodeName: string): string {
  return `flotilla.kubelet.${nodeName}.stream`;
}

/** room under max_payload for the NATS message's own headers */
const MESSAGE_ENVELOPE_BYTES = 512;

function frameBytes(nc: NatsConnection, t: StreamTuning): number {
  const max = (nc.info?.max_payload ?? 1024 * 1024) - FRAME_HEADER_BYTES - MESSAGE_ENVELOPE_BYTES;
  return Math.max(1, Math.min(t.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, max));
}

export interface OpenOptions extends StreamTuning {
  /** how long the server may take to accept (default 10 s) */
  openTimeoutMs?: number;
}

/**
 * Opens a session: asks `subject` with the request and this side's inbox; resolves with
 * the open session once the server accepted. A refusal rejects with the server's
 * StatusError; no server on the subject is a ServiceUnavailableError, no answer a TimeoutError.
 */
export async function openStream(nc: NatsConnection, subject: string, request: StreamRequest, opts: OpenOptions = {}): Promise<StreamSession> {
  const window = opts.window ?? DEFAULT_WINDOW;
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const idleTimeoutMs = opts.idleTimeoutMs ?? heartbeatMs * 3;
  const inbox = createInbox();
  const session = new StreamSession({ nc, request, inbox, window, heartbeatMs, idleTimeoutMs, maxFrameBytes: frameBytes(nc, opts) });
  const open: OpenMessage = { v: PROTOCOL_VERSION, ...request, inbox, window, heartbeatMs, idleTimeoutMs };
  let reply: OpenReply;
  try {
    const m = await nc.request(subject, JSON.stringify(open), { timeout: opts.openTimeoutMs ?? 10_000 });
    reply = JSON.parse(new TextDecoder().decode(m.data)) as OpenReply;
  } catch (e) {
    session.abort(new InternalError('not opened'));
    if (isNoResponders(e)) throw new ServiceUnavailableError(`no stream server answers on ${subject}`);
    if ((e as Error).name === 'TimeoutError' || (e as { cause?: Error }).cause?.name === 'TimeoutError') throw new TimeoutError(`the stream server on ${subject} did not answer the ${request.kind} request in time`);
    throw new InternalError(`opening a ${request.kind} stream on ${subject}: ${(e as Error).message}`);
  }
  if ('error' in reply) {
    session.abort(new InternalError('refused'));
    throw StatusError.fromStatus(reply.error);
  }
  session.accepted(reply.inbox, reply.window);
  return session;
}

/** Runs an accepted session; returning ends it well, throwing aborts it with the error. */
export type StreamRun = (session: StreamSession) => Promise<void> | void;
/** Decides on an open request: throw (a StatusError) to refuse it, or return what runs it. */
export type StreamAcceptor = (request: StreamRequest) => Promise<StreamRun> | StreamRun;

export interface StreamServer {
  /** sessions running now */
  readonly sessions: ReadonlySet<StreamSession>;
  /** stops accepting and aborts the running sessions with ServiceUnavailable */
  stop(): Promise<void>;
}

/**
 * Serves stream sessions on `subject` (one server per subject: a node's kubelet).
 * Resolves once the NATS server has the subscription, so an opener on another
 * connection finds it.
 */
export async function serveStreams(nc: NatsConnection, subject: string, accept: StreamAcceptor, tuning: StreamTuning = {}): Promise<StreamServer> {
  const sessions = new Set<StreamSession>();
  const window = tuning.window ?? DEFAULT_WINDOW;
  const respond = (m: { respond(d: string): boolean }, r: OpenReply) => m.respond(JSON.stringify(r));
  const sub: Subscription = nc.subscribe(subject, {
    callback: (err, m) => {
      if (err) return;
      void (async () => {
        let open: OpenMessage;
        try {
          open = JSON.parse(new TextDecoder().decode(m.data)) as OpenMessage;
          if (open?.v !== PROTOCOL_VERSION) throw new BadRequestError(`stream protocol version ${open?.v} is not ${PROTOCOL_VERSION}`);
          if (typeof open.inbox !== 'string' || !open.inbox) throw new BadRequestError('a stream open request needs its "inbox"');
          if (typeof open.kind !== 'string') throw new BadRequestError('a stream open request needs its "kind"');
        } catch (e) {
          const s = e instanceof StatusError ? e : new BadRequestError(`stream open request is not valid JSON: ${(e as Error).message}`);
          respond(m, { error: s.toStatus() });
          return;
        }
        const request: StreamRequest = { kind: open.kind, target: open.target ?? {}, options: open.options ?? {} };
        let run: StreamRun;
        try {
          run = await accept(request);
        } catch (e) {
          const status: Status = e instanceof StatusError ? e.toStatus() : new InternalError((e as Error).message).toStatus();
          respond(m, { error: status });
          return;
        }
        const heartbeatMs = Number(open.heartbeatMs) > 0 ? Number(open.heartbeatMs) : DEFAULT_HEARTBEAT_MS;
        const inbox = createInbox();
        const session = new StreamSession({
          nc,
          request,
          inbox,
          peerInbox: open.inbox,
          window,
          peerWindow: Number(open.window) > 0 ? Number(open.window) : DEFAULT_WINDOW,
          heartbeatMs,
          idleTimeoutMs: Number(open.idleTimeoutMs) > 0 ? Number(open.idleTimeoutMs) : heartbeatMs * 3,
          maxFrameBytes: frameBytes(nc, tuning),
        });
        sessions.add(session);
        void session.done.then(() => sessions.delete(session));
        respond(m, { inbox, window });
        try {
          await run(session);
          await session.close();
        } catch (e) {
          session.abort(e as Error);
        }
      })();
    },
  });
  await nc.flush();
  return {
    sessions,
    async stop() {
      sub.unsubscribe();
      for (const s of [...sessions]) s.abort(new ServiceUnavailableError('the stream server is stopping'));
    },
  };
}
