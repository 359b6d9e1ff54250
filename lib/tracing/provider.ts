/**
 * One tracer provider per component (service.name = the component, as upstream's
 * apiserver and kubelet name theirs), made explicitly and handed to the code that traces:
 * no global provider, so the components a test runs in one process keep theirs apart.
 *
 * Sampling is upstream's ParentBased(ratio): a root span (a create without a caller's
 * context) is sampled at `samplingRate`; a span whose parent says sampled is always
 * recorded, whatever the rate; one whose parent says not sampled never. The ratio is
 * drawn by `sampleRoot()` before a root span is started rather than by the tracer's
 * sampler: an unsampled root span still costs its trace and span ids (~4 µs, on every
 * pod create at the default rate), so a caller that would start a root span asks
 * `sampleRoot()` first and starts none when it says no. The tracer itself records every
 * root span it is asked for.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { DEFAULT_TRACE_RETENTION, ensureTraceStream, JetStreamSpanExporter, type TraceRetention } from './jetstream.js';

/** Upstream's default is 0 (no root spans); ours samples a few so a cluster has traces to look at. */
export const DEFAULT_SAMPLING_RATE = 0.01;

export interface TracingOptions {
  /** service.name of the spans: kube-apiserver, kube-scheduler, kubelet */
  service: string;
  /** the share of root spans sampled, 0..1 (default DEFAULT_SAMPLING_RATE) */
  samplingRate?: number;
  /** OTLP/HTTP traces endpoint (http://host:4318/v1/traces); none: no OTLP export */
  endpoint?: string;
  /** keep spans in the JetStream trace stream over this connection */
  nc?: NatsConnection;
  retention?: TraceRetention;
  /** how long finished spans wait to go out in one batch (default 1 s) */
  exportDelayMs?: number;
}

export interface Tracing {
  /** records the root spans it is asked for: see sampleRoot */
  readonly tracer: Tracer;
  readonly samplingRate: number;
  /** whether a new trace is sampled, drawn at samplingRate: ask before starting a root span */
  sampleRoot(): boolean;
  /** sends every finished span now */
  forceFlush(): Promise<void>;
  /** sends what is left and stops exporting */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL for an endpoint given as a bare origin (upstream collectors listen on /v1/traces). */
export function otlpTracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  return u.toString();
}

export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  const samplingRate = opts.samplingRate ?? DEFAULT_SAMPLING_RATE;
  if (!(samplingRate >= 0 && samplingRate <= 1)) throw new Error(`tracing: the sampling rate must be from 0 to 1, got ${samplingRate}`);
  const scheduledDelayMillis = opts.exportDelayMs ?? 1000;
  const spanProcessors: SpanProcessor[] = [];
  if (opts.nc) {
    await ensureTraceStream(opts.nc, opts.retention ?? DEFAULT_TRACE_RETENTION);
    spanProcessors.push(new BatchSpanProcessor({ exporter: new JetStreamSpanExporter(opts.nc), scheduledDelayMillis }));
  }
  if (opts.endpoint) {
    // loaded only when asked for: its module graph (HTTP, protobuf-free OTLP JSON) costs each component ~0.2-0.8 s of start-up
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: otlpTracesUrl(opts.endpoint) }), scheduledDelayMillis }));
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service }),
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors,
  });
  return {
    tracer: provider.getTracer('flotilla'),
    samplingRate,
    sampleRoot: () => Math.random() < samplingRate,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
