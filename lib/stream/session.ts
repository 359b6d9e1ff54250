/**
 * One stream session, the same object at both ends: numbered channels, each a Node
 * Duplex, over two NATS inboxes (each side listens on its own, publishes to the
 * other's). Every frame carries a sequence number, checked on arrival, so a lost NATS
 * message ends the session instead of corrupting a stream. Each channel's sender holds
 * the credit its peer granted and never sends more; the receiver grants bytes back as its
 * reader consumes them, so a slow reader bounds what is in flight to one window. PINGs
 * keep an idle session alive; silence longer than the idle timeout ends it with a Timeout.
 */
import { Duplex } from 'node:stream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { InternalError, StatusError, TimeoutError, type Status } from '../api/errors.js';
import { decodeFrame, encodeFrame, FIN, FrameType, RESET, type Frame, type StreamEnd, type StreamRequest } from './types.js';

/** A channel was reset by the peer (RESET flag): its reason. */
export class StreamResetError extends Error {
  constructor(
    readonly channel: number,
    reason: string,
  ) {
    super(`stream channel ${channel} reset by the peer${reason ? `: ${reason}` : ''}`);
    this.name = 'StreamResetError';
  }
}

/** The session ended while a channel still wanted to write or read. */
export class StreamEndedError extends Error {
  constructor(readonly status?: Status) {
    super(status ? `stream ended: ${status.message}` : 'stream ended');
    this.name = 'StreamEndedError';
  }
}

export interface SessionParams {
  nc: NatsConnection;
  request: StreamRequest;
  /** this side's inbox (subscribed by the session) */
  inbox: string;
  /** the peer's inbox; unknown at the opener until the server answers */
  peerInbox?: string;
  /** what this side grants per channel */
  window: number;
  /** what the peer grants per channel; known with peerInbox */
  peerWindow?: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxFrameBytes: number;
}

function toStatus(e: unknown): Status {
  if (e instanceof StatusError) return e.toStatus();
  if (e && typeof e === 'object' && (e as Status).kind === 'Status') return e as Status;
  return new InternalError((e as Error)?.message ?? String(e)).toStatus();
}

/**
 * One channel: write to send (waits for the peer's credit), read what the peer sent.
 * `end()` sends FIN (the peer's reader ends); `destroy()` sends RESET.
 */
export class StreamChannel extends Duplex {
  /** bytes this side may still send (the peer's grants less what was sent) */
  private credit: number;
  private creditWaiter?: () => void;
  /** bytes received and consumed but not yet granted back */
  private owed = 0;
  private finSent = false;
  private finReceived = false;
  /** bytes sent and received on this channel */
  bytesSent = 0;
  bytesReceived = 0;

