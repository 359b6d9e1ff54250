/**
 * Runs log queries over the stream: the index (index.ts) names the subjects the selector
 * matches and, by time, the batches that may hold lines in range; those are read by
 * sequence (JetStream direct get), newest first for `backward`, oldest first for
 * `forward`, until `limit` lines are found that no unread batch can beat. Follow reads
 * what arrives after that with an ordered consumer whose subject filter is the narrowest
 * the selector allows, matching each batch's own headers, so pods that start later (not
 * in the index when the follow began) are in it.
 */
import { jetstream, DeliverPolicy, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { forEachLogLine, LOG_HEADERS, logSubjectFilter, parseLogSubject, timestampNanos, type LogLine } from '../../lib/logging/mod.js';
import { fixedLabel, lineMatches, parseLogQL, selectorMatches, type LabelMatcher, type LogQuery } from './logql.js';
import { parseLabelsHeader, streamLabels, type IndexedStream, type LogIndex } from './index.js';

export type Direction = 'forward' | 'backward';

export interface LogQueryRequest {
  query: string | LogQuery;
  /** ms since the epoch: lines at or after start and before end */
  startMs: number;
  endMs: number;
  limit: number;
  direction: Direction;
}

/** One line found, with its stream's label set (the same object for every line of a stream). */
export interface LogResultEntry {
  /** ns since the epoch (Loki's timestamp) */
  ts: string;
  time: number;
  line: string;
  partial: boolean;
  labels: Readonly<Record<string, string>>;
  /** where it is in the stream (batch sequence and line): orders lines of equal time as they were written */
  ord: number;
}

export interface LogQueryResult {
  /** in the request's direction */
  entries: LogResultEntry[];
  /** the stream sequence the answer covers: a follow goes on after it */
  lastSeq: number;
  /** batches read */
  batches: number;
}

interface Candidate {
  stream: IndexedStream;
  seq: number;
  first: number;
  last: number;
}

/** Label sets with `stream` added, one object per stream's labels and stream, so callers can group by identity. */
class LabelSets {
  private readonly sets = new Map<string, { base: Record<string, string>; set: Record<string, string> }>();
  get(subject: string, base: Record<string, string>, stream: string): Record<string, string> {
    const key = `${subject} ${stream}`;
    let s = this.sets.get(key);
    if (!s || s.base !== base) {
      s = { base, set: { ...base, stream } };
      this.sets.set(key, s);
    }
    return s.set;
  }
}

function splitMatchers(q: LogQuery): { stream: LabelMatcher[]; other: LabelMatcher[] } {
  return { stream: q.matchers.filter((m) => m.name === 'stream'), other: q.matchers.filter((m) => m.name !== 'stream') };
}

const FETCH_AHEAD = 8;

export class LogQuerier {
  private readonly labelSets = new LabelSets();

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly index: LogIndex,
    private readonly stream: string,
    private readonly prefix: string,
  ) {}

  async query(req: LogQueryRequest): Promise<LogQueryResult> {
    const q = typeof req.query === 'string' ? parseLogQL(req.query) : req.query;
    const { stream: streamMatchers, other } = splitMatchers(q);
    await this.index.caughtUp();
    const lastSeq = this.index.lastSeq;
    const forward = req.direction === 'forward';
    const candidates: Candidate[] = [];
    for (const s of this.index.streams.values()) {
      if (!selectorMatches(other, s.labels)) continue;
      for (let k = 0; k < s.seqs.length; k++) {
        if (s.seqs[k]! > lastSeq) break;
        if (s.lasts[k]! >= req.startMs && s.firsts[k]! < req.endMs) candidates.push({ stream: s, seq: s.seqs[k]!, first: s.firsts[k]!, last: s.lasts[k]! });
      }
    }
    candidates.sort(forward ? (a, b) => a.first - b.first || a.seq - b.seq : (a, b) => b.last - a.last || b.seq - a.seq);

    let entries: LogResultEntry[] = [];
    const better = forward
      ? (a: LogResultEntry, b: LogResultEntry) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.ord - b.ord)
      : (a: LogResultEntry, b: LogResultEntry) => (a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : b.ord - a.ord);
    let bound: number | undefined;
    let batches = 0;
    const pending: Array<Promise<Uint8Array | undefined>> = [];
    const fetch = (c: Candidate) => this.jsm.direct.getMessage(this.stream, { seq: c.seq }).then((m) => m?.data, () => undefined);
    for (let k = 0; k < candidates.length; k++) {
      while (pending.length < FETCH_AHEAD && k + pending.length < candidates.length) pending.push(fetch(candidates[k + pending.length]!));
      const c = candidates[k]!;
      if (bound !== undefined && (forward ? c.first > bound : c.last < bound)) break;
      const data = await pending.shift()!;
      batches++;
      if (!data) continue;
      const base = c.stream.labels;
      const out = this.labelSets.get(c.stream.subject, base, 'stdout');
      const err = this.labelSets.get(c.stream.subject, base, 'stderr');
      let ord = c.seq * 1e6;
      forEachLogLine(data, (l: LogLine) => {
        ord++;
        if (l.time < req.startMs || l.time >= req.endMs) return;
        const labels = l.stream === 'stdout' ? out : err;
        if (streamMatchers.length && !selectorMatches(streamMatchers, labels)) return;
        if (!lineMatches(q.filters, l.text)) return;
        entries.push({ ts: timestampNanos(l.timestamp), time: l.time, line: l.text, partial: l.partial, labels, ord });
      });
      if (entries.length >= req.limit) {
        entries.sort(better);
        entries = entries.slice(0, req.limit);
        bound = entries[entries.length - 1]!.time;
      }
    }
    // fetches started ahead and not needed are left to finish on their own
    entries.sort(better);
    if (entries.length > req.limit) entries = entries.slice(0, req.limit);
    return { entries, lastSeq, batches };
  }

  /** Label names of the streams with lines in the range (Loki's /labels). */
  labelNames(startMs: number, endMs: number): string[] {
    const names = new Set<string>(['stream']);
    for (const s of this.streamsIn(startMs, endMs)) for (const k of Object.keys(s.labels)) names.add(k);
    return [...names].sort();
  }

  /** A label's values over the streams with lines in the range (Loki's /label/<name>/values). */
  labelValues(name: string, startMs: number, endMs: number): string[] {
    if (name === 'stream') return ['stderr', 'stdout'];
    const values = new Set<string>();
    for (const s of this.streamsIn(startMs, endMs)) {
      const v = s.labels[name];
      if (v !== undefined) values.add(v);
    }
    return [...values].sort();
  }

  /** The label sets of the streams with lines in the range that any of the selectors match (Loki's /series). */
  series(selectors: LogQuery[], startMs: number, endMs: number): Array<Record<string, string>> {
    const out: Array<Record<string, string>> = [];
    for (const s of this.streamsIn(startMs, endMs)) {
      if (!selectors.some((q) => selectorMatches(q.matchers.filter((m) => m.name !== 'stream'), s.labels))) continue;
      out.push({ ...s.labels });
    }
    return out;
  }

  private *streamsIn(startMs: number, endMs: number): Iterable<IndexedStream> {
    for (const s of this.index.streams.values()) {
      const n = s.seqs.length;
      if (n && s.lasts[n - 1]! >= startMs && s.firsts[0]! < endMs) yield s;
    }
  }

  /**
   * Follows the stream from `fromSeq`: every matching line of a batch stored from there on
   * goes to `emit` (a batch's lines at once, in order). Ends when `signal` aborts.
   */
  async follow(query: string | LogQuery, fromSeq: number, emit: (entries: LogResultEntry[]) => Promise<void> | void, signal: AbortSignal): Promise<void> {
    const q = typeof query === 'string' ? parseLogQL(query) : query;
    const { stream: streamMatchers, other } = splitMatchers(q);
    const filter = logSubjectFilter(this.prefix, { namespace: fixedLabel(other, 'namespace'), pod: fixedLabel(other, 'pod'), container: fixedLabel(other, 'container') });
    const c = await jetstream(this.nc).consumers.get(this.stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq });
    const messages: ConsumerMessages = await c.consume({ max_messages: 256 });
    const close = () => void messages.close();
    if (signal.aborted) close();
    signal.addEventListener('abort', close, { once: true });
    try {
      for await (const m of messages) {
        const ref = parseLogSubject(this.prefix, m.subject);
        if (!ref || !m.headers) continue;
        const base = streamLabels(ref, m.headers.get(LOG_HEADERS.node), parseLabelsHeader(m.headers.get(LOG_HEADERS.labels)));
        if (!selectorMatches(other, base)) continue;
        const out: LogResultEntry[] = [];
        const stdout = this.labelSets.get(m.subject, base, 'stdout');
        const stderr = this.labelSets.get(m.subject, base, 'stderr');
        let ord = m.seq * 1e6;
        forEachLogLine(m.data, (l) => {
          ord++;
          const labels = l.stream === 'stdout' ? stdout : stderr;
          if (streamMatchers.length && !selectorMatches(streamMatchers, labels)) return;
          if (!lineMatches(q.filters, l.text)) return;
          out.push({ ts: timestampNanos(l.timestamp), time: l.time, line: l.text, partial: l.partial, labels, ord });
        });
        if (out.length) await emit(out);
        if (signal.aborted) break;
      }
    } finally {
      signal.removeEventListener('abort', close);
      close();
    }
  }
}
