/**
 * Where a trace's context travels between processes: W3C `traceparent`/`tracestate` in
 * NATS and HTTP headers (a request's caller), and on the object itself in annotations, as
 * KEP-5915 proposes, so a step that picks the object up later (the scheduler, the kubelet)
 * continues the trace its create started.
 */
import { ROOT_CONTEXT, trace, type Context, type SpanContext, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { IncomingHttpHeaders } from 'node:http';

/** KEP-5915's annotation: the W3C traceparent of the span that created the object. */
export const TRACEPARENT_ANNOTATION = 'tracing.k8s.io/traceparent';
/** Its companion for a W3C tracestate, written only when the trace has one. */
export const TRACESTATE_ANNOTATION = 'tracing.k8s.io/tracestate';

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

const propagator = new W3CTraceContextPropagator();

/** A caller's trace context as two strings, whatever carried it. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: () => [TRACEPARENT_HEADER, TRACESTATE_HEADER],
  get: (c, key) => (key === TRACEPARENT_HEADER ? c.traceparent : key === TRACESTATE_HEADER ? c.tracestate : undefined) || undefined,
};

/** The parent context a carrier names, or undefined when it names none (or an invalid one). */
export function contextFromCarrier(c: TraceCarrier | undefined): Context | undefined {
  if (!c?.traceparent) return undefined;
  const ctx = propagator.extract(ROOT_CONTEXT, c, carrierGetter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** The trace headers of a NATS message. */
export function carrierFromNatsHeaders(h: MsgHdrs | undefined): TraceCarrier | undefined {
  const traceparent = h?.get(TRACEPARENT_HEADER);
  return traceparent ? { traceparent, tracestate: h!.get(TRACESTATE_HEADER) || undefined } : undefined;
}

/** The trace headers of an HTTP request. */
export function carrierFromHttpHeaders(h: IncomingHttpHeaders): TraceCarrier | undefined {
  const traceparent = h[TRACEPARENT_HEADER];
  if (typeof traceparent !== 'string' || !traceparent) return undefined;
  const tracestate = h[TRACESTATE_HEADER];
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/** The carrier of a span's context (what goes into headers or annotations). */
export function carrierOf(sc: SpanContext): TraceCarrier {
  const out: TraceCarrier = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, sc), out, {
    set: (c, key, value) => {
      if (key === TRACEPARENT_HEADER) c.traceparent = value;
      else if (key === TRACESTATE_HEADER) c.tracestate = value;
    },
  });
  return out;
}

/** Sets `traceparent` (and `tracestate`) on NATS headers from a context with a span. */
export function injectNatsHeaders(ctx: Context, h: MsgHdrs): void {
  const sc = trace.getSpanContext(ctx);
  if (!sc) return;
  const c = carrierOf(sc);
  if (c.traceparent) h.set(TRACEPARENT_HEADER, c.traceparent);
  if (c.tracestate) h.set(TRACESTATE_HEADER, c.tracestate);
}

/** Writes the span's context onto an object's annotations (KEP-5915). */
export function annotateTraceContext(meta: { annotations?: Record<string, string> | null }, sc: SpanContext): void {
  const c = carrierOf(sc);
  const annotations = (meta.annotations ??= {});
  if (c.traceparent) annotations[TRACEPARENT_ANNOTATION] = c.traceparent;
  if (c.tracestate) annotations[TRACESTATE_ANNOTATION] = c.tracestate;
  else delete annotations[TRACESTATE_ANNOTATION];
}

/** The object's trace context from its annotations, sampled or not; undefined when it has none. */
export function contextFromAnnotations(annotations: Record<string, string> | null | undefined): Context | undefined {
  const traceparent = annotations?.[TRACEPARENT_ANNOTATION];
  return traceparent ? contextFromCarrier({ traceparent, tracestate: annotations![TRACESTATE_ANNOTATION] }) : undefined;
}

/**
 * The object's trace context when its annotation says the trace is sampled, else
 * undefined. Hot paths call this for every object: an object without the annotation
 * costs one property read, an unsampled one a look at the flags, and neither parses.
 */
export function sampledContextFromAnnotations(annotations: Record<string, string> | null | undefined): Context | undefined {
  const traceparent = annotations?.[TRACEPARENT_ANNOTATION];
  if (!traceparent || !isSampledTraceparent(traceparent)) return undefined;
  return contextFromCarrier({ traceparent, tracestate: annotations![TRACESTATE_ANNOTATION] });
}

/** Whether a traceparent's flags (its last two hex digits) have the sampled bit. */
export function isSampledTraceparent(traceparent: string): boolean {
  const flags = Number.parseInt(traceparent.slice(-2), 16);
  return (flags & 1) === 1;
}

/** The trace id a traceparent names (32 hex digits), or undefined when it is not one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent ? /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim()) : null;
  return m?.[1];
}