  constructor(
    private readonly session: StreamSession,
    readonly id: number,
    peerWindow: number,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: Math.min(session.window, 64 * 1024), writableHighWaterMark: 64 * 1024 });
    this.credit = peerWindow;
    // a peer's RESET destroys the channel with an error: a server that does not listen for
    // 'error' must not crash on it (pipeline() and readers that do listen still get it)
    this.on('error', () => undefined);
  }

  /** The peer granted more bytes. */
  onCredit(n: number): void {
    this.credit += n;
    const w = this.creditWaiter;
    this.creditWaiter = undefined;
    w?.();
  }

  /** Wakes a writer waiting for credit (the session ended). */
  wake(): void {
    const w = this.creditWaiter;
    this.creditWaiter = undefined;
    w?.();
  }

  onData(f: Frame): void {
    if (f.payload.length) {
      this.bytesReceived += f.payload.length;
      this.owed += f.payload.length;
      if (this.owed > this.session.window) {
        this.session.abort(new InternalError(`stream channel ${this.id}: the peer sent ${this.owed} bytes over a window of ${this.session.window}`));
        return;
      }
      // a copy: the frame's buffer belongs to the NATS client
      const below = this.push(Buffer.from(f.payload));
      if (below) this.grant(false);
    }
    if (f.flags & FIN) {
      this.finReceived = true;
      this.push(null);
    }
    if (f.flags & RESET) {
      this.finReceived = true;
      this.destroy(new StreamResetError(this.id, new TextDecoder().decode(f.payload)));
    }
  }

  /** Grants what was consumed: in quarters of the window, or all of it when the reader asks. */
  private grant(all: boolean): void {
    if (this.owed === 0 || this.finReceived) return;
    if (!all && this.owed < this.session.window / 4) return;
    const n = this.owed;
    this.owed = 0;
    this.session.sendFrame(FrameType.CREDIT, this.id, 0, n);
  }

  override _read(): void {
    // the reader drained the buffer: whatever it took may come again
    if (this.owed >= this.session.window / 4) this.grant(true);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.send(chunk).then(() => cb(), cb);
  }

  private async send(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      // after the end, writes are dropped: writers stop on session.signal
      if (this.session.ended) return;
      if (this.credit <= 0) {
        await new Promise<void>((r) => (this.creditWaiter = r));
        continue;
      }
      const n = Math.min(this.credit, this.session.maxFrameBytes, chunk.length - off);
      this.credit -= n;
      this.bytesSent += n;
      this.session.sendFrame(FrameType.DATA, this.id, 0, 0, chunk.subarray(off, off + n));
      off += n;
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.session.ended && !this.finSent) this.session.sendFrame(FrameType.DATA, this.id, FIN, 0);
    this.finSent = true;
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.wake();
    if (!this.session.ended && !(err instanceof StreamResetError) && (!this.finSent || !this.finReceived)) {
      this.session.sendFrame(FrameType.DATA, this.id, RESET, 0, new TextEncoder().encode(err?.message ?? ''));
    }
    this.finSent = this.finReceived = true;
    cb(err);
  }

  /** The session ended: the reader ends; the status is the session's (`done`). */
  sessionEnded(): void {
    this.wake();
    if (!this.finReceived) {
      this.finReceived = true;
      this.push(null);
    }
  }
}

/** Resolves when every write queued on the channel so far has been sent (or the channel is gone). */
function flushed(c: StreamChannel): Promise<void> {
  return new Promise<void>((resolve) => {
    if (c.destroyed || c.writableFinished) return resolve();
    c.once('close', resolve);
    if (c.writableEnded) c.once('finish', resolve);
    // writes run one after another: the callback of an empty one comes after all before it
    else c.write(Buffer.alloc(0), () => resolve());
  });
}

export class StreamSession {
  readonly request: StreamRequest;
  readonly window: number;
  readonly maxFrameBytes: number;
  /** resolves once, when the session ends (either side, or a timeout) */
  readonly done: Promise<StreamEnd>;
  ended = false;
  endStatus?: Status;
  private readonly abortController = new AbortController();
  /** aborted when the session ends: a server's work (a log follower, an exec) stops on it */
  readonly signal: AbortSignal = this.abortController.signal;
  private resolveDone!: (e: StreamEnd) => void;
  private readonly nc: NatsConnection;
  private readonly sub: Subscription;
  private peerInbox?: string;
  private peerWindow?: number;
  private readonly channels = new Map<number, StreamChannel>();
  private sendSeq = 0;
  private recvSeq = 0;
  /** frames queued before the peer's inbox is known */
  private pending: Uint8Array[] = [];
  private lastSent = Date.now();
  private lastHeard = Date.now();
  private readonly ticker: NodeJS.Timeout;
  private readonly channelListeners: Array<(c: StreamChannel) => void> = [];

  constructor(p: SessionParams) {
    this.nc = p.nc;
    this.request = p.request;
    this.window = p.window;
    this.maxFrameBytes = p.maxFrameBytes;
    this.peerInbox = p.peerInbox;
    this.peerWindow = p.peerWindow;
    this.done = new Promise((r) => (this.resolveDone = r));
    this.sub = this.nc.subscribe(p.inbox, {
      callback: (err, m) => {
        if (err) return this.finish(new InternalError(`stream inbox: ${err.message}`).toStatus(), true, false);
        this.onMessage(m.data);
      },
    });
    const tick = Math.max(10, Math.min(p.heartbeatMs, p.idleTimeoutMs) / 2);
    this.ticker = setInterval(() => {
      const now = Date.now();
      if (now - this.lastHeard > p.idleTimeoutMs) {
        this.finish(new TimeoutError(`stream ${this.request.kind}: nothing heard from the peer for ${p.idleTimeoutMs} ms`).toStatus(), true, true);
        return;
      }
      if (now - this.lastSent >= p.heartbeatMs) this.sendFrame(FrameType.PING, 0, 0, 0);
    }, tick);
    this.ticker.unref();
    void this.nc.closed().then(() => this.finish(new InternalError('the NATS connection closed').toStatus(), true, false));
  }

