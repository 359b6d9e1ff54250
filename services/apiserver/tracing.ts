/**
 * The apiserver's part of a pod's trace: the span of its create, from either front end.
 * It continues the caller's trace (a `traceparent` header on the HTTP or NATS request, or
 * failing that the annotation the object came with) or starts one at the sampling rate,
 * and writes its own context onto the pod's annotations (KEP-5915) so the scheduler's and
 * kubelet's spans join the same trace. A pod whose create is not sampled gets no
 * annotation, and later components do no span work for it at all; nor does this one
 * beyond a look for a parent and one draw: an unsampled root span is never started.
 */
import { SpanKind, SpanStatusCode, type Context } from '@opentelemetry/api';
import {
  annotateTraceContext,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_K8S_POD_UID,
  contextFromAnnotations,
  contextFromCarrier,
  type TraceCarrier,
  type Tracing,
} from '../../lib/tracing/mod.js';

interface PodLike {
  metadata?: { name?: string; generateName?: string; uid?: string; namespace?: string; annotations?: Record<string, string> | null } | null;
}

/** Traces the create of a pod: `run` stores the (annotated) body and returns what was stored. */
export function traceCreate<T>(tracing: Pick<Tracing, 'tracer' | 'sampleRoot'>, namespace: string, body: unknown, carrier: TraceCarrier | undefined, run: () => Promise<T>): Promise<T> {
  const pod = body as PodLike | undefined;
  if (!pod || typeof pod !== 'object') return run();
  const parent = contextFromCarrier(carrier) ?? contextFromAnnotations(pod.metadata?.annotations);
  if (!parent && !tracing.sampleRoot()) return run();
  return traced(tracing, namespace, pod, parent, run);
}

async function traced<T>(tracing: Pick<Tracing, 'tracer'>, namespace: string, pod: PodLike, parent: Context | undefined, run: () => Promise<T>): Promise<T> {
  const { tracer } = tracing;
  const span = parent ? tracer.startSpan('Create', { kind: SpanKind.SERVER }, parent) : tracer.startSpan('Create', { kind: SpanKind.SERVER, root: true });
  if (!span.isRecording()) {
    span.end();
    return run();
  }
  span.setAttribute(ATTR_K8S_NAMESPACE_NAME, namespace);
  const meta = (pod.metadata ??= {});
  annotateTraceContext(meta, span.spanContext());
  try {
    const stored = (await run()) as PodLike;
    span.setAttribute(ATTR_K8S_POD_NAME, stored?.metadata?.name ?? '');
    span.setAttribute(ATTR_K8S_POD_UID, stored?.metadata?.uid ?? '');
    return stored as T;
  } catch (e) {
    span.setAttribute(ATTR_K8S_POD_NAME, meta.name ?? meta.generateName ?? '');
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    throw e;
  } finally {
    span.end();
  }
}
