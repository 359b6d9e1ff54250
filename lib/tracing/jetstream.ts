/**
 * Spans kept in JetStream: each process's exporter publishes its finished spans to
 * `flotilla.traces.<traceId>` in the stream FLOTILLA_TRACES, which drops them by age and
 * by size (retention), so `flotilla trace pod NAME` can read a pod's whole trace from any
 * machine that reaches NATS, with no collector running.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, JetStreamApiError, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export const TRACE_STREAM = 'FLOTILLA_TRACES';
export const TRACE_SUBJECT_PREFIX = 'flotilla.traces';

/** How long, and how many bytes of, spans the stream keeps (the older go first). */
export interface TraceRetention {
  maxAgeMs: number;
  maxBytes: number;
}

export const DEFAULT_TRACE_RETENTION: TraceRetention = { maxAgeMs: 60 * 60_000, maxBytes: 256 * 1024 * 1024 };

/** One span as the stream keeps it (and `flotilla trace` reads it). */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  /** the process's service.name */
  service: string;
  /** Unix epoch, nanoseconds (decimal strings: beyond a double's exact integers) */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status?: { code: 'ERROR'; message?: string };
  links?: Array<{ traceId: string; spanId: string }>;
}

export function traceSubject(traceId: string): string {
  return `${TRACE_SUBJECT_PREFIX}.${traceId}`;
}

function streamConfig(r: TraceRetention): Partial<StreamConfig> & { name: string } {
  return {
    name: TRACE_STREAM,
    subjects: [`${TRACE_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: r.maxAgeMs * 1_000_000,
    max_bytes: r.maxBytes,
  };
}

/** Creates the stream, or sets its retention when it exists with another. */
export async function ensureTraceStream(nc: NatsConnection, retention: TraceRetention = DEFAULT_TRACE_RETENTION): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const cfg = streamConfig(retention);
  try {
    const info = await jsm.streams.info(TRACE_STREAM);
    if (info.config.max_age !== cfg.max_age || info.config.max_bytes !== cfg.max_bytes) await jsm.streams.update(TRACE_STREAM, cfg);
  } catch (e) {
    if (!(e instanceof JetStreamApiError && e.status === 404)) throw new Error(`reading the trace stream ${TRACE_STREAM}: ${(e as Error).message}`);
    try {
      await jsm.streams.add(cfg);
    } catch (e2) {
      // another process created it meanwhile
      if (!(e2 instanceof JetStreamApiError && /already in use/.test(e2.message))) throw new Error(`creating the trace stream ${TRACE_STREAM}: ${(e2 as Error).message}`);
    }
  }
}

/** An HrTime as decimal nanoseconds, exact (a double holds epoch nanoseconds only to ~256 ns). */
function unixNano([seconds, nanos]: HrTime): string {
  return String(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
}

export function spanRecord(span: ReadableSpan): SpanRecord {
  const sc = span.spanContext();
  const rec: SpanRecord = {
    traceId: sc.traceId,
    spanId: sc.spanId,
    name: span.name,
    kind: SpanKind[span.kind] ?? String(span.kind),
    service: String(span.resource.attributes['service.name'] ?? ''),
    startTimeUnixNano: unixNano(span.startTime),
    endTimeUnixNano: unixNano(span.endTime),
    attributes: { ...span.attributes },
  };
  if (span.parentSpanContext) rec.parentSpanId = span.parentSpanContext.spanId;
  if (span.status.code === SpanStatusCode.ERROR) rec.status = { code: 'ERROR', message: span.status.message };
  if (span.links.length) rec.links = span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId }));
  return rec;
}

/** The SDK's exporter interface over the trace stream; every span is acknowledged by JetStream. */
export class JetStreamSpanExporter implements SpanExporter {
  private readonly js;
  private readonly enc = new TextEncoder();
  private stopped = false;

  constructor(nc: NatsConnection) {
    this.js = jetstream(nc);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.stopped) return done({ code: ExportResultCode.FAILED, error: new Error('the JetStream span exporter is shut down') });
    Promise.all(spans.map((s) => this.js.publish(traceSubject(s.spanContext().traceId), this.enc.encode(JSON.stringify(spanRecord(s)))))).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (e: Error) => done({ code: ExportResultCode.FAILED, error: new Error(`publishing ${spans.length} spans to ${TRACE_STREAM}: ${e.message}`) }),
    );
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }

  async forceFlush(): Promise<void> {}
}

/** Every span of one trace the stream still holds, oldest first. */
export async function readTrace(nc: NatsConnection, traceId: string): Promise<SpanRecord[]> {
  const subject = traceSubject(traceId);
  const jsm = await jetstreamManager(nc);
  let count: number;
  try {
    const info = await jsm.streams.info(TRACE_STREAM, { subjects_filter: subject });
    count = info.state.subjects?.[subject] ?? 0;
  } catch (e) {
    if (e instanceof JetStreamApiError && e.status === 404) return [];
    throw new Error(`reading the trace stream ${TRACE_STREAM}: ${(e as Error).message}`);
  }
  if (count === 0) return [];
  const consumer = await jsm.consumers.add(TRACE_STREAM, {
    filter_subject: subject,
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.None,
    inactive_threshold: 30_000_000_000,
  });
  const js = jetstream(nc);
  const out: SpanRecord[] = [];
  try {
    const c = await js.consumers.get(TRACE_STREAM, consumer.name);
    const batch = await c.fetch({ max_messages: count, expires: 5_000 });
    for await (const m of batch) {
      out.push(m.json<SpanRecord>());
      if (m.info.pending === 0) break;
    }
  } finally {
    await jsm.consumers.delete(TRACE_STREAM, consumer.name).catch(() => {});
  }
  return out;
}
