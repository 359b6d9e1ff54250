/**
 * A KV bucket's compare-and-swap writes as plain JetStream publishes, acknowledged through
 * one reply subscription. The KV client makes each write a request of its own: a key
 * encoded and validated, a headers object, a timer, a request object in the client's
 * reply multiplexer and an acknowledgement decoded through two option layers. The
 * apiserver makes three writes per scheduled pod, and that bookkeeping was a few percent
 * of its CPU; here a write is one publish, one pending entry and one sweep for them all.
 * What is stored, and when a write counts as acknowledged, is the same: JetStream's
 * acknowledgement of the message it stored (`{"stream":…,"seq":N}`), or its error.
 */
import { JetStreamApiError, type ApiError } from '@nats-io/jetstream';
import { createInbox, headers, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

/** JetStream's header for compare-and-swap on a subject's last sequence (0: no message yet). */
const EXPECTED_LAST_SUBJECT_SEQUENCE = 'Nats-Expected-Last-Subject-Sequence';

/** A write not acknowledged in time (named as nats.js names its timeouts, for `wrap`). */
export class WriteAckTimeoutError extends Error {
  constructor() {
    super('timeout');
    this.name = 'TimeoutError';
  }
}

interface Pending {
  resolve: (revision: number) => void;
  reject: (e: unknown) => void;
  deadline: number;
}

function expectedSequenceHeaders(revision: number): MsgHdrs {
  const h = headers();
  h.set(EXPECTED_LAST_SUBJECT_SEQUENCE, String(revision));
  return h;
}

/** A create's headers (no message yet), made once: most writes are creates, and a publish only reads them. */
const CREATE_HEADERS = expectedSequenceHeaders(0);

/**
 * The sequence of a plain acknowledgement, read off its bytes without parsing them: the
 * apiserver takes three per scheduled pod. nats-server writes a stored message's
 * acknowledgement by hand as `{"stream":"<name>", "seq":N}` (then `, "domain":…` when it
 * has one, and `}`); `head` is that text up to N for the bucket's stream. Anything else (an
 * error, a domain, a duplicate, another stream or server's spelling) gives -1, and the
 * caller parses it.
 */
export function ackSequence(data: Uint8Array, head: Uint8Array): number {
  const end = data.length - 1;
  if (end <= head.length || data[end] !== 0x7d /* } */) return -1;
  for (let i = 0; i < head.length; i++) if (data[i] !== head[i]) return -1;
  let seq = 0;
  for (let i = head.length; i < end; i++) {
    const digit = data[i] - 0x30;
    if (digit < 0 || digit > 9) return -1;
    seq = seq * 10 + digit;
  }
  return seq;
}

/** The text of a plain acknowledgement from `stream` up to its sequence, for ackSequence. */
export function plainAckHead(stream: string): Uint8Array {
  return Buffer.from(`{"stream":${JSON.stringify(stream)}, "seq":`);
}

/** What the KV client accepts as a key (its validateKey). */
const VALID_KEY = /^[-/=.\w]+$/;

export class BucketWriter {
  private readonly inbox = `${createInbox()}.`;
  /** a plain acknowledgement's text up to its sequence (ackSequence) */
  private readonly ackHead: Uint8Array;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private sweeper?: NodeJS.Timeout;

  /** `subjectPrefix`: the subject a key is written to, less the key (`$KV.<bucket>.`); `stream`: the bucket's stream. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjectPrefix: string,
    private readonly timeoutMs: number,
    stream: string,
  ) {
    this.ackHead = plainAckHead(stream);
    nc.subscribe(`${this.inbox}*`, { callback: (err, m) => this.onAck(err, m) });
    // a closed connection answers nothing more: its writes fail now, not at their deadline
    void nc.closed().then(() => this.failAll(new Error('the NATS connection is closed')));
  }

  /** Stores `value` under `key` if the key's last revision is `expectedRevision`; resolves to the new revision. */
  write(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    if (!VALID_KEY.test(key) || key.startsWith('.') || key.endsWith('.')) return Promise.reject(new Error(`invalid key: ${key}`));
    const token = (this.next++).toString(36);
    return new Promise<number>((resolve, reject) => {
      try {
        this.nc.publish(this.subjectPrefix + key, value, { reply: this.inbox + token, headers: expectedRevision === 0 ? CREATE_HEADERS : expectedSequenceHeaders(expectedRevision) });
      } catch (e) {
        reject(e);
        return;
      }
      this.pending.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.timeoutMs / 4))).unref();
    });
  }

  private onAck(err: Error | null, m: Msg): void {
    if (err) return this.failAll(err);
    const token = m.subject.slice(this.inbox.length);
    const p = this.pending.get(token);
    if (!p) return; // timed out already
    this.pending.delete(token);
    const seq = ackSequence(m.data, this.ackHead);
    if (seq >= 0) return p.resolve(seq);
    if (m.headers?.code === 503) return p.reject(new Error('no responders: JetStream did not answer the publish (is the bucket there?)'));
    let ack: { seq?: unknown; error?: ApiError };
    try {
      ack = JSON.parse(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8'));
    } catch (e) {
      return p.reject(new Error(`an unreadable acknowledgement: ${(e as Error).message}`));
    }
    if (ack.error) p.reject(new JetStreamApiError(ack.error));
    else if (typeof ack.seq === 'number') p.resolve(ack.seq);
    else p.reject(new Error('an acknowledgement without a sequence'));
  }

  /** Fails the writes past their deadline: they share one timeout, so the oldest are first. */
  private sweep(): void {
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new WriteAckTimeoutError());
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
