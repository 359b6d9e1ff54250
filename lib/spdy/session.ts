/**
 * A SPDY/3.1 session over one byte stream (a socket after HTTP's 101, or a WebSocket
 * tunnel), as either end: the server (apiserver facing kubectl) or the client (the
 * kubelet facing containerd's streaming server). Streams are Node Duplexes.
 *
 * Flow control: the peers this speaks to (Go's spdystream in kubectl, client-go and
 * containerd) neither enforce nor replenish windows, so sending is paced by the socket
 * (its write callback) and never waits on a window, and received data is not
 * acknowledged either. WINDOW_UPDATEs would do harm: spdystream closes its socket as soon
 * as an exec ends, and any of our frames still unread there make its kernel answer with
 * a TCP reset, which throws away the output it had not yet sent (issue 11: `kubectl cp`
 * from a pod lost the tail of anything over ~100 KiB).
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameParser,
  GoAwayStatus,
  RstStatus,
  SpdyProtocolError,
  type Frame,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headers.js';

/** DATA frames we send carry at most this much (Go's framer takes up to 16 MiB; smaller keeps streams interleaved). */
const MAX_DATA_CHUNK = 32 * 1024;

export interface SpdySessionOptions {
  /** the server opens even-numbered streams, the client odd ones */
  isServer: boolean;
}

export class SpdyStream extends Duplex {
  /** the headers of the SYN_STREAM (ours or the peer's) */
  readonly headers: SpdyHeaders;
  replyHeaders: SpdyHeaders | undefined;
  /** set once the peer reset the stream */
  resetStatus: number | undefined;
  private localFin = false;
  private remoteFin = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
    this.headers = headers;
  }

  /** Answers a peer's SYN_STREAM (SYN_REPLY); upstream's peers wait for it before using the stream. */
  reply(headers: SpdyHeaders = {}): void {
    this.replyHeaders = headers;
    this.session.sendAsync(this.session.compressor.compress(headers).then((b) => encodeSynReply(this.id, b)));
  }

  /** Ends the stream at once with RST_STREAM. */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.localFin && this.remoteFin) return;
    this.localFin = this.remoteFin = true;
    this.session.send(encodeRstStream(this.id, status));
    this.session.forget(this);
    this.push(null);
    this.destroy();
  }

  /** @internal our half ended by the SYN_STREAM's FIN flag: no separate FIN frame follows */
  endedBySyn(): void {
    this.localFin = true;
    this.end();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    // after a reset, writes go nowhere (a relay still piping into it must not fail)
    if (this.resetStatus !== undefined || this.session.closed) return cb();
    if (this.localFin) return cb(new SpdyProtocolError(`write on stream ${this.id} after it was closed`));
    for (let off = 0; off < chunk.length; off += MAX_DATA_CHUNK) {
      const last = off + MAX_DATA_CHUNK >= chunk.length;
      this.session.send(encodeData(this.id, chunk.subarray(off, off + MAX_DATA_CHUNK), false), last ? cb : undefined);
    }
    if (!chunk.length) cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.localFin) {
      this.localFin = true;
      this.session.send(encodeData(this.id, Buffer.alloc(0), true));
      this.closedBothWays();
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!(this.localFin && this.remoteFin) && !this.session.closed) {
      this.localFin = this.remoteFin = true;
      this.session.send(encodeRstStream(this.id, RstStatus.CANCEL));
    }
    this.session.forget(this);
    cb(err);
  }

  /** @internal */
  onData(data: Buffer, fin: boolean): void {
    if (this.remoteFin) {
      this.session.send(encodeRstStream(this.id, RstStatus.STREAM_ALREADY_CLOSED));
      return;
    }
    if (data.length) this.push(data);
    if (fin) this.onRemoteFin();
  }

  /** @internal */
  onRemoteFin(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.push(null);
    this.closedBothWays();
  }

  /** @internal the peer's RST_STREAM, or the session going away */
  onReset(status: number): void {
    if (this.resetStatus !== undefined) return;
    this.resetStatus = status;
    const wasOpen = !this.remoteFin;
    this.localFin = this.remoteFin = true;
    this.session.forget(this);
    // the read side ends as after a FIN, so pipes from it end their destinations ('end',
    // not just 'close'); no error event: callers look at resetStatus (an unhandled
    // stream error would end the process)
    if (wasOpen) this.push(null);
    if (this.readableEnded || !wasOpen) this.destroy();
    else this.once('end', () => this.destroy());
  }

  private closedBothWays(): void {
    if (this.localFin && this.remoteFin) this.session.forget(this);
  }
}

/**
 * Events: `stream` (SpdyStream: a peer's SYN_STREAM; answer it with `reply()` or
 * `reset()`), `close` (the byte stream ended), `error`.
 */
