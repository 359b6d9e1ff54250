import { createInbox, type Msg, type Subscription } from '@nats-io/transport-node';
import { InternalError, ServiceUnavailableError, StatusError, TimeoutError } from '../api/errors.js';
import type { ApiClient, KubeObject } from './client.js';
import type { ApiRequest, WatchEvent, WatchFrame } from './protocol.js';
import { describe, isNoResponders, toStatusError, transportError } from './transport.js';
import { withoutManagedFields } from './managedfields.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** How the client reads a watch's frames. */
export interface WatchClientOptions {
  /**
   * objects without managedFields: the request asks the apiserver to leave them out
   * (ApiRequest.omitManagedFields); when its first frame does not say it did
   * (managedFieldsOmitted: an apiserver that does not know the option), they are cut out of
   * each frame before it is decoded (managedfields.ts)
   */
  omitManagedFields?: boolean;
}

/**
 * One watch stream. The request goes to `flotilla.api.watch` with a private inbox as
 * its reply subject; frames arrive there. While open, a keepalive request goes to the
 * control subject every keepalive period: if nobody subscribes to it any more (the
 * apiserver holding the stream died) NATS answers "no responders" and the watch fails,
 * so its owner notices within one period instead of waiting forever.
 */
export class Watch<T = KubeObject> implements AsyncIterable<WatchEvent<T>> {
  /** resolves once the server acknowledged the watch (first frame); rejects if it refused */
  readonly ready: Promise<void>;
  readonly what: string;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;
  private readyDone = false;
  private sub?: Subscription;
  private control?: string;
  /** the apiserver said it leaves managedFields out (the first frame's managedFieldsOmitted): no frame is searched for them */
  private managedFieldsOmitted = false;
  private keepalive?: NodeJS.Timeout;
  private startTimer?: NodeJS.Timeout;
  private buffer: WatchEvent<T>[] = [];
  private bufferHead = 0;
  private wake?: () => void;
  private ended = false;
  private error?: StatusError;
  private iterating = false;

  constructor(
    private readonly client: ApiClient,
    private readonly req: ApiRequest,
    private readonly subject: string,
    private readonly onClose: () => void,
    private readonly opts: WatchClientOptions = {},
  ) {
    this.what = describe(req);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // a rejected ready promise nobody awaits must not crash the process
    this.ready.catch(() => {});
  }

  /** @internal */
  open(): void {
    const nc = this.client.nc;
    const inbox = createInbox();
    try {
      this.sub = nc.subscribe(inbox, { callback: (err, msg) => (err ? this.fail(transportError(err, this.subject, this.what, 0)) : this.onMsg(msg)) });
      nc.publish(this.subject, enc.encode(JSON.stringify(this.req)), { reply: inbox });
    } catch (e) {
      this.fail(transportError(e, this.subject, this.what, 0));
      return;
    }
    const timeout = this.client.requestTimeoutMs;
    this.startTimer = setTimeout(() => this.fail(new TimeoutError(`no reply on ${this.subject} within ${timeout} ms (watch ${this.what})`)), timeout);
  }

  private onMsg(msg: Msg): void {
    if (this.ended) return;
    // NATS's own "no responders" status: no apiserver subscribes to the watch subject
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.fail(new ServiceUnavailableError(`no apiserver answers on ${this.subject} (watch ${this.what})`));
      return;
    }
    let frame: WatchFrame;
    try {
      frame = this.opts.omitManagedFields && !this.managedFieldsOmitted ? (JSON.parse(dec.decode(withoutManagedFields(msg.data))) as WatchFrame) : msg.json<WatchFrame>();
    } catch (e) {
      this.fail(new InternalError(`unreadable watch frame on ${this.subject} (watch ${this.what}): ${(e as Error).message}`));
      return;
    }
    if (frame.control && !this.control) {
      this.control = frame.control;
      this.managedFieldsOmitted = frame.managedFieldsOmitted === true;
      this.startKeepalive();
    }
    if (frame.events?.length) {
      for (const ev of frame.events) this.buffer.push(ev as WatchEvent<T>);
      this.signal();
    }
    if (frame.error !== undefined && frame.error !== null) {
      this.fail(toStatusError(frame.error));
      return;
    }
    if (!this.readyDone) this.markReady();
    if (frame.done) this.finish();
  }

  private markReady(): void {
    this.readyDone = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.resolveReady();
  }

  private startKeepalive(): void {
    const period = this.client.watchKeepaliveMs;
    this.keepalive = setInterval(() => {
      if (!this.control || this.ended) return;
      this.client.nc.request(this.control, enc.encode('keepalive'), { timeout: period }).then(
        (reply) => {
          // the server answers {done:true} for a stream it no longer has (e.g. reaped as idle)
          let r: WatchFrame | undefined;
          try {
            r = reply.json<WatchFrame>();
          } catch {
            return;
          }
          if (r?.done && !this.ended) this.fail(new ServiceUnavailableError(`the apiserver no longer serves the watch of ${this.what}`));
        },
        (e) => {
          // a timeout only means a busy server; no responders means the instance is gone
          if (isNoResponders(e)) this.fail(new ServiceUnavailableError(`the apiserver serving the watch of ${this.what} went away`));
        },
      );
    }, period);
    this.keepalive.unref();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private cleanup(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.startTimer) clearTimeout(this.startTimer);
    this.keepalive = undefined;
    this.startTimer = undefined;
    try {
      this.sub?.unsubscribe();
    } catch {
      // the connection is already closed: nothing to unsubscribe from
    }
    this.onClose();
  }

  /** @internal The stream broke: iteration throws err once buffered events are consumed. */
  fail(err: StatusError): void {
    if (this.ended) return;
    this.error = err;
    if (!this.readyDone) {
      this.readyDone = true;
      this.rejectReady(err);
    }
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.readyDone) this.markReady();
    this.cleanup();
    this.signal();
  }

  /** Ends the watch and tells the server to stop streaming. */
  stop(): void {
    if (this.ended) return;
    if (this.control) {
      try {
        this.client.nc.publish(this.control, enc.encode('stop'));
      } catch {
        // the connection is closed: the server drops the stream on its own
      }
    }
    this.finish();
  }

  /** True once the stream ended (done, error or stop). */
  get closed(): boolean {
    return this.ended;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterating) throw new Error(`watch of ${this.what} is already being iterated`);
    this.iterating = true;
    try {
      for (;;) {
        if (this.bufferHead < this.buffer.length) {
          const ev = this.buffer[this.bufferHead++];
          if (this.bufferHead === this.buffer.length) {
            this.buffer = [];
            this.bufferHead = 0;
          }
          yield ev;
          continue;
        }
        if (this.ended) {
          if (this.error) throw this.error;
          return;
        }
        await new Promise<void>((r) => (this.wake = r));
      }
    } finally {
      // leaving the loop early (break, throw in the body) ends the watch
      this.stop();
    }
  }
}
