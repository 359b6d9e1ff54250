/**
 * The etcd role: one JetStream KV bucket. Revisions are the stream sequence (global and
 * monotonic, like etcd's revision); create is create-if-absent and update/delete are
 * compare-and-swap on the key's last revision. Only the apiserver (and the backup tool)
 * use this module.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry, type KvWatchEntry } from '@nats-io/kv';
import { BucketWriter } from './writer.js';

export const DEFAULT_BUCKET = 'flotilla';

/** JetStream API error codes for a failed expected-last-subject-sequence check. */
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`store: key ${key} already exists`);
    this.name = 'KeyExistsError';
  }
}

export class RevisionMismatchError extends Error {
  constructor(
    readonly key: string,
    readonly expected: number,
  ) {
    super(`store: key ${key} is not at revision ${expected}`);
    this.name = 'RevisionMismatchError';
  }
}

/**
 * The store did not acknowledge a write in time. The write may still have been stored
 * (as with an etcd request that timed out): a caller must read before it retries.
 */
export class StoreTimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`store: ${operation}: no acknowledgement from JetStream within ${timeoutMs / 1000} s (the write may or may not have been stored)`);
    this.name = 'StoreTimeoutError';
  }
}

/**
 * How long a write waits for JetStream's acknowledgement. nats.js's default (5 s) is
 * shorter than a burst of writes can take on a loaded 2-core machine; upstream's
 * apiserver gives a request 60 s (--request-timeout).
 */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;

export interface StoreEntry {
  key: string;
  revision: number;
  /** undefined for deletions */
  value?: Uint8Array;
  operation: 'PUT' | 'DEL' | 'PURGE';
}

export interface StoreOptions {
  bucket?: string;
  /** JetStream replicas; >1 needs nats-server >= 2.9.21 (CAS on R3 is unsafe before, nats-server#4320) */
  replicas?: number;
  /** largest object accepted, bytes */
  maxValueSize?: number;
  /** how long a write waits for its acknowledgement (default DEFAULT_WRITE_TIMEOUT_MS) */
  writeTimeoutMs?: number;
}

/** Compares dotted versions: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.replace(/^v/, '').split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0) ? -1 : 1;
  }
  return 0;
}

export class KvStore {
  /** creates and updates: plain publishes with one acknowledgement subscription (writer.ts) */
  private readonly writer: BucketWriter;

  private constructor(
    readonly nc: NatsConnection,
    readonly kv: KV,
    readonly jsm: JetStreamManager,
    readonly bucket: string,
    readonly serverVersion: string,
    readonly writeTimeoutMs: number,
  ) {
    // a key's subject (no JetStream domain or API prefix is used)
    this.writer = new BucketWriter(nc, `$KV.${bucket}.`, writeTimeoutMs, this.streamName);
  }

  static async open(nc: NatsConnection, opts: StoreOptions = {}): Promise<KvStore> {
    const bucket = opts.bucket ?? DEFAULT_BUCKET;
    const serverVersion = nc.info?.version ?? '0.0.0';
    const replicas = opts.replicas ?? 1;
    if (replicas > 1 && compareVersions(serverVersion, '2.9.21') < 0) {
      throw new Error(
        `store: nats-server ${serverVersion} cannot host a replicated bucket safely: compare-and-swap on R${replicas} needs nats-server >= 2.9.21 (nats-server issue #4320)`,
      );
    }
    const writeTimeoutMs = opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    const kvm = new Kvm(jetstream(nc, { timeout: writeTimeoutMs }));
    const kv = await kvm.create(bucket, {
      history: 1,
      replicas,
      maxValueSize: opts.maxValueSize ?? 3 * 1024 * 1024,
    });
    const jsm = await jetstreamManager(nc);
    return new KvStore(nc, kv, jsm, bucket, serverVersion, writeTimeoutMs);
  }

  /** True when the server supports features that need 2.10 (multi-filter consumers, metadata, compression). */
  get supports210(): boolean {
    return compareVersions(this.serverVersion, '2.10.0') >= 0;
  }

  get streamName(): string {
    return `KV_${this.bucket}`;
  }

  /** Create-if-absent; resolves to the new revision. */
  async create(key: string, value: Uint8Array): Promise<number> {
    try {
      try {
        return await this.writer.write(key, value, 0);
      } catch (e) {
        if (!isWrongLastSequence(e)) throw e;
      }
      // a deleted key's last message is its tombstone: creating over it is compare-and-swap
      // on that (as the KV client's create does)
      const last = await this.kv.get(key);
      if (last && (last.operation === 'DEL' || last.operation === 'PURGE')) return await this.writer.write(key, value, last.revision);
      throw new KeyExistsError(key);
    } catch (e) {
      if (e instanceof KeyExistsError) throw e;
      if (isWrongLastSequence(e)) throw new KeyExistsError(key);
      throw wrap(e, `create ${key}`, this.writeTimeoutMs);
    }
  }

  /** Compare-and-swap on the key's last revision; resolves to the new revision. */
  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<number> {
    try {
      if (expectedRevision <= 0) throw new Error('version must be greater than 0');
      return await this.writer.write(key, value, expectedRevision);
    } catch (e) {
      if (isWrongLastSequence(e)) throw new RevisionMismatchError(key, expectedRevision);
      throw wrap(e, `update ${key}`, this.writeTimeoutMs);
    }
  }

  /** Compare-and-swap delete (leaves a tombstone that watchers see as DEL). */
  async delete(key: string, expectedRevision: number): Promise<void> {
    try {
      await this.kv.delete(key, { previousSeq: expectedRevision });
    } catch (e) {
      if (isWrongLastSequence(e)) throw new RevisionMismatchError(key, expectedRevision);
      throw wrap(e, `delete ${key}`, this.writeTimeoutMs);
    }
  }

  /** Unconditional write, used by restore. */
  async put(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.kv.put(key, value);
    } catch (e) {
      throw wrap(e, `put ${key}`, this.writeTimeoutMs);
    }
  }

  async get(key: string): Promise<StoreEntry | null> {
    const e = await this.kv.get(key);
    if (!e) return null;
    return toEntry(e);
  }

  /** The store's current revision: the stream's last sequence. */
  async currentRevision(): Promise<number> {
    const si = await this.jsm.streams.info(this.streamName);
    return si.state.last_seq;
  }

  /**
   * Watches every key: first the current value of each key (deletions included), then
   * every change. `onSynced` fires once the initial values have been delivered, with
   * the revision the initial state is complete up to.
   */
  async watch(handlers: {
    onEntry: (e: StoreEntry) => void;
    onSynced: (revision: number) => void;
    onClosed?: (err?: unknown) => void;
    fromRevision?: number;
  }): Promise<{ stop: () => void }> {
    const startRev = await this.currentRevision();
    const iter = await this.kv.watch(
      handlers.fromRevision && handlers.fromRevision > 0 ? { resumeFromRevision: handlers.fromRevision } : {},
    );
    let synced = false;
    let maxSeen = 0;
    const markSynced = () => {
      if (synced) return;
      synced = true;
      handlers.onSynced(Math.max(startRev, maxSeen));
    };
    if (startRev === 0) markSynced();
    (async () => {
      try {
        for await (const e of iter as AsyncIterable<KvWatchEntry>) {
          if (e.revision > maxSeen) maxSeen = e.revision;
          handlers.onEntry(toEntry(e));
          if (!synced && (e.isUpdate || e.revision >= startRev || e.delta === 0)) markSynced();
        }
        handlers.onClosed?.();
      } catch (err) {
        handlers.onClosed?.(err);
      }
    })();
    // An empty bucket or one whose last message is not a key's latest value never
    // delivers the entry at startRev; the consumer's pending count settles it.
    if (!synced) {
      const timer = setInterval(async () => {
        if (synced) return clearInterval(timer);
        const data = (iter as unknown as { _data?: { info?: (cached?: boolean) => Promise<{ num_pending: number; delivered: { stream_seq: number } }> } })._data;
        try {
          const info = await data?.info?.(false);
          if (info && info.num_pending === 0) {
            maxSeen = Math.max(maxSeen, info.delivered.stream_seq);
            markSynced();
          }
        } catch {
          /* the next tick retries */
        }
      }, 100);
    }
    return { stop: () => iter.stop() };
  }

  /** Every live entry in revision order (for backup). */
  async dump(): Promise<StoreEntry[]> {
    const out: StoreEntry[] = [];
    const last = await this.currentRevision();
    if (last === 0) return out;
    const iter = await this.kv.watch({});
    for await (const e of iter as AsyncIterable<KvWatchEntry>) {
      if (e.operation === 'PUT') out.push(toEntry(e));
      if (e.revision >= last || e.isUpdate) break;
      if (e.delta === 0) break;
    }
    iter.stop();
    out.sort((a, b) => a.revision - b.revision);
    return out;
  }
}

