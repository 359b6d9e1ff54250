/**
 * The log stream's index, kept in memory from the stream itself: a headers-only ordered
 * consumer reads every batch's headers (never its lines), so for each subject (one
 * container of one pod) it knows the labels (the pod's, sanitised as Loki's, plus
 * namespace, pod, container and node) and each batch's sequence, first and last line
 * time and line count. A query then picks the subjects its selector matches and, by time,
 * the batches it needs, and reads only those. What retention dropped from the stream is
 * dropped here too (the stream's first sequence, looked at every few seconds).
 */
import { jetstream, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { LOG_HEADERS, parseLogSubject, type LogStreamRef } from '../../lib/logging/mod.js';
import { sanitizeLabelName } from './logql.js';

/** One container's log in the stream. */
export interface IndexedStream {
  subject: string;
  ref: LogStreamRef;
  /** Loki's label set (without `stream`, which each line has) */
  labels: Record<string, string>;
  /** per batch, in stream order */
  seqs: number[];
  firsts: number[];
  lasts: number[];
  lines: number[];
  /** the labels header as last read, so unchanged labels are not parsed again */
  rawLabels?: string;
}

/** The batch headers' labels as Loki names them: the pod's labels sanitised, then the fixed ones. */
export function streamLabels(ref: LogStreamRef, node: string, podLabels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(podLabels)) out[sanitizeLabelName(k)] = v;
  out.namespace = ref.namespace;
  out.pod = ref.pod;
  out.container = ref.container;
  if (node) out.node = node;
  return out;
}

export function parseLabelsHeader(v: string | undefined): Record<string, string> {
  if (!v) return {};
  try {
    const o = JSON.parse(v) as unknown;
    return o && typeof o === 'object' ? (o as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export class LogIndex {
  readonly streams = new Map<string, IndexedStream>();
  /** the last stream sequence read */
  lastSeq = 0;
  private firstSeq = 1;
  private messages?: ConsumerMessages;
  private pruneTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly waiters = new Set<{ seq: number; resolve: () => void }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    const c = await jetstream(this.nc).consumers.get(this.stream, { headers_only: true });
    this.messages = await c.consume({ max_messages: 2000 });
    this.running = (async () => {
      for await (const m of this.messages!) {
        this.add(m.subject, m.seq, m.headers);
        if (this.waiters.size) for (const w of this.waiters) if (this.lastSeq >= w.seq) (this.waiters.delete(w), w.resolve());
      }
    })().catch((e) => {
      if (!this.stopped) this.log(`log index: reading the stream's headers: ${(e as Error).message}`);
    });
    this.pruneTimer = setInterval(() => void this.prune().catch(() => undefined), 5000);
  }

  private add(subject: string, seq: number, h: { get(k: string): string } | undefined): void {
    this.lastSeq = seq;
    const ref = parseLogSubject(this.prefix, subject);
    if (!ref || !h) return;
    let s = this.streams.get(subject);
    const labelsHeader = h.get(LOG_HEADERS.labels);
    const node = h.get(LOG_HEADERS.node);
    if (!s) {
      s = { subject, ref, labels: streamLabels(ref, node, parseLabelsHeader(labelsHeader)), seqs: [], firsts: [], lasts: [], lines: [] };
      this.streams.set(subject, s);
    } else if (s.labels.node !== node || labelsHeader !== s.rawLabels) {
      s.labels = streamLabels(ref, node, parseLabelsHeader(labelsHeader));
    }
    s.rawLabels = labelsHeader;
    s.seqs.push(seq);
    s.firsts.push(Number(h.get(LOG_HEADERS.first)) || 0);
    s.lasts.push(Number(h.get(LOG_HEADERS.last)) || 0);
    s.lines.push(Number(h.get(LOG_HEADERS.lines)) || 0);
  }

  /** Drops what retention took from the stream. */
  async prune(): Promise<void> {
    const si = await this.jsm.streams.info(this.stream);
    const first = si.state.first_seq;
    if (first <= this.firstSeq) return;
    this.firstSeq = first;
    for (const [subject, s] of this.streams) {
      let k = 0;
      while (k < s.seqs.length && s.seqs[k]! < first) k++;
      if (k === 0) continue;
      if (k === s.seqs.length) {
        this.streams.delete(subject);
        continue;
      }
      s.seqs.splice(0, k);
      s.firsts.splice(0, k);
      s.lasts.splice(0, k);
      s.lines.splice(0, k);
    }
  }

  /** Resolves once the index has read the stream up to what it holds now (a consistent read). */
  async caughtUp(timeoutMs = 5000): Promise<void> {
    const si = await this.jsm.streams.info(this.stream);
    const target = si.state.last_seq;
    if (this.lastSeq >= target) return;
    await new Promise<void>((resolve, reject) => {
      const w = { seq: target, resolve };
      this.waiters.add(w);
      setTimeout(() => {
        if (this.waiters.delete(w)) reject(new Error(`the log index has not read the stream up to ${target} (at ${this.lastSeq}) after ${timeoutMs} ms`));
      }, timeoutMs).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    await this.messages?.close();
    await this.running;
  }
}