  /** The opener learns the server's inbox and window from the open reply. */
  accepted(peerInbox: string, peerWindow: number): void {
    this.peerInbox = peerInbox;
    this.peerWindow = peerWindow;
    for (const c of this.channels.values()) c.onCredit(peerWindow);
    for (const b of this.pending.splice(0)) this.publish(b);
  }

  /**
   * The channel numbered `id` (0–255), created on first use at either end. A channel the
   * peer opens first is announced to `onChannel` listeners.
   */
  channel(id: number): StreamChannel {
    let c = this.channels.get(id);
    if (!c) {
      if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`stream channel ${id}: 0 to 255`);
      c = new StreamChannel(this, id, this.peerWindow ?? 0);
      this.channels.set(id, c);
      if (this.ended) c.sessionEnded();
    }
    return c;
  }

  /** Calls `fn` for each channel the peer starts sending on before this side used it. */
  onChannel(fn: (c: StreamChannel) => void): void {
    this.channelListeners.push(fn);
  }

  /** Ends the session well: every channel's queued writes are sent first, then END. */
  async close(): Promise<void> {
    if (this.ended) return;
    await Promise.all([...this.channels.values()].map(flushed));
    this.finish(undefined, true, true);
  }

  /** Ends the session at once with an error the peer receives as its END status. */
  abort(reason: Error | Status): void {
    this.finish(toStatus(reason), true, true);
  }

  /** For channels: sends one frame (queued until the peer's inbox is known). */
  sendFrame(type: FrameType, channel: number, flags: number, credit: number, payload: Uint8Array = new Uint8Array(0)): void {
    if (this.ended && type !== FrameType.END) return;
    const b = encodeFrame({ type, channel, flags, seq: ++this.sendSeq, credit, payload });
    if (!this.peerInbox) this.pending.push(b);
    else this.publish(b);
  }

  private publish(b: Uint8Array): void {
    this.lastSent = Date.now();
    try {
      this.nc.publish(this.peerInbox!, b);
    } catch (e) {
      this.finish(new InternalError(`stream: publishing a frame: ${(e as Error).message}`).toStatus(), true, false);
    }
  }

  private onMessage(data: Uint8Array): void {
    if (this.ended) return;
    this.lastHeard = Date.now();
    let f: Frame;
    try {
      f = decodeFrame(data);
    } catch (e) {
      return this.abort(new InternalError(`stream: ${(e as Error).message}`));
    }
    if (f.seq !== this.recvSeq + 1) {
      return this.abort(new InternalError(`stream: frame ${f.seq} arrived where ${this.recvSeq + 1} was due: frames were lost`));
    }
    this.recvSeq = f.seq;
    switch (f.type) {
      case FrameType.DATA: {
        const known = this.channels.has(f.channel);
        const c = this.channel(f.channel);
        if (!known) for (const l of this.channelListeners) l(c);
        c.onData(f);
        break;
      }
      case FrameType.CREDIT:
        this.channel(f.channel).onCredit(f.credit);
        break;
      case FrameType.END: {
        let status: Status | undefined;
        try {
          status = f.payload.length ? (JSON.parse(new TextDecoder().decode(f.payload)) as { status?: Status }).status : undefined;
        } catch {
          status = new InternalError('stream: the peer ended with an END that is not JSON').toStatus();
        }
        this.finish(status, false, false);
        break;
      }
      case FrameType.PING:
        break;
    }
  }

  private finish(status: Status | undefined, local: boolean, tellPeer: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.endStatus = status;
    if (tellPeer && this.peerInbox) {
      this.sendFrame(FrameType.END, 0, 0, 0, new TextEncoder().encode(JSON.stringify(status ? { status } : {})));
    }
    this.abortController.abort(new StreamEndedError(status));
    clearInterval(this.ticker);
    this.sub.unsubscribe();
    for (const c of this.channels.values()) c.sessionEnded();
    this.resolveDone({ status, local });
  }
}