function toEntry(e: KvEntry): StoreEntry {
  const operation = operationOf(e);
  return {
    key: e.key,
    revision: e.revision,
    value: operation === 'PUT' ? e.value : undefined,
    operation,
  };
}

/** the headers that can make an entry other than a PUT: the KV operation and a server marker (a MaxAge purge) */
const OPERATION_HEADER = Buffer.from('KV-Operation');
const MARKER_HEADER = Buffer.from('Nats-Marker-Reason');

/**
 * An entry's operation. A watched entry's message carries headers (its write's expected
 * sequence), and the KV client decodes them all to look for an operation header on every
 * entry: the apiserver's watch sees every write, and that decoding was 3% of its CPU. So
 * the raw header bytes are searched first, and decoded only when such a header is there.
 */
function operationOf(e: KvEntry): StoreEntry['operation'] {
  const m = (e as { sm?: { msg?: { _msg?: { hdr?: unknown }; _rdata?: Uint8Array } } }).sm?.msg;
  const hdr = m?._msg?.hdr;
  const raw = m?._rdata;
  if (typeof hdr === 'number' && raw instanceof Uint8Array) {
    if (hdr < 0) return 'PUT';
    const h = Buffer.from(raw.buffer, raw.byteOffset, Math.min(hdr, raw.byteLength));
    if (h.indexOf(OPERATION_HEADER) < 0 && h.indexOf(MARKER_HEADER) < 0) return 'PUT';
  }
  return e.operation;
}

function isWrongLastSequence(e: unknown): boolean {
  if (e instanceof JetStreamApiError) return WRONG_LAST_SEQUENCE.has(e.code);
  const msg = (e as Error)?.message ?? '';
  return /wrong last sequence/i.test(msg);
}

function isTimeout(e: unknown): boolean {
  return (e as Error)?.name === 'TimeoutError';
}

function wrap(e: unknown, what: string, timeoutMs: number): Error {
  if (isTimeout(e)) return Object.assign(new StoreTimeoutError(what, timeoutMs), { cause: e });
  const err = new Error(`store: ${what}: ${(e as Error)?.message ?? e}`);
  (err as Error & { cause?: unknown }).cause = e;
  return err;
}
