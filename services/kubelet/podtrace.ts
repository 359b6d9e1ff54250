/**
 * The kubelet's part of a pod's trace: the pod's first sync on its node (`syncPod`, from
 * admission to its containers' start), with a child span per runtime call that brings it
 * up, named as upstream's kubelet names its CRI spans (RunPodSandbox, CreateContainer,
 * StartContainer). Children of the context the apiserver left on the pod's annotation;
 * a pod without a sampled one gets no span, real or hollow.
 */
import { SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ATTR_K8S_CONTAINER_NAME, ATTR_K8S_NAMESPACE_NAME, ATTR_K8S_NODE_NAME, ATTR_K8S_POD_NAME, ATTR_K8S_POD_UID, sampledContextFromAnnotations } from '../../lib/tracing/mod.js';

/** upstream's CRI service, the prefix of its kubelet's runtime spans */
const CRI_RUNTIME_SERVICE = 'runtime.v1.RuntimeService';

export class PodStartTrace {
  private readonly ctx: Context;

  private constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    parent: Context,
  ) {
    this.ctx = trace.setSpan(parent, span);
  }

  /** The sync of a pod whose create was sampled; undefined for any other pod. */
  static begin(tracer: Tracer | undefined, pod: Pod, nodeName: string): PodStartTrace | undefined {
    if (!tracer) return undefined;
    const parent = sampledContextFromAnnotations(pod.metadata?.annotations);
    if (!parent) return undefined;
    const attributes: Attributes = {
      [ATTR_K8S_POD_NAME]: pod.metadata?.name ?? '',
      [ATTR_K8S_NAMESPACE_NAME]: pod.metadata?.namespace ?? '',
      [ATTR_K8S_POD_UID]: pod.metadata?.uid ?? '',
      [ATTR_K8S_NODE_NAME]: nodeName,
    };
    return new PodStartTrace(tracer, tracer.startSpan('syncPod', { attributes }, parent), parent);
  }

  /** One runtime call of the sync, as a child span (its failure marks the span). */
  async runtimeCall<T>(method: string, fn: () => Promise<T>, container?: string): Promise<T> {
    const span = this.tracer.startSpan(`${CRI_RUNTIME_SERVICE}/${method}`, container ? { attributes: { [ATTR_K8S_CONTAINER_NAME]: container } } : {}, this.ctx);
    try {
      return await fn();
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  }

  end(error?: string): void {
    if (error !== undefined) this.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    this.span.end();
  }
}

/** `fn` as a traced runtime call of the pod's sync when it has one, else just `fn`. */
export function runtimeCall<T>(t: PodStartTrace | undefined, method: string, fn: () => Promise<T>, container?: string): Promise<T> {
  return t ? t.runtimeCall(method, fn, container) : fn();
}
