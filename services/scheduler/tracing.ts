/**
 * The scheduler's part of a pod's trace: its scheduling cycle and its binding cycle
 * (KEP-5927's two spans), children of the context the apiserver left on the pod's
 * annotation. The loop places pods in batches, so a pod's scheduling cycle runs from the
 * batch's start to its placement. A pod whose annotation is absent or not sampled costs
 * one property read and gets no span.
 */
import { SpanStatusCode, type Attributes, type Tracer } from '@opentelemetry/api';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ATTR_K8S_NAMESPACE_NAME, ATTR_K8S_NODE_NAME, ATTR_K8S_POD_NAME, ATTR_K8S_POD_UID, sampledContextFromAnnotations } from '../../lib/tracing/mod.js';

/** The open binding cycle of one traced pod. */
export interface BindingTrace {
  end(error?: unknown): void;
}

function podAttributes(pod: Pod): Attributes {
  return {
    [ATTR_K8S_POD_NAME]: pod.metadata?.name ?? '',
    [ATTR_K8S_NAMESPACE_NAME]: pod.metadata?.namespace ?? '',
    [ATTR_K8S_POD_UID]: pod.metadata?.uid ?? '',
  };
}

/**
 * A pod was placed on `nodeName`: its scheduling cycle (from `cycleStart`, a
 * performance.now() reading) ends now and its binding cycle begins; undefined when the
 * pod's trace is not sampled.
 */
export function tracePlacement(tracer: Tracer, pod: Pod, nodeName: string, cycleStart: number): BindingTrace | undefined {
  const parent = sampledContextFromAnnotations(pod.metadata?.annotations);
  if (!parent) return undefined;
  const attributes = { ...podAttributes(pod), [ATTR_K8S_NODE_NAME]: nodeName };
  tracer.startSpan('schedulingCycle', { startTime: performance.timeOrigin + cycleStart, attributes }, parent).end();
  const binding = tracer.startSpan('bindingCycle', { attributes }, parent);
  return {
    end(error?: unknown) {
      if (error !== undefined) binding.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      binding.end();
    },
  };
}

/** A scheduling cycle that found no node: its span carries upstream's FailedScheduling message. */
export function traceUnschedulable(tracer: Tracer, pod: Pod, message: string, cycleStart: number): void {
  const parent = sampledContextFromAnnotations(pod.metadata?.annotations);
  if (!parent) return;
  const span = tracer.startSpan('schedulingCycle', { startTime: performance.timeOrigin + cycleStart, attributes: podAttributes(pod) }, parent);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}