export class SpdySession extends EventEmitter {
  readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly replies = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void }>();
  private nextId: number;
  private lastPeerId = 0;
  /** frames leave in the order they were queued, whatever their header compression costs */
  private out: Promise<void> = Promise.resolve();
  /** frames are handled in arrival order (header blocks inflate asynchronously) */
  private inbound: Promise<void> = Promise.resolve();
  private pingId: number;
  private readonly pings = new Map<number, () => void>();
  closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: SpdySessionOptions,
  ) {
    super();
    this.nextId = opts.isServer ? 2 : 1;
    this.pingId = opts.isServer ? 2 : 1;
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.parser.push(chunk);
      } catch (e) {
        return this.fail(e as Error);
      }
      for (const f of frames) this.inbound = this.inbound.then(() => this.handle(f)).catch((e) => this.fail(e as Error));
    });
    socket.on('end', () => this.inbound.then(() => this.shutdown()));
    socket.on('close', () => this.inbound.then(() => this.shutdown()));
    socket.on('error', (e) => this.fail(e));
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** @internal */
  send(frame: Buffer, cb?: (e?: Error | null) => void): void {
    this.sendAsync(Promise.resolve(frame), cb);
  }

  /** @internal */
  sendAsync(frame: Promise<Buffer>, cb?: (e?: Error | null) => void): void {
    this.out = this.out.then(async () => {
      let b: Buffer;
      try {
        b = await frame;
      } catch (e) {
        cb?.(e as Error);
        return this.fail(e as Error);
      }
      if (this.closed || this.socket.destroyed || this.socket.writableEnded) return void cb?.(new Error('the SPDY session is closed'));
      this.socket.write(b, cb ? (e) => cb(e) : undefined);
    });
  }

  /**
   * Opens a stream (SYN_STREAM) and resolves once the peer replied (SYN_REPLY). With
   * `fin` the SYN_STREAM itself ends our half: a stream we never write to costs the peer
   * no later frame to read (see the flow-control note at the top: a frame the peer has
   * not read when it closes its socket makes it reset the connection).
   */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean; unidirectional?: boolean } = {}): Promise<SpdyStream> {
    if (this.closed) return Promise.reject(new Error('the SPDY session is closed'));
    const id = this.nextId;
    this.nextId += 2;
    const s = new SpdyStream(this, id, headers);
    this.streams.set(id, s);
    const replied = new Promise<SpdyStream>((resolve, reject) => this.replies.set(id, { resolve, reject }));
    if (opts.fin) s.endedBySyn();
    this.sendAsync(this.compressor.compress(headers).then((b) => encodeSynStream(id, b, opts)));
    return replied;
  }

  /** Round trip of a PING. */
  ping(): Promise<void> {
    const id = this.pingId;
    this.pingId += 2;
    return new Promise((resolve) => {
      this.pings.set(id, resolve);
      this.send(encodePing(id));
    });
  }

  /** GOAWAY, then ends the byte stream once every queued frame is out. */
  close(): void {
    if (this.closed) return;
    this.send(encodeGoAway(this.lastPeerId, GoAwayStatus.OK));
    this.out = this.out.then(() => void this.socket.end());
    this.out.then(() => this.shutdown());
  }

  /** Drops the byte stream at once. */
  destroy(): void {
    this.socket.destroy();
    this.shutdown();
  }

  /** @internal */
  forget(s: SpdyStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    const r = this.replies.get(s.id);
    if (r && s.destroyed) {
      this.replies.delete(s.id);
      r.reject(new Error(`stream ${s.id} ended before the peer replied`));
    }
  }

  private fail(e: Error): void {
    if (this.closed) return;
    if (e instanceof SpdyProtocolError && !this.socket.destroyed) this.socket.write(encodeGoAway(this.lastPeerId, GoAwayStatus.PROTOCOL_ERROR));
    if (this.listenerCount('error')) this.emit('error', e);
    this.destroy();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.onReset(RstStatus.CANCEL);
    for (const [, r] of this.replies) r.reject(new Error('the SPDY session closed before the peer replied'));
    this.replies.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit('close');
  }

  private async handle(f: Frame): Promise<void> {
    switch (f.type) {
      case 'synStream': {
        const headers = await this.decompressor.decompress(f.block);
        const fromPeer = this.opts.isServer ? f.streamId % 2 === 1 : f.streamId % 2 === 0;
        if (!fromPeer || f.streamId <= this.lastPeerId) {
          this.send(encodeRstStream(f.streamId, RstStatus.PROTOCOL_ERROR));
          return;
        }
        this.lastPeerId = f.streamId;
        const s = new SpdyStream(this, f.streamId, headers);
        this.streams.set(f.streamId, s);
        if (f.flags & FLAG_UNIDIRECTIONAL) s.end();
        if (f.flags & FLAG_FIN) s.onRemoteFin();
        this.emit('stream', s);
        return;
      }
      case 'synReply': {
        const headers = await this.decompressor.decompress(f.block);
        const s = this.streams.get(f.streamId);
        const r = this.replies.get(f.streamId);
        this.replies.delete(f.streamId);
        if (!s) return;
        s.replyHeaders = headers;
        r?.resolve(s);
        if (f.flags & FLAG_FIN) s.onRemoteFin();
        return;
      }
      case 'headers': {
        // the header block must still be inflated: it advances the shared zlib context
        await this.decompressor.decompress(f.block);
        if (f.flags & FLAG_FIN) this.streams.get(f.streamId)?.onRemoteFin();
        return;
      }
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) {
          this.send(encodeRstStream(f.streamId, RstStatus.INVALID_STREAM));
          return;
        }
        s.onData(f.data, (f.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'rstStream': {
        const s = this.streams.get(f.streamId);
        this.streams.delete(f.streamId);
        const r = this.replies.get(f.streamId);
        this.replies.delete(f.streamId);
        r?.reject(new SpdyProtocolError(`stream ${f.streamId} refused by the peer (status ${f.status})`));
        s?.onReset(f.status);
        return;
      }
      case 'ping': {
        // a PING of the peer's parity is echoed; one of ours is an answer
        const ours = this.opts.isServer ? f.id % 2 === 0 : f.id % 2 === 1;
        if (!ours) this.send(encodePing(f.id));
        else {
          this.pings.get(f.id)?.();
          this.pings.delete(f.id);
        }
        return;
      }
      case 'goAway':
        // no new streams from the peer; the ones open finish
        this.emit('goaway', f.lastStreamId, f.status);
        return;
      case 'settings':
      case 'windowUpdate':
      case 'unknown':
        return;
    }
  }
}
